/// Where and why JSON text could not be parsed.
public struct JSONParseError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The byte offset of the problem in the input.
    public var offset: Int
    /// What is wrong there.
    public var reason: String

    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }

    public var description: String { "invalid JSON at byte \(offset): \(reason)" }
}

extension JSONValue {
    /// Parses one JSON document (RFC 8259) from UTF-8 bytes.
    ///
    /// - Whitespace may surround the value; anything else after it is an error.
    /// - Integers that fit in `Int64` become ``int(_:)``; other numbers become ``double(_:)``.
    /// - Invalid UTF-8 inside strings, and unpaired surrogate escapes, become U+FFFD rather than failing the
    ///   whole document. Raw U+2028/U+2029 are kept as they are.
    /// - A repeated object key keeps its last value.
    /// - Nesting deeper than 512 levels is an error.
    /// - Throws: ``JSONParseError`` with the byte offset of the first problem.
    public static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        try bytes.withUnsafeBufferPointer { (buffer: UnsafeBufferPointer<UInt8>) throws(JSONParseError) -> JSONValue in
            try parse(buffer)
        }
    }

    /// Parses one JSON document from a string; see ``parse(_:)``.
    public static func parse(_ string: String) throws(JSONParseError) -> JSONValue {
        var string = string
        let result = string.withUTF8 { buffer in
            Result { () throws(JSONParseError) -> JSONValue in try parse(buffer) }
        }
        return try result.get()
    }

    /// Parses one JSON document from a buffer of UTF-8 bytes; see ``parse(_:)``.
    static func parse(_ buffer: UnsafeBufferPointer<UInt8>) throws(JSONParseError) -> JSONValue {
        var tape = JSONTape()
        try tape.parse(buffer)
        return tape.withRoot(of: buffer) { $0.jsonValue }
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
