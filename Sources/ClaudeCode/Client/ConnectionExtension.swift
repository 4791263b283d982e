/// Extends one connection of a ``ClaudeSDKClient`` from outside the core.
///
/// A hook can rewrite the options just before the CLI starts, sees every inbound frame, can
/// hold a ``ResultMessage`` back from the consumer until some asynchronous work is done
/// (without stopping the reader, so control requests are still answered), can add messages to
/// the stream, and runs last when the connection ends. `ClaudeCodeSessions` builds transcript
/// mirroring to a `SessionStore` and resuming from one on it; you rarely implement one yourself.
///
/// The client makes one hook per connection (``ConnectionExtensionFactory``) and calls, in order:
/// 1. ``prepare(_:)`` in `connect()`, before the transport is made;
/// 2. ``attach(_:)`` before the transport starts;
/// 3. ``observe(_:)`` for every inbound frame, on the reader;
/// 4. ``beforeDelivering(_:)`` for every result, in its own task;
/// 5. ``connectionEnded()`` once, after the CLI has exited — or after a failed `connect()`,
///    whatever step failed, including ``prepare(_:)`` itself.
///
/// Every method has a default implementation that does nothing.
public protocol ConnectionExtension: Sendable {
    /// Returns the options to start the CLI with. Throwing makes `connect()` fail with that error.
    func prepare(_ options: ClaudeCodeOptions) async throws(ClaudeCodeError) -> ClaudeCodeOptions

    /// Receives the function that appends a message to the client's message stream, for
    /// events found in the background (it does nothing once the stream has ended).
    func attach(_ emit: MessageEmitter)

    /// The `type`s of the inbound frames ``observe(_:)`` gets; `nil` (the default) means every
    /// frame. With a set, frames come with their bytes only (``WireFrame/json`` is `nil` unless
    /// the client also has a ``FrameObserver``), so the reader builds no JSON tree for the extension.
    /// The ``consumedFrameTypes`` are always observed too.
    var observedFrameTypes: Set<String>? { get }

    /// The `type`s of the inbound frames that belong to this extension and are not messages (for
    /// example `transcript_mirror`, which the CLI sends when the extension asked for it in
    /// ``prepare(_:)``). They reach ``observe(_:)`` as bytes, are not parsed on the reader when
    /// they start with `{"type":"<type>",` (as the CLI writes them: validate them yourself), and
    /// never reach the message stream. Empty by default.
    var consumedFrameTypes: Set<String> { get }

    /// Sees an inbound frame, after the client's ``FrameObserver`` and before the frame is
    /// routed. It runs on the reader: keep it fast and hand heavy work to another task.
    func observe(_ frame: WireFrame)

    /// Runs when a result arrives, in its own task, one result at a time. The consumer receives
    /// the result — and every message after it — only once this returns, preceded by the
    /// messages it returns. The reader goes on meanwhile (control requests are answered).
    func beforeDelivering(_ result: ResultMessage) async -> [Message]

    /// Runs once when the connection is over: after the CLI exited, before the message stream
    /// ends (the messages it returns come last), or after `connect()` failed. `disconnect()`
    /// waits for it.
    func connectionEnded() async -> [Message]
}

extension ConnectionExtension {
    public func prepare(_ options: ClaudeCodeOptions) async throws(ClaudeCodeError) -> ClaudeCodeOptions { options }
    public func attach(_ emit: MessageEmitter) {}
    public var observedFrameTypes: Set<String>? { nil }
    public var consumedFrameTypes: Set<String> { [] }
    public func observe(_ frame: WireFrame) {}
    public func beforeDelivering(_ result: ResultMessage) async -> [Message] { [] }
    public func connectionEnded() async -> [Message] { [] }
}

/// Makes the ``ConnectionExtension`` of one connection.
public typealias ConnectionExtensionFactory = @Sendable () -> any ConnectionExtension

/// Appends a message to a client's message stream (see ``ConnectionExtension/attach(_:)``).
public struct MessageEmitter: Sendable {
    let emit: @Sendable (Message) -> Void

    /// Creates an emitter that calls `emit`.
    public init(_ emit: @escaping @Sendable (Message) -> Void) { self.emit = emit }

    /// Appends `message` at the end of the stream.
    public func callAsFunction(_ message: Message) { emit(message) }
}
