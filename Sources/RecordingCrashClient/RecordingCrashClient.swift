// Test helper: a SessionPersistentClient conversation that a test kills with SIGKILL at random
// moments (RecordingCrashTests), recording into a FileRecordStore.
//
//   recording-crash-client --dir DIR --session ID [--turns T] [--frames F] [--text-bytes B]
//
// The CLI is played in this process (ScriptedTransport): it answers `initialize`, and for every
// prompt emits `system/init` carrying ID, F assistant frames of about B bytes, and a result; every
// frame carries a unique "mark". The conversation runs T turns, then disconnects. Output, one
// line each, written with write(2) as it happens:
//   pid P                 first
//   prompt TEXT           once query(TEXT) has returned
//   msg MARK              once the consumer has received the message marked MARK
//   disconnecting / done  around disconnect()
import ClaudeCode
import ClaudeCodeSessions
import ClaudeCodeTesting
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

func out(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    bytes.withUnsafeBytes { raw in
        var offset = 0
        while offset < raw.count {
            let written = write(1, raw.baseAddress! + offset, raw.count - offset)
            if written <= 0 { if errno == EINTR { continue } else { return } }
            offset += written
        }
    }
}

func mark(of raw: [UInt8]) -> String? {
    let text = String(decoding: raw, as: UTF8.self)
    guard let range = text.range(of: "\"mark\":\"") else { return nil }
    let rest = text[range.upperBound...]
    guard let end = rest.firstIndex(of: "\"") else { return nil }
    return String(rest[..<end])
}

@main
struct RecordingCrashClientMain {
    static func main() async {
        var arguments: [String: String] = [:]
        var iterator = CommandLine.arguments.dropFirst().makeIterator()
        while let key = iterator.next(), let value = iterator.next() { arguments[String(key.dropFirst(2))] = value }
        guard let directory = arguments["dir"], let session = arguments["session"] else {
            out("usage: recording-crash-client --dir DIR --session ID [--turns T] [--frames F] [--text-bytes B]")
            exit(2)
        }
        let turns = Int(arguments["turns"] ?? "3") ?? 3
        let frames = Int(arguments["frames"] ?? "20") ?? 20
        let textBytes = Int(arguments["text-bytes"] ?? "600") ?? 600
        out("pid \(getpid())")

        let factory: TransportFactory = { _ in
            let transport = ScriptedTransport()
            Task {
                // Plays the CLI: initialize, then one turn per prompt.
                var turn = 0
                while let frame = await transport.nextWritten() {
                    if frame["type"] == "control_request" {
                        transport.respond(to: frame, with: ["claude_code_version": "2.1.331"])
                        continue
                    }
                    guard frame["type"] == "user" else { continue }
                    let filler = String(repeating: "x", count: textBytes)
                    var lines = [
                        #"{"type":"system","subtype":"init","session_id":"\#(session)","cwd":"/w","mark":"init-\#(turn)"}"#
                    ]
                    for index in 0..<frames {
                        lines.append(
                            #"{"type":"assistant","message":{"id":"msg_\#(turn)_\#(index)","content":[{"type":"text","text":"\#(filler)"}],"model":"m"},"session_id":"\#(session)","mark":"a-\#(turn)-\#(index)"}"#
                        )
                    }
                    lines.append(
                        #"{"type":"result","subtype":"success","is_error":false,"num_turns":1,"session_id":"\#(session)","duration_ms":1,"duration_api_ms":1,"total_cost_usd":0.001,"mark":"result-\#(turn)"}"#
                    )
                    for line in lines { transport.emit(line) }
                    turn += 1
                }
            }
            return transport
        }

        let store = FileRecordStore(configuration: .init(directory: directory))
        let client = SessionPersistentClient(store: store, transcripts: .off, transport: factory)
        do {
            try await client.connect()
            for turn in 0..<turns {
                let text = "prompt-\(session)-\(turn)"
                try await client.query(text)
                out("prompt \(text)")
                for try await message in client.receiveResponse() {
                    if let mark = mark(of: message.raw.bytes) { out("msg \(mark)") }
                }
            }
            out("disconnecting")
            await client.disconnect()
            out("done")
        } catch {
            out("error \(error)")
            exit(3)
        }

    }
}
