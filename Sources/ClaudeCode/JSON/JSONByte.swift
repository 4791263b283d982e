internal import CClaudeCodeScan

// MARK: - Byte constants

@usableFromInline
enum JSONByte {
    static let quote: UInt8 = 0x22
    static let backslash: UInt8 = 0x5C
    static let slash: UInt8 = 0x2F
    static let comma: UInt8 = 0x2C
    static let colon: UInt8 = 0x3A
    static let openBracket: UInt8 = 0x5B
    static let closeBracket: UInt8 = 0x5D
    static let openBrace: UInt8 = 0x7B
    static let closeBrace: UInt8 = 0x7D
    static let minus: UInt8 = 0x2D
    static let plus: UInt8 = 0x2B
    static let dot: UInt8 = 0x2E
    static let zero: UInt8 = 0x30
    static let nine: UInt8 = 0x39
    static let space: UInt8 = 0x20
    static let tab: UInt8 = 0x09
    static let newline: UInt8 = 0x0A
    static let carriageReturn: UInt8 = 0x0D

    @inline(__always)
    static func isWhitespace(_ byte: UInt8) -> Bool {
        byte == space || byte == newline || byte == carriageReturn || byte == tab
    }

    @inline(__always)
    static func isDigit(_ byte: UInt8) -> Bool {
        byte &- zero < 10
    }

    /// The byte a one-character escape (`\"`, `\\`, `\/`, `\b`, `\f`, `\n`, `\r`, `\t`) stands
    /// for, given the character after the backslash; 0 for `u` and for anything else. A switch
    /// of constants, which the compiler turns into one table load: escapes are frequent in tool
    /// output, and a jump per escape kind was mispredicted at nearly every one.
    @inline(__always)
    static func simpleEscapeValue(_ byte: UInt8) -> UInt8 {
        switch byte {
        case 0x22: return 0x22
        case 0x5C: return 0x5C
        case 0x2F: return 0x2F
        case 0x62: return 0x08
        case 0x66: return 0x0C
        case 0x6E: return 0x0A
        case 0x72: return 0x0D
        case 0x74: return 0x09
        default: return 0
        }
    }

    /// Value of a hexadecimal digit, or 0xFF.
    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt8 {
        switch byte {
        case 0x30...0x39: return byte &- 0x30
        case 0x41...0x46: return byte &- 0x41 &+ 10
        case 0x61...0x66: return byte &- 0x61 &+ 10
        default: return 0xFF
        }
    }
}

// MARK: - Scanning helpers of the tokenizing core (and the writer)

/// Finds the first byte at or after `start` that is a quote, a backslash or a control
/// character (< 0x20). Returns `end` when there is none. The first eight bytes are checked here
/// (short strings end there); the rest 16 or 32 bytes at a time by `ccscan_find_string_special`.
@inline(__always)
func jsonFindStringSpecial(_ base: UnsafePointer<UInt8>, from start: Int, end: Int) -> Int {
    if start &+ 8 <= end {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let word = UnsafeRawPointer(base + start).loadUnaligned(as: UInt64.self).littleEndian
        let quotes = word ^ (ones &* 0x22)
        let slashes = word ^ (ones &* 0x5C)
        // A byte is flagged when it is zero (after the xor) or below 0x20. Borrows can only
        // cause false positives *above* the first real hit, so the lowest flag is exact.
        let hit =
            ((quotes &- ones) & ~quotes
                | (slashes &- ones) & ~slashes
                | (word &- ones &* 0x20) & ~word) & highs
        if hit != 0 { return start &+ (hit.trailingZeroBitCount >> 3) }
        return ccscan_find_string_special(base, start &+ 8, end)
    }
    var index = start
    while index < end {
        let byte = base[index]
        if byte == JSONByte.quote || byte == JSONByte.backslash || byte < 0x20 { return index }
        index &+= 1
    }
    return end
}

/// Finds the first quote or backslash at or after `start`, eight bytes at a time.
/// Returns `end` when there is none. Used when skipping strings without validating them.
@inline(__always)
func jsonFindQuoteOrBackslash(_ base: UnsafePointer<UInt8>, from start: Int, end: Int) -> Int {
    var index = start
    let ones: UInt64 = 0x0101_0101_0101_0101
    let highs: UInt64 = 0x8080_8080_8080_8080
    while index &+ 8 <= end {
        let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self).littleEndian
        let quotes = word ^ (ones &* 0x22)
        let slashes = word ^ (ones &* 0x5C)
        let hit = ((quotes &- ones) & ~quotes | (slashes &- ones) & ~slashes) & highs
        if hit != 0 {
            return index &+ (hit.trailingZeroBitCount >> 3)
        }
        index &+= 8
    }
    while index < end {
        let byte = base[index]
        if byte == JSONByte.quote || byte == JSONByte.backslash { return index }
        index &+= 1
    }
    return end
}

