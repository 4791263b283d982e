import ClaudeCode
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

// Helpers shared by the database backends (`ClaudeCodeSessionsSQLite`, `ClaudeCodeSessionsPostgres`).
// `package` access: visible to this package's modules, not part of the public API.

extension SessionStoreKey {
    /// The subpath as stored in a database column: `""` for the main transcript.
    package var storedSubpath: String { subpath ?? "" }

    // `isMain` and `validate()` come from SessionStoreKey+Validation.swift.
}

/// The one place where the database backends fold appended entries into a session summary.
///
/// Backends call ``fold(_:key:entries:)`` inside the transaction that appends, with only the
/// entries that were actually stored (not the duplicates skipped by `uuid`), for main keys only,
/// and stamp the summary's time themselves on the clock of their listings.
package enum StoreSummaryFolding {
    /// Folds `entries` into the previous summary data of `key`'s session (an empty object when
    /// `nil`) with the shared ``SessionSummaryFold`` (the Python SDK's `fold_session_summary`).
    package static func fold(_ previous: JSONValue?, key: SessionStoreKey, entries: [SessionStoreEntry]) -> JSONValue {
        let summary = previous.map { SessionStoreSummary(sessionID: key.sessionID, modifiedMilliseconds: 0, data: $0) }
        return SessionSummaryFold.fold(summary, key: key, entries: entries).data
    }
}

/// Time stamps and identifiers shared by the database backends.
package enum StoreBackendClock {
    /// Now, in milliseconds since 1970.
    package static func nowMilliseconds() -> Int64 {
        Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
    }

    /// A date as whole microseconds since 1970 (the precision of ``ConversationMessage/timestamp``).
    package static func microseconds(_ date: Date) -> Int64 { StoreTimestamp.microseconds(date) }

    /// The date of a microsecond count, equal to the normalized date it was made from.
    package static func date(microseconds: Int64) -> Date {
        Date(timeIntervalSince1970: Double(microseconds) / 1_000_000)
    }
}

