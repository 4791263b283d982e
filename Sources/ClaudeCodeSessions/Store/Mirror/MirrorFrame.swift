import ClaudeCode

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A `transcript_mirror` frame: `{"type":"transcript_mirror","filePath":"…","entries":[{…},…]}`.
///
/// The entries are sliced out of the frame's bytes, so each keeps exactly the bytes the CLI
/// wrote to its transcript (the real CLI 2.1.331 writes the same bytes to both). The frame's
/// grammar is checked in one pass — objects, arrays, numbers, literals and where strings end —
/// but not the insides of strings (UTF-8, escapes), as for any ``SessionStoreEntry``.
struct MirrorFrame: Sendable {
    var filePath: String
    var entries: [SessionStoreEntry]

    /// Why a frame could not be read.
    struct Malformed: Error {
        var filePath: String?
        var reason: String
        var entryCount: Int
    }

    /// One entry found in a frame: its range, where its `type` and `uuid` values are, and the
    /// members the summary fold reads — all from the one validating pass over the frame.
    private struct ScannedEntry {
        var range: Range<Int>
        var isObject: Bool
        var type: Range<Int>?
        var uuid: Range<Int>?
        var fields = SessionSummaryFold.Fields()
    }

    static func parse(_ bytes: [UInt8]) -> Result<MirrorFrame, Malformed> {
        var filePath: String?
        var scanned: [ScannedEntry] = []
        var entriesSeen = false
        let failure: String? = bytes.withUnsafeBufferPointer { buffer -> String? in
            // The CLI's own output: the grammar is checked, not the insides of strings (as
            // SessionStoreEntry(raw:) does); a backend that stores JSON checks the rest.
            var scanner = StoreJSONScanner(buffer, validatesStrings: false)
            do throws(StoreJSONSyntaxError) {
                try scanner.beginObject()
                var first = true
                while let key = try scanner.nextKey(&first) {
                    switch key {
                    case "filePath" where scanner.peek() == UInt8(ascii: "\""):
                        filePath = try scanner.readString()
                    case "entries" where scanner.peek() == UInt8(ascii: "["):
                        entriesSeen = true
                        scanned = []
                        try scanner.beginArray()
                        var firstElement = true
                        while try scanner.nextElement(&firstElement) {
                            scanned.append(try scanEntry(&scanner))
                        }
                    default:
                        try scanner.skipValue()
                    }
                }
                try scanner.expectEnd()
                return nil
            } catch {
                return "invalid JSON at byte \(error.offset): \(error.reason)"
            }
        }
        if let failure { return .failure(Malformed(filePath: filePath, reason: failure, entryCount: scanned.count)) }
        guard let filePath else {
            return .failure(Malformed(filePath: nil, reason: "the frame has no filePath", entryCount: scanned.count))
        }
        guard entriesSeen else {
            return .failure(Malformed(filePath: filePath, reason: "the frame has no entries array", entryCount: 0))
        }
        var entries: [SessionStoreEntry] = []
        entries.reserveCapacity(scanned.count)
        for (index, item) in scanned.enumerated() {
            guard item.isObject else {
                return .failure(Malformed(filePath: filePath, reason: "entry \(index) is not a JSON object", entryCount: scanned.count))
            }
            let offset = item.range.lowerBound
            func string(_ range: Range<Int>?) -> String? {
                guard let range, range.count >= 2, bytes[range.lowerBound] == UInt8(ascii: "\"") else { return nil }
                let content = (range.lowerBound + 1)..<(range.upperBound - 1)
                if bytes[content].contains(UInt8(ascii: "\\")) {
                    // Escapes were not checked by the scan: decode strictly (nil when invalid).
                    return (try? JSONObjectScanner(bytes).string(in: range)) ?? nil
                }
                return String(decoding: bytes[content], as: UTF8.self)
            }
            let type = string(item.type)
            let uuid = string(item.uuid)
            // As SessionStoreEntry(raw:): a type or uuid string that does not decode makes the entry invalid.
            if (item.type != nil && type == nil && bytes[item.type!.lowerBound] == UInt8(ascii: "\""))
                || (item.uuid != nil && uuid == nil && bytes[item.uuid!.lowerBound] == UInt8(ascii: "\""))
            {
                return .failure(Malformed(filePath: filePath, reason: "entry \(index) has an invalid type or uuid string", entryCount: scanned.count))
            }
            entries.append(
                SessionStoreEntry(
                    scanned: RawJSON(bytes: Array(bytes[item.range])), type: type ?? "", uuid: uuid,
                    summaryFields: SessionSummaryFold.FieldsBox(item.fields.rebased(by: offset))))
        }
        return .success(MirrorFrame(filePath: filePath, entries: entries))
    }

