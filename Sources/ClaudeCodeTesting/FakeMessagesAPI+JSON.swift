import Foundation

extension FakeMessagesAPI {
    /// A JSON value, as received in a request body or sent in a reply.
    ///
    /// Numbers are stored as `Double`; integral values are written without a fraction.
    /// Objects are unordered; ``FakeMessagesAPI`` writes their keys with `type` first and the rest sorted,
    /// so output is deterministic.
    public enum JSON: Sendable, Hashable {
        /// `null`.
        case null
        /// `true` or `false`.
        case bool(Bool)
        /// A number.
        case number(Double)
        /// A string.
        case string(String)
        /// An array.
        case array([JSON])
        /// An object.
        case object([String: JSON])

        /// The member named `key` when this is an object, else `nil`.
        public subscript(key: String) -> JSON? {
            if case .object(let object) = self { return object[key] }
            return nil
        }

        /// The element at `index` when this is an array and the index is in range, else `nil`.
        public subscript(index: Int) -> JSON? {
            if case .array(let array) = self, array.indices.contains(index) { return array[index] }
            return nil
        }

        /// The string payload, or `nil` when this is not a string.
        public var stringValue: String? {
            if case .string(let value) = self { return value }
            return nil
        }

        /// The numeric payload, or `nil` when this is not a number.
        public var doubleValue: Double? {
            if case .number(let value) = self { return value }
            return nil
        }

        /// The numeric payload as an `Int` when it is integral and representable, else `nil`.
        public var intValue: Int? {
            guard case .number(let value) = self, value.rounded() == value, abs(value) < 9.0e15 else { return nil }
            return Int(value)
        }

        /// The Boolean payload, or `nil` when this is not a Boolean.
        public var boolValue: Bool? {
            if case .bool(let value) = self { return value }
            return nil
        }

        /// The elements, or `nil` when this is not an array.
        public var arrayValue: [JSON]? {
            if case .array(let value) = self { return value }
            return nil
        }

        /// The members, or `nil` when this is not an object.
        public var objectValue: [String: JSON]? {
            if case .object(let value) = self { return value }
            return nil
        }

        /// Parses UTF-8 JSON text.
        ///
        /// - Parameter data: The JSON text.
        /// - Throws: A `DecodingError` when `data` is not valid JSON.
        public init(parsing data: Data) throws {
            self = try JSONDecoder().decode(JSON.self, from: data)
        }

        /// Parses a JSON string.
        ///
        /// - Throws: A `DecodingError` when `text` is not valid JSON.
        public init(parsing text: String) throws {
            try self.init(parsing: Data(text.utf8))
        }

        /// Compact JSON text for this value (no insignificant whitespace, `/` not escaped, U+2028/U+2029 raw).
        public var serialized: String {
            var out = ""
            JSON.write(self, into: &out)
            return out
        }

        /// Compact UTF-8 JSON for this value; see ``serialized``.
        public var serializedData: Data { Data(serialized.utf8) }

        static func write(_ value: JSON, into out: inout String) {
            switch value {
            case .null: out += "null"
            case .bool(let flag): out += flag ? "true" : "false"
            case .number(let number): writeNumber(number, into: &out)
            case .string(let string): writeString(string, into: &out)
            case .array(let array):
                out += "["
                for (index, element) in array.enumerated() {
                    if index > 0 { out += "," }
                    write(element, into: &out)
                }
                out += "]"
            case .object(let object):
                out += "{"
                let keys = object.keys.sorted { lhs, rhs in
                    if lhs == "type" { return rhs != "type" }
                    if rhs == "type" { return false }
                    return lhs < rhs
                }
                for (index, key) in keys.enumerated() {
                    if index > 0 { out += "," }
                    writeString(key, into: &out)
                    out += ":"
                    if let member = object[key] { write(member, into: &out) }
                }
                out += "}"
            }
        }

        static func writeNumber(_ number: Double, into out: inout String) {
            if !number.isFinite {
                out += "null"
            } else if number.rounded() == number, abs(number) < 9.0e15 {
                out += String(Int64(number))
            } else {
                out += "\(number)"
            }
        }

