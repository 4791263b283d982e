/// A lazy reader of one JSON object's top-level members.
///
/// Use it on hot paths that need a few fields of a large object without building the
/// whole tree: it walks the top-level keys and reports, for each, the byte range of its
/// value inside ``bytes``. Nested values are skipped without allocating; only the values
/// you ask for are parsed, with the same strict rules as ``JSONValue/parse(_:)-([UInt8])``.
///
/// ```swift
/// let scanner = JSONObjectScanner(lineBytes)
/// if try scanner.string(forKey: "type") == "assistant" {
///     let message = try scanner.value(forKey: "message")
/// }
/// ```
///
/// Skipped values are checked only for structure (strings terminated, brackets balanced
/// and matched, scalars well delimited); parse a value to validate it fully. When a key
/// appears more than once, the last occurrence wins, as in ``JSONValue/parse(_:)-([UInt8])``.
package struct JSONObjectScanner: Sendable, Sequence {
    /// The buffer that holds the object. Ranges reported by the scanner index into it.
    package let bytes: [UInt8]
    /// The part of ``bytes`` that holds the object text (surrounding whitespace is allowed).
    package let range: Range<Int>

    /// One top-level member of the object.
    package struct Member: Sendable, Hashable {
        /// The key, with escapes decoded.
        package var key: String
        /// The byte range of the value's JSON text in ``JSONObjectScanner/bytes``.
        package var valueRange: Range<Int>
    }

    /// Creates a scanner over `bytes`, which must hold one JSON object.
    /// - Parameter bytes: The UTF-8 text of one JSON object.
    package init(_ bytes: [UInt8]) {
        self.bytes = bytes
        self.range = 0..<bytes.count
    }

    /// Creates a scanner over the part of `bytes` in `range`, which must hold one JSON object.
    ///
    /// The array is shared, not copied, so this is the cheap way to scan one line of a
    /// larger buffer.
    /// - Parameters:
    ///   - bytes: A buffer of UTF-8 text.
    ///   - range: The part of `bytes` holding the object. It is clamped to the buffer.
    package init(_ bytes: [UInt8], range: Range<Int>) {
        self.bytes = bytes
        self.range = range.clamped(to: 0..<bytes.count)
    }

    /// Creates a scanner over a string holding one JSON object.
    /// - Parameter string: The text of one JSON object.
    package init(_ string: String) {
        self.init(Array(string.utf8))
    }

    // MARK: Iteration

    /// Iterates the members in order. A malformed object ends the iteration early; the
    /// iterator's ``Iterator/error`` then says why. Use ``members()`` to get errors thrown.
    package struct Iterator: IteratorProtocol {
        let bytes: [UInt8]
        let end: Int
        var position: Int
        var started = false
        var finished = false
        /// The error that ended the iteration early, if any.
        package private(set) var error: JSONParseError?

        init(bytes: [UInt8], range: Range<Int>) {
            self.bytes = bytes
            self.end = range.upperBound
            self.position = range.lowerBound
        }

        /// The next member, or `nil` at the end of the object or at the first error.
        package mutating func next() -> Member? {
            if finished { return nil }
            do {
                if let member = try nextMember() { return member }
                finished = true
                return nil
            } catch {
                self.error = error
                finished = true
                return nil
            }
        }

        /// Like ``next()`` but throws instead of recording the error.
        mutating func nextMember() throws(JSONParseError) -> Member? {
            let result = bytes.withUnsafeBufferPointer { buffer in
                Result { () throws(JSONParseError) -> Member? in
                    guard let base = buffer.baseAddress else {
                        throw JSONParseError(offset: 0, reason: "unexpected end of input")
                    }
                    var cursor = JSONCursor(base: base, end: end, position: position)
                    defer { position = cursor.position }
                    return try cursor.nextMember(started: &started)
                }
            }
            return try result.get()
        }
    }

    /// Returns an iterator over the top-level members.
    package func makeIterator() -> Iterator {
        Iterator(bytes: bytes, range: range)
    }

    /// All top-level members, in order, after checking the whole object's structure.
    /// - Returns: The members, duplicates included.
    /// - Throws: A ``JSONParseError`` when the text is not a well-formed object.
    package func members() throws(JSONParseError) -> [Member] {
        var iterator = makeIterator()
        var result: [Member] = []
        while let member = try iterator.nextMember() { result.append(member) }
        return result
    }

    // MARK: Lookup

    /// The byte range of the value for `key`, or `nil` when the key is absent or the
    /// object is malformed.
    /// - Parameter key: The member name to find.
    /// - Returns: A range into ``bytes`` holding the value's JSON text.
    package func rawRange(forKey key: String) -> Range<Int>? {
        try? findRange(forKey: key)
    }

    /// The value for `key`, parsed, or `nil` when the key is absent.
    ///
    /// One strict pass: the members named `key` are parsed where they stand (the last one wins),
    /// the others skipped, so the value's text is read once and no table is allocated (what
    /// reading the `content` of each of ten thousand messages asks for).
    /// - Parameter key: The member name to find.
    /// - Returns: The parsed value.
    /// - Throws: A ``JSONParseError`` when the object or that value is malformed.
    package func value(forKey key: String) throws(JSONParseError) -> JSONValue? {
        var key = key
        let range = self.range
        let result = key.withUTF8 { wanted in
            bytes.withUnsafeBufferPointer { buffer in
                Result { () throws(JSONParseError) -> JSONValue? in
                    guard let base = buffer.baseAddress else {
                        throw JSONParseError(offset: 0, reason: "unexpected end of input")
                    }
                    var cursor = JSONCursor(base: base, end: range.upperBound, position: range.lowerBound)
                    var started = false
                    var found: JSONValue?
                    while let rawKey = try cursor.nextKey(started: &started) {
                        let matches =
                            rawKey.escaped
                            ? cursor.decodeKey(rawKey).utf8.elementsEqual(wanted)
                            : rawKey.range.count == wanted.count
                                && (wanted.isEmpty
                                    || cursor.memcmpEqual(
                                        base + rawKey.range.lowerBound, wanted.baseAddress!, wanted.count))
                        if matches {
                            (found, cursor.position) = try JSONValueBuilder.value(
                                base: base, from: cursor.position, end: cursor.end)
                        } else {
                            try cursor.skipValue()
                        }
                    }
                    return found
                }
            }
        }
        return try result.get()
    }

    /// The string value for `key`, or `nil` when the key is absent or its value is not a string.
    /// - Parameter key: The member name to find.
    /// - Returns: The decoded string.
    /// - Throws: A ``JSONParseError`` when the object or that string is malformed.
    package func string(forKey key: String) throws(JSONParseError) -> String? {
        guard let valueRange = try findRange(forKey: key) else { return nil }
        return try string(in: valueRange)
    }

    /// A scanner over the value for `key` when that value is an object, else `nil`.
    /// The bytes are shared, not copied.
    /// - Parameter key: The member name to find.
    /// - Returns: A scanner of the nested object.
    /// - Throws: A ``JSONParseError`` when the object is malformed.
    package func object(forKey key: String) throws(JSONParseError) -> JSONObjectScanner? {
        guard let valueRange = try findRange(forKey: key), bytes[valueRange.lowerBound] == JSONByte.openBrace else {
            return nil
        }
        return JSONObjectScanner(bytes, range: valueRange)
    }

    /// Parses the JSON text in `valueRange`, typically a ``Member/valueRange``.
    /// - Parameter valueRange: A range into ``bytes``.
    /// - Returns: The parsed value.
    /// - Throws: A ``JSONParseError`` whose offset is relative to the start of ``bytes``.
    package func value(in valueRange: Range<Int>) throws(JSONParseError) -> JSONValue {
        let valueRange = valueRange.clamped(to: 0..<bytes.count)
        let result = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(JSONParseError) -> JSONValue in
                guard let base = buffer.baseAddress, !valueRange.isEmpty else {
                    throw JSONParseError(offset: valueRange.lowerBound, reason: "unexpected end of input")
                }
                let (value, end) = try JSONValueBuilder.value(
                    base: base, from: valueRange.lowerBound, end: valueRange.upperBound)
                var cursor = JSONCursor(base: base, end: valueRange.upperBound, position: end)
                try cursor.finish()
                return value
            }
        }
        return try result.get()
    }

    /// Decodes the JSON string in `valueRange`, or returns `nil` when the range holds
    /// another kind of value.
    /// - Parameter valueRange: A range into ``bytes``, typically a ``Member/valueRange``.
    /// - Returns: The decoded string.
    /// - Throws: A ``JSONParseError`` when the string is malformed.
    package func string(in valueRange: Range<Int>) throws(JSONParseError) -> String? {
        let valueRange = valueRange.clamped(to: 0..<bytes.count)
        guard !valueRange.isEmpty, bytes[valueRange.lowerBound] == JSONByte.quote else { return nil }
        let result = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(JSONParseError) -> String in
                var cursor = JSONCursor(
                    base: buffer.baseAddress!, end: valueRange.upperBound, position: valueRange.lowerBound)
                return try cursor.readString(validatingUTF8: false)
            }
        }
        return try result.get()
    }

    /// A fixed set of keys to find in one pass with ``lookUp(_:)``, some of them parsed.
    package struct KeyLookup: Sendable {
        let keys: [[UInt8]]
        let parse: [Bool]
        let keysByLength: [Int: [Int]]

        /// Creates a lookup.
        /// - Parameters:
        ///   - keys: The member names to find. Their positions index the result.
        ///   - parse: The names among `keys` whose values should be parsed as well.
        package init(_ keys: [String], parse: Set<String> = []) {
            self.keys = keys.map { Array($0.utf8) }
            self.parse = keys.map { parse.contains($0) }
            var byLength: [Int: [Int]] = [:]
            for (index, key) in self.keys.enumerated() { byLength[key.count, default: []].append(index) }
            keysByLength = byLength
        }
    }

    /// What ``lookUp(_:)`` found: for each key of the lookup, in order, its value's range
    /// (or `nil` when absent) and, for the keys to parse, its value.
    package struct KeyLookupResult: Sendable {
        /// The byte range of each key's value in ``JSONObjectScanner/bytes``, or `nil`.
        package var ranges: [Range<Int>?]
        /// The parsed value of each key that the lookup parses, or `nil`.
        package var values: [JSONValue?]
    }

    /// Finds several top-level members in one strict pass over the object, comparing raw
    /// key bytes (no string is built for the keys you did not ask for) and parsing the
    /// values you asked to have parsed. When a key repeats, the last one wins.
    ///
    /// - Parameter lookup: The keys to find.
    /// - Returns: The ranges and parsed values, indexed like the lookup's keys.
    /// - Throws: A ``JSONParseError`` when the object is malformed.
    package func lookUp(_ lookup: KeyLookup) throws(JSONParseError) -> KeyLookupResult {
        let range = self.range
        let result = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(JSONParseError) -> KeyLookupResult in
                guard let base = buffer.baseAddress else {
                    throw JSONParseError(offset: 0, reason: "unexpected end of input")
                }
                var found = KeyLookupResult(
                    ranges: [Range<Int>?](repeating: nil, count: lookup.keys.count),
                    values: [JSONValue?](repeating: nil, count: lookup.keys.count))
                var cursor = JSONCursor(base: base, end: range.upperBound, position: range.lowerBound)
                var started = false
                while let rawKey = try cursor.nextKey(started: &started) {
                    var match = -1
                    if rawKey.escaped {
                        let key = Array(cursor.decodeKey(rawKey).utf8)
                        match = lookup.keys.firstIndex(of: key) ?? -1
                    } else if let candidates = lookup.keysByLength[rawKey.range.count] {
                        for candidate in candidates {
                            let equal = lookup.keys[candidate].withUnsafeBufferPointer { wanted in
                                wanted.isEmpty
                                    || cursor.memcmpEqual(
                                        base + rawKey.range.lowerBound, wanted.baseAddress!, wanted.count)
                            }
                            if equal {
                                match = candidate
                                break
                            }
                        }
                    }
                    let valueStart = cursor.position
                    if match >= 0, lookup.parse[match] {
                        (found.values[match], cursor.position) = try JSONValueBuilder.value(
                            base: base, from: cursor.position, end: cursor.end)
                    } else {
                        try cursor.skipValue()
                    }
                    if match >= 0 { found.ranges[match] = valueStart..<cursor.position }
                }
                return found
            }
        }
        return try result.get()
    }

    /// Walks the members once, in order: the values of the keys `shouldParse` accepts are
    /// parsed (and so validated) as they are reached, the others are skipped. This reads a
    /// line and builds the one or two values it needs in a single pass.
    ///
    /// - Parameters:
    ///   - shouldParse: Whether to parse the value of a key.
    ///   - body: Called for each member, with its parsed value when `shouldParse` accepted the key.
    /// - Throws: A ``JSONParseError`` when the object is malformed; members before the
    ///   problem have already been passed to `body`.
    package func forEachMember(
        parsing shouldParse: (String) -> Bool, _ body: (Member, JSONValue?) -> Void
    ) throws(JSONParseError) {
        let range = self.range
        let result = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(JSONParseError) in
                guard let base = buffer.baseAddress else {
                    throw JSONParseError(offset: 0, reason: "unexpected end of input")
                }
                var cursor = JSONCursor(base: base, end: range.upperBound, position: range.lowerBound)
                var started = false
                while let member = try cursor.nextMember(started: &started, parse: shouldParse) {
                    body(member.0, member.1)
                }
            }
        }
        try result.get()
    }

    /// The byte ranges of the elements of the JSON array in `valueRange`, or `nil` when
    /// the range holds another kind of value. Elements are skipped, not parsed.
    /// - Parameter valueRange: A range into ``bytes``, typically a ``Member/valueRange``.
    /// - Returns: One range per element, in order.
    /// - Throws: A ``JSONParseError`` when the array is malformed.
    package func arrayElementRanges(in valueRange: Range<Int>) throws(JSONParseError) -> [Range<Int>]? {
        let valueRange = valueRange.clamped(to: 0..<bytes.count)
        guard !valueRange.isEmpty, bytes[valueRange.lowerBound] == JSONByte.openBracket else { return nil }
        let result = bytes.withUnsafeBufferPointer { buffer in
            Result { () throws(JSONParseError) -> [Range<Int>] in
                var cursor = JSONCursor(
                    base: buffer.baseAddress!, end: valueRange.upperBound, position: valueRange.lowerBound &+ 1)
                var ranges: [Range<Int>] = []
                cursor.skipWhitespace()
                if cursor.position < cursor.end, cursor.base[cursor.position] == JSONByte.closeBracket {
                    cursor.position &+= 1
                    try cursor.finish()
                    return ranges
                }
                while true {
                    let start = cursor.position
                    try cursor.skipValue()
                    ranges.append(start..<cursor.position)
                    cursor.skipWhitespace()
                    guard cursor.position < cursor.end else { throw cursor.error("unexpected end of input in array") }
                    let byte = cursor.base[cursor.position]
                    cursor.position &+= 1
                    if byte == JSONByte.closeBracket { break }
                    guard byte == JSONByte.comma else {
                        throw cursor.error("expected ',' or ']' in array", at: cursor.position &- 1)
                    }
                    cursor.skipWhitespace()
                }
                try cursor.finish()
                return ranges
            }
        }
        return try result.get()
    }

    /// Finds the last member named `key`. Throws when the object is malformed.
    func findRange(forKey key: String) throws(JSONParseError) -> Range<Int>? {
        var key = key
        let range = self.range
        let result = key.withUTF8 { keyBytes in
            bytes.withUnsafeBufferPointer { buffer in
                Result { () throws(JSONParseError) -> Range<Int>? in
                    guard let base = buffer.baseAddress else {
                        throw JSONParseError(offset: 0, reason: "unexpected end of input")
                    }
                    var cursor = JSONCursor(base: base, end: range.upperBound, position: range.lowerBound)
                    return try cursor.findLast(key: keyBytes)
                }
            }
        }
        return try result.get()
    }
}

