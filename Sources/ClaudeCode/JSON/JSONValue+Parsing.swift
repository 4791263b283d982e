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
