import Foundation

/// One NDJSON frame crossing the CLI's stdin or stdout, as seen by a ``FrameObserver``.
public struct WireFrame: Sendable {
    public enum Direction: String, Sendable, Hashable {
        /// From the SDK to the CLI (prompts, control requests and responses).
        case outbound
        /// From the CLI to the SDK (messages, control traffic, invalid lines).
        case inbound
    }
    public var direction: Direction
    /// The frame's exact bytes (for invalid lines: at most the first 200).
    public var raw: RawJSON
    /// The parsed frame, or `nil` when the line was not valid JSON or too long.
    public var json: JSONValue?
    /// When the SDK sent or received it.
    public var timestamp: Date

    /// The frame's top-level `type`, or `"invalid"`.
    public var type: String {
        if let json { return json["type"]?.stringValue ?? "invalid" }
        // A frame handed over as bytes only: parse it (only when asked).
        return (try? raw.value())?["type"]?.stringValue ?? "invalid"
    }

    /// Creates a frame (to test an observer or a ``ConnectionExtension``, for example).
    public init(direction: Direction, raw: RawJSON, json: JSONValue?, timestamp: Date = Date()) {
        self.direction = direction
        self.raw = raw
        self.json = json
        self.timestamp = timestamp
    }
}

/// Sees every frame in both directions, in order, before anything else handles it.
///
/// It runs on the transport's reading task (inbound; nothing more is read from the CLI until it
/// returns) or on the sending task (outbound): keep it fast and hand heavy work to another task. `SessionPersistentClient` records conversations this way.
public typealias FrameObserver = @Sendable (WireFrame) -> Void

/// Answers a control request the CLI sends (`can_use_tool`, `hook_callback`, `mcp_message`).
///
/// Receives the request's `subtype` and its whole `request` object; returns the `response`
/// object. Throwing sends an error response, which the CLI accepts; the session goes on.
/// Throwing ``UnhandledControlRequest`` passes the request on to the callbacks in the options.
public typealias ControlRequestHandler = @Sendable (_ subtype: String, _ request: JSONValue) async throws -> JSONValue
