// Test helper: leaves a one-shot query with `break` in top-level code, then keeps running.
//
// Usage: query-break-probe <fake-claude path> <with-query|cancel>
// Prints `cli-pid <pid>` once the first assistant message arrived (before the `break`), then
// `returned` once the query form used has returned, then sleeps so the test can check that the CLI
// is already gone while this program still runs.
import ClaudeCode
import Foundation
import Synchronization

let arguments = CommandLine.arguments
guard arguments.count == 3 else {
    FileHandle.standardError.write(Data("usage: query-break-probe <fake-claude> <with-query|cancel>\n".utf8))
    exit(2)
}
var options = ClaudeCodeOptions()
options.cliPath = arguments[1]
// `stall` answers with one assistant message, then neither finishes the turn nor exits at stdin EOF.
options.env = ["FAKE_CLAUDE_SCENARIO": "stall"]
options.shutdownGracePeriod = .seconds(30)
options.terminateGracePeriod = .seconds(2)

let transports = Mutex<[SubprocessTransport]>([])
let factory: TransportFactory = { options throws(ClaudeCodeError) in
    let transport = try SubprocessTransport(options: options)
    transports.withLock { $0.append(transport) }
    return transport
}

func say(_ line: String) {
    FileHandle.standardOutput.write(Data("\(line)\n".utf8))
}

func reportPID() {
    let pid = transports.withLock { $0.last?.processID } ?? -1
    say("cli-pid \(pid)")
}

switch arguments[2] {
case "with-query":
    try await withQuery(prompt: "hello", options: options, transport: factory) { messages in
        for try await message in messages {
            if case .assistant = message {
                reportPID()
                break
            }
        }
    }
case "cancel":
    let messages = query(prompt: "hello", options: options, transport: factory)
    for try await message in messages {
        if case .assistant = message {
            reportPID()
            break
        }
    }
    await messages.cancel()
default:
    FileHandle.standardError.write(Data("unknown mode\n".utf8))
    exit(2)
}
say("returned")
try await Task.sleep(for: .seconds(60))
