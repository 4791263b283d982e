/// Checks a JSON value against the subset of JSON Schema that tool input schemas use.
///
/// Supported keywords: `type` (a name or a list of names: `object`, `array`, `string`,
/// `integer`, `number`, `boolean`, `null`), `properties`, `required`, `additionalProperties`
/// (a Boolean or a schema), `items` (a schema), `enum` and `const`. Other keywords are ignored,
/// so a schema that uses them validates more loosely, never more strictly.
public enum JSONSchemaValidator {
    /// One place where a value does not match its schema.
    public struct Violation: Sendable, Hashable, CustomStringConvertible {
        /// Where, as `$` (the whole value), `$.name` or `$.items[2]`.
        public var path: String
        /// What is wrong.
        public var message: String
        /// The text form, for logs and messages.
        public var description: String { "\(path): \(message)" }
    }

    /// Every violation of `schema` by `value`, in document order; empty when the value matches.
    public static func violations(of value: JSONValue, against schema: JSONValue) -> [Violation] {
        var found: [Violation] = []
        check(value, schema, path: "$", into: &found)
        return found
    }

    private static func check(_ value: JSONValue, _ schema: JSONValue, path: String, into found: inout [Violation]) {
        // `true`, `{}` and anything that is not an object accept every value; `false` rejects all.
        if schema == .bool(false) {
            found.append(Violation(path: path, message: "no value is allowed here"))
            return
        }
        guard case .object = schema else { return }
        if let type = schema["type"] {
            let names = type.arrayValue?.compactMap(\.stringValue) ?? type.stringValue.map { [$0] } ?? []
            if !names.isEmpty, !names.contains(where: { matches(value, type: $0) }) {
                found.append(
                    Violation(
                        path: path, message: "expected \(names.joined(separator: " or ")), got \(typeName(value))"))
                return
            }
        }
        if let constant = schema["const"], !sameJSON(constant, value) {
            found.append(Violation(path: path, message: "must be \(constant.jsonString)"))
        }
        if let options = schema["enum"]?.arrayValue, !options.contains(where: { sameJSON($0, value) }) {
            found.append(
                Violation(path: path, message: "must be one of \(options.map(\.jsonString).joined(separator: ", "))"))
        }
        if case .object(let members) = value {
            let properties = schema["properties"]?.objectValue ?? [:]
            for name in schema["required"]?.arrayValue?.compactMap(\.stringValue) ?? [] where members[name] == nil {
                found.append(Violation(path: path, message: "missing required property \(name)"))
            }
            for name in members.keys.sorted() {
                let member = members[name] ?? .null
                let memberPath = "\(path).\(name)"
                if let propertySchema = properties[name] {
                    check(member, propertySchema, path: memberPath, into: &found)
                } else if let additional = schema["additionalProperties"] {
                    if additional == .bool(false) {
                        found.append(Violation(path: memberPath, message: "is not an allowed property"))
                    } else {
                        check(member, additional, path: memberPath, into: &found)
                    }
                }
            }
        }
        if case .array(let elements) = value, let items = schema["items"] {
            for (index, element) in elements.enumerated() {
                check(element, items, path: "\(path)[\(index)]", into: &found)
            }
        }
    }

    private static func matches(_ value: JSONValue, type: String) -> Bool {
        switch (type, value) {
        case ("object", .object), ("array", .array), ("string", .string), ("boolean", .bool), ("null", .null):
            return true
        case ("number", .int), ("number", .double): return true
        case ("integer", .int): return true
        case ("integer", .double(let number)): return number.isFinite && number.rounded() == number
        default: return false
        }
    }

    private static func typeName(_ value: JSONValue) -> String {
        switch value {
        case .null: return "null"
        case .bool: return "boolean"
        case .int: return "integer"
        case .double: return "number"
        case .string: return "string"
        case .array: return "array"
        case .object: return "object"
        }
    }

    /// JSON equality: `1` and `1.0` are the same number.
    private static func sameJSON(_ left: JSONValue, _ right: JSONValue) -> Bool {
        switch (left, right) {
        case (.int, .double), (.double, .int): return left.doubleValue == right.doubleValue
        case (.array(let a), .array(let b)): return a.count == b.count && zip(a, b).allSatisfy { sameJSON($0, $1) }
        case (.object(let a), .object(let b)):
            return a.count == b.count && a.allSatisfy { key, value in b[key].map { sameJSON(value, $0) } ?? false }
        default: return left == right
        }
    }
}
