import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Something the store wants you to know about that is not a return value: a failed write
/// (the records are kept and retried), a recovery, skipped journal lines, a compaction.
///
/// Receive events from `FileRecordStore/events()` or the configuration's
/// ``FileRecordStore/Configuration/eventHandler``. They are also logged.
public struct PersistenceEvent: Sendable, Hashable {
    /// The kind of event. An extensible set.
    public struct Kind: Hashable, Sendable, CustomStringConvertible {
        private let name: String
        private init(_ name: String) { self.name = name }

        /// Writing records failed; they are kept in memory and retried on the next append,
        /// flush or checkpoint. ``PersistenceEvent/count`` is the number of records waiting.
        /// Emitted once per distinct error, not on every retry.
        public static let writeFailed = Kind("writeFailed")
        /// Records that had failed to write were written. ``PersistenceEvent/count`` is how many.
        public static let writeRecovered = Kind("writeRecovered")
        /// A checkpoint (journal sync or compaction) failed; it will be retried.
        public static let checkpointFailed = Kind("checkpointFailed")
        /// The journal was folded into a new snapshot. ``PersistenceEvent/count`` is the
        /// session's message count.
        public static let compacted = Kind("compacted")
        /// Undecodable journal lines were skipped (``PersistenceEvent/count`` lines).
        public static let journalLinesSkipped = Kind("journalLinesSkipped")
        /// Undecodable journal lines were copied to `<id>.quarantine` before a compaction
        /// dropped them from the journal.
        public static let journalLinesQuarantined = Kind("journalLinesQuarantined")
        /// A writer found its session's files gone (deleted, or the folder removed) and
        /// started the session again from its metadata; earlier records are not in it.
        public static let sessionRecreated = Kind("sessionRecreated")
        /// The writer was released with records it could not write; they are lost.
        /// ``PersistenceEvent/count`` is how many.
        public static let recordsDropped = Kind("recordsDropped")

        /// The kind's name.
        public var description: String { name }
    }

    /// What happened.
    public var kind: Kind
    /// The session concerned.
    public var sessionID: SessionID?
    /// The error, for failures.
    public var error: SessionStoreError?
    /// A count whose meaning depends on ``kind``.
    public var count: Int?
    /// The file concerned, when there is one.
    public var path: String?
    /// When it happened.
    public var date: Date

    /// Creates an event.
    public init(
        kind: Kind,
        sessionID: SessionID? = nil,
        error: SessionStoreError? = nil,
        count: Int? = nil,
        path: String? = nil,
        date: Date = Date()
    ) {
        self.kind = kind
        self.sessionID = sessionID
        self.error = error
        self.count = count
        self.path = path
        self.date = date
    }
}

/// Broadcasts events to every live `events()` stream and the configured handler.
final class PersistenceEventHub: Sendable {
    private let subscribers = Mutex<[UInt64: AsyncStream<PersistenceEvent>.Continuation]>([:])
    private let nextToken = Atomic<UInt64>(0)
    private let handler: (@Sendable (PersistenceEvent) -> Void)?

    init(handler: (@Sendable (PersistenceEvent) -> Void)?) {
        self.handler = handler
    }

    func makeStream(bufferingNewest limit: Int) -> AsyncStream<PersistenceEvent> {
        let (stream, continuation) = AsyncStream.makeStream(
            of: PersistenceEvent.self, bufferingPolicy: .bufferingNewest(limit))
        let token = nextToken.add(1, ordering: .relaxed).newValue
        subscribers.withLock { $0[token] = continuation }
        continuation.onTermination = { [weak self] _ in
            _ = self?.subscribers.withLock { $0.removeValue(forKey: token) }
        }
        return stream
    }

    func emit(_ event: PersistenceEvent) {
        let continuations = subscribers.withLock { Array($0.values) }
        for continuation in continuations { continuation.yield(event) }
        handler?(event)
    }

    func finishAll() {
        let continuations = subscribers.withLock { subscribers in
            defer { subscribers.removeAll() }
            return Array(subscribers.values)
        }
        for continuation in continuations { continuation.finish() }
    }
}
