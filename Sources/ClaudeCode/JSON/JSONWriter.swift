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
        var writer = JSONWriter()
        writer.output.reserveCapacity(256)
        writer.write(self)
        return writer.output
    }

    /// The value as compact JSON text. See ``serialized()`` for the format.
    public var jsonString: String {
        String(decoding: serialized(), as: UTF8.self)
    }
}

/// Appends JSON text to a byte array. Internal; use ``JSONValue/serialized()``.
struct JSONWriter {
    var output: [UInt8] = []

    mutating func write(_ value: JSONValue) {
        switch value {
        case .null:
            appendASCII("null")
        case .bool(let flag):
            appendASCII(flag ? "true" : "false")
        case .int(let number):
            writeInteger(number)
        case .double(let number):
            writeDouble(number)
        case .string(let string):
            writeString(string)
        case .array(let elements):
            output.append(JSONByte.openBracket)
            var first = true
            for element in elements {
                if !first { output.append(JSONByte.comma) }
                first = false
                write(element)
            }
            output.append(JSONByte.closeBracket)
        case .object(let members):
            output.append(JSONByte.openBrace)
            if members.count == 1, let (key, member) = members.first {
                writeString(key)
                output.append(JSONByte.colon)
                write(member)
            } else if !members.isEmpty {
                let keys = members.keys.sorted { $0.utf8.lexicographicallyPrecedes($1.utf8) }
                var first = true
                for key in keys {
                    if !first { output.append(JSONByte.comma) }
                    first = false
                    writeString(key)
                    output.append(JSONByte.colon)
                    write(members[key]!)
                }
            }
            output.append(JSONByte.closeBrace)
        }
    }

    @inline(__always)
    mutating func appendASCII(_ text: StaticString) {
        output.append(contentsOf: UnsafeBufferPointer(start: text.utf8Start, count: text.utf8CodeUnitCount))
    }

    mutating func writeInteger(_ number: Int64) {
        if number == 0 {
            output.append(JSONByte.zero)
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
            if number < 0 { output.append(JSONByte.minus) }
            output.append(contentsOf: UnsafeBufferPointer(rebasing: digits[index..<20]))
        }
    }

    mutating func writeDouble(_ number: Double) {
        guard number.isFinite else {
            appendASCII("null")
            return
        }
        // Swift's description is the shortest text that round-trips ("1.0", "1e-05",
        // "1.7976931348623157e+308"), and it is always valid JSON number syntax for finite values.
        output.append(contentsOf: number.description.utf8)
    }

    mutating func writeString(_ string: String) {
        output.append(JSONByte.quote)
        var string = string
        string.withUTF8 { bytes in
            guard let base = bytes.baseAddress else { return }
            let end = bytes.count
            var index = 0
            while index < end {
                let stop = jsonFindStringSpecial(base, from: index, end: end)
                if stop > index {
                    output.append(contentsOf: UnsafeBufferPointer(start: base + index, count: stop &- index))
                }
                if stop >= end { break }
                writeEscape(base[stop])
                index = stop &+ 1
            }
        }
        output.append(JSONByte.quote)
    }

    mutating func writeEscape(_ byte: UInt8) {
        output.append(JSONByte.backslash)
        switch byte {
        case JSONByte.quote: output.append(JSONByte.quote)
        case JSONByte.backslash: output.append(JSONByte.backslash)
        case 0x08: output.append(UInt8(ascii: "b"))
        case 0x0C: output.append(UInt8(ascii: "f"))
        case 0x0A: output.append(UInt8(ascii: "n"))
        case 0x0D: output.append(UInt8(ascii: "r"))
        case 0x09: output.append(UInt8(ascii: "t"))
        default:
            let hex: StaticString = "0123456789abcdef"
            output.append(UInt8(ascii: "u"))
            output.append(JSONByte.zero)
            output.append(JSONByte.zero)
            output.append(hex.utf8Start[Int(byte >> 4)])
            output.append(hex.utf8Start[Int(byte & 0xF)])
        }
    }
}
