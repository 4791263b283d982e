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
        guard let base = buffer.baseAddress, !buffer.isEmpty else {
            throw JSONParseError(offset: 0, reason: "empty input")
        }
        var parser = JSONByteParser(base: base, count: buffer.count)
        return try parser.parseDocument()
    }
}

/// A recursive-descent JSON parser over a byte buffer that builds ``JSONValue``s directly.
///
/// Strings without escapes are made from the input bytes in one step; only strings with escapes go through a
/// scratch buffer, which is reused across the whole document.
struct JSONByteParser {
    private let base: UnsafePointer<UInt8>
    private let count: Int
    private var index = 0
    private var depth = 0
    private var scratch: [UInt8] = []

    static let maximumDepth = 512

    init(base: UnsafePointer<UInt8>, count: Int) {
        self.base = base
        self.count = count
    }

    mutating func parseDocument() throws(JSONParseError) -> JSONValue {
        let value = try parseValue()
        skipWhitespace()
        guard index == count else { throw error("unexpected characters after the JSON value") }
        return value
    }

    // MARK: Values

    private mutating func parseValue() throws(JSONParseError) -> JSONValue {
        skipWhitespace()
        guard index < count else { throw error("unexpected end of input, expected a value") }
        switch base[index] {
        case UInt8(ascii: "{"): return try parseObject()
        case UInt8(ascii: "["): return try parseArray()
        case UInt8(ascii: "\""): return .string(try parseString())
        case UInt8(ascii: "t"):
            try expectLiteral("true")
            return .bool(true)
        case UInt8(ascii: "f"):
            try expectLiteral("false")
            return .bool(false)
        case UInt8(ascii: "n"):
            try expectLiteral("null")
            return .null
        case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
            return try parseNumber()
        default:
            throw error("unexpected character, expected a value")
        }
    }

    private mutating func parseObject() throws(JSONParseError) -> JSONValue {
        try enter()
        index += 1  // {
        var object: [String: JSONValue] = [:]
        skipWhitespace()
        if index < count, base[index] == UInt8(ascii: "}") {
            index += 1
            depth -= 1
            return .object(object)
        }
        object.reserveCapacity(8)
        while true {
            skipWhitespace()
            guard index < count, base[index] == UInt8(ascii: "\"") else { throw error("expected a string key") }
            let key = try parseString()
            skipWhitespace()
            guard index < count, base[index] == UInt8(ascii: ":") else { throw error("expected ':' after a key") }
            index += 1
            object[key] = try parseValue()
            skipWhitespace()
            guard index < count else { throw error("unexpected end of input in an object") }
            let byte = base[index]
            index += 1
            if byte == UInt8(ascii: ",") { continue }
            if byte == UInt8(ascii: "}") { break }
            index -= 1
            throw error("expected ',' or '}' in an object")
        }
        depth -= 1
        return .object(object)
    }

    private mutating func parseArray() throws(JSONParseError) -> JSONValue {
        try enter()
        index += 1  // [
        var array: [JSONValue] = []
        skipWhitespace()
        if index < count, base[index] == UInt8(ascii: "]") {
            index += 1
            depth -= 1
            return .array(array)
        }
        while true {
            array.append(try parseValue())
            skipWhitespace()
            guard index < count else { throw error("unexpected end of input in an array") }
            let byte = base[index]
            index += 1
            if byte == UInt8(ascii: ",") { continue }
            if byte == UInt8(ascii: "]") { break }
            index -= 1
            throw error("expected ',' or ']' in an array")
        }
        depth -= 1
        return .array(array)
    }

    private mutating func enter() throws(JSONParseError) {
        depth += 1
        guard depth <= Self.maximumDepth else { throw error("nested deeper than \(Self.maximumDepth) levels") }
    }

    // MARK: Strings

