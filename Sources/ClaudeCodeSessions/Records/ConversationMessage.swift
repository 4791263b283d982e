import ClaudeCode

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// One frame of a conversation as the store keeps it: which way it went, when, its type,
/// and the exact bytes of the JSON frame.
///
/// The raw frame is kept losslessly. In the session files it is embedded verbatim as a JSON
/// value (not re-encoded, not a string), so key order, number spelling, unknown fields,
/// U+2028 and every other byte survive a round trip. A frame that cannot be embedded (not
/// valid JSON, surrounding whitespace, a CR or LF byte) is stored as a JSON string, or as
/// base64 when it is not even UTF-8, and still reads back byte for byte.
///
/// ```swift
/// let message = ConversationMessage(direction: .received, rawJSON: lineBytes)
/// message.type      // "assistant", from the frame's top-level "type"
/// message.rawJSON   // the exact bytes
/// ```
public struct ConversationMessage: Sendable, Hashable {
    /// Which way a frame travelled.
    public enum Direction: String, Sendable, Hashable, Codable, CaseIterable {
        /// Written by the SDK to the CLI (the user's prompts, control requests and responses).
        case sent
        /// Read by the SDK from the CLI.
        case received
    }

    /// The ``type`` given to frames that are not valid JSON.
    public static let invalidType = "invalid"
    /// The ``type`` given to valid JSON frames without a top-level string `type`.
    public static let unknownType = "unknown"

    /// Which way the frame went.
    public var direction: Direction
    /// When it was sent or received, at microsecond precision (finer digits are rounded away
    /// so that the stored value reads back equal).
    public var timestamp: Date {
        get { _timestamp }
        set { _timestamp = StoreTimestamp.normalized(newValue) }
    }
    /// The frame's top-level `type` (`user`, `assistant`, `system`, `result`, `stream_event`,
    /// `control_request`, …), ``unknownType`` when it has none, or ``invalidType`` when the
    /// frame is not valid JSON.
    public var type: String
    /// The frame's top-level `subtype`, when it has one (`init`, `success`, …).
    public var subtype: String?
    /// The exact bytes of the frame (without the line feed that framed it).
    public var rawJSON: [UInt8] {
        get { _raw }
        set {
            _raw = newValue
            rawKind = RawFrameInspector.inspect(newValue).kind
        }
    }

    private var _timestamp: Date
    private var _raw: [UInt8]
    /// How the raw bytes are stored; derived from the bytes.
    private(set) var rawKind: RawFrameKind

    /// Creates a message from a raw frame, taking ``type`` and ``subtype`` from the frame.
    ///
    /// The frame is validated once here (linear in its size).
    /// - Parameters:
    ///   - direction: Which way the frame went.
    ///   - rawJSON: The frame's exact bytes.
    ///   - timestamp: When it was sent or received; now by default.
    public init(direction: Direction, rawJSON: [UInt8], timestamp: Date = Date()) {
        let inspection = RawFrameInspector.inspect(rawJSON)
        self.direction = direction
        self._timestamp = StoreTimestamp.normalized(timestamp)
        self._raw = rawJSON
        self.rawKind = inspection.kind
        self.type = inspection.isValid ? inspection.type ?? Self.unknownType : Self.invalidType
        // As always: a subtype is kept when the frame has a type or is embedded verbatim.
        self.subtype = inspection.kind == .json || inspection.type != nil ? inspection.subtype : nil
    }

    /// Creates a message from a raw frame given as a string.
    public init(direction: Direction, rawJSON: String, timestamp: Date = Date()) {
        self.init(direction: direction, rawJSON: Array(rawJSON.utf8), timestamp: timestamp)
    }

    /// Creates a message with an explicit type and subtype (for callers that already decoded
    /// the frame). The bytes are still validated to choose how they are stored.
    public init(direction: Direction, type: String, subtype: String?, rawJSON: [UInt8], timestamp: Date = Date()) {
        self.direction = direction
        self._timestamp = StoreTimestamp.normalized(timestamp)
        self.type = type
        self.subtype = subtype
        self._raw = rawJSON
        self.rawKind = RawFrameInspector.inspect(rawJSON).kind
    }

