import ClaudeCode

/// A syntax error found while scanning JSON: a byte offset and a fixed phrase.
///
/// The reason never quotes the input, so it is safe to put in error descriptions.
struct StoreJSONSyntaxError: Error, Sendable, Hashable {
    var offset: Int
    var reason: String
}

/// A strict, allocation-light pull scanner over UTF-8 JSON bytes (RFC 8259).
///
/// It validates as it goes (grammar, UTF-8 inside strings, no raw control characters in
/// strings) and can skip a whole value of any depth iteratively, returning the value's
/// byte range. The session store uses it to find and check the verbatim raw frames in its
/// files without building a tree for them.
///
/// The scanner borrows a buffer pointer: use it only inside the `withUnsafeBufferPointer`
/// scope that produced the pointer.
struct StoreJSONScanner {
    let bytes: UnsafeBufferPointer<UInt8>
    var position: Int

    init(_ bytes: UnsafeBufferPointer<UInt8>, position: Int = 0) {
        self.bytes = bytes
        self.position = position
    }

    var isAtEnd: Bool { position >= bytes.count }

    func error(_ reason: String) -> StoreJSONSyntaxError {
        StoreJSONSyntaxError(offset: position, reason: reason)
    }

    @inline(__always)
    mutating func skipWhitespace() {
        let end = bytes.count
        while position < end {
            switch bytes[position] {
            case 0x20, 0x09, 0x0A, 0x0D: position += 1
            default: return
            }
        }
    }

    @inline(__always)
    func peek() -> UInt8? {
        position < bytes.count ? bytes[position] : nil
    }

    mutating func expect(_ byte: UInt8, _ reason: String) throws(StoreJSONSyntaxError) {
        guard position < bytes.count, bytes[position] == byte else { throw error(reason) }
        position += 1
    }

    /// Requires that only whitespace remains.
    mutating func expectEnd() throws(StoreJSONSyntaxError) {
        skipWhitespace()
        guard isAtEnd else { throw error("unexpected data after the JSON value") }
    }

    // MARK: Objects and arrays

    /// Consumes `{`. Returns the state for ``nextKey(_:)``.
    mutating func beginObject() throws(StoreJSONSyntaxError) {
        skipWhitespace()
        try expect(UInt8(ascii: "{"), "expected an object")
    }

    /// Advances to the next member of an object begun with ``beginObject()`` and returns its
    /// key, leaving the scanner at the member's value; returns `nil` after consuming `}`.
    mutating func nextKey(_ first: inout Bool) throws(StoreJSONSyntaxError) -> String? {
        skipWhitespace()
        guard let byte = peek() else { throw error("unexpected end of input in an object") }
        if byte == UInt8(ascii: "}") {
            position += 1
            return nil
        }
        if first {
            first = false
        } else {
            guard byte == UInt8(ascii: ",") else { throw error("expected ',' or '}' in an object") }
            position += 1
            skipWhitespace()
        }
        guard peek() == UInt8(ascii: "\"") else { throw error("expected a member name") }
        let key = try readString()
        skipWhitespace()
        try expect(UInt8(ascii: ":"), "expected ':' after a member name")
        skipWhitespace()
        return key
    }

    /// Consumes `[`.
    mutating func beginArray() throws(StoreJSONSyntaxError) {
        skipWhitespace()
        try expect(UInt8(ascii: "["), "expected an array")
    }

    /// Advances to the next element of an array begun with ``beginArray()``; returns `false`
    /// after consuming `]`.
    mutating func nextElement(_ first: inout Bool) throws(StoreJSONSyntaxError) -> Bool {
        skipWhitespace()
        guard let byte = peek() else { throw error("unexpected end of input in an array") }
        if byte == UInt8(ascii: "]") {
            position += 1
            return false
        }
        if first {
            first = false
        } else {
            guard byte == UInt8(ascii: ",") else { throw error("expected ',' or ']' in an array") }
            position += 1
            skipWhitespace()
        }
        return true
    }

    // MARK: Scalars

    /// Reads a string value and returns it unescaped. Invalid surrogate escapes become U+FFFD.
    mutating func readString() throws(StoreJSONSyntaxError) -> String {
        let (content, hasEscapes) = try scanString()
        let slice = UnsafeBufferPointer(rebasing: bytes[content])
        if !hasEscapes {
            return String(decoding: slice, as: UTF8.self)
        }
        return Self.unescape(slice)
    }

    /// Reads `null` or a string.
    mutating func readOptionalString() throws(StoreJSONSyntaxError) -> String? {
        skipWhitespace()
        if peek() == UInt8(ascii: "n") {
            try scanLiteral("null")
            return nil
        }
        return try readString()
    }

