/// A failure to parse JSON text.
///
/// The error names the byte offset where parsing stopped and why. It never carries
/// the input itself, so it is safe to log even when the input holds secrets.
public struct JSONParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The offset, in bytes from the start of the input, where the problem was found.
    public var offset: Int
    /// A short, human-readable reason, such as `"unexpected end of input"`.
    public var reason: String

    /// Creates an error at `offset` with `reason`.
    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }

    public var description: String {
        "JSON parse error at byte \(offset): \(reason)"
    }
}

extension JSONValue {
    /// The deepest nesting of arrays and objects that ``parse(_:)-(UnsafeRawBufferPointer)``
    /// accepts. Deeper input fails with a ``JSONParseError`` instead of exhausting the stack.
    public static let maximumParseDepth = 512

    /// Parses one JSON text (RFC 8259) from UTF-8 bytes.
    ///
    /// The parser is strict: it rejects trailing content, leading zeros, invalid escapes,
    /// unescaped control characters in strings and nesting deeper than
    /// ``maximumParseDepth``. Numbers without a fraction or exponent that fit in `Int64`
    /// become ``int(_:)``; every other number becomes ``double(_:)``. A lone UTF-16
    /// surrogate escape becomes U+FFFD, and so do invalid UTF-8 sequences. When an object
    /// repeats a key, the last value wins.
    ///
    /// - Parameter bytes: The UTF-8 encoded JSON text.
    /// - Returns: The parsed value.
    /// - Throws: A ``JSONParseError`` with the byte offset of the first problem.
    public static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(JSONParseError) -> JSONValue in try parse(buffer) }
        }
        return try result.get()
    }

    /// Parses one JSON text (RFC 8259) from a buffer of UTF-8 bytes.
    ///
    /// See ``parse(_:)-([UInt8])`` for the rules. The buffer is only read during the call.
    ///
    /// - Parameter buffer: The UTF-8 encoded JSON text.
    /// - Returns: The parsed value.
    /// - Throws: A ``JSONParseError`` with the byte offset of the first problem.
    public static func parse(_ buffer: UnsafeRawBufferPointer) throws(JSONParseError) -> JSONValue {
        guard let base = buffer.baseAddress, buffer.count > 0 else {
            throw JSONParseError(offset: 0, reason: "unexpected end of input")
        }
        return try JSONValueBuilder.document(base: base.assumingMemoryBound(to: UInt8.self), end: buffer.count)
    }

    /// Parses one JSON text (RFC 8259) from a string.
    ///
    /// See ``parse(_:)-([UInt8])`` for the rules.
    ///
    /// - Parameter string: The JSON text.
    /// - Returns: The parsed value.
    /// - Throws: A ``JSONParseError`` with the offset, in UTF-8 bytes, of the first problem.
    public static func parse(_ string: String) throws(JSONParseError) -> JSONValue {
        var string = string
        let result = string.withUTF8 { buffer in
            Result { () throws(JSONParseError) -> JSONValue in try parse(UnsafeRawBufferPointer(buffer)) }
        }
        return try result.get()
    }

    /// Checks that UTF-8 bytes hold exactly one JSON text, without building it.
    ///
    /// The rules are those of ``parse(_:)-([UInt8])`` plus one: strings must be well-formed
    /// UTF-8 (RFC 8259 §8.1; no overlong forms, encoded surrogates or values above
    /// U+10FFFF), where the parser would substitute U+FFFD. So text that validates also
    /// parses, when it is nested no deeper than ``maximumParseDepth``. Validation is iterative:
    /// a larger `maximumDepth` costs no stack.
    ///
    /// - Parameters:
    ///   - bytes: The UTF-8 encoded JSON text.
    ///   - maximumDepth: The deepest nesting of arrays and objects accepted.
    /// - Throws: A ``JSONParseError`` with the byte offset of the first problem.
    public static func validate(_ bytes: [UInt8], maximumDepth: Int = maximumParseDepth) throws(JSONParseError) {
        let result = bytes.withUnsafeBytes { buffer in
            Result { () throws(JSONParseError) in try validate(buffer, maximumDepth: maximumDepth) }
        }
        try result.get()
    }

    /// Checks that a buffer of UTF-8 bytes holds exactly one JSON text, without building it.
    ///
    /// See ``validate(_:maximumDepth:)-([UInt8],_)`` for the rules.
    ///
    /// - Parameters:
    ///   - buffer: The UTF-8 encoded JSON text.
    ///   - maximumDepth: The deepest nesting of arrays and objects accepted.
    /// - Throws: A ``JSONParseError`` with the byte offset of the first problem.
    public static func validate(_ buffer: UnsafeRawBufferPointer, maximumDepth: Int = maximumParseDepth)
        throws(JSONParseError)
    {
        guard let base = buffer.baseAddress, buffer.count > 0 else {
            throw JSONParseError(offset: 0, reason: "unexpected end of input")
        }
        var cursor = JSONCursor(base: base.assumingMemoryBound(to: UInt8.self), end: buffer.count)
        cursor.skipWhitespace()
        try cursor.skipValue(maximumDepth: maximumDepth, validatingUTF8: true)
        try cursor.finish()
    }

    /// Whether UTF-8 bytes hold exactly one JSON text; see ``validate(_:maximumDepth:)-([UInt8],_)``.
    public static func isValid(_ bytes: [UInt8], maximumDepth: Int = maximumParseDepth) -> Bool {
        do {
            try validate(bytes, maximumDepth: maximumDepth)
            return true
        } catch {
            return false
        }
    }

    /// For text that ``parse(_:)-([UInt8])`` accepted: whether it also passes
    /// ``validate(_:maximumDepth:)-([UInt8],_)`` and is one line with nothing around the value,
    /// that is, no CR or LF byte anywhere and no whitespace first or last. Such text can be
    /// embedded verbatim as a value in a JSON Lines record.
    ///
    /// One pass, eight bytes at a time, instead of a second validation: apart from nesting
    /// depth, the parser rejects everything the validator rejects except ill-formed UTF-8, which
    /// it repairs, so only the UTF-8 is checked. Text that the validator accepted (at any
    /// depth) gets a meaningful answer too; text that neither accepted does not.
    package static func isStrictSingleLine(parsedText bytes: [UInt8]) -> Bool {
        guard let first = bytes.first, let last = bytes.last, !JSONByte.isWhitespace(first),
            !JSONByte.isWhitespace(last)
        else { return false }
        return bytes.withUnsafeBufferPointer { buffer in
            jsonIsWellFormedUTF8WithoutLineBreaks(buffer.baseAddress!, count: buffer.count)
        }
    }
}

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
/// character (< 0x20), eight bytes at a time. Returns `end` when there is none.
@inline(__always)
func jsonFindStringSpecial(_ base: UnsafePointer<UInt8>, from start: Int, end: Int) -> Int {
    var index = start
    let ones: UInt64 = 0x0101_0101_0101_0101
    let highs: UInt64 = 0x8080_8080_8080_8080
    while index &+ 8 <= end {
        let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self).littleEndian
        let quotes = word ^ (ones &* 0x22)
        let slashes = word ^ (ones &* 0x5C)
        // A byte is flagged when it is zero (after the xor) or below 0x20. Borrows can only
        // cause false positives *above* the first real hit, so the lowest flag is exact.
        let hit =
            ((quotes &- ones) & ~quotes
                | (slashes &- ones) & ~slashes
                | (word &- ones &* 0x20) & ~word) & highs
        if hit != 0 {
            return index &+ (hit.trailingZeroBitCount >> 3)
        }
        index &+= 8
    }
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
/// character (< 0x20) or not ASCII (>= 0x80), eight bytes at a time. Returns `end` when there
/// is none. Used when validating strings, which checks the UTF-8 of non-ASCII runs.
@inline(__always)
func jsonFindStringSpecialOrNonASCII(_ base: UnsafePointer<UInt8>, from start: Int, end: Int) -> Int {
    var index = start
    let ones: UInt64 = 0x0101_0101_0101_0101
    let highs: UInt64 = 0x8080_8080_8080_8080
    while index &+ 8 <= end {
        let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self).littleEndian
        let quotes = word ^ (ones &* 0x22)
        let slashes = word ^ (ones &* 0x5C)
        // As in jsonFindStringSpecial, plus every byte with its high bit set (exact, no borrow).
        let hit =
            ((quotes &- ones) & ~quotes
                | (slashes &- ones) & ~slashes
                | (word &- ones &* 0x20) & ~word
                | word) & highs
        if hit != 0 {
            return index &+ (hit.trailingZeroBitCount >> 3)
        }
        index &+= 8
    }
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