/// The object walk behind ``JSONObjectScanner``, on the shared tokenizer.
extension JSONCursor {
    /// Skips one value, checking it as the parser would (UTF-8 is left to decoding).
    @inline(__always)
    mutating func skipValue() throws(JSONParseError) {
        try skipValue(maximumDepth: JSONValue.maximumParseDepth, validatingUTF8: false)
    }

    /// Reads the opening brace (when `started` is false) and the next key and value.
    /// Returns the key's content range (between the quotes), whether it has escapes, and the value range.
    mutating func nextRaw(started: inout Bool) throws(JSONParseError) -> (
        key: Range<Int>, escaped: Bool, value: Range<Int>
    )? {
        guard let key = try nextKey(started: &started) else { return nil }
        let valueStart = position
        try skipValue()
        return (key.range, key.escaped, valueStart..<position)
    }

    /// Reads up to and past the next key's colon; `nil` at the end of the object.
    mutating func nextKey(started: inout Bool) throws(JSONParseError) -> (range: Range<Int>, escaped: Bool)? {
        if !started {
            skipWhitespace()
            guard position < end, base[position] == JSONByte.openBrace else { throw error("expected '{'") }
            position &+= 1
            skipWhitespace()
            started = true
            if position < end, base[position] == JSONByte.closeBrace {
                position &+= 1
                try finish("unexpected content after the JSON object")
                return nil
            }
        } else {
            skipWhitespace()
            guard position < end else { throw error("unexpected end of input in object") }
            let byte = base[position]
            if byte == JSONByte.closeBrace {
                position &+= 1
                try finish("unexpected content after the JSON object")
                return nil
            }
            guard byte == JSONByte.comma else { throw error("expected ',' or '}' in object") }
            position &+= 1
            skipWhitespace()
        }
        guard position < end, base[position] == JSONByte.quote else { throw error("expected a string key") }
        let keyStart = position &+ 1
        let escaped = try scanString(validatingUTF8: false)
        let keyRange = keyStart..<(position &- 1)
        skipWhitespace()
        guard position < end, base[position] == JSONByte.colon else { throw error("expected ':' after key") }
        position &+= 1
        skipWhitespace()
        return (keyRange, escaped)
    }

