import ClaudeCode

/// A `transcript_mirror` frame: `{"type":"transcript_mirror","filePath":"…","entries":[{…},…]}`.
///
/// The entries are sliced out of the frame's bytes, so each keeps exactly the bytes the CLI
/// wrote to its transcript (the real CLI 2.1.331 writes the same bytes to both). The frame is
/// checked strictly (the core's ``JSONReader``, UTF-8 included) in the same single pass that
/// finds each entry's `type`, `uuid` and the members the summary fold reads.
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
    /// members the summary fold reads.
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
        var reader = JSONReader(bytes)
        do throws(JSONParseError) {
            try reader.beginObject()
            while let key = try reader.nextKey() {
                switch key {
                case "filePath" where reader.peekKind() == .string:
                    filePath = try reader.readString()
                case "entries" where reader.peekKind() == .array:
                    entriesSeen = true
                    scanned = []
                    try reader.beginArray()
                    while try reader.nextElement() {
                        scanned.append(try scanEntry(&reader))
                    }
                default:
                    try reader.skipValue()
                }
            }
            try reader.finish()
        } catch {
            return .failure(
                Malformed(
                    filePath: filePath, reason: "invalid JSON at byte \(error.offset): \(error.reason)",
                    entryCount: scanned.count))
        }
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
                return .failure(
                    Malformed(
                        filePath: filePath, reason: "entry \(index) is not a JSON object", entryCount: scanned.count))
            }
            entries.append(
                SessionStoreEntry(
                    scanned: RawJSON(bytes: Array(bytes[item.range])), type: string(item.type, in: bytes) ?? "",
                    uuid: string(item.uuid, in: bytes),
                    summaryFields: SessionSummaryFold.FieldsBox(item.fields.rebased(by: item.range.lowerBound))))
        }
        return .success(MirrorFrame(filePath: filePath, entries: entries))
    }

    /// The (validated) string value in `range`, or `nil` when the value is not a string.
    private static func string(_ range: Range<Int>?, in bytes: [UInt8]) -> String? {
        guard let range, range.count >= 2, bytes[range.lowerBound] == UInt8(ascii: "\"") else { return nil }
        let content = (range.lowerBound + 1)..<(range.upperBound - 1)
        if bytes[content].contains(UInt8(ascii: "\\")) {
            return (try? JSONObjectScanner(bytes).string(in: range)) ?? nil
        }
        return String(decoding: bytes[content], as: UTF8.self)
    }

    /// Reads one element of `entries`, validating it; for an object, notes where its top-level
    /// members of interest are.
    private static func scanEntry(_ reader: inout JSONReader) throws(JSONParseError) -> ScannedEntry {
        guard reader.peekKind() == .object else {
            return ScannedEntry(range: try reader.skipValue(), isObject: false)
        }
        let start = reader.position
        var entry = ScannedEntry(range: start..<start, isObject: true)
        try reader.beginObject()
        while let key = try reader.nextKey() {
            let value = try reader.skipValue()
            switch key {
            case "type":
                entry.type = value
                entry.fields.type = value
            case "uuid":
                entry.uuid = value
            default:
                entry.fields.note(key, value)
            }
        }
        entry.range = start..<reader.position
        return entry
    }
}
