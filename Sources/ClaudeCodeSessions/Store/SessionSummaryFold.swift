import ClaudeCode
import Foundation

/// The incremental session summary of a ``SessionCatalog``: a pure fold over appended entries,
/// matching the Python SDK's `fold_session_summary` field for field.
///
/// Stores call ``fold(_:key:entries:)`` inside `append` for main transcripts (never for a
/// subpath) and persist the result with their own write time, so listing summaries never
/// re-reads a transcript. Every field is set-once or last-wins, so the fold never needs the
/// entries appended before.
///
/// The ``SessionStoreSummary/data`` object uses the Python SDK's keys, so a store shared with
/// Python clients reads the same summaries:
///
/// | Key | Rule |
/// | --- | --- |
/// | `is_sidechain` | set once, from the first entry's `isSidechain == true` |
/// | `created_at` | set once, the first entry `timestamp` that parses, in epoch milliseconds |
/// | `cwd` | set once, the first non-empty `cwd` |
/// | `first_prompt`, `first_prompt_locked` | the first real user prompt (not a tool result, `isMeta`, `isCompactSummary`, or an automatic `<tick>`-style text), newlines flattened, cut at 200 characters plus `…` |
/// | `command_fallback` | the first `<command-name>…</command-name>` seen before a real prompt |
/// | `custom_title`, `ai_title`, `last_prompt`, `summary_hint`, `git_branch` | last wins, from `customTitle`, `aiTitle`, `lastPrompt`, `summary`, `gitBranch` |
/// | `tag` | a `type: "tag"` entry sets it; an empty or missing `tag` clears it |
///
/// Keys the fold does not know are kept as they are. A timestamp without a zone is read as
/// local time, as Python's `datetime.fromisoformat(...).timestamp()` does.
public enum SessionSummaryFold {
    /// Folds `entries`, appended to the main transcript `key`, into `previous`.
    ///
    /// - Parameters:
    ///   - previous: The summary before this append, or `nil` for the first one.
    ///   - key: The main transcript's key (its ``SessionStoreKey/sessionID`` names a new summary).
    ///   - entries: The entries appended, in order.
    /// - Returns: The new summary. ``SessionStoreSummary/modifiedMilliseconds`` is copied from
    ///   `previous` (0 for a new one): the store stamps its own write time after persisting.
    public static func fold(
        _ previous: SessionStoreSummary?, key: SessionStoreKey, entries: [SessionStoreEntry]
    ) -> SessionStoreSummary {
        var summary = previous ?? SessionStoreSummary(sessionID: key.sessionID, modifiedMilliseconds: 0, data: .object([:]))
        var data = summary.data.objectValue ?? [:]
        for entry in entries {
            foldEntry(entry.raw.bytes, into: &data)
        }
        summary.data = .object(data)
        return summary
    }

    /// Folds one entry into `data`.
    static func foldEntry(_ bytes: [UInt8], into data: inout [String: JSONValue]) {
        let scanner = JSONObjectScanner(bytes)
        var fields = EntryFields()
        var iterator = scanner.makeIterator()
        while let member = iterator.next() {
            switch member.key {
            case "type": fields.type = member.valueRange
            case "timestamp": fields.timestamp = member.valueRange
            case "isSidechain": fields.isSidechain = member.valueRange
            case "cwd": fields.cwd = member.valueRange
            case "isMeta": fields.isMeta = member.valueRange
            case "isCompactSummary": fields.isCompactSummary = member.valueRange
            case "message": fields.message = member.valueRange
            case "customTitle": fields.lastWins[0] = member.valueRange
            case "aiTitle": fields.lastWins[1] = member.valueRange
            case "lastPrompt": fields.lastWins[2] = member.valueRange
            case "summary": fields.lastWins[3] = member.valueRange
            case "gitBranch": fields.lastWins[4] = member.valueRange
            case "tag": fields.tag = member.valueRange
            default: break
            }
        }
        func string(_ range: Range<Int>?) -> String? {
            guard let range else { return nil }
            return (try? scanner.string(in: range)) ?? nil
        }
        func isTrue(_ range: Range<Int>?) -> Bool {
            guard let range else { return false }
            return range.count == 4 && bytes[range].elementsEqual("true".utf8)
        }

        let type = string(fields.type)
        if data["is_sidechain"] == nil {
            data["is_sidechain"] = .bool(isTrue(fields.isSidechain))
        }
        if data["created_at"] == nil, let text = string(fields.timestamp), let milliseconds = epochMilliseconds(text) {
            data["created_at"] = .int(milliseconds)
        }
        if data["cwd"] == nil, let cwd = string(fields.cwd), !cwd.isEmpty {
            data["cwd"] = .string(cwd)
        }
        if data["first_prompt_locked"]?.boolValue != true, type == "user", !isTrue(fields.isMeta),
            !isTrue(fields.isCompactSummary), let range = fields.message,
            let message = try? scanner.value(in: range)
        {
            foldFirstPrompt(message: message, into: &data)
        }
        for (index, name) in lastWinsKeys.enumerated() {
            if let value = string(fields.lastWins[index]) { data[name] = .string(value) }
        }
        if type == "tag" {
            if let tag = string(fields.tag), !tag.isEmpty {
                data["tag"] = .string(tag)
            } else {
                data["tag"] = nil
            }
        }
    }

    private static let lastWinsKeys = ["custom_title", "ai_title", "last_prompt", "summary_hint", "git_branch"]

