// Temporary stand-in; replaced by the fast byte-level parser.
import Foundation

public struct JSONParseError: Error, Sendable, Hashable, CustomStringConvertible {
    public var offset: Int
    public var reason: String
    public init(offset: Int, reason: String) {
        self.offset = offset
        self.reason = reason
    }
    public var description: String { "invalid JSON at byte \(offset): \(reason)" }
}

extension JSONValue {
    public static func parse(_ bytes: [UInt8]) throws(JSONParseError) -> JSONValue {
        do { return try JSONDecoder().decode(JSONValue.self, from: Data(bytes)) } catch {
            throw JSONParseError(offset: 0, reason: "malformed")
        }
    }
    public static func parse(_ string: String) throws(JSONParseError) -> JSONValue { try parse(Array(string.utf8)) }
}
