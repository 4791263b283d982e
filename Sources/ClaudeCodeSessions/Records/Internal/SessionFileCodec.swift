import ClaudeCode

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// A change of session metadata, recorded in the journal.
struct MetadataUpdate: Sendable, Hashable {
    var workingDirectory: String?
    var options: [String: JSONValue]?
    /// `.some(nil)` clears the title; `nil` keeps it.
    var title: String?? = nil
    /// `.some(nil)` clears the tag; `nil` keeps it.
    var tag: String?? = nil

    /// Whether the change counts as activity (``SessionData/lastActivity``): a title or tag
    /// alone does not.
    var isActivity: Bool { workingDirectory != nil || options != nil || (title == nil && tag == nil) }
}

/// One decoded journal line.
enum JournalLine {
    case message(seq: Int64, ConversationMessage)
    case meta(MetadataUpdate, Date)
}

/// A decoded journal.
struct JournalContents {
    var baseSeq: Int64?
    var lines: [JournalLine] = []
    /// Lines that could not be decoded, as byte ranges of the journal (for quarantine).
    var badLines: [Range<Int>] = []
    /// Whether the last line had no terminating line feed.
    var tornTail = false
}

/// Encodes and decodes the snapshot (`<id>.json`) and journal (`<id>.journal`) formats.
/// See `docs/session-file-format.md`.
enum SessionFileCodec {
    static let journalFormatVersion: Int64 = 1

    // MARK: Encoding

    /// A writer for the session files: strings escape U+2028 and U+2029, so that no record
    /// holds anything a line splitter could take for a line break.
    static func writer(capacity: Int) -> JSONWriter {
        JSONWriter(capacity: capacity, escapesLineSeparators: true)
    }

    /// Appends `"direction":…,"timestamp":…,"type":…[,"subtype":…],"raw…":…}`, the part of an
    /// entry shared by snapshot entries and journal records.
    static func appendEntryBody(_ message: ConversationMessage, to writer: inout JSONWriter) {
        writer.writeRaw(message.direction == .sent ? "\"direction\":\"sent\"" : "\"direction\":\"received\"")
        writer.writeRaw(",\"timestamp\":")
        writer.writeString(StoreTimestamp.format(message.timestamp))
        writer.writeRaw(",\"type\":")
        writer.writeString(message.type)
        if let subtype = message.subtype {
            writer.writeRaw(",\"subtype\":")
            writer.writeString(subtype)
        }
        switch message.rawKind {
        case .json:
            writer.writeRaw(",\"raw\":")
            writer.writeRaw(message.rawJSON)
        case .text:
            writer.writeRaw(",\"raw_text\":")
            writer.writeString(String(decoding: message.rawJSON, as: UTF8.self))
        case .binary:
            writer.writeRaw(",\"raw_base64\":\"")
            writer.writeRaw(StoreBase64.encode(message.rawJSON))
            writer.writeRaw("\"")
        }
        writer.writeRaw("}")
    }

    /// A journal line for a message, with its line feed.
    static func appendMessageRecord(seq: Int64, _ message: ConversationMessage, to writer: inout JSONWriter) {
        writer.writeRaw("{\"seq\":")
        writer.writeInteger(seq)
        writer.writeRaw(",")
        appendEntryBody(message, to: &writer)
        writer.writeRaw("\n")
    }

    /// A journal line for a metadata change, with its line feed.
    static func appendMetaRecord(_ update: MetadataUpdate, timestamp: Date, to writer: inout JSONWriter) {
        writer.writeRaw("{\"meta\":{")
        var first = true
        func key(_ name: String) {
            writer.writeRaw(Array(((first ? "\"" : ",\"") + name + "\":").utf8))
            first = false
        }
        if let workingDirectory = update.workingDirectory {
            key("working_directory")
            writer.writeString(workingDirectory)
        }
        if let options = update.options {
            key("options")
            writer.writeObject(options)
        }
        for (name, change) in [("title", update.title), ("tag", update.tag)] {
            guard let change else { continue }
            key(name)
            if let value = change { writer.writeString(value) } else { writer.writeRaw("null") }
        }
        writer.writeRaw("},\"timestamp\":")
        writer.writeString(StoreTimestamp.format(timestamp))
        writer.writeRaw("}\n")
    }