    /// Reads an integer that fits in `Int64` (no fraction or exponent).
    mutating func readInt64() throws(StoreJSONSyntaxError) -> Int64 {
        skipWhitespace()
        let start = position
        let isInteger = try scanNumber()
        guard isInteger else {
            position = start
            throw error("expected an integer")
        }
        var value: Int64 = 0
        var index = start
        let negative = bytes[index] == UInt8(ascii: "-")
        if negative { index += 1 }
        while index < position {
            let digit = Int64(bytes[index] &- 0x30)
            let (m, o1) = value.multipliedReportingOverflow(by: 10)
            let (s, o2) = negative ? m.subtractingReportingOverflow(digit) : m.addingReportingOverflow(digit)
            if o1 || o2 {
                position = start
                throw error("integer out of range")
            }
            value = s
            index += 1
        }
        return value
    }

    /// Reads a Boolean.
    mutating func readBool() throws(StoreJSONSyntaxError) -> Bool {
        skipWhitespace()
        if peek() == UInt8(ascii: "t") {
            try scanLiteral("true")
            return true
        }
        try scanLiteral("false")
        return false
    }

    /// Reads any value into a ``JSONValue`` (recursively, with a depth limit).
    mutating func readValue(depth: Int = 0) throws(StoreJSONSyntaxError) -> JSONValue {
        guard depth < 512 else { throw error("nesting too deep") }
        skipWhitespace()
        guard let byte = peek() else { throw error("unexpected end of input") }
        switch byte {
        case UInt8(ascii: "{"):
            position += 1
            var members: [String: JSONValue] = [:]
            var first = true
            while let key = try nextKey(&first) {
                members[key] = try readValue(depth: depth + 1)
            }
            return .object(members)
        case UInt8(ascii: "["):
            position += 1
            var elements: [JSONValue] = []
            var first = true
            while try nextElement(&first) {
                elements.append(try readValue(depth: depth + 1))
            }
            return .array(elements)
        case UInt8(ascii: "\""):
            return .string(try readString())
        case UInt8(ascii: "t"), UInt8(ascii: "f"):
            return .bool(try readBool())
        case UInt8(ascii: "n"):
            try scanLiteral("null")
            return .null
        default:
            let start = position
            let isInteger = try scanNumber()
            if isInteger {
                let end = position
                position = start
                if let value = try? readInt64() { return .int(value) }
                position = end
            }
            let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<position]), as: UTF8.self)
            guard let value = Double(text) else {
                throw StoreJSONSyntaxError(offset: start, reason: "number out of range")
            }
            return .double(value)
        }
    }

    // MARK: Skipping (validation)

    /// Skips one complete value of any depth, validating it, and returns its byte range.
    /// Iterative: arbitrarily deep input cannot overflow the stack.
    @discardableResult
    mutating func skipValue() throws(StoreJSONSyntaxError) -> Range<Int> {
        skipWhitespace()
        let start = position
        // true = object, false = array. Allocated only for nested containers.
        var stack: [Bool] = []
        while true {
            // Expecting a value.
            guard let byte = peek() else { throw error("unexpected end of input, expected a value") }
            var opened = false
            switch byte {
            case UInt8(ascii: "{"):
                position += 1
                skipWhitespace()
                if peek() == UInt8(ascii: "}") {
                    position += 1
                } else {
                    stack.append(true)
                    try scanMemberName()
                    opened = true
                }
            case UInt8(ascii: "["):
                position += 1
                skipWhitespace()
                if peek() == UInt8(ascii: "]") {
                    position += 1
                } else {
                    stack.append(false)
                    opened = true
                }
            case UInt8(ascii: "\""):
                _ = try scanString()
            case UInt8(ascii: "t"): try scanLiteral("true")
            case UInt8(ascii: "f"): try scanLiteral("false")
            case UInt8(ascii: "n"): try scanLiteral("null")
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                _ = try scanNumber()
            default:
                throw error("expected a value")
            }
            if opened {
                skipWhitespace()
                continue
            }
            // After a value: close containers or move to the next element.
            while true {
                guard let isObject = stack.last else { return start..<position }
                skipWhitespace()
                guard let next = peek() else { throw error("unexpected end of input in a container") }
                if next == UInt8(ascii: ",") {
                    position += 1
                    skipWhitespace()
                    if isObject { try scanMemberName() }
                    skipWhitespace()
                    break
                } else if isObject && next == UInt8(ascii: "}") || !isObject && next == UInt8(ascii: "]") {
                    position += 1
                    stack.removeLast()
                } else {
                    throw error(isObject ? "expected ',' or '}' in an object" : "expected ',' or ']' in an array")
                }
            }
        }
    }

    /// Scans `"name"` `:` with surrounding whitespace.
    private mutating func scanMemberName() throws(StoreJSONSyntaxError) {
        guard peek() == UInt8(ascii: "\"") else { throw error("expected a member name") }
        _ = try scanString()
        skipWhitespace()
        try expect(UInt8(ascii: ":"), "expected ':' after a member name")
        skipWhitespace()
    }

    mutating func scanLiteral(_ literal: StaticString) throws(StoreJSONSyntaxError) {
        let count = literal.utf8CodeUnitCount
        guard position + count <= bytes.count else { throw error("invalid literal") }
        let base = literal.utf8Start
        for offset in 0..<count where bytes[position + offset] != base[offset] {
            throw error("invalid literal")
        }
        position += count
    }

    /// Scans a number per the JSON grammar. Returns whether it has no fraction and no exponent.
    mutating func scanNumber() throws(StoreJSONSyntaxError) -> Bool {
        let end = bytes.count
        var isInteger = true
        if position < end, bytes[position] == UInt8(ascii: "-") { position += 1 }
        guard position < end else { throw error("invalid number") }
        if bytes[position] == UInt8(ascii: "0") {
            position += 1
        } else if bytes[position] >= UInt8(ascii: "1") && bytes[position] <= UInt8(ascii: "9") {
            while position < end, bytes[position] >= 0x30, bytes[position] <= 0x39 { position += 1 }
        } else {
            throw error("invalid number")
        }
        if position < end, bytes[position] == UInt8(ascii: ".") {
            isInteger = false
            position += 1
            let digitsStart = position
            while position < end, bytes[position] >= 0x30, bytes[position] <= 0x39 { position += 1 }
            guard position > digitsStart else { throw error("invalid number") }
        }
        if position < end, bytes[position] | 0x20 == UInt8(ascii: "e") {
            isInteger = false
            position += 1
            if position < end, bytes[position] == UInt8(ascii: "+") || bytes[position] == UInt8(ascii: "-") {
                position += 1
            }
            let digitsStart = position
            while position < end, bytes[position] >= 0x30, bytes[position] <= 0x39 { position += 1 }
            guard position > digitsStart else { throw error("invalid number") }
        }
        return isInteger
    }

    /// Scans a string starting at `"`; returns the content range (without quotes) and
    /// whether it contains escapes. Validates escapes, UTF-8 and control characters.
    mutating func scanString() throws(StoreJSONSyntaxError) -> (Range<Int>, Bool) {
        skipWhitespace()
        try expect(UInt8(ascii: "\""), "expected a string")
        let start = position
        let end = bytes.count
        var hasEscapes = false
        while position < end {
            let byte = bytes[position]
            if byte == UInt8(ascii: "\"") {
                let content = start..<position
                position += 1
                return (content, hasEscapes)
            } else if byte == UInt8(ascii: "\\") {
                hasEscapes = true
                position += 1
                guard position < end else { break }
                switch bytes[position] {
                case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"),
                    UInt8(ascii: "f"), UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                    position += 1
                case UInt8(ascii: "u"):
                    guard position + 4 < end else { throw error("invalid \\u escape") }
                    for offset in 1...4 where Self.hexValue(bytes[position + offset]) == nil {
                        throw error("invalid \\u escape")
                    }
                    position += 5
                default:
                    throw error("invalid escape")
                }
            } else if byte < 0x20 {
                throw error("control character in a string")
            } else if byte < 0x80 {
                position += 1
            } else {
                guard let length = Self.utf8SequenceLength(bytes, at: position) else {
                    throw error("invalid UTF-8")
                }
                position += length
            }
        }
        throw error("unterminated string")
    }

    // MARK: Helpers

    @inline(__always)
    static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(byte - 0x30)
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(byte - 0x61 + 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(byte - 0x41 + 10)
        default: return nil
        }
    }

    /// The length of the well-formed UTF-8 sequence starting at `index` (lead byte ≥ 0x80),
    /// or `nil` when it is ill-formed (overlong, surrogate, beyond U+10FFFF, truncated).
    static func utf8SequenceLength(_ bytes: UnsafeBufferPointer<UInt8>, at index: Int) -> Int? {
        let end = bytes.count
        let b0 = bytes[index]
        @inline(__always) func cont(_ offset: Int, _ low: UInt8 = 0x80, _ high: UInt8 = 0xBF) -> Bool {
            index + offset < end && bytes[index + offset] >= low && bytes[index + offset] <= high
        }
        switch b0 {
        case 0xC2...0xDF: return cont(1) ? 2 : nil
        case 0xE0: return cont(1, 0xA0) && cont(2) ? 3 : nil
        case 0xE1...0xEC, 0xEE...0xEF: return cont(1) && cont(2) ? 3 : nil
        case 0xED: return cont(1, 0x80, 0x9F) && cont(2) ? 3 : nil
        case 0xF0: return cont(1, 0x90) && cont(2) && cont(3) ? 4 : nil
        case 0xF1...0xF3: return cont(1) && cont(2) && cont(3) ? 4 : nil
        case 0xF4: return cont(1, 0x80, 0x8F) && cont(2) && cont(3) ? 4 : nil
        default: return nil
        }
    }

    /// Unescapes validated string content.
    static func unescape(_ content: UnsafeBufferPointer<UInt8>) -> String {
        var out: [UInt8] = []
        out.reserveCapacity(content.count)
        var index = 0
        let end = content.count
        func hex4(_ at: Int) -> UInt32 {
            var value: UInt32 = 0
            for offset in 0..<4 { value = value << 4 | (hexValue(content[at + offset]) ?? 0) }
            return value
        }
        func appendScalar(_ value: UInt32) {
            let scalar = Unicode.Scalar(value) ?? "\u{FFFD}"
            out.append(contentsOf: UTF8.encode(scalar)!)
        }
        while index < end {
            let byte = content[index]
            guard byte == UInt8(ascii: "\\") else {
                out.append(byte)
                index += 1
                continue
            }
            let kind = content[index + 1]
            index += 2
            switch kind {
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "u"):
                let unit = hex4(index)
                index += 4
                if unit >= 0xD800 && unit < 0xDC00 {
                    if index + 6 <= end, content[index] == UInt8(ascii: "\\"), content[index + 1] == UInt8(ascii: "u") {
                        let low = hex4(index + 2)
                        if low >= 0xDC00 && low < 0xE000 {
                            index += 6
                            appendScalar(0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00))
                            continue
                        }
                    }
                    appendScalar(0xFFFD)
                } else if unit >= 0xDC00 && unit < 0xE000 {
                    appendScalar(0xFFFD)
                } else {
                    appendScalar(unit)
                }
            default: out.append(kind)  // '"', '\\', '/'
            }
        }
        return String(decoding: out, as: UTF8.self)
    }
}

