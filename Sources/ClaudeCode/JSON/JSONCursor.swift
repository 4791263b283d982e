internal import CClaudeCodeScan

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

/// The one tokenizer behind every JSON reader here: the tape, the value builder (and so
/// ``JSONValue/parse(_:)-([UInt8])``), validation, ``JSONReader`` and ``JSONObjectScanner`` all move
/// through text with it.
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
        if !validatingUTF8 {
            // Short strings (keys, ids) end in the first word; the rest goes to `ccscan_skip_string`.
            index = jsonFindStringSpecial(base, from: index, end: end)
            if index < end, base[index] == JSONByte.quote {
                position = index &+ 1
                return false
            }
            return try skipStringRest(from: index, start: start)
        }
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
            let escape = base[index &+ 1]
            if JSONByte.simpleEscapeValue(escape) != 0 {
                index &+= 2
            } else if escape == UInt8(ascii: "u") {
                guard jsonHex4(base, at: index &+ 2, end: end) != nil else {
                    throw error("invalid \\u escape", at: index)
                }
                index &+= 6
            } else {
                throw error("invalid escape sequence", at: index)
            }
        }
        position = index &+ 1
        return escaped
    }

    /// ``scanString(validatingUTF8:)`` without UTF-8 from `index` on, in C; `start` is the opening quote.
    @inline(never)
    private mutating func skipStringRest(from index: Int, start: Int) throws(JSONParseError) -> Bool {
        var at = 0
        var escaped: Int32 = 0
        switch Int(ccscan_skip_string(base, index, end, &at, &escaped)) {
        case Int(CCSCAN_QUOTE):
            position = at &+ 1
            return escaped != 0
        case Int(CCSCAN_CONTROL): throw error("unescaped control character in string", at: at)
        case Int(CCSCAN_BAD_ESCAPE): throw error("invalid escape sequence", at: at)
        case Int(CCSCAN_BAD_UNICODE_ESCAPE): throw error("invalid \\u escape", at: at)
        default: throw error("unterminated string", at: start)
        }
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
