internal import CClaudeCodeScan

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Byte searches. `memrchr` comes from the C library, looked up at run time because
/// Glibc's Swift module hides the GNU extensions.
enum ByteSearch {
    private typealias MemrchrFunction = @convention(c) (UnsafeRawPointer?, Int32, Int) -> UnsafeMutableRawPointer?

    private static let memrchrFunction: MemrchrFunction? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "memrchr") else { return nil }
        return unsafeBitCast(symbol, to: MemrchrFunction.self)
    }()

    /// The first occurrence of `needle` in `haystack[0..<length]`, as an offset.
    ///
    /// Compares the needle's two least common bytes 16 or 32 positions at a time
    /// (`ccscan_find_anchored`) and the whole needle only where both match. The keys searched
    /// here are quoted (`"customTitle"`): their quotes are everywhere in JSON, their letters
    /// much less so.
    static func find(_ needle: UnsafeRawBufferPointer, in haystack: UnsafeRawPointer, length: Int) -> Int? {
        let count = needle.count
        guard count > 0 else { return 0 }
        guard length >= count else { return nil }
        return find(needle, anchors: anchors(needle), in: haystack, length: length)
    }

    /// ``find(_:in:length:)`` with the needle's ``anchors(_:)`` computed once by the caller, for
    /// a loop that searches many lines for one needle.
    static func find(_ needle: UnsafeRawBufferPointer, anchors: (Int, Int), in haystack: UnsafeRawPointer, length: Int)
        -> Int?
    {
        let count = needle.count
        guard count > 0 else { return 0 }
        guard length >= count else { return nil }
        let pattern = needle.baseAddress!.assumingMemoryBound(to: UInt8.self)
        if count == 1 { return findFirst(pattern[0], in: haystack, length: length) }
        let at = ccscan_find_anchored(
            haystack.assumingMemoryBound(to: UInt8.self), length, pattern, count, anchors.0, anchors.1)
        return at < 0 ? nil : at
    }

    /// The offsets of the needle's two bytes least likely to occur in JSON transcripts, in order
    /// (`(0, 0)` for fewer than two bytes).
    static func anchors(_ needle: UnsafeRawBufferPointer) -> (Int, Int) {
        let count = needle.count
        guard count > 1, let pattern = needle.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return (0, 0) }
        func commonness(_ byte: UInt8) -> Int {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: " "): return 10
            case UInt8(ascii: "e"), UInt8(ascii: "t"), UInt8(ascii: "a"), UInt8(ascii: "o"), UInt8(ascii: "i"),
                UInt8(ascii: "n"), UInt8(ascii: "s"), UInt8(ascii: "r"), UInt8(ascii: "h"), UInt8(ascii: "l"):
                return 8
            case UInt8(ascii: ":"), UInt8(ascii: ","): return 6
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): return 5
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): return 2
            default: return 3
            }
        }
        // The rarest byte, then the rarest other one (the later on a tie: farther apart).
        var best = 0
        for index in 1..<count where commonness(pattern[index]) < commonness(pattern[best]) { best = index }
        var other = best == 0 ? 1 : 0
        for index in 0..<count where index != best && commonness(pattern[index]) <= commonness(pattern[other]) {
            other = index
        }
        return (min(best, other), max(best, other))
    }

    /// The last occurrence of `byte` in `haystack[0..<length]`, as an offset.
    static func findLast(_ byte: UInt8, in haystack: UnsafeRawPointer, length: Int) -> Int? {
        guard length > 0 else { return nil }
        if let memrchrFunction {
            guard let hit = memrchrFunction(haystack, Int32(byte), length) else { return nil }
            return haystack.distance(to: UnsafeRawPointer(hit))
        }
        let bytes = haystack.assumingMemoryBound(to: UInt8.self)
        var index = length - 1
        while index >= 0 {
            if bytes[index] == byte { return index }
            index -= 1
        }
        return nil
    }

    /// The first occurrence of `byte` in `haystack[0..<length]`, as an offset.
    static func findFirst(_ byte: UInt8, in haystack: UnsafeRawPointer, length: Int) -> Int? {
        guard length > 0, let hit = memchr(haystack, Int32(byte), length) else { return nil }
        return haystack.distance(to: UnsafeRawPointer(hit))
    }
}