    /// The first line of every journal.
    static func journalHeader(sessionID: SessionID, baseSeq: Int64, created: Date) -> [UInt8] {
        var writer = writer(capacity: 160)
        writer.writeRaw("{\"journal\":")
        writer.writeInteger(journalFormatVersion)
        writer.writeRaw(",\"session_id\":")
        writer.writeString(sessionID.rawValue)
        writer.writeRaw(",\"base_seq\":")
        writer.writeInteger(baseSeq)
        writer.writeRaw(",\"created\":")
        writer.writeString(StoreTimestamp.format(created))
        writer.writeRaw("}\n")
        return writer.bytes
    }

    /// The snapshot's optional `title` and `tag` fields (each only when set), after `options`.
    static func appendLabels(title: String?, tag: String?, to writer: inout JSONWriter) {
        if let title {
            writer.writeRaw(",\n  \"title\": ")
            writer.writeString(title)
        }
        if let tag {
            writer.writeRaw(",\n  \"tag\": ")
            writer.writeString(tag)
        }
    }

    /// The snapshot: summary fields first, then one history entry per line.
    static func encodeSnapshot(_ data: SessionData) -> [UInt8] {
        var estimate = 512
        for message in data.conversationHistory { estimate += message.rawJSON.count + 160 }
        var writer = writer(capacity: estimate)
        writer.writeRaw("{\n  \"schema_version\": ")
        writer.writeInteger(Int64(SessionData.currentSchemaVersion))
        writer.writeRaw(",\n  \"session_id\": ")
        writer.writeString(data.sessionID.rawValue)
        writer.writeRaw(",\n  \"start_time\": ")
        writer.writeString(StoreTimestamp.format(data.startTime))
        writer.writeRaw(",\n  \"last_activity\": ")
        writer.writeString(StoreTimestamp.format(data.lastActivity))
        writer.writeRaw(",\n  \"working_directory\": ")
        writer.writeString(data.workingDirectory)
        writer.writeRaw(",\n  \"options\": ")
        writer.writeObject(data.options)
        appendLabels(title: data.title, tag: data.tag, to: &writer)
        writer.writeRaw(",\n  \"message_count\": ")
        writer.writeInteger(Int64(data.conversationHistory.count))
        writer.writeRaw(",\n  \"conversation_history\": [")
        for (index, message) in data.conversationHistory.enumerated() {
            writer.writeRaw(index == 0 ? "\n    {" : ",\n    {")
            appendEntryBody(message, to: &writer)
        }
        writer.writeRaw(data.conversationHistory.isEmpty ? "]\n}\n" : "\n  ]\n}\n")
        return writer.bytes
    }

    // MARK: Decoding entries

    private struct EntryFields {
        var seq: Int64?
        var direction: ConversationMessage.Direction?
        var timestamp: Date?
        var type: String?
        var subtype: String?
        var raw: [UInt8]?
        var rawKind: RawFrameKind = .json
        var meta: MetadataUpdate?
        var legacyMessageType: String?
        var journalVersion: Int64?
        var sessionID: String?
        var baseSeq: Int64?
    }

