public import ClaudeCode
import Foundation
public import Logging
import Synchronization

/// When mirrored transcript lines are appended to the store.
public enum MirrorFlushMode: Sendable, Hashable {
    /// Lines are buffered and appended before each result is delivered, when more than
    /// ``SessionStoreConfiguration/maxPendingEntries`` entries or
    /// ``SessionStoreConfiguration/maxPendingBytes`` bytes are waiting, and when the CLI exits.
    /// The default: one store call per transcript per turn.
    case batched
    /// Every frame is appended as soon as it arrives (in the background, in order).
    case eager
}

/// How a client mirrors its transcripts to a ``SessionStore`` and resumes from it.
public struct SessionStoreConfiguration: Sendable {
    /// When lines are appended. Default ``MirrorFlushMode/batched``.
    public var flushMode: MirrorFlushMode
    /// Batched mode: append in the background once more entries than this are waiting. Default 500.
    /// Frames are counted on arrival as one entry each (they are parsed later, off the reader).
    public var maxPendingEntries: Int
    /// Batched mode: append in the background once more bytes than this are waiting. Default 1 MiB.
    public var maxPendingBytes: Int
    /// How long one `append` may take. A timed-out append is not retried (it may still land)
    /// and is reported. Default 60 s.
    public var appendTimeout: Duration
    /// The waits between attempts of a failed append; attempts are `retryDelays.count + 1`.
    /// Default 0.2 s and 0.8 s (3 attempts), as the Python SDK. An append that fails with
    /// ``SessionStoreError/Code/backendUnavailable`` (the store knows its server is down) is not
    /// retried: it is reported at once, so a turn's result is not held while the store is down.
    public var retryDelays: [Duration]
    /// How long each store call may take while resuming (load, list). Default 60 s.
    public var loadTimeout: Duration
    /// Where the temporary config folder of a store-backed resume is made (it holds a copy of
    /// your credentials while the CLI runs). `nil` (the default) uses `TMPDIR`, else `/tmp`.
    public var temporaryDirectory: String?
    /// The store's project key. `nil` (the default) uses the CLI's project folder name (the
    /// sanitized working directory), so keys match the Python and TypeScript SDKs'. Set it to
    /// keep a tenant's sessions apart, for example.
    public var projectKey: String?
    /// Project keys a resumed session is also looked for under when the working directory's own
    /// key does not hold it (the key of the directory the session was recorded in, when it now
    /// continues elsewhere). The session is then copied under the working directory's key, so
    /// its history and the turns to come stay together.
    package var resumeFallbackProjectKeys: [String] = []
    /// Called for every batch that could not be appended (also reported as a
    /// `SystemMessage/Kind/mirrorError(error:key:)` message).
    public var onFailure: (@Sendable (TranscriptMirrorFailure) -> Void)?
    /// Where the mirror logs.
    public var logger: Logger

    /// Creates a configuration.
    public init(
        flushMode: MirrorFlushMode = .batched, maxPendingEntries: Int = 500, maxPendingBytes: Int = 1 << 20,
        appendTimeout: Duration = .seconds(60), retryDelays: [Duration] = [.milliseconds(200), .milliseconds(800)],
        loadTimeout: Duration = .seconds(60), temporaryDirectory: String? = nil, projectKey: String? = nil,
        onFailure: (@Sendable (TranscriptMirrorFailure) -> Void)? = nil,
        logger: Logger = Logger(label: "claude.sessions.mirror")
    ) {
        self.flushMode = flushMode
        self.maxPendingEntries = maxPendingEntries
        self.maxPendingBytes = maxPendingBytes
        self.appendTimeout = appendTimeout
        self.retryDelays = retryDelays
        self.loadTimeout = loadTimeout
        self.temporaryDirectory = temporaryDirectory
        self.projectKey = projectKey
        self.onFailure = onFailure
        self.logger = logger
    }
}

/// Transcript lines that did not reach the store.
public struct TranscriptMirrorFailure: Sendable, CustomStringConvertible {
    /// The transcript, or `nil` when the frame's file could not be mapped to a key.
    public var key: SessionStoreKey?
    /// The file the CLI wrote the lines to.
    public var filePath: String?
    /// How many entries were dropped.
    public var entryCount: Int
    /// The `uuid`s of the dropped entries that have one (to re-import them later).
    public var entryUUIDs: [String]
    /// What went wrong: the store's error, `"timed out after …"`, or why the frame was unreadable.
    public var reason: String
    /// The store's error, when it threw one.
    public var error: SessionStoreError?

    public var description: String {
        "TranscriptMirrorFailure(\(key.map(String.init(describing:)) ?? "no key"), \(entryCount) entries: \(reason))"
    }