    /// Creates a message from a frame the core's parser accepted (`JSONValue.parse`), with its
    /// type and subtype taken from the parsed value: the bytes are not validated again, only
    /// checked in one pass for what the parser allows and the files cannot embed (ill-formed
    /// UTF-8, surrounding whitespace, CR or LF). For frames of the client's own wire traffic.
    init(direction: Direction, type: String, subtype: String?, parsedRawJSON rawJSON: [UInt8], timestamp: Date) {
        self.direction = direction
        self._timestamp = StoreTimestamp.normalized(timestamp)
        self.type = type
        self.subtype = subtype
        self._raw = rawJSON
        self.rawKind = RawFrameInspector.kind(ofValid: rawJSON)
    }

    /// Internal: decoded from a file, where the storage kind is already known.
    init(direction: Direction, type: String, subtype: String?, raw: [UInt8], kind: RawFrameKind, timestamp: Date) {
        self.direction = direction
        self._timestamp = timestamp
        self.type = type
        self.subtype = subtype
        self._raw = raw
        self.rawKind = kind
    }

    /// The raw frame as a string, when it is valid UTF-8.
    public var rawJSONString: String? {
        String(validating: _raw, as: UTF8.self)
    }

    /// Whether the raw frame is valid JSON (and so is embedded verbatim in the files, unless
    /// it has surrounding whitespace or line breaks).
    public var isValidJSON: Bool {
        rawKind == .json || JSONValue.isValid(_raw, maximumDepth: .max)
    }

    /// Messages are equal when direction, timestamp, type, subtype and raw bytes are equal.
    public static func == (lhs: ConversationMessage, rhs: ConversationMessage) -> Bool {
        lhs.direction == rhs.direction && lhs._timestamp == rhs._timestamp && lhs.type == rhs.type
            && lhs.subtype == rhs.subtype && lhs._raw == rhs._raw
    }

    /// Hashes the fields compared by `==`.
    public func hash(into hasher: inout Hasher) {
        hasher.combine(direction)
        hasher.combine(_timestamp)
        hasher.combine(type)
        hasher.combine(subtype)
        hasher.combine(_raw)
    }
}

extension ConversationMessage: Codable {
    private enum CodingKeys: String, CodingKey {
        case direction, timestamp, type, subtype
        case rawText = "raw_text"
        case rawBase64 = "raw_base64"
    }

    /// Encodes the message with `Codable` (for embedding in your own documents): the raw
    /// frame goes in `raw_text` (a string) when it is UTF-8, else in `raw_base64`, so any
    /// encoder keeps it lossless. The session files use a different, verbatim encoding.
    public func encode(to encoder: any Encoder) throws {
        var container = encoder.container(keyedBy: CodingKeys.self)
        try container.encode(direction, forKey: .direction)
        try container.encode(StoreTimestamp.format(_timestamp), forKey: .timestamp)
        try container.encode(type, forKey: .type)
        try container.encodeIfPresent(subtype, forKey: .subtype)
        if let text = rawJSONString {
            try container.encode(text, forKey: .rawText)
        } else {
            try container.encode(String(decoding: StoreBase64.encode(_raw), as: UTF8.self), forKey: .rawBase64)
        }
    }

    /// Decodes what ``encode(to:)`` writes.
    public init(from decoder: any Decoder) throws {
        let container = try decoder.container(keyedBy: CodingKeys.self)
        let direction = try container.decode(Direction.self, forKey: .direction)
        let stamp = try container.decode(String.self, forKey: .timestamp)
        guard let timestamp = StoreTimestamp.parse(stamp) else {
            throw DecodingError.dataCorruptedError(
                forKey: .timestamp, in: container, debugDescription: "invalid ISO-8601 timestamp")
        }
        let type = try container.decode(String.self, forKey: .type)
        let subtype = try container.decodeIfPresent(String.self, forKey: .subtype)
        let raw: [UInt8]
        if let text = try container.decodeIfPresent(String.self, forKey: .rawText) {
            raw = Array(text.utf8)
        } else if let base64 = try container.decodeIfPresent(String.self, forKey: .rawBase64),
            let bytes = StoreBase64.decode(base64.utf8)
        {
            raw = bytes
        } else {
            throw DecodingError.dataCorruptedError(
                forKey: .rawText, in: container, debugDescription: "missing raw_text or raw_base64")
        }
        self.init(direction: direction, type: type, subtype: subtype, rawJSON: raw, timestamp: timestamp)
    }
}