    private static func decodeEntry(_ reader: inout JSONReader) throws(JSONParseError) -> EntryFields {
        var fields = EntryFields()
        try reader.beginObject()
        while let key = try reader.nextKey() {
            switch key {
            case "seq": fields.seq = try reader.readInteger()
            case "direction":
                let start = reader.position
                guard let direction = ConversationMessage.Direction(rawValue: try reader.readString()) else {
                    throw JSONParseError(offset: start, reason: "unknown direction")
                }
                fields.direction = direction
            case "timestamp":
                let start = reader.position
                guard let date = StoreTimestamp.parse(try reader.readString()) else {
                    throw JSONParseError(offset: start, reason: "invalid timestamp")
                }
                fields.timestamp = date
            case "type": fields.type = try reader.readString()
            case "subtype": fields.subtype = try reader.readOptionalString()
            case "raw":
                // Validated as the frame was when it was recorded: strictly, at any depth.
                let range = try reader.skipValue(maximumDepth: .max)
                fields.raw = Array(reader.bytes[range])
                fields.rawKind = .json
            case "raw_text":
                fields.raw = Array(try reader.readString().utf8)
                fields.rawKind = .text
            case "raw_base64":
                let start = reader.position
                guard let bytes = StoreBase64.decode(Array(try reader.readString().utf8)) else {
                    throw JSONParseError(offset: start, reason: "invalid base64")
                }
                fields.raw = bytes
                fields.rawKind = .binary
            case "meta":
                var update = MetadataUpdate()
                try reader.beginObject()
                while let metaKey = try reader.nextKey() {
                    switch metaKey {
                    case "working_directory": update.workingDirectory = try reader.readOptionalString()
                    case "options": update.options = try readOptions(&reader)
                    case "title": update.title = .some(try reader.readOptionalString())
                    case "tag": update.tag = .some(try reader.readOptionalString())
                    default: try reader.skipValue(maximumDepth: .max)
                    }
                }
                fields.meta = update
            case "message_type": fields.legacyMessageType = try reader.readOptionalString()
            case "journal": fields.journalVersion = try reader.readInteger()
            case "session_id": fields.sessionID = try reader.readOptionalString()
            case "base_seq": fields.baseSeq = try reader.readInteger()
            default: try reader.skipValue(maximumDepth: .max)
            }
        }
        return fields
    }

    private static func message(from fields: EntryFields, at offset: Int) throws(JSONParseError)
        -> ConversationMessage
    {
        guard let direction = fields.direction else {
            throw JSONParseError(offset: offset, reason: "entry without direction")
        }
        guard let timestamp = fields.timestamp else {
            throw JSONParseError(offset: offset, reason: "entry without timestamp")
        }
        guard let type = fields.type else { throw JSONParseError(offset: offset, reason: "entry without type") }
        guard let raw = fields.raw else { throw JSONParseError(offset: offset, reason: "entry without raw") }
        return ConversationMessage(
            direction: direction, type: type, subtype: fields.subtype, raw: raw, kind: fields.rawKind,
            timestamp: timestamp)
    }

    private static func readOptions(_ reader: inout JSONReader) throws(JSONParseError) -> [String: JSONValue] {
        let start = reader.position
        switch try reader.readValue() {
        case .object(let members): return members
        case .null: return [:]
        default: throw JSONParseError(offset: start, reason: "options is not an object")
        }
    }

    // MARK: Decoding snapshots

    /// Decodes a snapshot, or a session file of the Python original (schema version 0).
    ///
    /// - Throws: ``SessionStoreError`` `.damagedFile` (with the reason) or `.schemaTooNew`.
    static func decodeSnapshot(_ bytes: [UInt8], expectedID: SessionID, path: String) throws(SessionStoreError)
        -> SessionData
    {
        try decodeSnapshot(bytes, expectedID: expectedID, path: path, headerOnly: false).data
    }

