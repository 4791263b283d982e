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

/// A database that keeps `SessionPersistentClient` records (SQLite, PostgreSQL).
package protocol DatabaseRecordBackend: Sendable {
    /// Appends messages to a record in one committed transaction.
    func appendRecord(_ messages: [ConversationMessage], id: SessionID, metadata: DatabaseRecordMetadata)
        async throws(SessionStoreError)
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

    package init(backend: Backend, id: SessionID, metadata: DatabaseRecordMetadata) {
        self.backend = backend
        self.id = id
        self.metadata = metadata
    }

    package func append(_ messages: [ConversationMessage]) async throws(SessionStoreError) {
        guard !closed.withLock({ $0 }) else { throw SessionStoreError(.writerClosed, sessionID: id) }
        try await backend.appendRecord(messages, id: id, metadata: metadata)
    }

    package func checkpoint() async throws(SessionStoreError) {
        try await backend.checkpointRecord(id)
    }

    package func close() async throws(SessionStoreError) {
        closed.withLock { $0 = true }
        try await backend.checkpointRecord(id)
    }
}
