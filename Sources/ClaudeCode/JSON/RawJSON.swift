/// The exact bytes of one JSON document, as the CLI wrote it (without the newline).
///
/// Every ``Message`` keeps its `RawJSON`, so it can be persisted or forwarded losslessly
/// even when the typed model does not cover a field.
public struct RawJSON: Sendable, Hashable, CustomStringConvertible {
    /// The UTF-8 bytes.
    public let bytes: [UInt8]

    public init(bytes: [UInt8]) { self.bytes = bytes }

    public init(_ string: String) { self.bytes = Array(string.utf8) }

    /// The bytes decoded as UTF-8 (invalid sequences become U+FFFD).
    public var string: String { String(decoding: bytes, as: UTF8.self) }

    /// Parses the bytes into a ``JSONValue``.
    public func value() throws(JSONParseError) -> JSONValue { try JSONValue.parse(bytes) }

    public var description: String { "RawJSON(\(bytes.count) bytes)" }
}