    /// Parses a string starting at its opening quote; leaves `index` after the closing quote.
    private mutating func parseString() throws(JSONParseError) -> String {
        index += 1  // opening quote
        let start = index
        // Fast path: find the closing quote; bail out to the slow path at the first escape.
        var cursor = start
        while cursor < count {
            let byte = base[cursor]
            if byte == UInt8(ascii: "\"") {
                index = cursor + 1
                return String(decoding: UnsafeBufferPointer(start: base + start, count: cursor - start), as: UTF8.self)
            }
            if byte == UInt8(ascii: "\\") { break }
            if byte < 0x20 {
                index = cursor
                throw error("unescaped control character in a string")
            }
            cursor &+= 1
        }
        guard cursor < count else {
            index = cursor
            throw error("unterminated string")
        }
        return try parseEscapedString(start: start, firstEscape: cursor)
    }

    private mutating func parseEscapedString(start: Int, firstEscape: Int) throws(JSONParseError) -> String {
        scratch.removeAll(keepingCapacity: true)
        scratch.append(contentsOf: UnsafeBufferPointer(start: base + start, count: firstEscape - start))
        var cursor = firstEscape
        while cursor < count {
            let byte = base[cursor]
            if byte == UInt8(ascii: "\"") {
                index = cursor + 1
                return String(decoding: scratch, as: UTF8.self)
            }
            if byte < 0x20 {
                index = cursor
                throw error("unescaped control character in a string")
            }
            if byte != UInt8(ascii: "\\") {
                // Copy the run up to the next quote, backslash or control character at once.
                let runStart = cursor
                cursor &+= 1
                while cursor < count {
                    let next = base[cursor]
                    if next == UInt8(ascii: "\"") || next == UInt8(ascii: "\\") || next < 0x20 { break }
                    cursor &+= 1
                }
                scratch.append(contentsOf: UnsafeBufferPointer(start: base + runStart, count: cursor - runStart))
                continue
            }
            cursor &+= 1
            guard cursor < count else { break }
            switch base[cursor] {
            case UInt8(ascii: "\""): scratch.append(UInt8(ascii: "\""))
            case UInt8(ascii: "\\"): scratch.append(UInt8(ascii: "\\"))
            case UInt8(ascii: "/"): scratch.append(UInt8(ascii: "/"))
            case UInt8(ascii: "b"): scratch.append(0x08)
            case UInt8(ascii: "f"): scratch.append(0x0C)
            case UInt8(ascii: "n"): scratch.append(0x0A)
            case UInt8(ascii: "r"): scratch.append(0x0D)
            case UInt8(ascii: "t"): scratch.append(0x09)
            case UInt8(ascii: "u"):
                let unit = try hex4(at: cursor + 1)
                cursor += 4
                var scalar = UInt32(unit)
                if (0xD800...0xDBFF).contains(unit) {
                    // A high surrogate; a low one must follow as another \u escape.
                    if cursor + 6 < count, base[cursor + 1] == UInt8(ascii: "\\"), base[cursor + 2] == UInt8(ascii: "u"),
                        let low = try? hex4(at: cursor + 3), (0xDC00...0xDFFF).contains(low)
                    {
                        scalar = 0x10000 + ((UInt32(unit) - 0xD800) << 10) + (UInt32(low) - 0xDC00)
                        cursor += 6
                    } else {
                        scalar = 0xFFFD
                    }
                } else if (0xDC00...0xDFFF).contains(unit) {
                    scalar = 0xFFFD
                }
                appendUTF8(scalar)
            default:
                index = cursor
                throw error("invalid escape sequence")
            }
            cursor &+= 1
        }
        index = cursor
        throw error("unterminated string")
    }