/// Finds the first byte at or after `start` that is a quote, a backslash, a control
/// character (< 0x20) or not ASCII (>= 0x80). Returns `end` when there is none. Used when
/// validating strings, which checks the UTF-8 of non-ASCII runs. As `jsonFindStringSpecial`:
/// one word here, the rest by `ccscan_find_string_special_or_non_ascii`.
@inline(__always)
func jsonFindStringSpecialOrNonASCII(_ base: UnsafePointer<UInt8>, from start: Int, end: Int) -> Int {
    if start &+ 8 <= end {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let word = UnsafeRawPointer(base + start).loadUnaligned(as: UInt64.self).littleEndian
        let quotes = word ^ (ones &* 0x22)
        let slashes = word ^ (ones &* 0x5C)
        // As in jsonFindStringSpecial, plus every byte with its high bit set (exact, no borrow).
        let hit =
            ((quotes &- ones) & ~quotes
                | (slashes &- ones) & ~slashes
                | (word &- ones &* 0x20) & ~word
                | word) & highs
        if hit != 0 { return start &+ (hit.trailingZeroBitCount >> 3) }
        return ccscan_find_string_special_or_non_ascii(base, start &+ 8, end)
    }
    var index = start
    while index < end {
        let byte = base[index]
        if byte == JSONByte.quote || byte == JSONByte.backslash || byte < 0x20 || byte >= 0x80 { return index }
        index &+= 1
    }
    return end
}

/// The length of the well-formed UTF-8 sequence whose lead byte (>= 0x80) is at `index`, or
/// 0 when it is ill-formed: a stray continuation byte, an overlong form, an encoded
/// surrogate, a value above U+10FFFF, or a sequence cut short by `end` (RFC 3629 §4).
@inline(__always)
func jsonUTF8SequenceLength(_ base: UnsafePointer<UInt8>, at index: Int, end: Int) -> Int {
    let lead = base[index]
    if lead < 0xE0 {
        guard lead >= 0xC2, index &+ 1 < end, base[index &+ 1] & 0xC0 == 0x80 else { return 0 }
        return 2
    }
    if lead < 0xF0 {
        guard index &+ 2 < end else { return 0 }
        let second = base[index &+ 1]
        guard second & 0xC0 == 0x80, base[index &+ 2] & 0xC0 == 0x80 else { return 0 }
        // E0 80-9F would be overlong, ED A0-BF a surrogate.
        if lead == 0xE0 && second < 0xA0 || lead == 0xED && second > 0x9F { return 0 }
        return 3
    }
    guard lead <= 0xF4, index &+ 3 < end else { return 0 }
    let second = base[index &+ 1]
    guard second & 0xC0 == 0x80, base[index &+ 2] & 0xC0 == 0x80, base[index &+ 3] & 0xC0 == 0x80 else { return 0 }
    // F0 80-8F would be overlong, F4 90-BF above U+10FFFF.
    if lead == 0xF0 && second < 0x90 || lead == 0xF4 && second > 0x8F { return 0 }
    return 4
}

/// Whether `count` bytes are well-formed UTF-8 with no CR or LF byte. ASCII is checked
/// eight bytes at a time; text with non-ASCII characters byte by byte, until a run of ASCII.
func jsonIsWellFormedUTF8WithoutLineBreaks(_ base: UnsafePointer<UInt8>, count end: Int) -> Bool {
    let ones: UInt64 = 0x0101_0101_0101_0101
    let highs: UInt64 = 0x8080_8080_8080_8080
    var index = 0
    while index < end {
        if index &+ 8 <= end {
            let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self).littleEndian
            let newlines = word ^ (ones &* 0x0A)
            let returns = word ^ (ones &* 0x0D)
            let hit = ((newlines &- ones) & ~newlines | (returns &- ones) & ~returns | word) & highs
            if hit == 0 {
                index &+= 8
                continue
            }
            index &+= hit.trailingZeroBitCount >> 3
        }
        var ascii = 0
        while index < end, ascii < 16 {
            let byte = base[index]
            if byte < 0x80 {
                if byte == JSONByte.newline || byte == JSONByte.carriageReturn { return false }
                index &+= 1
                ascii &+= 1
            } else {
                let length = jsonUTF8SequenceLength(base, at: index, end: end)
                if length == 0 { return false }
                index &+= length
                ascii = 0
            }
        }
    }
    return true
}

// MARK: - UTF-8

/// What ``jsonCheckUTF8(_:count:)`` found.
enum JSONUTF8Check {
    case ascii, wellFormed, illFormed
}

/// Whether `count` bytes are well-formed UTF-8, and whether they are all ASCII (RFC 3629 §4),
/// checked by `ccscan_check_utf8` (32 or 16 bytes at a time where SIMD is available).
func jsonCheckUTF8(_ base: UnsafePointer<UInt8>, count: Int) -> JSONUTF8Check {
    switch Int(ccscan_check_utf8(base, count)) {
    case Int(CCSCAN_ASCII): return .ascii
    case Int(CCSCAN_WELL_FORMED): return .wellFormed
    default: return .illFormed
    }
}
