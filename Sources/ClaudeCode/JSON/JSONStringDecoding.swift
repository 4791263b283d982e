internal import CClaudeCodeScan

// Decoding string content that ``JSONCursor/scanString(validatingUTF8:)`` checked: escapes, surrogate
// pairs, and `String`s built without a second UTF-8 check when the bytes are known to be well-formed.

/// The value of four hexadecimal digits at `index`, or `nil` when they are not four hex digits.
@inline(__always)
func jsonHex4(_ base: UnsafePointer<UInt8>, at index: Int, end: Int) -> UInt16? {
    guard index &+ 4 <= end else { return nil }
    let a = JSONByte.hexValue(base[index])
    let b = JSONByte.hexValue(base[index &+ 1])
    let c = JSONByte.hexValue(base[index &+ 2])
    let d = JSONByte.hexValue(base[index &+ 3])
    guard (a | b | c | d) & 0xF0 == 0 else { return nil }
    return UInt16(a) << 12 | UInt16(b) << 8 | UInt16(c) << 4 | UInt16(d)
}

/// The text of string content that ``JSONCursor/scanString(validatingUTF8:)`` accepted (without
/// its quotes): escapes are decoded, lone surrogate escapes and invalid UTF-8 become U+FFFD.
@inline(__always)
func jsonDecodeString(_ start: UnsafePointer<UInt8>, count: Int, escaped: Bool) -> String {
    guard escaped else { return jsonMakeString(start, count: count) }
    // Decoded text is never longer than its escaped form. Short strings are decoded on the stack.
    return withUnsafeTemporaryAllocation(of: UInt8.self, capacity: max(count, 1)) { scratch in
        // Checked content ends without its closing quote, so `ccscan_unescape` stops at the end.
        var written = 0
        var at = 0
        if Int(ccscan_unescape(start, 0, count, scratch.baseAddress!, &written, &at)) == Int(CCSCAN_END) {
            return jsonMakeString(scratch.baseAddress!, count: written)
        }
        // Content that was not checked (never the case for a tape's strings): the lenient decoder.
        let (lenient, utf8) = jsonUnescape(start, count, into: scratch)
        return jsonMakeString(scratch.baseAddress!, count: lenient, checked: utf8)
    }
}

/// A string of UTF-8 bytes, invalid sequences replaced by U+FFFD.
///
/// Short strings go through `String(decoding:as:)`. Long ones are checked here, eight ASCII
/// bytes at a time (or were checked while they were unescaped: `checked`), and copied without
/// the standard library's second check when they are well-formed: its validator walks the whole
/// string byte by byte as soon as it holds one non-ASCII character, which made it the largest
/// single cost of reading tool output.
@inline(__always)
func jsonMakeString(_ start: UnsafePointer<UInt8>, count: Int, checked: JSONUTF8Check? = nil) -> String {
    let buffer = UnsafeBufferPointer(start: start, count: count)
    if count >= 64, #available(macOS 26, iOS 26, watchOS 26, tvOS 26, visionOS 26, *) {
        let check = checked ?? jsonCheckUTF8(start, count: count)
        if check != .illFormed {
            return String(copying: UTF8Span(unchecked: buffer.span, isKnownASCII: check == .ascii))
        }
    }
    return String(decoding: buffer, as: UTF8.self)
}