    private func hex4(at position: Int) throws(JSONParseError) -> UInt16 {
        guard position + 4 <= count else { throw JSONParseError(offset: position, reason: "truncated \\u escape") }
        var value: UInt16 = 0
        for offset in 0..<4 {
            let byte = base[position + offset]
            let digit: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): digit = byte - UInt8(ascii: "0")
            case UInt8(ascii: "a")...UInt8(ascii: "f"): digit = byte - UInt8(ascii: "a") + 10
            case UInt8(ascii: "A")...UInt8(ascii: "F"): digit = byte - UInt8(ascii: "A") + 10
            default: throw JSONParseError(offset: position + offset, reason: "invalid hex digit in a \\u escape")
            }
            value = value << 4 | UInt16(digit)
        }
        return value
    }

    private mutating func appendUTF8(_ scalar: UInt32) {
        switch scalar {
        case 0..<0x80:
            scratch.append(UInt8(scalar))
        case 0x80..<0x800:
            scratch.append(UInt8(0xC0 | scalar >> 6))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        case 0x800..<0x10000:
            scratch.append(UInt8(0xE0 | scalar >> 12))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        default:
            scratch.append(UInt8(0xF0 | scalar >> 18))
            scratch.append(UInt8(0x80 | scalar >> 12 & 0x3F))
            scratch.append(UInt8(0x80 | scalar >> 6 & 0x3F))
            scratch.append(UInt8(0x80 | scalar & 0x3F))
        }
    }

    // MARK: Numbers and literals

    private mutating func parseNumber() throws(JSONParseError) -> JSONValue {
        let start = index
        var negative = false
        if base[index] == UInt8(ascii: "-") {
            negative = true
            index += 1
        }
        guard index < count, isDigit(base[index]) else { throw error("expected a digit") }
        var magnitude: UInt64 = 0
        var overflow = false
        if base[index] == UInt8(ascii: "0") {
            index += 1
            if index < count, isDigit(base[index]) { throw error("leading zeros are not allowed") }
        } else {
            while index < count, isDigit(base[index]) {
                let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
                let (sum, o2) = times10.addingReportingOverflow(UInt64(base[index] - UInt8(ascii: "0")))
                overflow = overflow || o1 || o2
                magnitude = sum
                index += 1
            }
        }
        var isInteger = true
        if index < count, base[index] == UInt8(ascii: ".") {
            isInteger = false
            index += 1
            guard index < count, isDigit(base[index]) else { throw error("expected a digit after '.'") }
            while index < count, isDigit(base[index]) { index += 1 }
        }
        if index < count, base[index] == UInt8(ascii: "e") || base[index] == UInt8(ascii: "E") {
            isInteger = false
            index += 1
            if index < count, base[index] == UInt8(ascii: "+") || base[index] == UInt8(ascii: "-") { index += 1 }
            guard index < count, isDigit(base[index]) else { throw error("expected a digit in the exponent") }
            while index < count, isDigit(base[index]) { index += 1 }
        }
        if isInteger, !overflow {
            if negative {
                if magnitude <= UInt64(Int64.max) { return .int(-Int64(magnitude)) }
                if magnitude == UInt64(Int64.max) + 1 { return .int(.min) }
            } else if magnitude <= UInt64(Int64.max) {
                return .int(Int64(magnitude))
            }
        }
        let text = String(decoding: UnsafeBufferPointer(start: base + start, count: index - start), as: UTF8.self)
        guard let value = Double(text), value.isFinite else {
            throw JSONParseError(offset: start, reason: "number out of range")
        }
        return .double(value)
    }

    private func isDigit(_ byte: UInt8) -> Bool {
        byte &- UInt8(ascii: "0") < 10
    }

    private mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
        let length = literal.utf8CodeUnitCount
        guard index + length <= count, memcmp(base + index, literal.utf8Start, length) == 0 else {
            throw error("invalid literal")
        }
        index += length
    }

    private mutating func skipWhitespace() {
        while index < count {
            switch base[index] {
            case 0x20, 0x0A, 0x0D, 0x09: index += 1
            default: return
            }
        }
    }

    private func error(_ reason: String) -> JSONParseError {
        JSONParseError(offset: index, reason: reason)
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif
