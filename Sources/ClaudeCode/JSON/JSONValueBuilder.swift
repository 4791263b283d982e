/// Builds a ``JSONValue`` straight from text, in one pass over it.
///
/// The tape (``JSONTape``) is the right tool when only a few fields of a document are read: it
/// records byte ranges and materializes nothing. When the whole value is wanted (``JSONValue``'s
/// `parse`, the values a ``JSONObjectScanner`` lookup parses, ``JSONReader``'s values), recording
/// a tape and walking it again costs a second pass, and the string bytes were read three times:
/// scanned for their end, unescaped, checked for UTF-8. Here each string is scanned, unescaped
/// and checked in the same loop, then copied once into its `String`.
///
/// The grammar, the error reasons and their offsets are the tape's (both use ``JSONCursor``'s
/// rules): the same text is accepted or refused the same way, at the same byte.
struct JSONValueBuilder: ~Copyable {
    private var cursor: JSONCursor
    /// Unescaped bytes of the current string: allocated at the first string with an escape, as
    /// long as the rest of the text (no string can decode to more), and reused after that.
    private var scratch: UnsafeMutablePointer<UInt8>?

    private init(cursor: JSONCursor) {
        self.cursor = cursor
        self.scratch = nil
    }

    deinit {
        scratch?.deallocate()
    }

    /// The value at `start` (after whitespace) in `base[..<end]`, and the position just past it.
    static func value(base: UnsafePointer<UInt8>, from start: Int, end: Int) throws(JSONParseError) -> (JSONValue, Int)
    {
        var builder = JSONValueBuilder(cursor: JSONCursor(base: base, end: end, position: start))
        let value = try builder.parseValue(depth: 0)
        return (value, builder.cursor.position)
    }

    /// The one value that `base[..<end]` holds, with only whitespace around it.
    static func document(base: UnsafePointer<UInt8>, end: Int) throws(JSONParseError) -> JSONValue {
        var builder = JSONValueBuilder(cursor: JSONCursor(base: base, end: end, position: 0))
        let value = try builder.parseValue(depth: 0)
        try builder.cursor.finish()
        return value
    }

    private mutating func parseValue(depth: Int) throws(JSONParseError) -> JSONValue {
        cursor.skipWhitespace()
        guard cursor.position < cursor.end else { throw cursor.error("unexpected end of input") }
        switch cursor.base[cursor.position] {
        case JSONByte.openBrace: return try parseObject(depth: depth &+ 1)
        case JSONByte.openBracket: return try parseArray(depth: depth &+ 1)
        case JSONByte.quote: return .string(try parseString())
        case UInt8(ascii: "t"):
            try cursor.expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try cursor.expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try cursor.expectLiteral("null")
            return .null
        case JSONByte.minus, JSONByte.zero...JSONByte.nine:
            switch try cursor.scanNumber() {
            case .int(let value): return .int(value)
            case .double(let value): return .double(value)
            }
        default:
            throw cursor.error("unexpected character")
        }
    }

    /// The cursor is at `{`.
    private mutating func parseObject(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= JSONValue.maximumParseDepth else {
            throw cursor.error("nesting deeper than \(JSONValue.maximumParseDepth)")
        }
        cursor.position &+= 1
        var object: [String: JSONValue] = [:]
        cursor.skipWhitespace()
        if cursor.position < cursor.end, cursor.base[cursor.position] == JSONByte.closeBrace {
            cursor.position &+= 1
            return .object(object)
        }
        while true {
            cursor.skipWhitespace()
            guard cursor.position < cursor.end, cursor.base[cursor.position] == JSONByte.quote else {
                throw cursor.error("expected a string key")
            }
            let key = try parseString()
            cursor.skipWhitespace()
            guard cursor.position < cursor.end, cursor.base[cursor.position] == JSONByte.colon else {
                throw cursor.error("expected ':' after key")
            }
            cursor.position &+= 1
            object[key] = try parseValue(depth: depth)
            cursor.skipWhitespace()
            guard cursor.position < cursor.end else { throw cursor.error("unexpected end of input in object") }
            let byte = cursor.base[cursor.position]
            cursor.position &+= 1
            if byte == JSONByte.comma { continue }
            if byte == JSONByte.closeBrace { return .object(object) }
            throw cursor.error("expected ',' or '}' in object", at: cursor.position &- 1)
        }
    }

    /// The cursor is at `[`.
    private mutating func parseArray(depth: Int) throws(JSONParseError) -> JSONValue {
        guard depth <= JSONValue.maximumParseDepth else {
            throw cursor.error("nesting deeper than \(JSONValue.maximumParseDepth)")
        }
        cursor.position &+= 1
        var array: [JSONValue] = []
        cursor.skipWhitespace()
        if cursor.position < cursor.end, cursor.base[cursor.position] == JSONByte.closeBracket {
            cursor.position &+= 1
            return .array(array)
        }
        while true {
            array.append(try parseValue(depth: depth))
            cursor.skipWhitespace()
            guard cursor.position < cursor.end else { throw cursor.error("unexpected end of input in array") }
            let byte = cursor.base[cursor.position]
            cursor.position &+= 1
            if byte == JSONByte.comma { continue }
            if byte == JSONByte.closeBracket { return .array(array) }
            throw cursor.error("expected ',' or ']' in array", at: cursor.position &- 1)
        }
    }