    /// Decodes a snapshot; with `headerOnly`, `bytes` is a snapshot's text up to its
    /// `conversation_history` (closed with an empty array): the summary fields are decoded and
    /// `message_count` is returned instead of being checked against the history (streaming folds).
    static func decodeSnapshot(_ bytes: [UInt8], expectedID: SessionID, path: String, headerOnly: Bool)
        throws(SessionStoreError) -> (data: SessionData, messageCount: Int64?)
    {
        func damaged(_ reason: String) -> SessionStoreError {
            SessionStoreError(.damagedFile, path: path, sessionID: expectedID, reason: reason)
        }
        var schemaVersion: Int64?
        var sessionID: String?
        var startTime: Date?
        var lastActivity: Date?
        var workingDirectory: String?
        var options: [String: JSONValue]?
        var title: String?
        var tag: String?
        var messageCount: Int64?
        var history: [ConversationMessage]?
        var legacyIndexes: [Int] = []
        var reader = JSONReader(bytes)
        do throws(JSONParseError) {
            guard reader.peekKind() == .object else {
                throw JSONParseError(offset: reader.position, reason: "not a JSON object")
            }
            try reader.beginObject()
            while let key = try reader.nextKey() {
                let valueStart = reader.position
                switch key {
                case "schema_version": schemaVersion = try reader.readInteger()
                case "session_id": sessionID = try reader.readString()
                case "start_time", "last_activity":
                    guard let date = StoreTimestamp.parse(try reader.readString()) else {
                        throw JSONParseError(offset: valueStart, reason: "invalid \(key)")
                    }
                    if key == "start_time" { startTime = date } else { lastActivity = date }
                case "working_directory": workingDirectory = try reader.readOptionalString()
                case "options": options = try readOptions(&reader)
                case "title": title = try reader.readOptionalString()
                case "tag": tag = try reader.readOptionalString()
                case "message_count": messageCount = try reader.readInteger()
                case "conversation_history":
                    var messages: [ConversationMessage] = []
                    try reader.beginArray()
                    while try reader.nextElement() {
                        _ = reader.peekKind()  // to the entry's first byte
                        let entryStart = reader.position
                        let fields = try decodeEntry(&reader)
                        if fields.direction == nil, let legacyType = fields.legacyMessageType {
                            let entry = bytes[entryStart..<reader.position]
                            legacyIndexes.append(messages.count)
                            messages.append(legacyMessage(type: legacyType, subtype: fields.subtype, entry: entry))
                        } else {
                            messages.append(try message(from: fields, at: entryStart))
                        }
                    }
                    history = messages
                default:
                    try reader.skipValue(maximumDepth: .max)
                }
            }
            try reader.finish()
        } catch {
            throw damaged("invalid session file at byte \(error.offset): \(error.reason)")
        }
        guard let sessionID else { throw damaged("not a session file: no session_id") }
        guard sessionID == expectedID.rawValue else { throw damaged("session_id does not match the file name") }
        guard let startTime else { throw damaged("not a session file: no start_time") }
        guard let lastActivity else { throw damaged("not a session file: no last_activity") }
        guard var history else { throw damaged("not a session file: no conversation_history") }
        let version: Int
        if let schemaVersion {
            guard schemaVersion <= Int64(SessionData.currentSchemaVersion) else {
                throw SessionStoreError(
                    .schemaTooNew, path: path, sessionID: expectedID,
                    reason: "schema_version \(schemaVersion) is newer than \(SessionData.currentSchemaVersion)")
            }
            guard schemaVersion >= 1 else { throw damaged("invalid schema_version") }
            guard legacyIndexes.isEmpty else { throw damaged("entry without direction") }
            guard let messageCount, headerOnly || messageCount == Int64(history.count) else {
                throw damaged("message_count does not match conversation_history")
            }
            version = Int(schemaVersion)
        } else {
            // The Python original: no per-message times; use the file's last activity.
            for index in legacyIndexes { history[index].timestamp = lastActivity }
            version = 0
        }
        let data = SessionData(
            sessionID: expectedID, startTime: startTime, lastActivity: lastActivity, conversationHistory: history,
            workingDirectory: workingDirectory ?? "", options: options ?? [:], schemaVersion: version, title: title,
            tag: tag)
        return (data, messageCount)
    }

    /// A message of the Python original. Its entry (not the CLI frame, which that
    /// implementation did not keep) is kept as the raw JSON, without insignificant whitespace.
    private static func legacyMessage(type: String, subtype: String?, entry: ArraySlice<UInt8>) -> ConversationMessage {
        let mapped: String
        switch type {
        case "UserMessage": mapped = "user"
        case "AssistantMessage": mapped = "assistant"
        case "SystemMessage": mapped = "system"
        case "ResultMessage": mapped = "result"
        default: mapped = type
        }
        var compacted = JSONWriter(capacity: entry.count)
        compacted.writeCompacting(entry)
        return ConversationMessage(
            direction: .received, type: mapped, subtype: subtype, raw: compacted.bytes, kind: .json,
            timestamp: Date(timeIntervalSince1970: 0))
    }

    // MARK: Decoding journals

    /// Decodes one journal line (without its line feed).
    enum DecodedLine {
        case header(version: Int64, sessionID: String?, baseSeq: Int64?)
        case line(JournalLine)
    }

