import Foundation
import Synchronization

/// Keeps the last `capacity` bytes written to stderr, and splits them into lines for callbacks.
final class StderrTail: Sendable {
    private struct State {
        var ring: [UInt8] = []
        var pendingLine: [UInt8] = []
    }
    private let state = Mutex(State())
    let capacity: Int

    init(capacity: Int = 64 * 1024) {
        self.capacity = capacity
    }

    /// Appends bytes; returns the complete lines they finish.
    func append(_ bytes: UnsafeRawBufferPointer) -> [String] {
        state.withLock { state in
            state.ring.append(contentsOf: bytes)
            if state.ring.count > capacity * 2 { state.ring.removeFirst(state.ring.count - capacity) }
            var lines: [String] = []
            for byte in bytes {
                if byte == 0x0A {
                    lines.append(String(decoding: state.pendingLine, as: UTF8.self))
                    state.pendingLine.removeAll(keepingCapacity: true)
                } else if state.pendingLine.count < 8192 {
                    state.pendingLine.append(byte)
                }
            }
            return lines
        }
    }

    /// The rest of an unfinished last line, if any.
    func flush() -> String? {
        state.withLock { state in
            guard !state.pendingLine.isEmpty else { return nil }
            defer { state.pendingLine = [] }
            return String(decoding: state.pendingLine, as: UTF8.self)
        }
    }

    /// The last `capacity` bytes, as text.
    var text: String {
        state.withLock { String(decoding: $0.ring.suffix(capacity), as: UTF8.self) }
    }
}

extension StderrTail {
    /// The CLI's own explanation in `stderr`: its last meaningful line (not blank, not a stack frame,
    /// not bare punctuation), at most 300 characters, with every text in `redacting` (environment
    /// values, the prompt) replaced by `<redacted>`. `nil` when there is none.
    static func reason(in stderr: String, redacting secrets: [String] = []) -> String? {
        let lines = stderr.split(whereSeparator: { $0 == "\n" || $0 == "\r" })
        for line in lines.reversed() {
            let trimmed = line.trimmingCharacters(in: .whitespaces)
            guard !trimmed.isEmpty, !trimmed.hasPrefix("at "), !trimmed.hasPrefix("^"),
                trimmed.contains(where: { $0.isLetter })
            else { continue }
            var text = trimmed
            // Longest first, so a secret that contains another is redacted whole.
            for secret in secrets.filter({ $0.count >= 4 }).sorted(by: { $0.count > $1.count }) {
                text = text.replacingOccurrences(of: secret, with: "<redacted>")
            }
            text = String(text.unicodeScalars.filter { $0.value >= 0x20 && $0.value != 0x7F }.map(Character.init))
            if text.count > 300 { text = String(text.prefix(300)) + "…" }
            return text
        }
        return nil
    }
}
