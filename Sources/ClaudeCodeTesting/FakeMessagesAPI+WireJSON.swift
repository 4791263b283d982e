import ClaudeCode

extension FakeMessagesAPI {
    /// A JSON value, as received in a request body or passed to a reply: the core's `JSONValue`.
    public typealias JSON = JSONValue
}

/// JSON built for output with object keys in the order written, so replies look like the real API's
/// (the CLI passes key order through to its own output).
///
/// Members given as a plain `JSONValue` (tool inputs, say) have no order of their own; they are written with
/// `type` first and the other keys sorted, so the bytes are deterministic. Scalars are written by
/// `JSONValue/serialized()`, so strings and numbers are escaped and formatted exactly as the core does it.
indirect enum WireJSON: ExpressibleByStringLiteral, ExpressibleByIntegerLiteral, ExpressibleByBooleanLiteral,
    ExpressibleByArrayLiteral, ExpressibleByDictionaryLiteral, ExpressibleByNilLiteral, Sendable
{
    case value(JSONValue)
    case array([WireJSON])
    case object([(String, WireJSON)])

    init(stringLiteral value: String) { self = .value(.string(value)) }
    init(integerLiteral value: Int) { self = .value(.int(Int64(value))) }
    init(booleanLiteral value: Bool) { self = .value(.bool(value)) }
    init(arrayLiteral elements: WireJSON...) { self = .array(elements) }
    init(dictionaryLiteral elements: (String, WireJSON)...) { self = .object(elements) }
    init(nilLiteral: ()) { self = .value(.null) }

    static func string(_ value: String) -> WireJSON { .value(.string(value)) }
    static func int(_ value: Int) -> WireJSON { .value(.int(Int64(value))) }

    /// Compact JSON text.
    var serialized: String {
        var out: [UInt8] = []
        write(into: &out)
        return String(decoding: out, as: UTF8.self)
    }

    private func write(into out: inout [UInt8]) {
        switch self {
        case .value(let json):
            Self.write(json, into: &out)
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                element.write(into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let members):
            Self.writeObject(members, into: &out) { $0.write(into: &$1) }
        }
    }

    /// Writes a plain value; its objects get `type` first and the other keys sorted.
    private static func write(_ json: JSONValue, into out: inout [UInt8]) {
        switch json {
        case .array(let elements):
            out.append(UInt8(ascii: "["))
            for (index, element) in elements.enumerated() {
                if index > 0 { out.append(UInt8(ascii: ",")) }
                write(element, into: &out)
            }
            out.append(UInt8(ascii: "]"))
        case .object(let object):
            let keys = object.keys.sorted { lhs, rhs in
                if lhs == "type" { return rhs != "type" }
                if rhs == "type" { return false }
                return lhs < rhs
            }
            writeObject(keys.map { ($0, object[$0] ?? .null) }, into: &out) { write($0, into: &$1) }
        case .null, .bool, .int, .double, .string:
            out += json.serialized()
        }
    }

    private static func writeObject<Member>(
        _ members: [(String, Member)], into out: inout [UInt8], writeMember: (Member, inout [UInt8]) -> Void
    ) {
        out.append(UInt8(ascii: "{"))
        for (index, (key, member)) in members.enumerated() {
            if index > 0 { out.append(UInt8(ascii: ",")) }
            out += JSONValue.string(key).serialized()
            out.append(UInt8(ascii: ":"))
            writeMember(member, &out)
        }
        out.append(UInt8(ascii: "}"))
    }
}
