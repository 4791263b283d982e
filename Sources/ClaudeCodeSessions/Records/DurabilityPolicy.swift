/// When the store asks the operating system to put written bytes on stable storage (`fsync`).
///
/// Every record is handed to the kernel (`write(2)`) before `SessionWriter/append(_:)`
/// returns, whatever the policy, so a crash of the *process* (even `kill -9`) loses at most
/// the record being written. The policy only matters for power loss or a kernel crash.
public struct DurabilityPolicy: Sendable, Hashable, CustomStringConvertible {
    private enum Storage: String, Hashable, Sendable { case everyMessage, checkpoint, never }
    private let storage: Storage
    private init(_ storage: Storage) { self.storage = storage }

    /// `fdatasync` the journal after every write: nothing acknowledged is lost even on power
    /// loss. Costs one disk flush per append (batched appends share one).
    public static var everyMessage: Self { .init(.everyMessage) }
    /// `fsync` at every `SessionWriter/checkpoint()` (the end of each turn), at close, and
    /// during compaction. Power loss can lose the current turn. The default.
    public static var checkpoint: Self { .init(.checkpoint) }
    /// Never `fsync`; rely on the kernel's write-back. Compaction still replaces files
    /// atomically by rename, but a power loss can lose recent turns.
    public static var never: Self { .init(.never) }

    /// The policy's name.
    public var description: String { storage.rawValue }

    var syncsEveryWrite: Bool { storage == .everyMessage }
    var syncsAtCheckpoint: Bool { storage != .never }
}

/// When the journal is folded into a new snapshot.
///
/// Folding rewrites the snapshot, which costs time proportional to the session's size, so
/// it happens only when the journal has grown to a fixed fraction of the snapshot
/// (geometric growth). Each byte is therefore rewritten a bounded number of times, and
/// persisting a message costs O(1) amortized however long the session is.
public struct CompactionPolicy: Sendable, Hashable {
    /// At a checkpoint, fold when the journal is at least this fraction of the snapshot's
    /// size. Default `1.0`. Lower values keep the snapshot fresher and cost more I/O.
    public var checkpointRatio: Double
    /// Fold during appends (without waiting for a checkpoint) once the journal is at least
    /// this many bytes *and* at least ``checkpointRatio`` of the snapshot. Default 16 MiB.
    public var appendThresholdBytes: Int

    /// Creates a policy.
    public init(checkpointRatio: Double = 1.0, appendThresholdBytes: Int = 16 << 20) {
        self.checkpointRatio = max(0, checkpointRatio)
        self.appendThresholdBytes = max(0, appendThresholdBytes)
    }
}