    /// Scans one element of `entries`, validating it; for an object, notes where its top-level
    /// members of interest are, comparing member names as bytes (no strings are made).
    private static func scanEntry(_ scanner: inout StoreJSONScanner) throws(StoreJSONSyntaxError) -> ScannedEntry {
        scanner.skipWhitespace()
        let start = scanner.position
        guard scanner.peek() == UInt8(ascii: "{") else {
            let range = try scanner.skipValue()
            return ScannedEntry(range: range, isObject: false)
        }
        var entry = ScannedEntry(range: start..<start, isObject: true)
        scanner.position += 1
        var first = true
        while true {
            scanner.skipWhitespace()
            guard let byte = scanner.peek() else { throw scanner.error("unexpected end of input in an object") }
            if byte == UInt8(ascii: "}") {
                scanner.position += 1
                break
            }
            if first {
                first = false
            } else {
                try scanner.expect(UInt8(ascii: ","), "expected ',' or '}' in an object")
                scanner.skipWhitespace()
            }
            guard scanner.peek() == UInt8(ascii: "\"") else { throw scanner.error("expected a member name") }
            let (name, escaped) = try scanner.scanString()
            scanner.skipWhitespace()
            try scanner.expect(UInt8(ascii: ":"), "expected ':' after a member name")
            let value = try scanner.skipValue()
            if escaped {
                // Escapes were not checked by the scan: decode strictly.
                let quoted = Array(scanner.bytes[(name.lowerBound - 1)..<(name.upperBound + 1)])
                guard let decoded = (try? JSONObjectScanner(quoted).string(in: 0..<quoted.count)) ?? nil else {
                    throw StoreJSONSyntaxError(offset: name.lowerBound, reason: "invalid escape in a member name")
                }
                var utf8 = Array(decoded.utf8)
                utf8.withUnsafeMutableBufferPointer { note(UnsafeBufferPointer($0), value, into: &entry) }
            } else {
                note(UnsafeBufferPointer(rebasing: scanner.bytes[name]), value, into: &entry)
            }
        }
        entry.range = start..<scanner.position
        return entry
    }

    private static func note(_ name: UnsafeBufferPointer<UInt8>, _ value: Range<Int>, into entry: inout ScannedEntry) {
        func equals(_ literal: StaticString) -> Bool {
            guard let base = name.baseAddress else { return false }
            return literal.utf8CodeUnitCount == name.count && memcmp(literal.utf8Start, base, name.count) == 0
        }
        switch name.count {
        case 3:
            if equals("cwd") { entry.fields.cwd = value } else if equals("tag") { entry.fields.tag = value }
        case 4:
            if equals("type") {
                entry.type = value
                entry.fields.type = value
            } else if equals("uuid") {
                entry.uuid = value
            }
        case 6:
            if equals("isMeta") { entry.fields.isMeta = value }
        case 7:
            if equals("message") {
                entry.fields.message = value
            } else if equals("aiTitle") {
                entry.fields.aiTitle = value
            } else if equals("summary") {
                entry.fields.summary = value
            }
        case 9:
            if equals("timestamp") { entry.fields.timestamp = value } else if equals("gitBranch") { entry.fields.gitBranch = value }
        case 10:
            if equals("lastPrompt") { entry.fields.lastPrompt = value }
        case 11:
            if equals("isSidechain") {
                entry.fields.isSidechain = value
            } else if equals("customTitle") {
                entry.fields.customTitle = value
            }
        case 16:
            if equals("isCompactSummary") { entry.fields.isCompactSummary = value }
        default:
            break
        }
    }
}