    private struct EntryFields {
        var type: Range<Int>?
        var timestamp: Range<Int>?
        var isSidechain: Range<Int>?
        var cwd: Range<Int>?
        var isMeta: Range<Int>?
        var isCompactSummary: Range<Int>?
        var message: Range<Int>?
        var tag: Range<Int>?
        var lastWins: [Range<Int>?] = [nil, nil, nil, nil, nil]
    }

    // MARK: First prompt

    private static func foldFirstPrompt(message: JSONValue, into data: inout [String: JSONValue]) {
        guard case .object(let object) = message else { return }
        var texts: [String] = []
        switch object["content"] {
        case .string(let text)?:
            texts.append(text)
        case .array(let blocks)?:
            if blocks.contains(where: { $0["type"]?.stringValue == "tool_result" }) { return }
            for block in blocks where block["type"]?.stringValue == "text" {
                if let text = block["text"]?.stringValue { texts.append(text) }
            }
        default:
            break
        }
        for raw in texts {
            let result = PromptText.strip(PromptText.flattenNewlines(raw))
            if result.isEmpty { continue }
            if let command = PromptText.commandName(in: result) {
                if (data["command_fallback"]?.stringValue ?? "").isEmpty {
                    data["command_fallback"] = .string(command)
                }
                continue
            }
            if PromptText.isAutomatic(result) { continue }
            data["first_prompt"] = .string(PromptText.truncated(result))
            data["first_prompt_locked"] = .bool(true)
            return
        }
    }

    // MARK: Timestamps

    /// An ISO-8601 timestamp in epoch milliseconds, truncated toward zero; `nil` when it does not parse.
    static func epochMilliseconds(_ text: String) -> Int64? {
        guard let micros = StoreTimestamp.parseMicroseconds(text) else { return nil }
        // Python: int(timedelta.total_seconds() * 1000), in floating point.
        let value = (Double(micros) / 1_000_000 * 1000).rounded(.towardZero)
        guard value.isFinite, abs(value) < 9e15 else { return nil }
        return Int64(value)
    }
}

/// The text rules the Python SDK applies to prompts (`_SKIP_FIRST_PROMPT_PATTERN`, `_COMMAND_NAME_RE`).
///
/// Everything works on code points and UTF-8 bytes, as Python's `str` and `re` do, never on
/// Swift `Character`s (which would merge `\r\n` or a `>` followed by a combining mark).
enum PromptText {
    /// Python's `text.replace("\n", " ")`.
    static func flattenNewlines(_ text: String) -> String {
        guard text.utf8.contains(0x0A) else { return text }
        var scalars = String.UnicodeScalarView()
        for scalar in text.unicodeScalars { scalars.append(scalar == "\n" ? " " : scalar) }
        return String(scalars)
    }

    /// Python's `str.strip()`: removes leading and trailing whitespace.
    static func strip(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isSpace($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !isSpace($0) })!
        return String(String.UnicodeScalarView(scalars[first...last]))
    }

    /// Python's `str.rstrip()`.
    static func rstrip(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard let last = scalars.lastIndex(where: { !isSpace($0) }) else { return "" }
        return String(String.UnicodeScalarView(scalars[...last]))
    }

    /// Python's `str.isspace()` for one character.
    static func isSpace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x1C...0x1F, 0x20, 0x85, 0xA0: return true
        default: return scalar.value > 0xFF && scalar.properties.isWhitespace
        }
    }

    /// The text of the first `<command-name>…</command-name>`, as Python's lazy regex finds it.
    static func commandName(in text: String) -> String? {
        let bytes = Array(text.utf8)
        guard let open = find(Array("<command-name>".utf8), in: bytes, from: 0) else { return nil }
        let start = open + 14
        guard let close = find(Array("</command-name>".utf8), in: bytes, from: start) else { return nil }
        // `.` does not match a newline.
        if bytes[start..<close].contains(0x0A) { return nil }
        return String(decoding: bytes[start..<close], as: UTF8.self)
    }

    /// Whether the (stripped) text is an automatic message that never counts as the first prompt.
    static func isAutomatic(_ text: String) -> Bool {
        let bytes = Array(text.utf8)
        func hasPrefix(_ prefix: String) -> Bool { bytes.starts(with: prefix.utf8) }
        for prefix in ["<local-command-stdout>", "<session-start-hook>", "<tick>", "<goal>"] where hasPrefix(prefix) {
            return true
        }
        let interrupted = Array("[Request interrupted by user".utf8)
        if bytes.starts(with: interrupted), bytes[interrupted.count...].contains(UInt8(ascii: "]")) { return true }
        for tag in ["ide_opened_file", "ide_selection"] {
            let open = Array("<\(tag)>".utf8)
            let close = Array("</\(tag)>".utf8)
            if bytes.count >= open.count + close.count, bytes.starts(with: open), bytes.suffix(close.count).elementsEqual(close) {
                return true
            }
        }
        return false
    }

    /// Cuts a prompt at 200 characters (code points) and adds `…`.
    static func truncated(_ text: String) -> String {
        let scalars = text.unicodeScalars
        guard scalars.count > 200 else { return text }
        let end = scalars.index(scalars.startIndex, offsetBy: 200)
        return rstrip(String(String.UnicodeScalarView(scalars[..<end]))) + "\u{2026}"
    }

    static func find(_ needle: [UInt8], in haystack: [UInt8], from start: Int) -> Int? {
        guard !needle.isEmpty, haystack.count >= needle.count else { return nil }
        var index = start
        let last = haystack.count - needle.count
        while index <= last {
            if haystack[index] == needle[0], haystack[index..<(index + needle.count)].elementsEqual(needle) { return index }
            index += 1
        }
        return nil
    }
}