/// Exact powers of ten representable as `Double`, for the fast number path.
private let exactPowersOfTen: [Double] = [
    1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
    1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
]

// MARK: - The tokenizing core

/// A number as the grammar read it: without fraction or exponent and within `Int64`, or not.
enum JSONNumber {
    case int(Int64)
    case double(Double)
}

/// The one tokenizer behind every JSON reader here: the tape (and so ``JSONValue/parse(_:)-([UInt8])``),
/// validation, ``JSONReader`` and ``JSONObjectScanner`` all move through text with it.
///
/// It owns the byte-level rules: whitespace, literals, strings (escapes checked, control
/// characters rejected, UTF-8 optionally checked), numbers, and skipping a whole value
/// iteratively. Offsets in its errors are absolute, from `base`.
struct JSONCursor {
    let base: UnsafePointer<UInt8>
    let end: Int
    var position: Int

    init(base: UnsafePointer<UInt8>, end: Int, position: Int = 0) {
        self.base = base
        self.end = end
        self.position = position
    }

    @inline(__always)
    func error(_ reason: String, at offset: Int? = nil) -> JSONParseError {
        JSONParseError(offset: offset ?? position, reason: reason)
    }

    @inline(__always)
    mutating func skipWhitespace() {
        while position < end, JSONByte.isWhitespace(base[position]) {
            position &+= 1
        }
    }

