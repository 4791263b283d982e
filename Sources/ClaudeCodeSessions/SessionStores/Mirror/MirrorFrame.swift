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

    /// The last file path a frame named, so frames of the same transcript (nearly all of them)
    /// share one `String` instead of decoding the path again.
    struct PathCache {
        var bytes: [UInt8] = []
        var path = ""
    }

    static func parse(_ bytes: [UInt8]) -> Result<MirrorFrame, Malformed> {
        var cache = PathCache()
        return parse(bytes, cache: &cache)
    }

    static func parse(_ bytes: [UInt8], cache: inout PathCache) -> Result<MirrorFrame, Malformed> {
        var filePath: String?
        var scanned: [ScannedEntry] = []
        var entriesSeen = false
        var reader = JSONReader(bytes)
        do throws(JSONParseError) {
            try reader.beginObject()
            while let key = try reader.nextKeyRange() {
                switch match(key, in: bytes, Self.frameMembers) {
                case 0 where reader.peekKind() == .string:
                    let value = try reader.skipValue()
                    filePath = path(value, in: bytes, cache: &cache)
                case 1 where reader.peekKind() == .array:
                    entriesSeen = true
                    scanned = []
                    try reader.beginArray()
                    while try reader.nextElement() {
                        scanned.append(try scanEntry(&reader, bytes))
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

    /// The frame's members read here, by index for ``match(_:in:_:)``.
    private static let frameMembers: [[UInt8]] = [Array("filePath".utf8), Array("entries".utf8)]
    /// An entry's members read here: `uuid`, then the summary fold's (index - 1 in
    /// `SessionSummaryFold.Fields.Member.allCases`).
    private static let entryMembers: [[UInt8]] = [Array("uuid".utf8)] + SessionSummaryFold.Fields.Member.names

    /// The index of the key among `names`, compared as bytes (an escaped key is decoded first),
    /// or -1.
    private static func match(_ key: (range: Range<Int>, escaped: Bool), in bytes: [UInt8], _ names: [[UInt8]]) -> Int {
        if key.escaped {
            // The key's range excludes its quotes; string(_:in:) decodes the quoted text.
            guard let decoded = string((key.range.lowerBound - 1)..<(key.range.upperBound + 1), in: bytes) else {
                return -1
            }
            return names.firstIndex(of: Array(decoded.utf8)) ?? -1
        }
        let count = key.range.count
        return bytes.withUnsafeBufferPointer { buffer in
            let start = buffer.baseAddress! + key.range.lowerBound
            for (index, name) in names.enumerated() where name.count == count {
                if name.withUnsafeBufferPointer({ memcmp($0.baseAddress!, start, count) == 0 }) { return index }
            }
            return -1
        }
    }

    /// The file path string in `range`, reusing the cached one when the bytes are the same.
    private static func path(_ range: Range<Int>, in bytes: [UInt8], cache: inout PathCache) -> String? {
        if bytes[range].elementsEqual(cache.bytes) { return cache.path }
        guard let path = string(range, in: bytes) else { return nil }
        cache = PathCache(bytes: Array(bytes[range]), path: path)
        return path
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
    /// members of interest are (keys compared as bytes, no string built).
    private static func scanEntry(_ reader: inout JSONReader, _ bytes: [UInt8]) throws(JSONParseError) -> ScannedEntry {
        guard reader.peekKind() == .object else {
            return ScannedEntry(range: try reader.skipValue(), isObject: false)
        }
        let start = reader.position
        var entry = ScannedEntry(range: start..<start, isObject: true)
        try reader.beginObject()
        while let key = try reader.nextKeyRange() {
            let value = try reader.skipValue()
            switch match(key, in: bytes, Self.entryMembers) {
            case -1: break
            case 0: entry.uuid = value
            case let index:
                let member = SessionSummaryFold.Fields.Member.allCases[index - 1]
                if member == .type { entry.type = value }
                entry.fields.note(member, value)
            }
        }
        entry.range = start..<reader.position
        return entry
    }
}
