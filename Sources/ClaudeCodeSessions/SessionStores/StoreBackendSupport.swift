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

/// The listing fold of a record (``RecordSummaryFold``) as the database backends keep it: the
/// whole fold as JSON text in `claude_records.summary` (what appends fold into) and the figures a
/// listing shows in typed columns (``StoreRecordFigures``), all valid while
/// `claude_records.summary_seq` equals the row's `next_seq`.
///
/// Each append folds its batch into the fold in its own transaction (only when the fold changes
/// is it written again), so listing reads typed columns of one row per record, decodes no JSON
/// and never reads a conversation. A fold that is missing (rows written before the
/// `records-summary-v1` migration) or stale (appended to by a version of this library that does
/// not keep it) is computed from the record's frames at the next listing and stored; one that
/// cannot be read back when an append needs it is left stale, so the same happens.
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

/// The figures of a ``RecordSummaryFold`` that a listing shows, as the database backends keep
/// them in typed columns of `claude_records` (`title`, `model`, `turns`, `input_tokens`,
/// `output_tokens`, `cache_creation_input_tokens`, `cache_read_input_tokens`, `cost_usd`,
/// `api_duration_ms`, `duration_ms`, `models`).
///
/// A listing builds its ``RecordSummary`` from them: the title, the model and the ledger's
/// session totals (turns, tokens, cost, per-model totals, API and wall time). The per-turn
/// ``SessionLedger/recentTurns`` are not kept here (decoding them for 10,000 records would cost
/// far more than the listing's budget): load the record for those.
package struct StoreRecordFigures: Sendable, Equatable {
    package var title: String?
    package var model: String?
    package var turns: Int64
    package var inputTokens: Int64
    package var outputTokens: Int64
    package var cacheCreationInputTokens: Int64
    package var cacheReadInputTokens: Int64
    package var costUSD: Double
    package var apiDurationMilliseconds: Int64
    package var durationMilliseconds: Int64
    /// Per-model totals as a JSON object: model name → `[input, output, cacheCreation, cacheRead, costUSD]`.
    package var models: String

    /// The figures of a fold.
    package init(_ fold: RecordSummaryFold) {
        let ledger = fold.ledger
        title = fold.title
        model = fold.model
        turns = Int64(ledger.turns)
        inputTokens = Int64(ledger.totals.inputTokens)
        outputTokens = Int64(ledger.totals.outputTokens)
        cacheCreationInputTokens = Int64(ledger.totals.cacheCreationInputTokens)
        cacheReadInputTokens = Int64(ledger.totals.cacheReadInputTokens)
        costUSD = ledger.totals.costUSD
        apiDurationMilliseconds = Int64(ledger.apiDurationMilliseconds)
        durationMilliseconds = Int64(ledger.durationMilliseconds)
        var object: [String: JSONValue] = [:]
        for (name, totals) in ledger.models {
            object[name] = .array([
                .int(Int64(totals.inputTokens)), .int(Int64(totals.outputTokens)),
                .int(Int64(totals.cacheCreationInputTokens)), .int(Int64(totals.cacheReadInputTokens)),
                .double(totals.costUSD),
            ])
        }
        models = object.isEmpty ? "{}" : JSONValue.object(object).jsonString
    }

    /// Figures read back from their columns.
    package init(
        title: String?, model: String?, turns: Int64, inputTokens: Int64, outputTokens: Int64,
        cacheCreationInputTokens: Int64, cacheReadInputTokens: Int64, costUSD: Double, apiDurationMilliseconds: Int64,
        durationMilliseconds: Int64, models: String
    ) {
        self.title = title
        self.model = model
        self.turns = turns
        self.inputTokens = inputTokens
        self.outputTokens = outputTokens
        self.cacheCreationInputTokens = cacheCreationInputTokens
        self.cacheReadInputTokens = cacheReadInputTokens
        self.costUSD = costUSD
        self.apiDurationMilliseconds = apiDurationMilliseconds
        self.durationMilliseconds = durationMilliseconds
        self.models = models
    }

    /// The fold a listing passes to ``RecordSummary/init(sessionID:startTime:lastActivity:messageCount:workingDirectory:schemaVersion:path:skippedJournalLines:fold:)``,
    /// or `nil` when the per-model totals cannot be read back.
    package var listedFold: RecordSummaryFold? {
        var fold = RecordSummaryFold()
        fold.customTitle = title
        fold.model = model
        fold.ledger.turns = Int(turns)
        fold.ledger.totals = SessionLedger.Totals(
            inputTokens: Int(inputTokens), outputTokens: Int(outputTokens),
            cacheCreationInputTokens: Int(cacheCreationInputTokens), cacheReadInputTokens: Int(cacheReadInputTokens),
            costUSD: costUSD)
        fold.ledger.apiDurationMilliseconds = Int(apiDurationMilliseconds)
        fold.ledger.durationMilliseconds = Int(durationMilliseconds)
        if models != "{}" {
            guard case .object(let object)? = try? JSONValue.parse(models) else { return nil }
            for (name, value) in object {
                guard case .array(let numbers) = value, numbers.count == 5,
                    let input = numbers[0].intValue, let output = numbers[1].intValue,
                    let creation = numbers[2].intValue, let read = numbers[3].intValue,
                    let cost = numbers[4].doubleValue
                else { return nil }
                fold.ledger.models[name] = SessionLedger.Totals(
                    inputTokens: input, outputTokens: output, cacheCreationInputTokens: creation,
                    cacheReadInputTokens: read, costUSD: cost)
            }
        }
        return fold
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
