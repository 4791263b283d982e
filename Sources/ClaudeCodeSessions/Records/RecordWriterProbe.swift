import ClaudeCode
import Foundation

/// A record writer with its internals exposed, for the project's benchmarks only (the
/// `Benchmarking` SPI: not part of the API, may change without notice).
///
/// `SessionPersistentClient` drives the same writer: `appendNow` on the caller's thread for
/// every frame, `checkpoint` at each turn's end, folds of the journal into the snapshot in the
/// background. The benchmarks time those calls and watch the folds.
@_spi(Benchmarking) public struct RecordWriterProbe: Sendable {
    let writer: SessionWriter

    /// Creates the record's files (or finds them) on the calling thread.
    public func prepare() throws(SessionStoreError) { try writer.prepareNow() }
    /// Appends one message and waits until it is in the journal.
    public func append(_ message: ConversationMessage) async throws { try await writer.append(message) }
    /// Queues one message without waiting.
    public func enqueue(_ message: ConversationMessage) { writer.enqueue(message) }
    /// Writes messages to the journal on the calling thread, as the recording path does.
    public func appendNow(_ messages: some Collection<ConversationMessage>) -> (written: Int, error: SessionStoreError?)
    {
        writer.appendNow(messages)
    }
    /// Makes everything appended durable, as at a turn's end.
    public func checkpoint() async throws { try await writer.checkpoint() }
    /// Writes everything and releases the record.
    public func close() async throws { try await writer.close() }
    /// Time spent in file I/O so far.
    public var ioTime: Duration { writer.ioTime }
    /// Whether a fold is running now.
    public var isFolding: Bool { writer.isFolding }
    /// How many folds ran, and the longest.
    public var foldStatistics: (count: Int, longest: Duration) { writer.foldStatistics }
}

extension FileRecordStore {
    /// A probe over a new writer of `id`; nothing is created until ``RecordWriterProbe/prepare()``
    /// or the first append.
    @_spi(Benchmarking) public func probeWriter(
        for id: SessionID, workingDirectory: String, options: [String: JSONValue]
    ) -> RecordWriterProbe {
        RecordWriterProbe(writer: makeWriter(for: id, workingDirectory: workingDirectory, options: options))
    }

    /// A probe over the writer of `id`, after creating its files (or finding them).
    @_spi(Benchmarking) public func openProbeWriter(
        _ id: SessionID, workingDirectory: String, options: [String: JSONValue] = [:]
    ) async throws -> RecordWriterProbe {
        RecordWriterProbe(writer: try await openSession(id, workingDirectory: workingDirectory, options: options))
    }
}
