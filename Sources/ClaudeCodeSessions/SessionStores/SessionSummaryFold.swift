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
        var summary =
            previous ?? SessionStoreSummary(sessionID: key.sessionID, modifiedMilliseconds: 0, data: .object([:]))
        var state = State(summary.data.objectValue ?? [:])
        for entry in entries {
            foldEntry(
                entry.raw.bytes, fields: entry.summaryFields?.fields ?? Fields(scanning: entry.raw.bytes), into: &state)
        }
        summary.data = .object(state.data)
        return summary
    }

    /// Folds one entry into `data`.
    static func foldEntry(_ entry: SessionStoreEntry, into data: inout [String: JSONValue]) {
        var state = State(data)
        foldEntry(
            entry.raw.bytes, fields: entry.summaryFields?.fields ?? Fields(scanning: entry.raw.bytes), into: &state)
        data = state.data
    }

    /// The summary's fields while folding (the `data` object, without hashing a key per entry).
    struct State {
        var isSidechain: JSONValue?
        var createdAt: JSONValue?
        var cwd: JSONValue?
        var firstPrompt: JSONValue?
        var firstPromptLocked: JSONValue?
        var commandFallback: JSONValue?
        var customTitle: JSONValue?
        var aiTitle: JSONValue?
        var lastPrompt: JSONValue?
        var summaryHint: JSONValue?
        var gitBranch: JSONValue?
        var tag: JSONValue?
        /// Keys the fold does not know, kept as they are.
        var others: [String: JSONValue]

        init(_ data: [String: JSONValue]) {
            var others = data
            isSidechain = others.removeValue(forKey: "is_sidechain")
            createdAt = others.removeValue(forKey: "created_at")
            cwd = others.removeValue(forKey: "cwd")
            firstPrompt = others.removeValue(forKey: "first_prompt")
            firstPromptLocked = others.removeValue(forKey: "first_prompt_locked")
            commandFallback = others.removeValue(forKey: "command_fallback")
            customTitle = others.removeValue(forKey: "custom_title")
            aiTitle = others.removeValue(forKey: "ai_title")
            lastPrompt = others.removeValue(forKey: "last_prompt")
            summaryHint = others.removeValue(forKey: "summary_hint")
            gitBranch = others.removeValue(forKey: "git_branch")
            tag = others.removeValue(forKey: "tag")
            self.others = others
        }

        var data: [String: JSONValue] {
            var data = others
            for (key, value) in [
                ("is_sidechain", isSidechain), ("created_at", createdAt), ("cwd", cwd), ("first_prompt", firstPrompt),
                ("first_prompt_locked", firstPromptLocked), ("command_fallback", commandFallback),
                ("custom_title", customTitle), ("ai_title", aiTitle), ("last_prompt", lastPrompt),
                ("summary_hint", summaryHint), ("git_branch", gitBranch), ("tag", tag),
            ] {
                if let value { data[key] = value }
            }
            return data
        }
    }

    /// ``Fields`` behind a reference, so entries stay small when copied.
    final class FieldsBox: Sendable {
        let fields: Fields
        init(_ fields: Fields) { self.fields = fields }
    }

    /// Where the members the fold reads are in one entry's bytes.
    struct Fields: Sendable {
        var type: Range<Int>?
        var timestamp: Range<Int>?
        var isSidechain: Range<Int>?
        var cwd: Range<Int>?
        var isMeta: Range<Int>?
        var isCompactSummary: Range<Int>?
        var message: Range<Int>?
        var tag: Range<Int>?
        var customTitle: Range<Int>?
        var aiTitle: Range<Int>?
        var lastPrompt: Range<Int>?
        var summary: Range<Int>?
        var gitBranch: Range<Int>?

        init() {}

        /// Finds the members by walking the object's top level.
        init(scanning bytes: [UInt8]) {
            var iterator = JSONObjectScanner(bytes).makeIterator()
            while let member = iterator.next() { note(member.key, member.valueRange) }
        }

        /// The members the fold reads; each case's raw value is the member's name.
        enum Member: String, CaseIterable {
            case type, timestamp, isSidechain, cwd, isMeta, isCompactSummary, message, customTitle, aiTitle
            case lastPrompt, summary, gitBranch, tag

            /// Each member's name as bytes, in ``allCases`` order (for readers that compare keys as bytes).
            static let names: [[UInt8]] = allCases.map { Array($0.rawValue.utf8) }
        }

        /// Records `member` (the last one of a name wins, as in a JSON parser).
        mutating func note(_ member: Member, _ value: Range<Int>) {
            switch member {
            case .type: type = value
            case .timestamp: timestamp = value
            case .isSidechain: isSidechain = value
            case .cwd: cwd = value
            case .isMeta: isMeta = value
            case .isCompactSummary: isCompactSummary = value
            case .message: message = value
            case .customTitle: customTitle = value
            case .aiTitle: aiTitle = value
            case .lastPrompt: lastPrompt = value
            case .summary: summary = value
            case .gitBranch: gitBranch = value
            case .tag: tag = value
            }
        }

        /// Records a member by name, when the fold reads it.
        mutating func note(_ key: String, _ value: Range<Int>) {
            guard let member = Member(rawValue: key) else { return }
            note(member, value)
        }

        /// Shifts every range by `-offset` (for an entry sliced out of a larger buffer).
        func rebased(by offset: Int) -> Fields {
            func shift(_ range: Range<Int>?) -> Range<Int>? {
                range.map { ($0.lowerBound - offset)..<($0.upperBound - offset) }
            }
            var copy = Fields()
            copy.type = shift(type)
            copy.timestamp = shift(timestamp)
            copy.isSidechain = shift(isSidechain)
            copy.cwd = shift(cwd)
            copy.isMeta = shift(isMeta)
            copy.isCompactSummary = shift(isCompactSummary)
            copy.message = shift(message)
            copy.tag = shift(tag)
            copy.customTitle = shift(customTitle)
            copy.aiTitle = shift(aiTitle)
            copy.lastPrompt = shift(lastPrompt)
            copy.summary = shift(summary)
            copy.gitBranch = shift(gitBranch)
            return copy
        }
    }

    static func foldEntry(_ bytes: [UInt8], fields: Fields, into state: inout State) {
        let scanner = JSONObjectScanner(bytes)
        func string(_ range: Range<Int>?) -> String? {
            guard let range else { return nil }
            return (try? scanner.string(in: range)) ?? nil
        }
        func isTrue(_ range: Range<Int>?) -> Bool {
            guard let range else { return false }
            return range.count == 4 && bytes[range].elementsEqual("true".utf8)
        }

        let type = string(fields.type)
        if state.isSidechain == nil {
            state.isSidechain = .bool(isTrue(fields.isSidechain))
        }
        if state.createdAt == nil, let text = string(fields.timestamp), let milliseconds = epochMilliseconds(text) {
            state.createdAt = .int(milliseconds)
        }
        if state.cwd == nil, let cwd = string(fields.cwd), !cwd.isEmpty {
            state.cwd = .string(cwd)
        }
        if state.firstPromptLocked?.boolValue != true, type == "user", !isTrue(fields.isMeta),
            !isTrue(fields.isCompactSummary), let range = fields.message,
            let message = try? scanner.value(in: range)
        {
            foldFirstPrompt(message: message, into: &state)
        }
        if let value = string(fields.customTitle) { state.customTitle = .string(value) }
        if let value = string(fields.aiTitle) { state.aiTitle = .string(value) }
        if let value = string(fields.lastPrompt) { state.lastPrompt = .string(value) }
        if let value = string(fields.summary) { state.summaryHint = .string(value) }
        if let value = string(fields.gitBranch) { state.gitBranch = .string(value) }
        if type == "tag" {
            if let tag = string(fields.tag), !tag.isEmpty {
                state.tag = .string(tag)
            } else {
                state.tag = nil
            }
        }
    }

    // MARK: First prompt

    private static func foldFirstPrompt(message: JSONValue, into state: inout State) {
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
            switch TextRules.firstPromptCandidate(raw) {
            case .skip:
                continue
            case .command(let command):
                if (state.commandFallback?.stringValue ?? "").isEmpty {
                    state.commandFallback = .string(command)
                }
            case .prompt(let prompt):
                state.firstPrompt = .string(prompt)
                state.firstPromptLocked = .bool(true)
                return
            }
        }
    }

    // MARK: Timestamps

    /// An ISO-8601 timestamp in epoch milliseconds, as Python's `datetime.fromisoformat`
    /// reads it; `nil` when it does not parse.
    static func epochMilliseconds(_ text: String) -> Int64? {
        TextRules.epochMilliseconds(iso: text).map(Int64.init)
    }
}
