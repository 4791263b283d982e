#if canImport(FoundationEssentials)
import FoundationEssentials
#else
import Foundation
#endif
import ClaudeCode

/// A change of session metadata, recorded in the journal.
struct MetadataUpdate: Sendable, Hashable {
    var workingDirectory: String?
    var options: [String: JSONValue]?
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

    /// Appends `"direction":…,"timestamp":…,"type":…[,"subtype":…],"raw…":…}`, the part of an
    /// entry shared by snapshot entries and journal records.
    static func appendEntryBody(_ message: ConversationMessage, to writer: inout StoreJSONWriter) {
        writer.append("\"direction\":")
        writer.append(message.direction == .sent ? "\"sent\"" : "\"received\"")
        writer.append(",\"timestamp\":")
        writer.appendString(StoreTimestamp.format(message.timestamp))
        writer.append(",\"type\":")
        writer.appendString(message.type)
        if let subtype = message.subtype {
            writer.append(",\"subtype\":")
            writer.appendString(subtype)
        }
        switch message.rawKind {
        case .json:
            writer.append(",\"raw\":")
            writer.append(contentsOf: message.rawJSON)
        case .text:
            writer.append(",\"raw_text\":")
            writer.appendString(String(decoding: message.rawJSON, as: UTF8.self))
        case .binary:
            writer.append(",\"raw_base64\":\"")
            writer.append(contentsOf: StoreBase64.encode(message.rawJSON))
            writer.append("\"")
        }
        writer.append("}")
    }

    /// A journal line for a message, with its line feed.
    static func appendMessageRecord(seq: Int64, _ message: ConversationMessage, to writer: inout StoreJSONWriter) {
        writer.append("{\"seq\":")
        writer.appendInteger(seq)
        writer.append(",")
        appendEntryBody(message, to: &writer)
        writer.append(0x0A)
    }

    /// A journal line for a metadata change, with its line feed.
    static func appendMetaRecord(_ update: MetadataUpdate, timestamp: Date, to writer: inout StoreJSONWriter) {
        writer.append("{\"meta\":{")
        var first = true
        if let workingDirectory = update.workingDirectory {
            writer.append("\"working_directory\":")
            writer.appendString(workingDirectory)
            first = false
        }
        if let options = update.options {
            if !first { writer.append(",") }
            writer.append("\"options\":")
            writer.appendObject(options)
        }
        writer.append("},\"timestamp\":")
        writer.appendString(StoreTimestamp.format(timestamp))
        writer.append("}\n")
    }

    /// The first line of every journal.
    static func journalHeader(sessionID: SessionID, baseSeq: Int64, created: Date) -> [UInt8] {
        var writer = StoreJSONWriter(capacity: 160)
        writer.append("{\"journal\":")
        writer.appendInteger(journalFormatVersion)
        writer.append(",\"session_id\":")
        writer.appendString(sessionID.rawValue)
        writer.append(",\"base_seq\":")
        writer.appendInteger(baseSeq)
        writer.append(",\"created\":")
        writer.appendString(StoreTimestamp.format(created))
        writer.append("}\n")
        return writer.bytes
    }

