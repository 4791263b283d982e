import Foundation

/// Derives a JSON Schema from a `Decodable` type by watching its `init(from:)`.
///
/// A probing decoder answers every request with a placeholder and notes what was asked for:
/// the keys (required for `decode`, optional for `decodeIfPresent`), and each value's type.
/// Supported: strings, integers, floating-point numbers, Booleans, `URL`, `UUID`, `Date` (as a
/// number, `JSONDecoder`'s default), nested `Decodable` structs, arrays, optionals, string
/// dictionaries (an open object) and `CaseIterable` enums with `String` or `Int` raw values (an `enum`).
/// A type whose `init(from:)` validates its values, or that is recursive, cannot be probed: give
/// its schema yourself.
public enum JSONSchemaInference {
    /// The schema of `type`'s JSON form.
    /// - Throws: ``ClaudeCodeError/Code/invalidInput`` when the type cannot be probed.
    public static func schema<T: Decodable>(for type: T.Type) throws(ClaudeCodeError) -> JSONValue {
        let root = SchemaNode()
        do {
            _ = try ProbeDecoder.probe(T.self, node: root, codingPath: [])
        } catch {
            throw ClaudeCodeError(
                .invalidInput, "cannot derive a JSON Schema from \(T.self): \(error); pass the schema explicitly",
                underlying: error)
        }
        // A type without properties (`struct NoArguments: Codable {}`) asks for nothing: it is an empty object.
        if case .unknown = root.kind { return SDKMCPTool.emptyObjectSchema }
        return root.schema
    }
}

/// What the probe learned about one value.
final class SchemaNode {
    enum Kind {
        case unknown, string, integer, number, boolean
        case enumeration([JSONValue], type: String)
        case object
        case dictionary(SchemaNode)
        case array(SchemaNode)
    }
    var kind: Kind = .unknown
    var properties: [(name: String, node: SchemaNode, required: Bool)] = []

    func property(_ name: String, required: Bool) -> SchemaNode {
        kind = .object
        if let index = properties.firstIndex(where: { $0.name == name }) {
            properties[index].required = properties[index].required || required
            return properties[index].node
        }
        let node = SchemaNode()
        properties.append((name, node, required))
        return node
    }

    var schema: JSONValue {
        switch kind {
        case .unknown: return [:]
        case .string: return ["type": "string"]
        case .integer: return ["type": "integer"]
        case .number: return ["type": "number"]
        case .boolean: return ["type": "boolean"]
        case .enumeration(let values, let type): return ["type": .string(type), "enum": .array(values)]
        case .dictionary(let values):
            let valueSchema = values.schema
            return valueSchema == [:] ? ["type": "object"] : ["type": "object", "additionalProperties": valueSchema]
        case .array(let items): return ["type": "array", "items": items.schema]
        case .object:
            var object: [String: JSONValue] = [
                "type": "object",
                "properties": .object(Dictionary(properties.map { ($0.name, $0.node.schema) }) { a, _ in a }),
            ]
            let required = properties.filter(\.required).map { JSONValue.string($0.name) }
            if !required.isEmpty { object["required"] = .array(required) }
            return .object(object)
        }
    }
}

private struct ProbeFailure: Error, CustomStringConvertible {
    var description: String
}

private struct ProbeDecoder: Decoder {
    let node: SchemaNode
    let codingPath: [any CodingKey]
    var userInfo: [CodingUserInfoKey: Any] { [:] }

    static let maximumDepth = 32

    /// Probes one value of type `T` into `node`, returning a placeholder value.
    static func probe<T: Decodable>(_ type: T.Type, node: SchemaNode, codingPath: [any CodingKey]) throws -> T {
        if codingPath.count > maximumDepth {
            throw ProbeFailure(description: "nesting deeper than \(maximumDepth) levels (a recursive type?)")
        }
        if let value = primitive(type, node: node) { return value }
        if let enumType = type as? any (CaseIterable & RawRepresentable & Decodable).Type,
            let value = enumeration(enumType, node: node) as? T
        {
            return value
        }
        return try T(from: ProbeDecoder(node: node, codingPath: codingPath))
    }

    private static func enumeration<E: CaseIterable & RawRepresentable & Decodable>(_ type: E.Type, node: SchemaNode)
        -> E?
    {
        let cases = Array(E.allCases)
        guard let first = cases.first else { return nil }
        if let strings = cases.map(\.rawValue) as? [String] {
            node.kind = .enumeration(strings.map(JSONValue.string), type: "string")
        } else if let ints = cases.map(\.rawValue) as? [Int] {
            node.kind = .enumeration(ints.map { JSONValue.int(Int64($0)) }, type: "integer")
        } else {
            return nil
        }
        return first
    }

