extension JSONValue {
    /// The value as compact JSON text in UTF-8.
    ///
    /// The output is deterministic: object keys are sorted by their UTF-8 bytes (which is
    /// Unicode code point order), and there is no whitespace. Strings escape only what
    /// RFC 8259 requires (`"`, `\` and control characters below U+0020); everything else,
    /// including U+2028, U+2029 and non-ASCII text, is written as UTF-8. Doubles are written
    /// in their shortest round-trip form (an integral double such as `1.0` keeps its `.0`);
    /// infinities and NaN, which JSON cannot express, are written as `null`.
    ///
    /// - Returns: The UTF-8 bytes of the JSON text.
    public func serialized() -> [UInt8] {
        var writer = JSONWriter(capacity: 256)
        writer.write(self)
        return writer.bytes
    }

    /// The value as compact JSON text. See ``serialized()`` for the format.
    public var jsonString: String {
        String(decoding: serialized(), as: UTF8.self)
    }
}

/// Appends JSON text to a byte buffer.
///
/// Write whole values with ``write(_:)``, in the format of ``JSONValue/serialized()``, or
/// assemble a document piece by piece, for instance an object whose members come in a fixed
/// order: its punctuation and keys with ``writeRaw(_:)-(StaticString)``, its values with the
/// `write` methods.
///
/// ```swift
/// var writer = JSONWriter()
/// writer.writeRaw("{\"id\":")
/// writer.writeInteger(42)
/// writer.writeRaw(",\"name\":")
/// writer.writeString(name)
/// writer.writeRaw("}\n")
/// ```
package struct JSONWriter: Sendable {
    /// The UTF-8 text written so far.
    package var bytes: [UInt8] = []
    /// Whether strings escape U+2028 and U+2029 as `\u2028` and `\u2029`. JSON allows them
    /// raw, and ``JSONValue/serialized()`` writes them raw; escape them when the output may
    /// meet a reader that takes them for line breaks (JavaScript before ES2019, some line
    /// splitters), so that a record written on one line stays on one line.
    package var escapesLineSeparators = false

    /// Creates an empty writer.
    /// - Parameters:
    ///   - capacity: Bytes to reserve up front.
    ///   - escapesLineSeparators: See ``escapesLineSeparators``.
    package init(capacity: Int = 0, escapesLineSeparators: Bool = false) {
        bytes.reserveCapacity(capacity)
        self.escapesLineSeparators = escapesLineSeparators
    }

    /// Appends text as is: punctuation, keys, or JSON text from elsewhere.
    package mutating func writeRaw(_ text: StaticString) {
        bytes.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    /// Appends bytes as is, such as JSON text kept from elsewhere.
    package mutating func writeRaw(_ text: [UInt8]) {
        bytes.append(contentsOf: text)
    }

    /// Appends JSON text without its insignificant whitespace (outside strings), keeping every
    /// other byte as is: key order, duplicate keys, number spellings and escapes survive.
    /// The text must be valid JSON, else the result is unspecified.
    package mutating func writeCompacting(_ text: ArraySlice<UInt8>) {
        bytes.reserveCapacity(bytes.count + text.count)
        var inString = false
        var escaped = false
        for byte in text {
            if inString {
                bytes.append(byte)
                if escaped {
                    escaped = false
                } else if byte == JSONByte.backslash {
                    escaped = true
                } else if byte == JSONByte.quote {
                    inString = false
                }
            } else if !JSONByte.isWhitespace(byte) {
                if byte == JSONByte.quote { inString = true }
                bytes.append(byte)
            }
        }
    }

    /// Appends an object with its keys sorted, as ``write(_:)`` writes `.object(members)`.
    package mutating func writeObject(_ members: [String: JSONValue]) {
        bytes.append(JSONByte.openBrace)
        if members.count == 1, let (key, member) = members.first {
            writeString(key)
            bytes.append(JSONByte.colon)
            write(member)
        } else if !members.isEmpty {
            let keys = members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
            var first = true
            for key in keys {
                if !first { bytes.append(JSONByte.comma) }
                first = false
                writeString(key)
                bytes.append(JSONByte.colon)
                write(members[key]!)
            }
        }
        bytes.append(JSONByte.closeBrace)
    }

    /// Appends a value in the format of ``JSONValue/serialized()`` (and with U+2028 and
    /// U+2029 escaped when ``escapesLineSeparators`` is set).
    package mutating func write(_ value: JSONValue) {
        switch value {
        case .null:
            writeRaw("null")
        case .bool(let flag):
            writeRaw(flag ? "true" : "false")
        case .int(let number):
            writeInteger(number)
        case .double(let number):
            writeDouble(number)
        case .string(let string):
            writeString(string)
        case .array(let elements):
            bytes.append(JSONByte.openBracket)
            var first = true
            for element in elements {
                if !first { bytes.append(JSONByte.comma) }
                first = false
                write(element)
            }
            bytes.append(JSONByte.closeBracket)
        case .object(let members):
            writeObject(members)
        }
    }

    /// Appends an integer.
    package mutating func writeInteger(_ number: Int64) {
        if number == 0 {
            bytes.append(JSONByte.zero)
            return
        }
        var magnitude = number.magnitude
        withUnsafeTemporaryAllocation(of: UInt8.self, capacity: 20) { digits in
            var index = 20
            while magnitude > 0 {
                index &-= 1
                digits[index] = JSONByte.zero &+ UInt8(truncatingIfNeeded: magnitude % 10)
                magnitude /= 10
            }
            if number < 0 { bytes.append(JSONByte.minus) }
            bytes.append(contentsOf: UnsafeBufferPointer(rebasing: digits[index..<20]))
        }
    }

    /// Appends a double in its shortest round-trip form, or `null` when it is not finite.
    package mutating func writeDouble(_ number: Double) {
        guard number.isFinite else {
            writeRaw("null")
            return
        }
        // Swift's description is the shortest text that round-trips ("1.0", "1e-05",
        // "1.7976931348623157e+308"), and it is always valid JSON number syntax for finite values.
        bytes.append(contentsOf: number.description.utf8)
    }

    /// Appends a string, quoted and escaped: `"`, `\` and control characters below U+0020
    /// always, U+2028 and U+2029 when ``escapesLineSeparators`` is set.
    package mutating func writeString(_ string: String) {
        bytes.append(JSONByte.quote)
        var string = string
        let separators = escapesLineSeparators
        string.withUTF8 { utf8 in
            guard let base = utf8.baseAddress else { return }
            let end = utf8.count
            var index = 0
            while index < end {
                let stop =
                    separators
                    ? jsonFindStringSpecialOrE2(base, from: index, end: end)
                    : jsonFindStringSpecial(base, from: index, end: end)
                if stop > index {
                    bytes.append(contentsOf: UnsafeBufferPointer(start: base + index, count: stop &- index))
                }
                if stop >= end { break }
                let byte = base[stop]
                if byte == 0xE2 {
                    // U+2028 is E2 80 A8, U+2029 is E2 80 A9; other E2 sequences go as they are.
                    if stop &+ 2 < end, base[stop &+ 1] == 0x80, base[stop &+ 2] & 0xFE == 0xA8 {
                        writeRaw(base[stop &+ 2] == 0xA8 ? "\\u2028" : "\\u2029")
                        index = stop &+ 3
                    } else {
                        bytes.append(byte)
                        index = stop &+ 1
                    }
                    continue
                }
                writeEscape(byte)
                index = stop &+ 1
            }
        }
        bytes.append(JSONByte.quote)
    }

    mutating func writeEscape(_ byte: UInt8) {
        bytes.append(JSONByte.backslash)
        switch byte {
        case JSONByte.quote: bytes.append(JSONByte.quote)
        case JSONByte.backslash: bytes.append(JSONByte.backslash)
        case 0x08: bytes.append(UInt8(ascii: "b"))
        case 0x0C: bytes.append(UInt8(ascii: "f"))
        case 0x0A: bytes.append(UInt8(ascii: "n"))
        case 0x0D: bytes.append(UInt8(ascii: "r"))
        case 0x09: bytes.append(UInt8(ascii: "t"))
        default:
            let hex: StaticString = "0123456789abcdef"
            bytes.append(UInt8(ascii: "u"))
            bytes.append(JSONByte.zero)
            bytes.append(JSONByte.zero)
            bytes.append(hex.utf8Start[Int(byte >> 4)])
            bytes.append(hex.utf8Start[Int(byte & 0xF)])
        }
    }
}

/// Like `jsonFindStringSpecial`, but also stops at 0xE2, the lead byte of U+2028 and U+2029.
@inline(__always)
private func jsonFindStringSpecialOrE2(_ base: UnsafePointer<UInt8>, from start: Int, end: Int) -> Int {
    var index = start
    let ones: UInt64 = 0x0101_0101_0101_0101
    let highs: UInt64 = 0x8080_8080_8080_8080
    while index &+ 8 <= end {
        let word = UnsafeRawPointer(base + index).loadUnaligned(as: UInt64.self).littleEndian
        let quotes = word ^ (ones &* 0x22)
        let slashes = word ^ (ones &* 0x5C)
        let leads = word ^ (ones &* 0xE2)
        let hit =
            ((quotes &- ones) & ~quotes
                | (slashes &- ones) & ~slashes
                | (leads &- ones) & ~leads
                | (word &- ones &* 0x20) & ~word) & highs
        if hit != 0 {
            return index &+ (hit.trailingZeroBitCount >> 3)
        }
        index &+= 8
    }
    while index < end {
        let byte = base[index]
        if byte == JSONByte.quote || byte == JSONByte.backslash || byte < 0x20 || byte == 0xE2 { return index }
        index &+= 1
    }
    return end
}
