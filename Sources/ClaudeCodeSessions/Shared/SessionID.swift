/// A validated session id, safe to use as a file name.
///
/// The Claude Code CLI names sessions with UUIDs (`9899897f-3c5e-4b7a-9d2e-0f1e2d3c4b5a`);
/// those are accepted, as is any other id made only of `A-Z`, `a-z`, `0-9`, `.`, `_` and
/// `-`, 1 to 128 characters long, that does not start with a dot and does not contain `..`.
/// Everything else (path separators, NUL, control characters, whitespace, non-ASCII, `.`,
/// `..`, hidden names, over-long ids) is rejected with
/// ``SessionStoreError/Code/invalidSessionID`` **before** any path is formed, so an id can
/// never name a file outside the store's folder.
///
/// Ids are case-sensitive. On a case-insensitive file system two ids that differ only in
/// case would share a file; the CLI's lowercase UUIDs never do.
public struct SessionID: Sendable, Hashable, Comparable, Codable, CustomStringConvertible {
    /// The id's text.
    public let rawValue: String

    /// The longest accepted id, in characters.
    public static let maximumLength = 128

    /// Validates `string` as a session id.
    ///
    /// - Throws: ``SessionStoreError`` with code ``SessionStoreError/Code/invalidSessionID``;
    ///   its ``SessionStoreError/reason`` says which rule failed (never the id itself).
    public init(_ string: String) throws {
        if let reason = Self.validationFailure(string) {
            throw SessionStoreError(.invalidSessionID, reason: reason)
        }
        self.rawValue = string
    }

    /// Validates `rawValue`; `nil` when it is not a valid id.
    public init?(rawValue: String) {
        guard Self.validationFailure(rawValue) == nil else { return nil }
        self.rawValue = rawValue
    }

    /// Whether `string` is a valid session id.
    public static func isValid(_ string: String) -> Bool {
        validationFailure(string) == nil
    }

    /// The rule `string` breaks, as a content-free phrase, or `nil` when it is valid.
    static func validationFailure(_ string: String) -> String? {
        let utf8 = string.utf8
        if utf8.isEmpty { return "empty session id" }
        if utf8.count > maximumLength { return "session id longer than \(maximumLength) characters" }
        var previous: UInt8 = 0
        for byte in utf8 {
            switch byte {
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "A")...UInt8(ascii: "Z"),
                UInt8(ascii: "0")...UInt8(ascii: "9"), UInt8(ascii: "_"), UInt8(ascii: "-"):
                break
            case UInt8(ascii: "."):
                if previous == UInt8(ascii: ".") { return "session id contains '..'" }
            case UInt8(ascii: "/"), UInt8(ascii: "\\"):
                return "session id contains a path separator"
            case 0:
                return "session id contains NUL"
            case 0x01..<0x20, 0x7F:
                return "session id contains a control character"
            default:
                return "session id contains a character outside [A-Za-z0-9._-]"
            }
            previous = byte
        }
        if utf8.first == UInt8(ascii: ".") { return "session id starts with '.'" }
        return nil
    }

    /// The id's text.
    public var description: String { rawValue }

    /// Orders ids by their text.
    public static func < (lhs: SessionID, rhs: SessionID) -> Bool { lhs.rawValue < rhs.rawValue }

    /// Decodes a string and validates it like ``init(_:)``.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.singleValueContainer()
        let string = try container.decode(String.self)
        guard let id = SessionID(rawValue: string) else {
            throw DecodingError.dataCorruptedError(
                in: container,
                debugDescription: Self.validationFailure(string) ?? "invalid session id"
            )
        }
        self = id
    }

    /// Encodes the id as a string.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.singleValueContainer()
        try container.encode(rawValue)
    }

    // File names. Only formed from a validated id.
    var snapshotFileName: String { rawValue + ".json" }
    var journalFileName: String { rawValue + ".journal" }
    var lockFileName: String { rawValue + ".lock" }
    var quarantineFileName: String { rawValue + ".quarantine" }
}
