public import ClaudeCode
public import Logging

extension ClaudeSDKClient {
    /// Creates a client whose sessions live in `sessionStore` as well as in the CLI's own files.
    ///
    /// ```swift
    /// let store = FileSessionStore()
    /// let client = ClaudeSDKClient(options: options, sessionStore: store)
    /// try await client.connect()                  // the CLI runs with --session-mirror
    /// try await client.query("Hello")
    /// for try await message in client.receiveResponse() {
    ///     if case .system(let system) = message, case .mirrorError(let error, _) = system.kind {
    ///         print("not stored:", error)        // the conversation goes on
    ///     }
    /// }
    ///
    /// // Later, anywhere the store is reachable — even with an empty ~/.claude:
    /// var again = options
    /// again.resume = sessionID
    /// let resumed = ClaudeSDKClient(options: again, sessionStore: store)
    /// ```
    ///
    /// Every line the CLI writes to a transcript (main and subagents) is appended to the store
    /// under the key `(project, session, subpath)`, off the message stream's hot path (see
    /// ``TranscriptMirror``). With `ClaudeCodeOptions/resume` or
    /// `ClaudeCodeOptions/continueConversation` set, the session is loaded from the store into a
    /// temporary config folder for the CLI, removed when the connection ends; when the store does
    /// not have it, the options go to the CLI unchanged.
    ///
    /// - Parameters:
    ///   - options: How to run the CLI.
    ///   - sessionStore: Where transcripts are mirrored and resumed from.
    ///   - configuration: Flush mode, retries, timeouts, project key.
    ///   - transport: Makes the transport per connection; `nil` runs the real CLI.
    ///   - observer: Sees every frame in both directions.
    ///   - controlHandler: Answers the CLI's control requests.
    ///   - logger: Where to log.
    public convenience init(
        options: ClaudeCodeOptions = ClaudeCodeOptions(), sessionStore: any SessionStore,
        configuration: SessionStoreConfiguration = SessionStoreConfiguration(), transport: TransportFactory? = nil,
        observer: FrameObserver? = nil, controlHandler: ControlRequestHandler? = nil,
        logger: Logger = Logger(label: "ClaudeCode")
    ) {
        self.init(
            options: options, transport: transport, observer: observer, controlHandler: controlHandler,
            connectionExtension: { TranscriptMirror(store: sessionStore, configuration: configuration) }, logger: logger
        )
    }
}

/// Runs one prompt in a fresh CLI process whose transcript is mirrored to `sessionStore`
/// (and resumed from it when `options` resume or continue a session).
///
/// The store is up to date for the turn when the `ResultMessage` arrives, and holds every
/// line once the sequence ends.
public func query(
    prompt: String, options: ClaudeCodeOptions = ClaudeCodeOptions(), sessionStore: any SessionStore,
    configuration: SessionStoreConfiguration = SessionStoreConfiguration(), transport: TransportFactory? = nil
) -> QueryStream {
    query(
        prompt: prompt, options: options, transport: transport,
        connectionExtension: { TranscriptMirror(store: sessionStore, configuration: configuration) })
}