    /// Decodes the journal line in `range` of `bytes` (without its line feed).
    static func decodeLine(_ bytes: [UInt8], range: Range<Int>) -> DecodedLine? {
        var reader = JSONReader(bytes, range: range)
        do throws(JSONParseError) {
            let fields = try decodeEntry(&reader)
            try reader.finish()
            if let version = fields.journalVersion {
                return .header(version: version, sessionID: fields.sessionID, baseSeq: fields.baseSeq)
            }
            if let meta = fields.meta {
                guard let timestamp = fields.timestamp else { return nil }
                return .line(.meta(meta, timestamp))
            }
            guard let seq = fields.seq, seq >= 0 else { return nil }
            return .line(.message(seq: seq, try message(from: fields, at: range.lowerBound)))
        } catch {
            return nil
        }
    }

    /// Decodes a whole journal. Undecodable lines are collected, never fatal.
    ///
    /// - Throws: `.damagedFile` when the header names another session, `.schemaTooNew` when
    ///   its format version is newer.
    static func decodeJournal(_ bytes: [UInt8], expectedID: SessionID, path: String) throws(SessionStoreError)
        -> JournalContents
    {
        var contents = JournalContents()
        var headerError: SessionStoreError?
        bytes.withUnsafeBufferPointer { buffer in
            var lineStart = 0
            var lineNumber = 0
            while lineStart < buffer.count {
                var lineEnd = lineStart
                while lineEnd < buffer.count && buffer[lineEnd] != 0x0A { lineEnd += 1 }
                let terminated = lineEnd < buffer.count
                defer {
                    lineStart = lineEnd + 1
                    lineNumber += 1
                }
                if lineEnd == lineStart { continue }  // an empty line (e.g. a torn-tail terminator)
                if !terminated {
                    contents.tornTail = true
                    contents.badLines.append(lineStart..<lineEnd)
                    continue
                }
                switch decodeLine(bytes, range: lineStart..<lineEnd) {
                case .header(let version, let sessionID, let baseSeq):
                    if version > journalFormatVersion {
                        headerError = SessionStoreError(
                            .schemaTooNew, path: path, sessionID: expectedID,
                            reason: "journal format \(version) is newer than \(journalFormatVersion)")
                    } else if sessionID != expectedID.rawValue {
                        headerError = SessionStoreError(
                            .damagedFile, path: path, sessionID: expectedID,
                            reason: "journal header names another session")
                    } else if contents.baseSeq == nil {
                        contents.baseSeq = baseSeq
                    }
                case .line(let line):
                    contents.lines.append(line)
                case nil:
                    contents.badLines.append(lineStart..<lineEnd)
                }
            }
        }
        if let headerError { throw headerError }
        return contents
    }

    /// Merges a snapshot with its journal: journal messages already in the snapshot (by
    /// sequence number) are skipped, metadata changes applied in order.
    static func merge(snapshot: SessionData, journal: JournalContents) -> (SessionData, SessionLoadDiagnostics) {
        var data = snapshot
        var diagnostics = SessionLoadDiagnostics()
        diagnostics.snapshotMessageCount = snapshot.conversationHistory.count
        diagnostics.skippedJournalLines = journal.badLines.count
        diagnostics.tornJournalTail = journal.tornTail
        var expected = Int64(snapshot.conversationHistory.count)
        var lastActivity = data.lastActivity
        for line in journal.lines {
            switch line {
            case .message(let seq, let message):
                if seq < expected {
                    diagnostics.alreadyFoldedRecords += 1
                    continue
                }
                if seq > expected { diagnostics.sequenceGaps += 1 }
                expected = seq + 1
                data.conversationHistory.append(message)
                diagnostics.journalMessageCount += 1
                if message.timestamp > lastActivity { lastActivity = message.timestamp }
            case .meta(let update, let timestamp):
                if let workingDirectory = update.workingDirectory { data.workingDirectory = workingDirectory }
                if let options = update.options { data.options = options }
                if let title = update.title { data.title = title }
                if let tag = update.tag { data.tag = tag }
                if update.isActivity, timestamp > lastActivity { lastActivity = timestamp }
            }
        }
        data.lastActivity = lastActivity
        return (data, diagnostics)
    }
}