    private static func primitive<T>(_ type: T.Type, node: SchemaNode) -> T? {
        func kind(_ kind: SchemaNode.Kind, _ value: Any) -> T? {
            node.kind = kind
            return value as? T
        }
        switch type {
        case is String.Type: return kind(.string, "")
        case is Bool.Type: return kind(.boolean, false)
        case is Int.Type: return kind(.integer, 0 as Int)
        case is Int8.Type: return kind(.integer, 0 as Int8)
        case is Int16.Type: return kind(.integer, 0 as Int16)
        case is Int32.Type: return kind(.integer, 0 as Int32)
        case is Int64.Type: return kind(.integer, 0 as Int64)
        case is UInt.Type: return kind(.integer, 0 as UInt)
        case is UInt8.Type: return kind(.integer, 0 as UInt8)
        case is UInt16.Type: return kind(.integer, 0 as UInt16)
        case is UInt32.Type: return kind(.integer, 0 as UInt32)
        case is UInt64.Type: return kind(.integer, 0 as UInt64)
        case is Double.Type: return kind(.number, 0 as Double)
        case is Float.Type: return kind(.number, 0 as Float)
        case is Decimal.Type: return kind(.number, Decimal(0))
        case is URL.Type: return kind(.string, URL(fileURLWithPath: "/"))
        case is UUID.Type: return kind(.string, UUID())
        case is Date.Type: return kind(.number, Date(timeIntervalSinceReferenceDate: 0))
        case is JSONValue.Type: return kind(.unknown, JSONValue.null)
        default: return nil
        }
    }

    func container<Key: CodingKey>(keyedBy type: Key.Type) throws -> KeyedDecodingContainer<Key> {
        if case .unknown = node.kind { node.kind = .object }
        return KeyedDecodingContainer(KeyedProbe<Key>(node: node, codingPath: codingPath))
    }

    func unkeyedContainer() throws -> any UnkeyedDecodingContainer {
        let items: SchemaNode
        if case .array(let existing) = node.kind {
            items = existing
        } else {
            items = SchemaNode()
            node.kind = .array(items)
        }
        return UnkeyedProbe(items: items, codingPath: codingPath)
    }

    func singleValueContainer() throws -> any SingleValueDecodingContainer {
        SingleValueProbe(node: node, codingPath: codingPath)
    }
}

private struct ProbeKey: CodingKey {
    var stringValue: String
    var intValue: Int?
    init(stringValue: String) { self.stringValue = stringValue }
    init(intValue: Int) {
        self.stringValue = String(intValue)
        self.intValue = intValue
    }
}

private struct KeyedProbe<Key: CodingKey>: KeyedDecodingContainerProtocol {
    let node: SchemaNode
    let codingPath: [any CodingKey]

    /// A dictionary with `String` keys asks for `allKeys`: the object is open.
    var allKeys: [Key] {
        if node.properties.isEmpty { node.kind = .dictionary(SchemaNode()) }
        return []
    }
    func contains(_ key: Key) -> Bool { true }
    func decodeNil(forKey key: Key) throws -> Bool { false }

    func decode<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T {
        try ProbeDecoder.probe(
            T.self, node: node.property(key.stringValue, required: true), codingPath: codingPath + [key])
    }
    func decodeIfPresent<T: Decodable>(_ type: T.Type, forKey key: Key) throws -> T? {
        try ProbeDecoder.probe(
            T.self, node: node.property(key.stringValue, required: false), codingPath: codingPath + [key])
    }
    // Every primitive overload must be spelled out, or the default implementation would call `decode` and mark the key required.
    func decodeIfPresent(_ type: Bool.Type, forKey key: Key) throws -> Bool? { try optional(type, key) }
    func decodeIfPresent(_ type: String.Type, forKey key: Key) throws -> String? { try optional(type, key) }
    func decodeIfPresent(_ type: Double.Type, forKey key: Key) throws -> Double? { try optional(type, key) }
    func decodeIfPresent(_ type: Float.Type, forKey key: Key) throws -> Float? { try optional(type, key) }
    func decodeIfPresent(_ type: Int.Type, forKey key: Key) throws -> Int? { try optional(type, key) }
    func decodeIfPresent(_ type: Int8.Type, forKey key: Key) throws -> Int8? { try optional(type, key) }
    func decodeIfPresent(_ type: Int16.Type, forKey key: Key) throws -> Int16? { try optional(type, key) }
    func decodeIfPresent(_ type: Int32.Type, forKey key: Key) throws -> Int32? { try optional(type, key) }
    func decodeIfPresent(_ type: Int64.Type, forKey key: Key) throws -> Int64? { try optional(type, key) }
    func decodeIfPresent(_ type: UInt.Type, forKey key: Key) throws -> UInt? { try optional(type, key) }
    func decodeIfPresent(_ type: UInt8.Type, forKey key: Key) throws -> UInt8? { try optional(type, key) }
    func decodeIfPresent(_ type: UInt16.Type, forKey key: Key) throws -> UInt16? { try optional(type, key) }
    func decodeIfPresent(_ type: UInt32.Type, forKey key: Key) throws -> UInt32? { try optional(type, key) }
    func decodeIfPresent(_ type: UInt64.Type, forKey key: Key) throws -> UInt64? { try optional(type, key) }