    /// After a complete value: only whitespace may follow.
    mutating func finish(_ reason: String = "unexpected content after the JSON value") throws(JSONParseError) {
        skipWhitespace()
        if position != end { throw error(reason) }
    }

    @inline(__always)
    mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let count = literal.utf8CodeUnitCount
        guard end &- position >= count else { throw error("invalid literal") }
        let expected = literal.utf8Start
        for offset in 0..<count where base[position &+ offset] != expected[offset] {
            throw error("invalid literal", at: position &+ offset)
        }
        position &+= count
    }

    // MARK: Strings

    /// Checks a string without decoding it; `position` is at the opening quote and ends just
    /// past the closing one. Escapes and control characters are always checked; UTF-8 only
    /// when `validatingUTF8` (otherwise decoding repairs it with U+FFFD).
    /// - Returns: Whether the string holds escapes.
    @inline(__always)
    @discardableResult
    mutating func scanString(validatingUTF8: Bool) throws(JSONParseError) -> Bool {
        let start = position
        var index = position &+ 1
        var escaped = false
        scan: while true {
            index =
                validatingUTF8
                ? jsonFindStringSpecialOrNonASCII(base, from: index, end: end)
                : jsonFindStringSpecial(base, from: index, end: end)
            guard index < end else { throw error("unterminated string", at: start) }
            var byte = base[index]
            if validatingUTF8, byte >= 0x80 {
                // Text with non-ASCII characters: byte by byte, back to eight at a time after a
                // run of ASCII.
                var ascii = 0
                while true {
                    if byte >= 0x80 {
                        let length = jsonUTF8SequenceLength(base, at: index, end: end)
                        if length == 0 { throw error("invalid UTF-8 in string", at: index) }
                        index &+= length
                        ascii = 0
                    } else if byte == JSONByte.quote || byte == JSONByte.backslash || byte < 0x20 {
                        break
                    } else {
                        index &+= 1
                        ascii &+= 1
                        if ascii == 16 { continue scan }
                    }
                    guard index < end else { throw error("unterminated string", at: start) }
                    byte = base[index]
                }
            }
            if byte == JSONByte.quote { break }
            if byte < 0x20 { throw error("unescaped control character in string", at: index) }
            // A backslash.
            escaped = true
            guard index &+ 1 < end else { throw error("unterminated string", at: start) }
            switch base[index &+ 1] {
            case JSONByte.quote, JSONByte.backslash, JSONByte.slash, UInt8(ascii: "b"), UInt8(ascii: "f"),
                UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                index &+= 2
            case UInt8(ascii: "u"):
                guard jsonHex4(base, at: index &+ 2, end: end) != nil else {
                    throw error("invalid \\u escape", at: index)
                }
                index &+= 6
            default:
                throw error("invalid escape sequence", at: index)
            }
        }
        position = index &+ 1
        return escaped
    }

    /// Reads a string as ``scanString(validatingUTF8:)`` checks it, then decodes it;
    /// `position` is at the opening quote.
    mutating func readString(validatingUTF8: Bool) throws(JSONParseError) -> String {
        guard position < end, base[position] == JSONByte.quote else { throw error("expected a string") }
        let start = position &+ 1
        let escaped = try scanString(validatingUTF8: validatingUTF8)
        return jsonDecodeString(base + start, count: position &- 1 &- start, escaped: escaped)
    }

    // MARK: Numbers

    /// Reads a number; `position` is at `-` or a digit. Numbers without fraction or exponent
    /// that fit in `Int64` are integers; the others are rounded once to a `Double`. Without
    /// `computingValue`, only the grammar is checked and the result is `.int(0)`.
    @inline(__always)
    mutating func scanNumber(computingValue: Bool = true) throws(JSONParseError) -> JSONNumber {
        let start = position
        var index = position
        var negative = false
        if base[index] == JSONByte.minus {
            negative = true
            index &+= 1
        }
        guard index < end, JSONByte.isDigit(base[index]) else {
            throw error("invalid number", at: index)
        }
        var mantissa: UInt64 = 0
        var significantDigits = 0
        if base[index] == JSONByte.zero {
            index &+= 1
            if index < end, JSONByte.isDigit(base[index]) {
                throw error("leading zero in number", at: start)
            }
        } else {
            while index < end {
                let digit = base[index] &- JSONByte.zero
                if digit >= 10 { break }
                if significantDigits < 19 {
                    mantissa = mantissa &* 10 &+ UInt64(digit)
                }
                significantDigits &+= 1
                index &+= 1
            }
        }
        var isInteger = true
        var decimalExponent = 0
        if index < end, base[index] == JSONByte.dot {
            isInteger = false
            index &+= 1
            let fractionStart = index
            while index < end {
                let digit = base[index] &- JSONByte.zero
                if digit >= 10 { break }
                if mantissa == 0 && digit == 0 {
                    // Leading zeros of the fraction don't count as significant.
                } else {
                    if significantDigits < 19 {
                        mantissa = mantissa &* 10 &+ UInt64(digit)
                    }
                    significantDigits &+= 1
                }
                if significantDigits <= 19 { decimalExponent &-= 1 }
                index &+= 1
            }
            if index == fractionStart { throw error("expected digits after '.'", at: index) }
        }
        if index < end, base[index] | 0x20 == UInt8(ascii: "e") {
            isInteger = false
            index &+= 1
            var exponentNegative = false
            if index < end, base[index] == JSONByte.minus || base[index] == JSONByte.plus {
                exponentNegative = base[index] == JSONByte.minus
                index &+= 1
            }
            let exponentStart = index
            var exponent = 0
            while index < end {
                let digit = base[index] &- JSONByte.zero
                if digit >= 10 { break }
                if exponent < 100_000 { exponent = exponent &* 10 &+ Int(digit) }
                index &+= 1
            }
            if index == exponentStart { throw error("expected digits in exponent", at: index) }
            decimalExponent &+= exponentNegative ? -exponent : exponent
        }
        position = index
        if !computingValue { return .int(0) }

        if isInteger, significantDigits <= 19 {
            if negative {
                if mantissa <= UInt64(Int64.max) &+ 1 {
                    return .int(Int64(bitPattern: 0 &- mantissa))
                }
            } else if mantissa <= UInt64(Int64.max) {
                return .int(Int64(mantissa))
            }
        }
        // Clinger's fast path: an exact mantissa scaled by an exact power of ten rounds once.
        if significantDigits <= 19, mantissa <= (1 << 53), decimalExponent >= -22, decimalExponent <= 22 {
            var value = Double(mantissa)
            if decimalExponent < 0 {
                value /= exactPowersOfTen[-decimalExponent]
            } else {
                value *= exactPowersOfTen[decimalExponent]
            }
            return .double(negative ? -value : value)
        }
        if significantDigits <= 19, mantissa == 0 {
            return .double(negative ? -0.0 : 0.0)
        }
        let text = String(decoding: UnsafeBufferPointer(start: base + start, count: index &- start), as: UTF8.self)
        guard let value = Double(text) else { throw error("invalid number", at: start) }
        return .double(value)
    }

    // MARK: Skipping

    /// Checks one value without building it; `position` is at its first byte and ends just
    /// past it. Iterative: nesting costs one bit per level, never stack.
    @inline(__always)
    mutating func skipValue(maximumDepth: Int, validatingUTF8: Bool) throws(JSONParseError) {
        guard position < end else { throw error("unexpected end of input") }
        let byte = base[position]
        if byte == JSONByte.openBrace || byte == JSONByte.openBracket {
            try skipContainer(maximumDepth: maximumDepth, validatingUTF8: validatingUTF8)
        } else {
            try skipScalar(validatingUTF8: validatingUTF8)
        }
    }

    /// Checks a string, number or literal; `position` is at its first byte and ends just past it.
    @inline(__always)
    private mutating func skipScalar(validatingUTF8: Bool) throws(JSONParseError) {
        switch base[position] {
        case JSONByte.quote:
            try scanString(validatingUTF8: validatingUTF8)
        case JSONByte.minus, JSONByte.zero...JSONByte.nine:
            _ = try scanNumber(computingValue: false)
        case UInt8(ascii: "t"):
            try expectLiteral("true")
        case UInt8(ascii: "f"):
            try expectLiteral("false")
        case UInt8(ascii: "n"):
            try expectLiteral("null")
        default:
            throw error("unexpected character")
        }
    }

    /// ``skipValue(maximumDepth:validatingUTF8:)`` for an object or array.
    private mutating func skipContainer(maximumDepth: Int, validatingUTF8: Bool) throws(JSONParseError) {
        // One bit per open container, set for an object: 64 levels inline, deeper ones in `deeper`.
        var kinds: UInt64 = 0
        var deeper: [UInt64] = []
        var depth = 0
        value: while true {
            guard position < end else { throw error("unexpected end of input") }
            let byte = base[position]
            switch byte {
            case JSONByte.openBrace, JSONByte.openBracket:
                if depth >= maximumDepth { throw error("nesting deeper than \(maximumDepth)") }
                let isObject = byte == JSONByte.openBrace
                position &+= 1
                skipWhitespace()
                if position < end, base[position] == (isObject ? JSONByte.closeBrace : JSONByte.closeBracket) {
                    position &+= 1
                    break
                }
                if depth < 64 {
                    kinds = isObject ? kinds | 1 << UInt64(depth) : kinds & ~(1 << UInt64(depth))
                } else {
                    let word = (depth &- 64) >> 6
                    let bit: UInt64 = 1 << UInt64((depth &- 64) & 63)
                    if word == deeper.count { deeper.append(0) }
                    deeper[word] = isObject ? deeper[word] | bit : deeper[word] & ~bit
                }
                depth &+= 1
                if isObject { try skipMemberName(validatingUTF8: validatingUTF8) }
                continue value
            default:
                try skipScalar(validatingUTF8: validatingUTF8)
            }
            // After a value: a comma and the next member or element, or closing brackets.
            while depth > 0 {
                let level = depth &- 1
                let isObject =
                    level < 64
                    ? kinds & (1 << UInt64(level)) != 0
                    : deeper[(level &- 64) >> 6] & (1 << UInt64((level &- 64) & 63)) != 0
                skipWhitespace()
                guard position < end else {
                    throw error(isObject ? "unexpected end of input in object" : "unexpected end of input in array")
                }
                let next = base[position]
                position &+= 1
                if next == JSONByte.comma {
                    skipWhitespace()
                    if isObject { try skipMemberName(validatingUTF8: validatingUTF8) }
                    continue value
                }
                guard next == (isObject ? JSONByte.closeBrace : JSONByte.closeBracket) else {
                    let reason = isObject ? "expected ',' or '}' in object" : "expected ',' or ']' in array"
                    throw error(reason, at: position &- 1)
                }
                depth = level
            }
            return
        }
    }

    /// Checks `"key"`, the colon and the whitespace around it; `position` is at the quote.
    @inline(__always)
    private mutating func skipMemberName(validatingUTF8: Bool) throws(JSONParseError) {
        guard position < end, base[position] == JSONByte.quote else { throw error("expected a string key") }
        try scanString(validatingUTF8: validatingUTF8)
        skipWhitespace()
        guard position < end, base[position] == JSONByte.colon else { throw error("expected ':' after key") }
        position &+= 1
        skipWhitespace()
    }
}

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
        let (written, utf8) = jsonUnescape(start, count, into: scratch)
        return jsonMakeString(scratch.baseAddress!, count: written, checked: utf8)
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

