import ClaudeCode
import ClaudeCodeTesting
import Foundation
import Synchronization
import Testing

@testable import ClaudeCodeSessions

/// A fresh temporary folder, removed when the value is released.
final class TemporaryFolder: Sendable {
    let path: String

    init() {
        var template = Array("/tmp/persistence-tests-XXXXXX".utf8CString)
        let result = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        precondition(result != nil, "mkdtemp failed")
        path = String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// A path inside the folder (not created).
    func sub(_ name: String) -> String { path + "/" + name }

    deinit { try? FileManager.default.removeItem(atPath: path) }
}

enum Frames {
    static func assistant(_ index: Int, session: String = "9899897f-3c5e-4b7a-9d2e-0f1e2d3c4b5a", textLength: Int = 700)
        -> String
    {
        let text = String(repeating: "lorem ipsum dolor sit amet ", count: textLength / 27 + 1).prefix(textLength)
        return
            #"{"type":"assistant","message":{"id":"msg_\#(index)","type":"message","role":"assistant","model":"claude-opus-5-5","content":[{"type":"text","text":"\#(text) #\#(index)"}],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":2560,"output_tokens":\#(index),"cache_creation_input_tokens":0,"cache_read_input_tokens":0}},"parent_tool_use_id":null,"session_id":"\#(session)","uuid":"a09bfb87-0000-4000-8000-\#(String(format: "%012d", index))"}"#
    }

    static func user(_ text: String) -> String {
        #"{"type":"user","message":{"role":"user","content":\#(jsonString(text))},"parent_tool_use_id":null,"session_id":"default"}"#
    }

    static func jsonString(_ text: String) -> String {
        let data = try! JSONSerialization.data(withJSONObject: [text], options: [.withoutEscapingSlashes])
        let array = String(decoding: data, as: UTF8.self)
        return String(array.dropFirst().dropLast())
    }
}

func fileMode(_ path: String) -> UInt32? {
    var status = stat()
    guard lstat(path, &status) == 0 else { return nil }
    return UInt32(status.st_mode) & 0o7777
}

extension FileRecordStore {
    convenience init(folder: TemporaryFolder, durability: DurabilityPolicy = .checkpoint) {
        self.init(configuration: .init(directory: folder.sub("sessions"), durability: durability))
    }
}

/// Runs `python3 -c script args…` (off the cooperative pool) and returns its trimmed standard output.
func runPython(_ script: String, _ arguments: String...) async throws -> String {
    let result = try await ChildProcess.run("/usr/bin/env", ["python3", "-c", script] + arguments)
    return result.standardOutputText.trimmingCharacters(in: .whitespacesAndNewlines)
}

/// A thread-safe counter, for unique names inside a test.
final class Counter: Sendable {
    private let value = Mutex(0)
    func next() -> Int {
        value.withLock {
            $0 += 1; return $0
        }
    }
}
