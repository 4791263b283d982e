// fake-messages-api: serves ClaudeCodeTesting.FakeMessagesAPI on 127.0.0.1 until killed.
//
// Prints the bound port as the first stdout line (then `ANTHROPIC_BASE_URL=<url>` on the second), so scripts can
// read it. Options:
//   --log                 print one line per request to stderr (method, path, user_turns, messages, last user text)
//   --slow-tick-ms N      pause between FAKE:slow ticks (default 200)
//   --slow-ticks N        number of FAKE:slow ticks (default 150)
// Exits when stdin reaches EOF if started with --exit-on-eof, otherwise runs until SIGTERM/SIGINT.
import ClaudeCodeTesting
import Foundation

var configuration = FakeMessagesAPI.Configuration()
var logRequests = false
var exitOnEOF = false
var arguments = CommandLine.arguments.dropFirst()
while let argument = arguments.popFirst() {
    switch argument {
    case "--log": logRequests = true
    case "--exit-on-eof": exitOnEOF = true
    case "--slow-tick-ms":
        guard let value = arguments.popFirst().flatMap(Int.init) else { fatalError("--slow-tick-ms needs a number") }
        configuration.slowTickInterval = .milliseconds(value)
    case "--slow-ticks":
        guard let value = arguments.popFirst().flatMap(Int.init) else { fatalError("--slow-ticks needs a number") }
        configuration.slowTickCount = value
    default:
        FileHandle.standardError.write(Data("fake-messages-api: unknown argument \(argument)\n".utf8))
        exit(2)
    }
}

let log = logRequests
let api = FakeMessagesAPI(configuration: configuration) { request in
    if log {
        let text = request.lastUserText.map { String($0.prefix(80)) } ?? "-"
        let line =
            "\(request.method) \(request.path) stream=\(request.isStreaming) "
            + "user_turns=\(request.userTurnCount) messages=\(request.messageCount) text=\(text.debugDescription)\n"
        FileHandle.standardError.write(Data(line.utf8))
    }
    return nil
}
try await api.start()
FileHandle.standardOutput.write(Data("\(api.port)\nANTHROPIC_BASE_URL=\(api.baseURL.absoluteString)\n".utf8))

if exitOnEOF {
    // Blocks a thread until stdin closes, then stops the server.
    await withCheckedContinuation { (continuation: CheckedContinuation<Void, Never>) in
        Thread.detachNewThread {
            _ = FileHandle.standardInput.readDataToEndOfFile()
            continuation.resume()
        }
    }
    await api.stop()
} else {
    while true { try await Task.sleep(for: .seconds(3600)) }
}