    /// The `system` message announcing this failure in the client's message stream.
    var message: Message {
        var object: [String: JSONValue] = [
            "type": "system", "subtype": "mirror_error", "error": .string(reason),
            "uuid": .string(UUID().uuidString.lowercased()), "session_id": .string(key?.sessionID ?? ""),
            "entry_count": .int(Int64(entryCount)), "entry_uuids": .array(entryUUIDs.map(JSONValue.string)),
        ]
        if let key {
            var keyObject: [String: JSONValue] = [
                "project_key": .string(key.projectKey), "session_id": .string(key.sessionID),
            ]
            if let subpath = key.subpath { keyObject["subpath"] = .string(subpath) }
            object["key"] = .object(keyObject)
        } else {
            object["key"] = .null
        }
        if let filePath { object["file_path"] = .string(filePath) }
        let json = JSONValue.object(object)
        return Message(raw: RawJSON(bytes: json.serialized()), json: json)
    }
}

/// One connection's mirroring to a store, and its store-backed resume: the `ConnectionExtension`
/// that `ClaudeSDKClient(options:sessionStore:configuration:)` installs.
///
/// - ``prepare(_:)`` turns on `--session-mirror` and, when the options resume or continue a
///   session, writes it from the store into a temporary config folder for the CLI.
/// - ``observe(_:)`` queues each `transcript_mirror` frame as it is (one lock, no parsing):
///   the reader is never slowed by the store.
/// - Appends run in background tasks, one after another, so each transcript's lines reach the
///   store in the CLI's order; each batch is coalesced per file (one `append` per transcript).
///   A failed append is retried (``SessionStoreConfiguration/retryDelays``) unless it timed out
///   or the store reported its server unavailable;
///   a batch finally dropped is reported as a `mirror_error` system message and through
///   ``SessionStoreConfiguration/onFailure`` — never lost silently.
/// - ``beforeDelivering(_:)`` flushes before a result reaches the consumer, so a consumer that
///   has the result can read the turn from the store; the reader keeps answering control
///   requests meanwhile.
/// - ``connectionEnded()`` flushes what the CLI wrote last (the CLI mirrors its `cost-state`
///   line after the result) and removes the temporary folder.
public final class TranscriptMirror: ConnectionExtension {
    private struct Pending {
        var frames: [[UInt8]] = []
        var entries = 0
        var bytes = 0
    }
    private struct State {
        var pending = Pending()
        var lastDrain: Task<[TranscriptMirrorFailure], Never>?
        var projectsDirectory: String?
        var materialized: MaterializedSession?
        var emit: MessageEmitter?
    }

    /// The store lines go to.
    public let store: any SessionStore
    /// The settings.
    public let configuration: SessionStoreConfiguration
    private let state = Mutex(State())

    /// Creates the hook of one connection.
    public init(store: any SessionStore, configuration: SessionStoreConfiguration = SessionStoreConfiguration()) {
        self.store = store
        self.configuration = configuration
    }

    /// The temporary config folder of a store-backed resume, while the connection lasts.
    public var materializedConfigDirectory: String? { state.withLock { $0.materialized?.configDirectory } }

    // MARK: ConnectionExtension

    public func prepare(_ options: ClaudeCodeOptions) async throws(ClaudeCodeError) -> ClaudeCodeOptions {
        var options = options
        options.sessionMirror = true
        if let materialized = try await StoreResume.materialize(
            store: store, options: options, configuration: configuration)
        {
            state.withLock { $0.materialized = materialized }
            options.env["CLAUDE_CONFIG_DIR"] = materialized.configDirectory
            options.resume = materialized.sessionID
            options.continueConversation = false
        }
        let projects = TranscriptPaths.projectsDirectory(for: options)
        state.withLock { $0.projectsDirectory = projects }
        return options
    }

    public func attach(_ emit: MessageEmitter) {
        state.withLock { $0.emit = emit }
    }

    /// Only `transcript_mirror` frames, as bytes: the reader builds no JSON tree for them.
    public var observedFrameTypes: Set<String>? { [] }

    /// `transcript_mirror`: the CLI sends them because ``prepare(_:)`` asked for them (`--session-mirror`).
    public var consumedFrameTypes: Set<String> { ["transcript_mirror"] }

    public func observe(_ frame: WireFrame) {
        // Entries are counted when the frames are parsed, off the reader; here each frame counts
        // as one (it holds at least one).
        let entries = frame.json?["entries"]?.arrayValue?.count ?? 1
        let eager = configuration.flushMode == .eager
        let overflow = state.withLock { state -> Bool in
            state.pending.frames.append(frame.raw.bytes)
            state.pending.entries += entries
            state.pending.bytes += frame.raw.bytes.count
            return eager || state.pending.entries > configuration.maxPendingEntries
                || state.pending.bytes > configuration.maxPendingBytes
        }
        if overflow { _ = startDrain(reportInBackground: true) }
    }