    /// A string; the cursor is at its opening quote and ends just past the closing one. Checks
    /// what ``JSONCursor/scanString(validatingUTF8:)`` checks (without UTF-8: ill-formed bytes
    /// become U+FFFD, as with the tape) and decodes in the same loop.
    private mutating func parseString() throws(JSONParseError) -> String {
        let base = cursor.base
        let end = cursor.end
        let quote = cursor.position
        let contentStart = quote &+ 1
        var index = contentStart
        var utf8 = JSONUTF8Check.ascii
        // Up to the first escape, the string is its own bytes.
        while true {
            index = jsonFindStringSpecialOrNonASCII(base, from: index, end: end)
            guard index < end else { throw cursor.error("unterminated string", at: quote) }
            let byte = base[index]
            if byte == JSONByte.quote {
                cursor.position = index &+ 1
                return jsonMakeString(base + contentStart, count: index &- contentStart, checked: utf8)
            }
            if byte >= 0x80 {
                let length = jsonUTF8SequenceLength(base, at: index, end: end)
                if length == 0 {
                    utf8 = .illFormed
                    index &+= 1
                } else {
                    if utf8 == .ascii { utf8 = .wellFormed }
                    index &+= length
                }
                continue
            }
            if byte < 0x20 { throw cursor.error("unescaped control character in string", at: index) }
            break  // a backslash
        }
        // From the first escape on, the decoded bytes go to the scratch buffer.
        let out: UnsafeMutablePointer<UInt8>
        if let scratch {
            out = scratch
        } else {
            out = .allocate(capacity: max(1, end &- contentStart))
            scratch = out
        }
        var written = index &- contentStart
        out.update(from: base + contentStart, count: written)
        var read = index
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        while true {
            if read &+ 8 <= end {
                // Copied eight at a time while searched; `written` never passes `read`, so the store fits.
                let word = UnsafeRawPointer(base + read).loadUnaligned(as: UInt64.self)
                UnsafeMutableRawPointer(out + written).storeBytes(of: word, as: UInt64.self)
                let little = word.littleEndian
                let quotes = little ^ (ones &* 0x22)
                let slashes = little ^ (ones &* 0x5C)
                // Quotes, backslashes, control characters and non-ASCII bytes; the lowest flag is exact.
                let hit =
                    ((quotes &- ones) & ~quotes
                        | (slashes &- ones) & ~slashes
                        | (little &- ones &* 0x20) & ~little
                        | little) & highs
                if hit == 0 {
                    read &+= 8
                    written &+= 8
                    continue
                }
                let run = hit.trailingZeroBitCount >> 3
                read &+= run
                written &+= run
            } else {
                guard read < end else { throw cursor.error("unterminated string", at: quote) }
                let byte = base[read]
                if byte != JSONByte.quote, byte != JSONByte.backslash, byte >= 0x20, byte < 0x80 {
                    out[written] = byte
                    read &+= 1
                    written &+= 1
                    continue
                }
            }
            let byte = base[read]
            if byte == JSONByte.quote {
                cursor.position = read &+ 1
                return jsonMakeString(out, count: written, checked: utf8)
            }
            if byte >= 0x80 {
                let length = jsonUTF8SequenceLength(base, at: read, end: end)
                if length == 0 {
                    // Copied as it is; String(decoding:) replaces it.
                    utf8 = .illFormed
                    out[written] = byte
                    read &+= 1
                    written &+= 1
                } else {
                    if utf8 == .ascii { utf8 = .wellFormed }
                    if read &+ 4 <= end {
                        // Four bytes at once (what follows the sequence is overwritten next).
                        let sequence = UnsafeRawPointer(base + read).loadUnaligned(as: UInt32.self)
                        UnsafeMutableRawPointer(out + written).storeBytes(of: sequence, as: UInt32.self)
                    } else {
                        for offset in 0..<length { out[written &+ offset] = base[read &+ offset] }
                    }
                    read &+= length
                    written &+= length
                }
                continue
            }
            if byte < 0x20 { throw cursor.error("unescaped control character in string", at: read) }
            // A backslash.
            guard read &+ 1 < end else { throw cursor.error("unterminated string", at: quote) }
            let escape = base[read &+ 1]
            let simple = JSONByte.simpleEscapeValue(escape)
            if simple != 0 {
                out[written] = simple
                read &+= 2
                written &+= 1
                continue
            }
            guard escape == UInt8(ascii: "u") else { throw cursor.error("invalid escape sequence", at: read) }
            guard let unit16 = jsonHex4(base, at: read &+ 2, end: end) else {
                throw cursor.error("invalid \\u escape", at: read)
            }
            read &+= 6
            let unit = UInt32(unit16)
            var scalar = unit
            if unit >= 0xD800, unit <= 0xDBFF {
                // High surrogate: pair it with a following \uDC00-\uDFFF, else U+FFFD.
                if read &+ 6 <= end, base[read] == JSONByte.backslash, base[read &+ 1] == UInt8(ascii: "u"),
                    let low = jsonHex4(base, at: read &+ 2, end: end), low >= 0xDC00, low <= 0xDFFF
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
            written &+= jsonWriteUTF8(scalar, to: out + written)
        }
    }
}