    private func optional<T: Decodable>(_ type: T.Type, _ key: Key) throws -> T? {
        try ProbeDecoder.probe(
            T.self, node: node.property(key.stringValue, required: false), codingPath: codingPath + [key])
    }

    func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type, forKey key: Key) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        try ProbeDecoder(node: node.property(key.stringValue, required: true), codingPath: codingPath + [key])
            .container(keyedBy: type)
    }
    func nestedUnkeyedContainer(forKey key: Key) throws -> any UnkeyedDecodingContainer {
        try ProbeDecoder(node: node.property(key.stringValue, required: true), codingPath: codingPath + [key])
            .unkeyedContainer()
    }
    func superDecoder() throws -> any Decoder { ProbeDecoder(node: node, codingPath: codingPath) }
    func superDecoder(forKey key: Key) throws -> any Decoder {
        ProbeDecoder(node: node.property(key.stringValue, required: true), codingPath: codingPath + [key])
    }
}

private struct UnkeyedProbe: UnkeyedDecodingContainer {
    let items: SchemaNode
    let codingPath: [any CodingKey]
    var count: Int? { 1 }
    var currentIndex = 0
    /// One element is probed, then the array ends.
    var isAtEnd: Bool { currentIndex > 0 }

    init(items: SchemaNode, codingPath: [any CodingKey]) {
        self.items = items
        self.codingPath = codingPath
    }

    mutating func decodeNil() throws -> Bool { false }
    mutating func decode<T: Decodable>(_ type: T.Type) throws -> T {
        defer { currentIndex += 1 }
        return try ProbeDecoder.probe(T.self, node: items, codingPath: codingPath + [ProbeKey(intValue: currentIndex)])
    }
    mutating func nestedContainer<NestedKey: CodingKey>(keyedBy type: NestedKey.Type) throws
        -> KeyedDecodingContainer<NestedKey>
    {
        defer { currentIndex += 1 }
        return try ProbeDecoder(node: items, codingPath: codingPath).container(keyedBy: type)
    }
    mutating func nestedUnkeyedContainer() throws -> any UnkeyedDecodingContainer {
        defer { currentIndex += 1 }
        return try ProbeDecoder(node: items, codingPath: codingPath).unkeyedContainer()
    }
    mutating func superDecoder() throws -> any Decoder {
        defer { currentIndex += 1 }
        return ProbeDecoder(node: items, codingPath: codingPath)
    }
}

private struct SingleValueProbe: SingleValueDecodingContainer {
    let node: SchemaNode
    let codingPath: [any CodingKey]

    func decodeNil() -> Bool { false }
    func decode<T: Decodable>(_ type: T.Type) throws -> T {
        try ProbeDecoder.probe(T.self, node: node, codingPath: codingPath)
    }
    func decode(_ type: Bool.Type) throws -> Bool { try decode(Bool.self as Bool.Type, generic: ()) }
    func decode(_ type: String.Type) throws -> String { try decode(String.self as String.Type, generic: ()) }
    func decode(_ type: Double.Type) throws -> Double { try decode(Double.self as Double.Type, generic: ()) }
    func decode(_ type: Float.Type) throws -> Float { try decode(Float.self as Float.Type, generic: ()) }
    func decode(_ type: Int.Type) throws -> Int { try decode(Int.self as Int.Type, generic: ()) }
    func decode(_ type: Int8.Type) throws -> Int8 { try decode(Int8.self as Int8.Type, generic: ()) }
    func decode(_ type: Int16.Type) throws -> Int16 { try decode(Int16.self as Int16.Type, generic: ()) }
    func decode(_ type: Int32.Type) throws -> Int32 { try decode(Int32.self as Int32.Type, generic: ()) }
    func decode(_ type: Int64.Type) throws -> Int64 { try decode(Int64.self as Int64.Type, generic: ()) }
    func decode(_ type: UInt.Type) throws -> UInt { try decode(UInt.self as UInt.Type, generic: ()) }
    func decode(_ type: UInt8.Type) throws -> UInt8 { try decode(UInt8.self as UInt8.Type, generic: ()) }
    func decode(_ type: UInt16.Type) throws -> UInt16 { try decode(UInt16.self as UInt16.Type, generic: ()) }
    func decode(_ type: UInt32.Type) throws -> UInt32 { try decode(UInt32.self as UInt32.Type, generic: ()) }
    func decode(_ type: UInt64.Type) throws -> UInt64 { try decode(UInt64.self as UInt64.Type, generic: ()) }

    private func decode<T: Decodable>(_ type: T.Type, generic: Void) throws -> T {
        try ProbeDecoder.probe(T.self, node: node, codingPath: codingPath)
    }
}