    public func beforeDelivering(_ result: ResultMessage) async -> [Message] {
        await flush().map(\.message)
    }

    public func connectionEnded() async -> [Message] {
        let failures = await flush()
        if let materialized = state.withLock({ state -> MaterializedSession? in
            defer { state.materialized = nil }
            return state.materialized
        }) {
            materialized.remove()
        }
        return failures.map(\.message)
    }

    // MARK: Draining

    /// Appends everything queued so far, after every earlier drain; returns the failures.
    func flush() async -> [TranscriptMirrorFailure] {
        await startDrain(reportInBackground: false).value
    }

    /// Starts a drain of the queued frames, chained after the previous one so appends keep
    /// their order. Background drains report failures themselves; a flush returns them.
    private func startDrain(reportInBackground: Bool) -> Task<[TranscriptMirrorFailure], Never> {
        state.withLock { state in
            let frames = state.pending.frames
            state.pending = Pending()
            let previous = state.lastDrain
            let projects = state.projectsDirectory
            let task = Task { [self] () async -> [TranscriptMirrorFailure] in
                _ = await previous?.value
                let failures = await write(frames, projectsDirectory: projects)
                for failure in failures { configuration.onFailure?(failure) }
                guard reportInBackground else { return failures }
                if let emit = self.state.withLock({ $0.emit }) {
                    for failure in failures { emit(failure.message) }
                }
                return []
            }
            state.lastDrain = task
            return task
        }
    }

    /// Appends the frames' entries, one `append` per transcript, in first-seen order.
    private func write(_ frames: [[UInt8]], projectsDirectory: String?) async -> [TranscriptMirrorFailure] {
        guard !frames.isEmpty else { return [] }
        var failures: [TranscriptMirrorFailure] = []
        var order: [String] = []
        var batches: [String: [SessionStoreEntry]] = [:]
        var cache = MirrorFrame.PathCache()
        for bytes in frames {
            switch MirrorFrame.parse(bytes, cache: &cache) {
            case .success(let frame):
                if batches[frame.filePath] == nil { order.append(frame.filePath) }
                batches[frame.filePath, default: []].append(contentsOf: frame.entries)
            case .failure(let malformed):
                failures.append(
                    TranscriptMirrorFailure(
                        key: malformed.filePath.flatMap { key(for: $0, projectsDirectory: projectsDirectory) },
                        filePath: malformed.filePath, entryCount: malformed.entryCount, entryUUIDs: [],
                        reason: "unreadable transcript_mirror frame: \(malformed.reason)"))
            }
        }
        for filePath in order {
            guard let entries = batches[filePath], !entries.isEmpty else { continue }
            guard let key = key(for: filePath, projectsDirectory: projectsDirectory) else {
                configuration.logger.warning(
                    "dropping mirrored lines: their file is not under the CLI's projects folder",
                    metadata: ["filePath": .string(filePath), "projects": .string(projectsDirectory ?? "?")])
                failures.append(
                    TranscriptMirrorFailure(
                        key: nil, filePath: filePath, entryCount: entries.count, entryUUIDs: entries.compactMap(\.uuid),
                        reason: "the transcript file is not under the CLI's projects folder \(projectsDirectory ?? "?")"
                    ))
                continue
            }
            if let failure = await append(entries, to: key, filePath: filePath) { failures.append(failure) }
        }
        return failures
    }

    private func key(for filePath: String, projectsDirectory: String?) -> SessionStoreKey? {
        guard let projectsDirectory,
            var key = SessionStoreKey(transcriptPath: filePath, projectsDirectory: projectsDirectory)
        else {
            return nil
        }
        if let projectKey = configuration.projectKey { key.projectKey = projectKey }
        return key
    }