/// What ``jsonCheckUTF8(_:count:)`` found.
enum JSONUTF8Check {
    case ascii, wellFormed, illFormed
}

/// Whether `count` bytes are well-formed UTF-8, and whether they are all ASCII. ASCII is
/// checked eight bytes at a time, each non-ASCII sequence on its own (RFC 3629 §4).
func jsonCheckUTF8(_ base: UnsafePointer<UInt8>, count end: Int) -> JSONUTF8Check {
    let highs: UInt64 = 0x8080_8080_8080_8080
    var index = 0
    var result = JSONUTF8Check.ascii
    while index < end {
        if index &+ 8 <= end {
            let high = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self).littleEndian & highs
            if high == 0 {
                index &+= 8
                continue
            }
            index &+= high.trailingZeroBitCount >> 3
        } else if base[index] < 0x80 {
            index &+= 1
            continue
        }
        // A lead byte at `index`.
        let length = jsonUTF8SequenceLength(base, at: index, end: end)
        if length == 0 { return .illFormed }
        result = .wellFormed
        index &+= length
    }
    return result
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
        switch escape {
        case UInt8(ascii: "b"): out[written] = 0x08
        case UInt8(ascii: "f"): out[written] = 0x0C
        case UInt8(ascii: "n"): out[written] = 0x0A
        case UInt8(ascii: "r"): out[written] = 0x0D
        case UInt8(ascii: "t"): out[written] = 0x09
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

/// Read access to a JSON value, so frames decode the same way from a ``JSONValue`` and from a
/// ``JSONTapeView`` (which materializes only what is kept).
protocol JSONReadable {
    subscript(key: String) -> Self? { get }
    var stringValue: String? { get }
    var intValue: Int? { get }
    var doubleValue: Double? { get }
    var boolValue: Bool? { get }
    /// The elements, when this is an array.
    var elements: [Self]? { get }
    /// The value as a ``JSONValue``.
    var jsonValue: JSONValue { get }
}

extension JSONValue: JSONReadable {
    var elements: [JSONValue]? { arrayValue }
    var jsonValue: JSONValue { self }
}

extension JSONTapeView: JSONReadable {}