/// Database text columns cannot hold NUL (PostgreSQL refuses it, SQLite's C strings cut at it),
/// which a JSON string may (`"\u0000"`): entry types, uuids, frame types and subtypes are stored
/// with `%` and NUL percent-escaped, reversibly and injectively, so they still compare (and
/// deduplicate) exactly.
package enum StoreText {
    package static func encode(_ text: String) -> String {
        guard text.utf8.contains(where: { $0 == 0 || $0 == UInt8(ascii: "%") }) else { return text }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(text.utf8.count + 8)
        for byte in text.utf8 {
            switch byte {
            case 0: bytes += Array("%00".utf8)
            case UInt8(ascii: "%"): bytes += Array("%25".utf8)
            default: bytes.append(byte)
            }
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    package static func decode(_ text: String) -> String {
        guard text.utf8.contains(UInt8(ascii: "%")) else { return text }
        var bytes: [UInt8] = []
        var input = Array(text.utf8)[...]
        while let byte = input.popFirst() {
            if byte == UInt8(ascii: "%"), input.count >= 2 {
                let code = Array(input.prefix(2))
                if code == Array("00".utf8) {
                    bytes.append(0)
                    input = input.dropFirst(2)
                    continue
                }
                if code == Array("25".utf8) {
                    bytes.append(UInt8(ascii: "%"))
                    input = input.dropFirst(2)
                    continue
                }
            }
            bytes.append(byte)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// What a database record writer needs to start a record again.
package struct DatabaseRecordMetadata: Sendable {
    package var startTimeMicroseconds: Int64
    package var workingDirectory: String
    package var options: String

    package init(startTimeMicroseconds: Int64, workingDirectory: String, options: String) {
        self.startTimeMicroseconds = startTimeMicroseconds
        self.workingDirectory = workingDirectory
        self.options = options
    }
}

/// The listing fold of a record (``RecordSummaryFold``) as the database backends keep it: JSON
/// text in `claude_records.summary`, valid while `claude_records.summary_seq` equals the row's
/// `next_seq`.
///
/// Each append folds its batch into the stored fold in its own transaction (only when the fold
/// changes is it written again), so listing decodes one small value per record and never reads a
/// conversation. A fold that is missing (rows written before the `records-summary-v1`
/// migration), stale (appended to by a version of this library that does not keep it) or
/// unreadable is computed from the record's frames at the next listing and stored.
package enum StoreRecordSummary {
    /// The stored text of an empty fold, as new records start.
    package static let emptyText = encode(RecordSummaryFold())

    /// The fold as stored.
    package static func encode(_ fold: RecordSummaryFold) -> String {
        // A fold holds only strings, numbers, dates and containers of them: encoding cannot fail.
        guard let data = try? JSONEncoder().encode(fold) else { return emptyText }
        return String(decoding: data, as: UTF8.self)
    }

    /// The stored fold, or `nil` when `text` is missing or cannot be read back (then it is
    /// computed again from the frames).
    package static func decode(_ text: String?, with decoder: JSONDecoder = JSONDecoder()) -> RecordSummaryFold? {
        guard let text else { return nil }
        if text == emptyText { return RecordSummaryFold() }
        return try? decoder.decode(RecordSummaryFold.self, from: Data(text.utf8))
    }

    /// Folds an appended batch into what a writer last knew of its record.
    ///
    /// - Returns: the new fold, and its text when it must be written (`nil` when the batch left
    ///   it unchanged, as it does for most frames).
    package static func folding(_ fold: RecordSummaryFold, _ messages: [ConversationMessage])
        -> (fold: RecordSummaryFold, text: String?)
    {
        var next = fold
        next.add(messages)
        return (next, next == fold ? nil : encode(next))
    }
}

/// What a record writer knows of its row after its latest append: a hint that lets the next
/// append skip reading (and decoding) the stored fold. Backends check it against the row
/// (`id`, `next_seq`, and `summary_seq = next_seq`) in the append's transaction and read the row
/// when it does not match.
package struct DatabaseRecordCursor: Sendable {
    /// The record row's id.
    package var recordID: Int64
    /// The row's `next_seq` (and `summary_seq`) after the append.
    package var nextSeq: Int64
    /// The fold of everything up to `nextSeq`.
    package var fold: RecordSummaryFold

    package init(recordID: Int64, nextSeq: Int64, fold: RecordSummaryFold) {
        self.recordID = recordID
        self.nextSeq = nextSeq
        self.fold = fold
    }
}

/// A database that keeps `SessionPersistentClient` records (SQLite, PostgreSQL).
package protocol DatabaseRecordBackend: Sendable {
    /// Appends messages to a record in one committed transaction, folding them into the
    /// record's stored ``RecordSummaryFold`` in that transaction.
    ///
    /// - Parameter cursor: what this writer learnt from its previous append (or open), if anything.
    /// - Returns: the cursor after this append, or `nil` when the record's fold is not kept
    ///   (it will be computed at listing).
    func appendRecord(
        _ messages: [ConversationMessage], id: SessionID, metadata: DatabaseRecordMetadata,
        after cursor: DatabaseRecordCursor?
    ) async throws(SessionStoreError) -> DatabaseRecordCursor?
    /// Makes the record durable.
    func checkpointRecord(_ id: SessionID) async throws(SessionStoreError)
}

/// Appends to one record of a database backend: every `append` is one transaction,
/// committed before it returns.
package final class DatabaseRecordWriter<Backend: DatabaseRecordBackend>: SessionRecordWriter {
    let backend: Backend
    let id: SessionID
    let metadata: DatabaseRecordMetadata
    private let closed = Mutex(false)
    private let cursor: Mutex<DatabaseRecordCursor?>

    package init(
        backend: Backend, id: SessionID, metadata: DatabaseRecordMetadata, cursor: DatabaseRecordCursor? = nil
    ) {
        self.backend = backend
        self.id = id
        self.metadata = metadata
        self.cursor = Mutex(cursor)
    }

    package func append(_ messages: [ConversationMessage]) async throws(SessionStoreError) {
        guard !closed.withLock({ $0 }) else { throw SessionStoreError(.writerClosed, sessionID: id) }
        guard !messages.isEmpty else { return }
        // Only a hint: the backend checks it against the row, so concurrent appends stay correct.
        let hint = cursor.withLock { $0 }
        do {
            let next = try await backend.appendRecord(messages, id: id, metadata: metadata, after: hint)
            cursor.withLock { $0 = next }
        } catch {
            // The append may or may not have landed (a time-out): read the row next time.
            cursor.withLock { $0 = nil }
            throw error
        }
    }

    package func checkpoint() async throws(SessionStoreError) {
        try await backend.checkpointRecord(id)
    }

    package func close() async throws(SessionStoreError) {
        closed.withLock { $0 = true }
        try await backend.checkpointRecord(id)
    }
}