        static func writeString(_ string: String, into out: inout String) {
            out += "\""
            for scalar in string.unicodeScalars {
                switch scalar {
                case "\"": out += "\\\""
                case "\\": out += "\\\\"
                case "\n": out += "\\n"
                case "\r": out += "\\r"
                case "\t": out += "\\t"
                case "\u{08}": out += "\\b"
                case "\u{0C}": out += "\\f"
                default:
                    if scalar.value < 0x20 {
                        let hex = String(scalar.value, radix: 16)
                        out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
                    } else {
                        out.unicodeScalars.append(scalar)
                    }
                }
            }
            out += "\""
        }
    }
}

extension FakeMessagesAPI.JSON: Codable {
    /// Decodes any JSON value.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        if container.decodeNil() {
            self = .null
        } else if let flag = try? container.decode(Bool.self) {
            self = .bool(flag)
        } else if let number = try? container.decode(Double.self) {
            self = .number(number)
        } else if let string = try? container.decode(String.self) {
            self = .string(string)
        } else if let array = try? container.decode([FakeMessagesAPI.JSON].self) {
            self = .array(array)
        } else {
            self = .object(try container.decode([String: FakeMessagesAPI.JSON].self))
        }
    }

    /// Encodes the value as the matching JSON type.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        switch self {
        case .null: try container.encodeNil()
        case .bool(let flag): try container.encode(flag)
        case .number(let number): try container.encode(number)
        case .string(let string): try container.encode(string)
        case .array(let array): try container.encode(array)
        case .object(let object): try container.encode(object)
        }
    }
}

extension FakeMessagesAPI.JSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByFloatLiteral,
    ExpressibleByBooleanLiteral, ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral
{
    /// A string value.
    public init(stringLiteral value: String) { self = .string(value) }
    /// A number value.
    public init(integerLiteral value: Int) { self = .number(Double(value)) }
    /// A number value.
    public init(floatLiteral value: Double) { self = .number(value) }
    /// A Boolean value.
    public init(booleanLiteral value: Bool) { self = .bool(value) }
    /// An array value.
    public init(arrayLiteral elements: FakeMessagesAPI.JSON...) { self = .array(elements) }
    /// An object value; a repeated key keeps its last value.
    public init(dictionaryLiteral elements: (String, FakeMessagesAPI.JSON)...) {
        self = .object(Dictionary(elements, uniquingKeysWith: { _, last in last }))
    }
    /// `null`.
    public init(nilLiteral: ()) { self = .null }
}

/// JSON built for output with object keys in the order written, so replies look like the real API's.
indirect enum WireJSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral, Sendable
{
    case value(FakeMessagesAPI.JSON)
    case array([WireJSON])
    case object([(String, WireJSON)])

    init(stringLiteral value: String) { self = .value(.string(value)) }
    init(integerLiteral value: Int) { self = .value(.number(Double(value))) }
    init(booleanLiteral value: Bool) { self = .value(.bool(value)) }
    init(arrayLiteral elements: WireJSON...) { self = .array(elements) }
    init(dictionaryLiteral elements: (String, WireJSON)...) { self = .object(elements) }
    init(nilLiteral: ()) { self = .value(.null) }

    static func string(_ value: String) -> WireJSON { .value(.string(value)) }
    static func int(_ value: Int) -> WireJSON { .value(.number(Double(value))) }

    var serialized: String {
        var out = ""
        write(into: &out)
        return out
    }

    private func write(into out: inout String) {
        switch self {
        case .value(let json):
            FakeMessagesAPI.JSON.write(json, into: &out)
        case .array(let elements):
            out += "["
            for (index, element) in elements.enumerated() {
                if index > 0 { out += "," }
                element.write(into: &out)
            }
            out += "]"
        case .object(let members):
            out += "{"
            for (index, (key, member)) in members.enumerated() {
                if index > 0 { out += "," }
                FakeMessagesAPI.JSON.writeString(key, into: &out)
                out += ":"
                member.write(into: &out)
            }
            out += "}"
        }
    }
}