    func decodeKey(_ key: (range: Range<Int>, escaped: Bool)) -> String {
        jsonDecodeString(base + key.range.lowerBound, count: key.range.count, escaped: key.escaped)
    }

    /// The next member, parsing its value when `parse` accepts its key.
    mutating func nextMember(
        started: inout Bool, parse: (String) -> Bool
    ) throws(JSONParseError) -> (JSONObjectScanner.Member, JSONValue?)? {
        guard let rawKey = try nextKey(started: &started) else { return nil }
        let key = decodeKey(rawKey)
        let valueStart = position
        var value: JSONValue?
        if parse(key) {
            (value, position) = try JSONValueBuilder.value(base: base, from: position, end: end)
        } else {
            try skipValue()
        }
        return (JSONObjectScanner.Member(key: key, valueRange: valueStart..<position), value)
    }

    mutating func nextMember(started: inout Bool) throws(JSONParseError) -> JSONObjectScanner.Member? {
        guard let raw = try nextRaw(started: &started) else { return nil }
        return JSONObjectScanner.Member(key: decodeKey((raw.key, raw.escaped)), valueRange: raw.value)
    }

    mutating func findLast(key: UnsafeBufferPointer<UInt8>) throws(JSONParseError) -> Range<Int>? {
        var started = false
        var found: Range<Int>?
        while let raw = try nextRaw(started: &started) {
            if !raw.escaped {
                if raw.key.count == key.count,
                    key.count == 0 || memcmpEqual(base + raw.key.lowerBound, key.baseAddress!, key.count)
                {
                    found = raw.value
                }
            } else if decodeKey((raw.key, raw.escaped)).utf8.elementsEqual(key) {
                found = raw.value
            }
        }
        return found
    }

    @inline(__always)
    func memcmpEqual(_ a: UnsafePointer<UInt8>, _ b: UnsafePointer<UInt8>, _ count: Int) -> Bool {
        var index = 0
        while index < count {
            if a[index] != b[index] { return false }
            index &+= 1
        }
        return true
    }
}
