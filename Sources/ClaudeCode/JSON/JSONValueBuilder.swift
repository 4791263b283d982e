internal import CClaudeCodeScan

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
        cursor.skipWhitespace()
        if cursor.position < cursor.end, cursor.base[cursor.position] == JSONByte.closeBrace {
            cursor.position &+= 1
            return .object([:])
        }
        // Room for four members from the start: message content blocks have two to four, and
        // growing from one bucket took three reallocations.
        var object = [String: JSONValue](minimumCapacity: 4)
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
    /// become U+FFFD, as with the tape) and decodes in the same loop (`ccscan_unescape`: 16 or
    /// 32 bytes at a time, copied while they are searched); the UTF-8 of a long result is then
    /// checked in one SIMD pass (`jsonMakeString`).
    private mutating func parseString() throws(JSONParseError) -> String {
        let base = cursor.base
        let end = cursor.end
        let quote = cursor.position
        let contentStart = quote &+ 1
        // Up to the first escape, the string is its own bytes.
        let index = jsonFindStringSpecial(base, from: contentStart, end: end)
        guard index < end else { throw cursor.error("unterminated string", at: quote) }
        let byte = base[index]
        if byte == JSONByte.quote {
            cursor.position = index &+ 1
            return jsonMakeString(base + contentStart, count: index &- contentStart)
        }
        if byte < 0x20 { throw cursor.error("unescaped control character in string", at: index) }
        // From the first escape on, the decoded bytes go to the scratch buffer, which has room
        // for the rest of the text (no escape decodes to more bytes than it takes).
        let out: UnsafeMutablePointer<UInt8>
        if let scratch {
            out = scratch
        } else {
            out = .allocate(capacity: max(1, end &- contentStart))
            scratch = out
        }
        var written = index &- contentStart
        out.update(from: base + contentStart, count: written)
        var at = 0
        switch Int(ccscan_unescape(base, index, end, out, &written, &at)) {
        case Int(CCSCAN_QUOTE):
            cursor.position = at &+ 1
            return jsonMakeString(out, count: written)
        case Int(CCSCAN_CONTROL): throw cursor.error("unescaped control character in string", at: at)
        case Int(CCSCAN_BAD_ESCAPE): throw cursor.error("invalid escape sequence", at: at)
        case Int(CCSCAN_BAD_UNICODE_ESCAPE): throw cursor.error("invalid \\u escape", at: at)
        default: throw cursor.error("unterminated string", at: quote)
        }
    }
}
