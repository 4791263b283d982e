import ClaudeCode

/// A `transcript_mirror` frame: `{"type":"transcript_mirror","filePath":"…","entries":[{…},…]}`.
///
/// The entries are sliced out of the frame's bytes, so each keeps exactly the bytes the CLI
/// wrote to its transcript (the real CLI 2.1.331 writes the same bytes to both).
struct MirrorFrame: Sendable {
    var filePath: String
    var entries: [SessionStoreEntry]

    /// Why a frame could not be read.
    struct Malformed: Error {
        var filePath: String?
        var reason: String
        var entryCount: Int
    }

    static func parse(_ bytes: [UInt8]) -> Result<MirrorFrame, Malformed> {
        var filePath: String?
        var ranges: [Range<Int>] = []
        var entriesSeen = false
        let failure: String? = bytes.withUnsafeBufferPointer { buffer -> String? in
            var scanner = StoreJSONScanner(buffer)
            do throws(StoreJSONSyntaxError) {
                try scanner.beginObject()
                var first = true
                while let key = try scanner.nextKey(&first) {
                    switch key {
                    case "filePath" where scanner.peek() == UInt8(ascii: "\""):
                        filePath = try scanner.readString()
                    case "entries" where scanner.peek() == UInt8(ascii: "["):
                        entriesSeen = true
                        ranges = []
                        try scanner.beginArray()
                        var firstElement = true
                        while try scanner.nextElement(&firstElement) {
                            scanner.skipWhitespace()
                            ranges.append(try scanner.skipValue())
                        }
                    default:
                        _ = try scanner.skipValue()
                    }
                }
                try scanner.expectEnd()
                return nil
            } catch {
                return "invalid JSON at byte \(error.offset): \(error.reason)"
            }
        }
        if let failure { return .failure(Malformed(filePath: filePath, reason: failure, entryCount: ranges.count)) }
        guard let filePath else {
            return .failure(Malformed(filePath: nil, reason: "the frame has no filePath", entryCount: ranges.count))
        }
        guard entriesSeen else {
            return .failure(Malformed(filePath: filePath, reason: "the frame has no entries array", entryCount: 0))
        }
        var entries: [SessionStoreEntry] = []
        entries.reserveCapacity(ranges.count)
        for (index, range) in ranges.enumerated() {
            guard bytes[range.lowerBound] == UInt8(ascii: "{"),
                let entry = try? SessionStoreEntry(raw: RawJSON(bytes: Array(bytes[range])))
            else {
                return .failure(Malformed(filePath: filePath, reason: "entry \(index) is not a JSON object", entryCount: ranges.count))
            }
            entries.append(entry)
        }
        return .success(MirrorFrame(filePath: filePath, entries: entries))
    }
}
