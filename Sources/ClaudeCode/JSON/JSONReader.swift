/// A forward-only pull reader over JSON text, for reading a document of known shape in one
/// pass without building a tree.
///
/// Step into an object with ``beginObject()`` and ``nextKey()``, into an array with
/// ``beginArray()`` and ``nextElement()``, and take each value with a `read` method, or
/// skip it with ``skipValue(maximumDepth:)``, which reports where its text is. Whitespace
/// between tokens is skipped. Everything read or skipped is checked as strictly as
/// ``JSONValue/validate(_:maximumDepth:)-([UInt8],_)`` checks it, well-formed UTF-8 included.
///
/// ```swift
/// var reader = JSONReader(bytes)
/// try reader.beginObject()
/// while let key = try reader.nextKey() {
///     switch key {
///     case "id": id = try reader.readInteger()
///     case "name": name = try reader.readString()
///     default: try reader.skipValue()
///     }
/// }
/// try reader.finish()
/// ```
///
/// The reader does not track nesting: call ``nextKey()`` only inside an object and
/// ``nextElement()`` only inside an array, once the previous member or element was read or
/// skipped. Errors carry offsets into ``bytes``; after an error, the position is unspecified.
package struct JSONReader: Sendable {
    /// The buffer being read. Offsets and ranges reported by the reader index into it.
    package let bytes: [UInt8]
    /// The offset of the next byte to read.
    package private(set) var position: Int
    /// The end of the text in ``bytes``.
    package let endIndex: Int
    /// Set by `begin…`: the next member or element is the first, with no comma before it.
    private var atFirstItem = false

    /// The kind of value that starts at the reader's position.
    package enum ValueKind: Sendable, Hashable {
        case object, array, string, number, bool, null
    }

    /// Creates a reader over all of `bytes`.
    package init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.position = 0
        self.endIndex = bytes.count
    }

    /// Creates a reader over the part of `bytes` in `range`. The array is shared, not copied.
    /// - Parameters:
    ///   - bytes: A buffer of UTF-8 text.
    ///   - range: The part to read. It is clamped to the buffer.
    package init(_ bytes: [UInt8], range: Range<Int>) {
        let range = range.clamped(to: 0..<bytes.count)
        self.bytes = bytes
        self.position = range.lowerBound
        self.endIndex = range.upperBound
    }

    /// Skips whitespace and says what kind of value comes next, judging by its first byte;
    /// `nil` at the end of the text or when no value starts there (at `,`, `]` or `}`).
    package mutating func peekKind() -> ValueKind? {
        while position < endIndex, JSONByte.isWhitespace(bytes[position]) { position &+= 1 }
        guard position < endIndex else { return nil }
        switch bytes[position] {
        case JSONByte.openBrace: return .object
        case JSONByte.openBracket: return .array
        case JSONByte.quote: return .string
        case JSONByte.minus, JSONByte.zero...JSONByte.nine: return .number
        case UInt8(ascii: "t"), UInt8(ascii: "f"): return .bool
        case UInt8(ascii: "n"): return .null
        default: return nil
        }
    }

    // MARK: Containers

    /// Reads the `{` that opens an object; read its members with ``nextKey()``.
    /// - Throws: A ``JSONParseError`` when the next value is not an object.
    package mutating func beginObject() throws(JSONParseError) {
        try withCursor { (cursor) throws(JSONParseError) in
            cursor.skipWhitespace()
            guard cursor.position < cursor.end, cursor.base[cursor.position] == JSONByte.openBrace else {
                throw cursor.error("expected '{'")
            }
            cursor.position &+= 1
        }
        atFirstItem = true
    }

    /// Moves to the next member of the object and returns its key, leaving the reader at the
    /// member's value, which must then be read or skipped; returns `nil` after the closing `}`.
    /// - Throws: A ``JSONParseError`` when the object is malformed.
    package mutating func nextKey() throws(JSONParseError) -> String? {
        guard let key = try nextKeyRange() else { return nil }
        return bytes.withUnsafeBufferPointer { buffer in
            jsonDecodeString(buffer.baseAddress! + key.range.lowerBound, count: key.range.count, escaped: key.escaped)
        }
    }

    /// Like ``nextKey()``, but returns where the key's content is in ``bytes`` (without its
    /// quotes) and whether it holds escapes, building no string: for readers that compare keys
    /// as bytes. The key is checked as strictly, UTF-8 included.
    package mutating func nextKeyRange() throws(JSONParseError) -> (range: Range<Int>, escaped: Bool)? {
        let first = atFirstItem
        let key = try withCursor { (cursor) throws(JSONParseError) -> (range: Range<Int>, escaped: Bool)? in
            cursor.skipWhitespace()
            guard cursor.position < cursor.end else { throw cursor.error("unexpected end of input in object") }
            let byte = cursor.base[cursor.position]
            if byte == JSONByte.closeBrace {
                cursor.position &+= 1
                return nil
            }
            if !first {
                guard byte == JSONByte.comma else { throw cursor.error("expected ',' or '}' in object") }
                cursor.position &+= 1
                cursor.skipWhitespace()
            }
            guard cursor.position < cursor.end, cursor.base[cursor.position] == JSONByte.quote else {
                throw cursor.error("expected a string key")
            }
            let start = cursor.position &+ 1
            let escaped = try cursor.scanString(validatingUTF8: true)
            let range = start..<(cursor.position &- 1)
            cursor.skipWhitespace()
            guard cursor.position < cursor.end, cursor.base[cursor.position] == JSONByte.colon else {
                throw cursor.error("expected ':' after key")
            }
            cursor.position &+= 1
            return (range, escaped)
        }
        atFirstItem = false
        return key
    }

    /// Reads the `[` that opens an array; move through its elements with ``nextElement()``.
    /// - Throws: A ``JSONParseError`` when the next value is not an array.
    package mutating func beginArray() throws(JSONParseError) {
        try withCursor { (cursor) throws(JSONParseError) in
            cursor.skipWhitespace()
            guard cursor.position < cursor.end, cursor.base[cursor.position] == JSONByte.openBracket else {
                throw cursor.error("expected '['")
            }
            cursor.position &+= 1
        }
        atFirstItem = true
    }

    /// Moves to the next element of the array, which must then be read or skipped; returns
    /// `false` after the closing `]`.
    /// - Throws: A ``JSONParseError`` when the array is malformed.
    package mutating func nextElement() throws(JSONParseError) -> Bool {
        let first = atFirstItem
        let more = try withCursor { (cursor) throws(JSONParseError) -> Bool in
            cursor.skipWhitespace()
            guard cursor.position < cursor.end else { throw cursor.error("unexpected end of input in array") }
            let byte = cursor.base[cursor.position]
            if byte == JSONByte.closeBracket {
                cursor.position &+= 1
                return false
            }
            if !first {
                guard byte == JSONByte.comma else { throw cursor.error("expected ',' or ']' in array") }
                cursor.position &+= 1
            }
            return true
        }
        atFirstItem = false
        return more
    }

    // MARK: Values

    /// Reads a string, with escapes decoded.
    /// - Throws: A ``JSONParseError`` when the next value is not a valid string.
    package mutating func readString() throws(JSONParseError) -> String {
        try withCursor { (cursor) throws(JSONParseError) in
            cursor.skipWhitespace()
            return try cursor.readString(validatingUTF8: true)
        }
    }

    /// Reads a string, or `null` as `nil`.
    /// - Throws: A ``JSONParseError`` when the next value is neither a valid string nor `null`.
    package mutating func readOptionalString() throws(JSONParseError) -> String? {
        try withCursor { (cursor) throws(JSONParseError) -> String? in
            cursor.skipWhitespace()
            if cursor.position < cursor.end, cursor.base[cursor.position] == UInt8(ascii: "n") {
                try cursor.expectLiteral("null")
                return nil
            }
            return try cursor.readString(validatingUTF8: true)
        }
    }

    /// Reads a number without fraction or exponent that fits in `Int64`.
    /// - Throws: A ``JSONParseError`` when the next value is not such a number.
    package mutating func readInteger() throws(JSONParseError) -> Int64 {
        try withCursor { (cursor) throws(JSONParseError) in
            cursor.skipWhitespace()
            let start = cursor.position
            guard start < cursor.end, cursor.base[start] == JSONByte.minus || JSONByte.isDigit(cursor.base[start]),
                case .int(let value) = try cursor.scanNumber()
            else {
                throw cursor.error("expected an integer", at: start)
            }
            return value
        }
    }

    /// Reads any value, nested no deeper than ``JSONValue/maximumParseDepth``, into a ``JSONValue``.
    /// - Throws: A ``JSONParseError`` when the next value is malformed.
    package mutating func readValue() throws(JSONParseError) -> JSONValue {
        try withCursor { (cursor) throws(JSONParseError) in
            cursor.skipWhitespace()
            let start = cursor.position
            try cursor.skipValue(maximumDepth: JSONValue.maximumParseDepth, validatingUTF8: true)
            return try JSONValueBuilder.value(base: cursor.base, from: start, end: cursor.position).0
        }
    }

    /// Skips one value of any kind, checking it without building it, and returns the range
    /// of its text in ``bytes``.
    /// - Parameter maximumDepth: The deepest nesting accepted inside the value. Skipping is
    ///   iterative, so a larger limit costs no stack.
    /// - Throws: A ``JSONParseError`` when the next value is malformed.
    @discardableResult
    package mutating func skipValue(maximumDepth: Int = JSONValue.maximumParseDepth) throws(JSONParseError) -> Range<
        Int
    > {
        try withCursor { (cursor) throws(JSONParseError) in
            cursor.skipWhitespace()
            let start = cursor.position
            try cursor.skipValue(maximumDepth: maximumDepth, validatingUTF8: true)
            return start..<cursor.position
        }
    }

    /// Checks that only whitespace follows, once the top-level value has been read.
    /// - Throws: A ``JSONParseError`` when anything else follows.
    package mutating func finish() throws(JSONParseError) {
        while position < endIndex, JSONByte.isWhitespace(bytes[position]) { position &+= 1 }
        if position != endIndex {
            throw JSONParseError(offset: position, reason: "unexpected content after the JSON value")
        }
    }

    /// Runs `body` with a cursor at the reader's position and keeps the position it ends at.
    @inline(__always)
    private mutating func withCursor<T>(_ body: (inout JSONCursor) throws(JSONParseError) -> T)
        throws(JSONParseError)
        -> T
    {
        let start = position
        let end = endIndex
        let result = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(JSONParseError) -> (T, Int) in
                guard let base = buffer.baseAddress else {
                    throw JSONParseError(offset: start, reason: "unexpected end of input")
                }
                var cursor = JSONCursor(base: base, end: end, position: start)
                let value = try body(&cursor)
                return (value, cursor.position)
            }
        }
        let (value, newPosition) = try result.get()
        position = newPosition
        return value
    }
}