/// What a frame's bytes are, as far as storage is concerned.
enum RawFrameKind: Sendable, Hashable {
    /// Valid JSON with no leading or trailing whitespace and no CR or LF byte: embedded verbatim.
    case json
    /// Valid UTF-8 that is not embeddable JSON: stored as a JSON string.
    case text
    /// Not valid UTF-8: stored base64-encoded.
    case binary
}

/// The result of inspecting a raw frame once.
struct RawFrameInspection: Sendable {
    var kind: RawFrameKind
    var type: String?
    var subtype: String?
}

enum RawFrameInspector {
    /// Validates `bytes` and extracts the top-level `type` and `subtype` string members
    /// (the last occurrence wins, as in most JSON parsers).
    static func inspect(_ bytes: UnsafeBufferPointer<UInt8>) -> RawFrameInspection {
        var scanner = StoreJSONScanner(bytes)
        var type: String?
        var subtype: String?
        let valid: Bool
        do {
            scanner.skipWhitespace()
            if scanner.peek() == UInt8(ascii: "{") {
                try scanner.beginObject()
                var first = true
                while let key = try scanner.nextKey(&first) {
                    if key == "type" || key == "subtype", scanner.peek() == UInt8(ascii: "\"") {
                        let value = try scanner.readString()
                        if key == "type" { type = value } else { subtype = value }
                    } else {
                        try scanner.skipValue()
                    }
                }
            } else {
                // A non-object value: validate the whole thing.
                try scanner.skipValue()
            }
            try scanner.expectEnd()
            valid = true
        } catch {
            valid = false
        }
        if valid, let first = bytes.first, let last = bytes.last,
            !isJSONWhitespace(first), !isJSONWhitespace(last), !containsLineBreak(bytes)
        {
            return RawFrameInspection(kind: .json, type: type, subtype: subtype)
        }
        let kind: RawFrameKind = isValidUTF8(bytes) ? .text : .binary
        return RawFrameInspection(kind: kind, type: valid ? type : nil, subtype: valid ? subtype : nil)
    }

    static func isJSONWhitespace(_ byte: UInt8) -> Bool {
        byte == 0x20 || byte == 0x09 || byte == 0x0A || byte == 0x0D
    }

    static func containsLineBreak(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        for byte in bytes where byte == 0x0A || byte == 0x0D { return true }
        return false
    }

    static func isValidUTF8(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        var index = 0
        let end = bytes.count
        while index < end {
            if bytes[index] < 0x80 {
                index += 1
            } else if let length = StoreJSONScanner.utf8SequenceLength(bytes, at: index) {
                index += length
            } else {
                return false
            }
        }
        return true
    }
}
