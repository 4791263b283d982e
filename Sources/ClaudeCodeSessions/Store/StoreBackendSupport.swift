import ClaudeCode

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

// Helpers shared by the database backends (`ClaudeCodeSessionsSQLite`, `ClaudeCodeSessionsPostgres`).
// `package` access: visible to this package's modules, not part of the public API.

extension SessionStoreKey {
    /// The subpath as stored in a database column: `""` for the main transcript.
    package var storedSubpath: String { subpath ?? "" }

    // `isMain` and `validate()` come from SessionStoreKey+Validation.swift.
}

/// The one place where the database backends fold appended entries into a session summary.
///
/// Backends call ``fold(_:key:entries:)`` inside the transaction that appends, with only the
/// entries that were actually stored (not the duplicates skipped by `uuid`), for main keys only,
/// and stamp the summary's time themselves on the clock of their listings.
package enum StoreSummaryFolding {
    /// Folds `entries` into the previous summary data of `key`'s session (an empty object when `nil`).
    package static func fold(_ previous: JSONValue?, key: SessionStoreKey, entries: [SessionStoreEntry]) -> JSONValue {
        var data: [String: JSONValue] = previous?.objectValue ?? [:]
        for entry in entries {
            guard case .object(let object)? = try? entry.value() else { continue }
            fold(object, into: &data)
        }
        return .object(data)
    }

    /// Last value wins for these top-level string fields (CLI field → summary field).
    private static let lastWins: [(String, String)] = [
        ("customTitle", "custom_title"), ("aiTitle", "ai_title"), ("lastPrompt", "last_prompt"),
        ("summary", "summary_hint"), ("gitBranch", "git_branch"),
    ]

    // An interim port of the Python SDK's `fold_session_summary` (python-sdk.md §4.9) until the
    // shared `SessionSummaryFold` lands; it omits the slash-command and auto-generated-prompt
    // patterns of the first-prompt rule.
    private static func fold(_ entry: [String: JSONValue], into data: inout [String: JSONValue]) {
        if data["is_sidechain"] == nil { data["is_sidechain"] = .bool(entry["isSidechain"] == .bool(true)) }
        if data["created_at"] == nil, let stamp = entry["timestamp"]?.stringValue, let ms = epochMilliseconds(stamp) {
            data["created_at"] = .int(ms)
        }
        if data["cwd"] == nil, let cwd = entry["cwd"]?.stringValue, !cwd.isEmpty { data["cwd"] = .string(cwd) }
        foldFirstPrompt(entry, into: &data)
        for (source, target) in lastWins {
            if let value = entry[source]?.stringValue { data[target] = .string(value) }
        }
        if entry["type"]?.stringValue == "tag" {
            if let tag = entry["tag"]?.stringValue, !tag.isEmpty {
                data["tag"] = .string(tag)
            } else {
                data["tag"] = nil
            }
        }
    }

    private static func foldFirstPrompt(_ entry: [String: JSONValue], into data: inout [String: JSONValue]) {
        guard data["first_prompt_locked"] != .bool(true), entry["type"]?.stringValue == "user" else { return }
        if entry["isMeta"] == .bool(true) || entry["isCompactSummary"] == .bool(true) { return }
        let content = entry["message"]?["content"]
        var texts: [String] = []
        switch content {
        case .string(let text)?:
            texts = [text]
        case .array(let blocks)?:
            if blocks.contains(where: { $0["type"]?.stringValue == "tool_result" }) { return }
            texts = blocks.compactMap { $0["type"]?.stringValue == "text" ? $0["text"]?.stringValue : nil }
        default:
            return
        }
        for text in texts {
            let line = trimmed(text.replacing("\n", with: " "))
            guard !line.isEmpty else { continue }
            data["first_prompt"] = .string(line.count > 200 ? trimmed(String(line.prefix(200))) + "\u{2026}" : line)
            data["first_prompt_locked"] = .bool(true)
            return
        }
    }

    private static func trimmed(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard let start = scalars.firstIndex(where: { !$0.properties.isWhitespace }),
            let end = scalars.lastIndex(where: { !$0.properties.isWhitespace })
        else { return "" }
        return String(scalars[start...end])
    }

    private static func epochMilliseconds(_ text: String) -> Int64? {
        guard let date = StoreTimestamp.parse(text) else { return nil }
        return Int64((date.timeIntervalSince1970 * 1000).rounded(.down))
    }
}

/// Time stamps and identifiers shared by the database backends.
package enum StoreBackendClock {
    /// Now, in milliseconds since 1970.
    package static func nowMilliseconds() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }

    /// A date as whole microseconds since 1970 (the precision of ``ConversationMessage/timestamp``).
    package static func microseconds(_ date: Date) -> Int64 { StoreTimestamp.microseconds(date) }

    /// The date of a microsecond count, equal to the normalized date it was made from.
    package static func date(microseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(microseconds) / 1_000_000)
    }
}

/// Database text columns cannot hold NUL (PostgreSQL refuses it, SQLite's C strings cut at it),
/// which a JSON string may (`"\u0000"`): entry types, uuids, frame types and subtypes are stored
/// with `%` and NUL percent-escaped, reversibly and injectively, so they still compare (and
/// deduplicate) exactly.
package enum StoreText {
    package static func encode(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0 || $0 == UInt8(ascii: "%") }) else { return text }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count + 8)
        for byte in text.utf8 {
            switch byte {
            case 0: bytes += Array("%00".utf8)
            case UInt8(ascii: "%"): bytes += Array("%25".utf8)
            default: bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    package static func decode(_ text: String) -> String {
        guard text.utf8.contains(UInt8(ascii: "%")) else { return text }
        var bytes: [UInt8] = []
        var input = Array(text.utf8)[...]
        while let byte = input.popFirst() {
            if byte == UInt8(ascii: "%"), input.count >= 2 {
                let code = Array(input.prefix(2))
                if code == Array("00".utf8) {
                    bytes.append(0)
                    input = input.dropFirst(2)
                    continue
                }
                if code == Array("25".utf8) {
                    bytes.append(UInt8(ascii: "%"))
                    input = input.dropFirst(2)
                    continue
                }
            }
            bytes.append(byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}