    /// One batch, with retries; `nil` on success.
    private func append(_ entries: [SessionStoreEntry], to key: SessionStoreKey, filePath: String) async
        -> TranscriptMirrorFailure?
    {
        var lastError: SessionStoreError?
        var reason = ""
        let attempts = configuration.retryDelays.count + 1
        for attempt in 0..<attempts {
            if attempt > 0 { try? await Task.sleep(for: configuration.retryDelays[attempt - 1]) }
            let store = self.store
            switch await withDeadline(
                configuration.appendTimeout,
                { () async throws(SessionStoreError) in
                    try await store.append(entries, to: key)
                })
            {
            case .success:
                return nil
            case .timedOut:
                // Not retried: the call may still land, and a retry would race it.
                lastError = SessionStoreError(.timeout, reason: "the append did not finish in time", key: key)
                reason = "append timed out after \(configuration.appendTimeout); it may still complete"
                configuration.logger.warning("mirror append timed out", metadata: ["key": .string(key.description)])
                return TranscriptMirrorFailure(
                    key: key, filePath: filePath, entryCount: entries.count, entryUUIDs: entries.compactMap(\.uuid),
                    reason: reason, error: lastError)
            case .failed(let error) where error.code == .backendUnavailable:
                // Not retried: the store knows its server is down and says so at once; waiting
                // out the retry delays would only hold the result. The store checks again at its
                // next call, so the next batch goes through as soon as the server is back.
                configuration.logger.warning(
                    "mirror append failed: the store's server is unavailable; the batch is dropped",
                    metadata: ["key": .string(key.description), "error": .string(error.description)])
                return TranscriptMirrorFailure(
                    key: key, filePath: filePath, entryCount: entries.count, entryUUIDs: entries.compactMap(\.uuid),
                    reason: "append failed: the store is unavailable: \(error.description)", error: error)
            case .failed(let error):
                lastError = error
                reason = error.description
                configuration.logger.debug(
                    "mirror append failed",
                    metadata: [
                        "key": .string(key.description), "attempt": .stringConvertible(attempt + 1),
                        "error": .string(error.description),
                    ])
            }
        }
        configuration.logger.error(
            "mirror append failed; the batch is dropped",
            metadata: [
                "key": .string(key.description), "entries": .stringConvertible(entries.count), "error": .string(reason),
            ])
        return TranscriptMirrorFailure(
            key: key, filePath: filePath, entryCount: entries.count, entryUUIDs: entries.compactMap(\.uuid),
            reason: "append failed after \(attempts) attempts: \(reason)", error: lastError)
    }
}

/// The outcome of an operation raced against a deadline.
enum DeadlineOutcome<Value: Sendable>: Sendable {
    case success(Value)
    case failed(SessionStoreError)
    case timedOut
}

/// Runs `operation` in its own task and returns when it finishes or `timeout` passes, whichever
/// is first. On timeout the task is cancelled but not awaited: a store call that ignores
/// cancellation cannot hold the caller past the deadline.
private final class DeadlineBox<Value: Sendable>: Sendable {
    let race = Mutex(DeadlineRace<Value>())
}

private struct DeadlineRace<Value: Sendable> {
    var continuation: CheckedContinuation<DeadlineOutcome<Value>, Never>?
    var outcome: DeadlineOutcome<Value>?
    var work: Task<Void, Never>?
    var timer: Task<Void, Never>?
}

func withDeadline<Value: Sendable>(
    _ timeout: Duration, _ operation: @escaping @Sendable () async throws(SessionStoreError) -> Value
) async -> DeadlineOutcome<Value> {
    let box = DeadlineBox<Value>()
    /// The first outcome wins; it cancels both tasks (the losing one ends on its own time).
    @Sendable func finish(_ outcome: DeadlineOutcome<Value>) {
        let (continuation, work, timer) = box.race.withLock {
            (race: inout DeadlineRace<Value>) -> (
                CheckedContinuation<DeadlineOutcome<Value>, Never>?, Task<Void, Never>?, Task<Void, Never>?
            ) in
            guard race.outcome == nil else { return (nil, nil, nil) }
            race.outcome = outcome
            defer { race.continuation = nil }
            return (race.continuation, race.work, race.timer)
        }
        work?.cancel()
        timer?.cancel()
        continuation?.resume(returning: outcome)
    }
    return await withTaskCancellationHandler {
        await withCheckedContinuation { (continuation: CheckedContinuation<DeadlineOutcome<Value>, Never>) in
            let work = Task {
                do throws(SessionStoreError) {
                    finish(.success(try await operation()))
                } catch {
                    finish(.failed(error))
                }
            }
            let timer = Task {
                guard (try? await Task.sleep(for: timeout)) != nil else { return }
                finish(.timedOut)
            }
            let decided = box.race.withLock { (race: inout DeadlineRace<Value>) -> DeadlineOutcome<Value>? in
                race.work = work
                race.timer = timer
                if race.outcome == nil { race.continuation = continuation }
                return race.outcome
            }
            if let decided {
                work.cancel()
                timer.cancel()
                continuation.resume(returning: decided)
            }
        }
    } onCancel: {
        finish(.failed(SessionStoreError(.timeout, reason: "the caller was cancelled")))
    }
}