    /// The snapshot: summary fields first, then one history entry per line.
    static func encodeSnapshot(_ data: SessionData) -> [UInt8] {
        var estimate = 512
        for message in data.conversationHistory { estimate += message.rawJSON.count + 160 }
        var writer = StoreJSONWriter(capacity: estimate)
        writer.append("{\n  \"schema_version\": ")
        writer.appendInteger(Int64(SessionData.currentSchemaVersion))
        writer.append(",\n  \"session_id\": ")
        writer.appendString(data.sessionID.rawValue)
        writer.append(",\n  \"start_time\": ")
        writer.appendString(StoreTimestamp.format(data.startTime))
        writer.append(",\n  \"last_activity\": ")
        writer.appendString(StoreTimestamp.format(data.lastActivity))
        writer.append(",\n  \"working_directory\": ")
        writer.appendString(data.workingDirectory)
        writer.append(",\n  \"options\": ")
        writer.appendObject(data.options)
        writer.append(",\n  \"message_count\": ")
        writer.appendInteger(Int64(data.conversationHistory.count))
        writer.append(",\n  \"conversation_history\": [")
        for (index, message) in data.conversationHistory.enumerated() {
            writer.append(index == 0 ? "\n    {" : ",\n    {")
            appendEntryBody(message, to: &writer)
        }
        writer.append(data.conversationHistory.isEmpty ? "]\n}\n" : "\n  ]\n}\n")
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

    private static func decodeEntry(_ scanner: inout StoreJSONScanner) throws(StoreJSONSyntaxError) -> EntryFields {
        var fields = EntryFields()
        try scanner.beginObject()
        var first = true
        while let key = try scanner.nextKey(&first) {
            switch key {
            case "seq": fields.seq = try scanner.readInt64()
            case "direction":
                let start = scanner.position
                let text = try scanner.readString()
                guard let direction = ConversationMessage.Direction(rawValue: text) else {
                    throw StoreJSONSyntaxError(offset: start, reason: "unknown direction")
                }
                fields.direction = direction
            case "timestamp":
                let start = scanner.position
                guard let date = StoreTimestamp.parse(try scanner.readString()) else {
                    throw StoreJSONSyntaxError(offset: start, reason: "invalid timestamp")
                }
                fields.timestamp = date
            case "type": fields.type = try scanner.readString()
            case "subtype": fields.subtype = try scanner.readOptionalString()
            case "raw":
                let range = try scanner.skipValue()
                fields.raw = Array(UnsafeBufferPointer(rebasing: scanner.bytes[range]))
                fields.rawKind = .json
            case "raw_text":
                fields.raw = Array(try scanner.readString().utf8)
                fields.rawKind = .text
            case "raw_base64":
                let start = scanner.position
                guard let bytes = StoreBase64.decode(Array(try scanner.readString().utf8)) else {
                    throw StoreJSONSyntaxError(offset: start, reason: "invalid base64")
                }
                fields.raw = bytes
                fields.rawKind = .binary
            case "meta":
                var update = MetadataUpdate()
                try scanner.beginObject()
                var firstMember = true
                while let metaKey = try scanner.nextKey(&firstMember) {
                    switch metaKey {
                    case "working_directory": update.workingDirectory = try scanner.readOptionalString()
                    case "options": update.options = try readOptions(&scanner)
                    default: try scanner.skipValue()
                    }
                }
                fields.meta = update
            case "message_type": fields.legacyMessageType = try scanner.readOptionalString()
            case "journal": fields.journalVersion = try scanner.readInt64()
            case "session_id": fields.sessionID = try scanner.readOptionalString()
            case "base_seq": fields.baseSeq = try scanner.readInt64()
            default: try scanner.skipValue()
            }
        }
        return fields
    }

    private static func message(from fields: EntryFields, at offset: Int) throws(StoreJSONSyntaxError)
        -> ConversationMessage
    {
        guard let direction = fields.direction else {
            throw StoreJSONSyntaxError(offset: offset, reason: "entry without direction")
        }
        guard let timestamp = fields.timestamp else {
            throw StoreJSONSyntaxError(offset: offset, reason: "entry without timestamp")
        }
        guard let type = fields.type else { throw StoreJSONSyntaxError(offset: offset, reason: "entry without type") }
        guard let raw = fields.raw else { throw StoreJSONSyntaxError(offset: offset, reason: "entry without raw") }
        return ConversationMessage(
            direction: direction, type: type, subtype: fields.subtype, raw: raw, kind: fields.rawKind,
            timestamp: timestamp)
    }

    private static func readOptions(_ scanner: inout StoreJSONScanner) throws(StoreJSONSyntaxError)
        -> [String: JSONValue]
    {
        let start = scanner.position
        switch try scanner.readValue() {
        case .object(let members): return members
        case .null: return [:]
        default: throw StoreJSONSyntaxError(offset: start, reason: "options is not an object")
        }
    }

    // MARK: Decoding snapshots

    /// Decodes a snapshot, or a session file of the Python original (schema version 0).
    ///
    /// - Throws: ``SessionStoreError`` `.damagedFile` (with the reason) or `.schemaTooNew`.
    static func decodeSnapshot(_ bytes: [UInt8], expectedID: SessionID, path: String) throws(SessionStoreError)
        -> SessionData
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
        var messageCount: Int64?
        var history: [ConversationMessage]?
        var legacyIndexes: [Int] = []
        let result: Result<Void, StoreJSONSyntaxError> = bytes.withUnsafeBufferPointer { buffer in
            var scanner = StoreJSONScanner(buffer)
            do throws(StoreJSONSyntaxError) {
                scanner.skipWhitespace()
                guard scanner.peek() == UInt8(ascii: "{") else {
                    throw StoreJSONSyntaxError(offset: scanner.position, reason: "not a JSON object")
                }
                try scanner.beginObject()
                var first = true
                while let key = try scanner.nextKey(&first) {
                    let valueStart = scanner.position
                    switch key {
                    case "schema_version": schemaVersion = try scanner.readInt64()
                    case "session_id": sessionID = try scanner.readString()
                    case "start_time", "last_activity":
                        guard let date = StoreTimestamp.parse(try scanner.readString()) else {
                            throw StoreJSONSyntaxError(offset: valueStart, reason: "invalid \(key)")
                        }
                        if key == "start_time" { startTime = date } else { lastActivity = date }
                    case "working_directory": workingDirectory = try scanner.readOptionalString()
                    case "options": options = try readOptions(&scanner)
                    case "message_count": messageCount = try scanner.readInt64()
                    case "conversation_history":
                        var messages: [ConversationMessage] = []
                        try scanner.beginArray()
                        var firstElement = true
                        while try scanner.nextElement(&firstElement) {
                            let entryStart = scanner.position
                            let fields = try decodeEntry(&scanner)
                            if fields.direction == nil, let legacyType = fields.legacyMessageType {
                                let span = UnsafeBufferPointer(rebasing: buffer[entryStart..<scanner.position])
                                legacyIndexes.append(messages.count)
                                messages.append(legacyMessage(type: legacyType, subtype: fields.subtype, span: span))
                            } else {
                                messages.append(try message(from: fields, at: entryStart))
                            }
                        }
                        history = messages
                    default:
                        try scanner.skipValue()
                    }
                }
                try scanner.expectEnd()
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        if case .failure(let error) = result {
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
            guard let messageCount, messageCount == Int64(history.count) else {
                throw damaged("message_count does not match conversation_history")
            }
            version = Int(schemaVersion)
        } else {
            // The Python original: no per-message times; use the file's last activity.
            for index in legacyIndexes { history[index].timestamp = lastActivity }
            version = 0
        }
        return SessionData(
            sessionID: expectedID, startTime: startTime, lastActivity: lastActivity, conversationHistory: history,
            workingDirectory: workingDirectory ?? "", options: options ?? [:], schemaVersion: version)
    }

    /// A message of the Python original. Its entry (not the CLI frame, which that
    /// implementation did not keep) is kept as the raw JSON, minified.
    private static func legacyMessage(type: String, subtype: String?, span: UnsafeBufferPointer<UInt8>)
        -> ConversationMessage
    {
        let mapped: String
        switch type {
        case "UserMessage": mapped = "user"
        case "AssistantMessage": mapped = "assistant"
        case "SystemMessage": mapped = "system"
        case "ResultMessage": mapped = "result"
        default: mapped = type
        }
        return ConversationMessage(
            direction: .received, type: mapped, subtype: subtype, raw: minify(span), kind: .json,
            timestamp: Date(timeIntervalSince1970: 0))
    }

    /// Removes insignificant whitespace from valid JSON, keeping everything else as is.
    static func minify(_ bytes: UnsafeBufferPointer<UInt8>) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        var inString = false
        var escaped = false
        for byte in bytes {
            if inString {
                out.append(byte)
                if escaped {
                    escaped = false
                } else if byte == UInt8(ascii: "\\") {
                    escaped = true
                } else if byte == UInt8(ascii: "\"") {
                    inString = false
                }
            } else if byte == UInt8(ascii: "\"") {
                inString = true
                out.append(byte)
            } else if !RawFrameInspector.isJSONWhitespace(byte) {
                out.append(byte)
            }
        }
        return out
    }

    // MARK: Decoding journals

    /// Decodes one journal line (without its line feed).
    enum DecodedLine {
        case header(version: Int64, sessionID: String?, baseSeq: Int64?)
        case line(JournalLine)
    }

    static func decodeLine(_ line: UnsafeBufferPointer<UInt8>) -> DecodedLine? {
        var scanner = StoreJSONScanner(line)
        do throws(StoreJSONSyntaxError) {
            let fields = try decodeEntry(&scanner)
            try scanner.expectEnd()
            if let version = fields.journalVersion {
                return .header(version: version, sessionID: fields.sessionID, baseSeq: fields.baseSeq)
            }
            if let meta = fields.meta {
                guard let timestamp = fields.timestamp else { return nil }
                return .line(.meta(meta, timestamp))
            }
            guard let seq = fields.seq, seq >= 0 else { return nil }
            return .line(.message(seq: seq, try message(from: fields, at: 0)))
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
                switch decodeLine(UnsafeBufferPointer(rebasing: buffer[lineStart..<lineEnd])) {
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
                if timestamp > lastActivity { lastActivity = timestamp }
            }
        }
        data.lastActivity = lastActivity
        return (data, diagnostics)
    }
}
