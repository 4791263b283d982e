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
    /// Looks for the needle's least common pair of adjacent bytes eight positions at a
    /// time and compares the whole needle only there. For the short keys searched here
    /// this beats `memmem`, whose per-call setup dominates on short lines.
    static func find(_ needle: UnsafeRawBufferPointer, in haystack: UnsafeRawPointer, length: Int) -> Int? {
        let count = needle.count
        guard count > 0 else { return 0 }
        guard length >= count else { return nil }
        let pattern = needle.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let bytes = haystack.assumingMemoryBound(to: UInt8.self)
        if count == 1 { return findFirst(pattern[0], in: haystack, length: length) }
        let anchor = rarestPair(pattern, count)
        let first = pattern[anchor]
        let second = pattern[anchor + 1]
        let lastAnchor = length - count + anchor
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let firstPattern = ones &* UInt64(first)
        let secondPattern = ones &* UInt64(second)
        var position = anchor
        while position + 9 <= length, position <= lastAnchor {
            let x = UnsafeRawPointer(bytes + position).loadUnaligned(as: UInt64.self).littleEndian ^ firstPattern
            let y = UnsafeRawPointer(bytes + position + 1).loadUnaligned(as: UInt64.self).littleEndian ^ secondPattern
            var candidates = ((x &- ones) & ~x) & ((y &- ones) & ~y) & highs
            while candidates != 0 {
                let hit = position + (candidates.trailingZeroBitCount >> 3)
                if hit > lastAnchor { return nil }
                if memcmp(bytes + hit - anchor, pattern, count) == 0 { return hit - anchor }
                candidates &= candidates &- 1
            }
            position += 8
        }
        while position <= lastAnchor {
            if bytes[position] == first, bytes[position + 1] == second,
                memcmp(bytes + position - anchor, pattern, count) == 0
            {
                return position - anchor
            }
            position += 1
        }
        return nil
    }

    /// The offset of the adjacent byte pair least likely to occur in JSON transcripts.
    private static func rarestPair(_ pattern: UnsafePointer<UInt8>, _ count: Int) -> Int {
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
        var best = 0
        var bestScore = Int.max
        for index in 0..<(count - 1) {
            let score = commonness(pattern[index]) + commonness(pattern[index + 1])
            if score < bestScore {
                best = index
                bestScore = score
            }
        }
        return best
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