/// Decodes checked escaped string content into `output` (at least `length` bytes) and checks
/// its UTF-8 on the way; returns the bytes written and what the check found. Runs without a
/// backslash or a non-ASCII byte are copied eight bytes at a time while they are searched (the
/// output never gets ahead of the input, so an eight-byte store always fits).
private func jsonUnescape(
    _ input: UnsafePointer<UInt8>, _ length: Int, into output: UnsafeMutableBufferPointer<UInt8>
) -> (count: Int, utf8: JSONUTF8Check) {
    guard let out = output.baseAddress else { return (0, .ascii) }
    let ones: UInt64 = 0x0101_0101_0101_0101
    let highs: UInt64 = 0x8080_8080_8080_8080
    var read = 0
    var written = 0
    var utf8 = JSONUTF8Check.ascii
    while read < length {
        if read &+ 8 <= length {
            let word = UnsafeRawPointer(input + read).loadUnaligned(as: UInt64.self)
            UnsafeMutableRawPointer(out + written).storeBytes(of: word, as: UInt64.self)
            let little = word.littleEndian
            let slashes = little ^ (ones &* 0x5C)
            // Backslashes and bytes >= 0x80; the lowest flag is exact.
            let hit = ((slashes &- ones) & ~slashes | little) & highs
            if hit == 0 {
                read &+= 8
                written &+= 8
                continue
            }
            // The bytes stored past the flag are overwritten below.
            let run = hit.trailingZeroBitCount >> 3
            read &+= run
            written &+= run
        } else if input[read] != JSONByte.backslash, input[read] < 0x80 {
            out[written] = input[read]
            read &+= 1
            written &+= 1
            continue
        }
        if input[read] >= 0x80 {
            // A non-ASCII sequence: checked and copied as it is. An ill-formed byte is copied too;
            // the string is then built by String(decoding:), which replaces it.
            let sequence = jsonUTF8SequenceLength(input, at: read, end: length)
            if sequence == 0 {
                utf8 = .illFormed
                out[written] = input[read]
                read &+= 1
                written &+= 1
                continue
            }
            if utf8 == .ascii { utf8 = .wellFormed }
            for offset in 0..<sequence { out[written &+ offset] = input[read &+ offset] }
            read &+= sequence
            written &+= sequence
            continue
        }
        // A backslash at `read`.
        let escape = input[read &+ 1]
        read &+= 2
        let simple = JSONByte.simpleEscapeValue(escape)
        if simple != 0 {
            out[written] = simple
            written &+= 1
            continue
        }
        switch escape {
        case UInt8(ascii: "u"):
            let unit = UInt32(jsonHex4(input, at: read, end: length) ?? 0xFFFD)
            read &+= 4
            var scalar = unit
            if unit >= 0xD800, unit <= 0xDBFF {
                // High surrogate: pair it with a following \uDC00-\uDFFF, else U+FFFD.
                if read &+ 6 <= length, input[read] == JSONByte.backslash, input[read &+ 1] == UInt8(ascii: "u"),
                    let low = jsonHex4(input, at: read &+ 2, end: length), low >= 0xDC00, low <= 0xDFFF
                {
                    scalar = 0x10000 &+ ((unit &- 0xD800) << 10) &+ (UInt32(low) &- 0xDC00)
                    read &+= 6
                } else {
                    scalar = 0xFFFD
                }
            } else if unit >= 0xDC00, unit <= 0xDFFF {
                scalar = 0xFFFD
            }
            if scalar >= 0x80, utf8 == .ascii { utf8 = .wellFormed }
            written &+= jsonWriteUTF8(scalar, to: out + written) &- 1
        default:
            out[written] = escape  // " \ /
        }
        written &+= 1
    }
    return (written, utf8)
}

/// Writes `scalar` as UTF-8 and returns the number of bytes written (1 to 4).
@inline(__always)
func jsonWriteUTF8(_ scalar: UInt32, to output: UnsafeMutablePointer<UInt8>) -> Int {
    switch scalar {
    case 0..<0x80:
        output[0] = UInt8(truncatingIfNeeded: scalar)
        return 1
    case 0x80..<0x800:
        output[0] = UInt8(truncatingIfNeeded: 0xC0 | (scalar >> 6))
        output[1] = UInt8(truncatingIfNeeded: 0x80 | (scalar & 0x3F))
        return 2
    case 0x800..<0x10000:
        output[0] = UInt8(truncatingIfNeeded: 0xE0 | (scalar >> 12))
        output[1] = UInt8(truncatingIfNeeded: 0x80 | ((scalar >> 6) & 0x3F))
        output[2] = UInt8(truncatingIfNeeded: 0x80 | (scalar & 0x3F))
        return 3
    default:
        output[0] = UInt8(truncatingIfNeeded: 0xF0 | (scalar >> 18))
        output[1] = UInt8(truncatingIfNeeded: 0x80 | ((scalar >> 12) & 0x3F))
        output[2] = UInt8(truncatingIfNeeded: 0x80 | ((scalar >> 6) & 0x3F))
        output[3] = UInt8(truncatingIfNeeded: 0x80 | (scalar & 0x3F))
        return 4
    }
}
