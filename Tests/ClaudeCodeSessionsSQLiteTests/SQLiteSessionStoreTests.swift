import ClaudeCode
import ClaudeCodeSessions
import ClaudeCodeSessionsSQLite
import Foundation
import GRDB
import SessionBackendTestSupport
import Synchronization
import Testing

@Suite("SQLite session store: contracts", .timeLimit(.minutes(5)))
struct SQLiteContractTests {
    @Test("transcript contract on a WAL database file", arguments: TranscriptStoreContract.all)
    func transcriptContractOnFile(_ contract: TranscriptStoreContract) async throws {
        try await withFileStore { store, _ in try await contract.run(store) }
    }

    @Test("transcript contract on an in-memory queue", arguments: TranscriptStoreContract.all)
    func transcriptContractInMemory(_ contract: TranscriptStoreContract) async throws {
        try await contract.run(try makeInMemoryStore())
    }

    @Test("record contract on a WAL database file", arguments: RecordStoreContract.all)
    func recordContractOnFile(_ contract: RecordStoreContract) async throws {
        try await withFileStore { store, _ in try await contract.run(store) }
    }

    @Test("record contract on an in-memory queue", arguments: RecordStoreContract.all)
    func recordContractInMemory(_ contract: RecordStoreContract) async throws {
        try await contract.run(try makeInMemoryStore())
    }

    @Test func libraryMutationsOfUnknownSessionsThrowAndLeaveNoPhantom() async throws {
        try await withFileStore { store, _ in try await checkMutationsOfUnknownSessions(store) }
    }
}

@Suite("SQLite session store: schema, files, damage", .timeLimit(.minutes(2)))
struct SQLiteSessionStoreTests {
    let key = SessionStoreKey(projectKey: "-home-me-project", sessionID: "11111111-2222-4333-8444-555555555555")

    @Test func migrationsAreNamedAndApplyingThemAgainIsANoOp() async throws {
        try await withFileStore { store, folder in
            #expect(
                SQLiteSessionStore.migrator.migrations == [
                    "transcripts-v1", "records-v1", "records-summary-v1", "records-labels-v1",
                ])
            try await store.append([entry(type: "user", uuid: "u1")], to: key)
            let schemaBefore = try await store.database.read { db in
                try String.fetchAll(db, sql: "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
            }
            try store.migrate()
            // A second store (another process, a restart) on the same file migrates again.
            let again = try SQLiteSessionStore(path: folder.file("sessions.sqlite"))
            try again.migrate()
            let (applied, schemaAfter) = try await again.database.read { db in
                (
                    try SQLiteSessionStore.migrator.appliedMigrations(db),
                    try String.fetchAll(db, sql: "SELECT sql FROM sqlite_master WHERE sql IS NOT NULL ORDER BY name")
                )
            }
            #expect(applied == ["transcripts-v1", "records-v1", "records-summary-v1", "records-labels-v1"])
            #expect(schemaAfter == schemaBefore)
            #expect(try await again.load(key)?.map(\.uuid) == ["u1"])
            // The schema enforces the contracts: indexes for keys, sequence and uuid.
            #expect(schemaAfter.contains { $0.contains("CREATE UNIQUE INDEX claude_transcript_entries_uuid") })
        }
    }

    @Test func aDatabaseAtAnOlderMigrationIsUpgradedKeepingItsData() async throws {
        try await TemporaryFolder.with { folder in
            let path = folder.file("old.sqlite")
            let pool = try DatabasePool(path: path)
            try SQLiteSessionStore.migrator.migrate(pool, upTo: "transcripts-v1")
            try await pool.write { db in
                try db.execute(
                    sql:
                        "INSERT INTO claude_transcripts (project_key, session_id, subpath, next_seq, modified_ms) VALUES ('p', 's', '', 1, 1)"
                )
                try db.execute(
                    sql:
                        "INSERT INTO claude_transcript_entries (transcript_id, seq, type, uuid, raw) VALUES (1, 0, 'user', 'u0', CAST('{\"type\":\"user\",\"uuid\":\"u0\"}' AS BLOB))"
                )
                #expect(try db.tableExists("claude_records") == false)
            }
            try pool.close()
            let store = try SQLiteSessionStore(path: path)
            let key = SessionStoreKey(projectKey: "p", sessionID: "s")
            try await store.append([entry(type: "user", uuid: "u0"), entry(type: "user", uuid: "u1")], to: key)
            #expect(try await store.load(key)?.map(\.uuid) == ["u0", "u1"])
            let writer = try await store.openRecord(
                SessionID("abc"), startTime: Date(), workingDirectory: "/w", options: [:])
            try await writer.close()
            #expect(try await store.listRecords().count == 1)
        }
    }

    @Test func aDatabaseMigratedByANewerVersionIsRefused() async throws {
        try await withFileStore { store, folder in
            try await store.database.write { db in
                try db.execute(sql: "INSERT INTO grdb_migrations (identifier) VALUES ('from-the-future')")
            }
            #expect(throws: SessionStoreError.self) { try store.migrate() }
            do throws(SessionStoreError) {
                _ = try SQLiteSessionStore(path: folder.file("sessions.sqlite"))
                Issue.record("opened a database from a newer version")
            } catch {
                #expect(error.code == .schemaTooNew)
            }
        }
    }

    @Test func aCorruptEntryIsReportedWithItsKeyAndWithoutItsContent() async throws {
        try await withFileStore { store, _ in
            try await store.append([entry(type: "user", #""secret":"do-not-print""#), entry(type: "user")], to: key)
            try await store.database.write { db in
                try db.execute(
                    sql:
                        "UPDATE claude_transcript_entries SET raw = CAST('not json: do-not-print' AS BLOB) WHERE seq = 1"
                )
            }
            do throws(SessionStoreError) {
                _ = try await store.load(key)
                Issue.record("a corrupt entry loaded")
            } catch {
                #expect(error.code == .damagedRecord)
                #expect(error.key == key)
                #expect(error.reason?.contains("entry 1") == true)
                #expect(String(describing: error).contains("key: \(key)"))
                #expect(!String(describing: error).contains("do-not-print"))
            }
            // Other keys still work.
            let other = SessionStoreKey(projectKey: key.projectKey, sessionID: "other")
            try await store.append([entry(type: "user")], to: other)
            #expect(try await store.load(other)?.count == 1)
        }
    }

    @Test func aCorruptSummaryIsReportedWithItsKey() async throws {
        let store = try makeInMemoryStore()
        try await store.append([entry(type: "user")], to: key)
        try await store.database.write { db in try db.execute(sql: "UPDATE claude_session_summaries SET data = '[1,'") }
        do throws(SessionStoreError) {
            _ = try await store.listSessionSummaries(projectKey: key.projectKey)
            Issue.record("a corrupt summary listed")
        } catch {
            #expect(error.code == .damagedRecord)
            #expect(error.key == key)
        }
        // The append that would fold into it fails too, and stores nothing.
        await #expect(throws: SessionStoreError.self) {
            try await store.append([entry(type: "user", uuid: "x")], to: key)
        }
        #expect(try await store.load(key)?.count == 1)
    }

    @Test func aCorruptRecordIsReportedWithItsSession() async throws {
        let store = try makeInMemoryStore()
        let id = try SessionID("a-session")
        let writer = try await store.openRecord(id, startTime: Date(), workingDirectory: "/w", options: ["model": "m"])
        try await writer.append([ConversationMessage(direction: .sent, rawJSON: #"{"type":"user"}"#)])
        try await writer.close()
        try await store.database.write { db in try db.execute(sql: "UPDATE claude_records SET options = 'oops'") }
        do throws(SessionStoreError) {
            _ = try await store.loadRecord(id)
            Issue.record("a corrupt record loaded")
        } catch {
            #expect(error.code == .damagedRecord)
            #expect(error.sessionID == id)
        }
        // A session id that is not a valid SessionID is listed as damaged, not hidden.
        try await store.database.write { db in
            try db.execute(
                sql: """
                    INSERT INTO claude_records (session_id, start_time_us, last_activity_us, working_directory, options, schema_version)
                    VALUES ('../evil', 0, 0, '', '{}', 1)
                    """)
        }
        let listed = try await store.listRecords()
        #expect(listed.compactMap(\.summary).map(\.sessionID) == [id])
        #expect(listed.compactMap(\.damagedFile).map(\.error.code) == [.invalidSessionID])
    }

    @Test func theFileIsPrivateInWALModeAndItsFolderIsCreated() async throws {
        try await TemporaryFolder.with { folder in
            let path = folder.file("nested/deeper/sessions.sqlite")
            let store = try SQLiteSessionStore(path: path)
            try await store.append([entry(type: "user")], to: key)
            let attributes = try FileManager.default.attributesOfItem(atPath: path)
            #expect((attributes[.posixPermissions] as? Int) == 0o600)
            let parent = try FileManager.default.attributesOfItem(atPath: folder.file("nested/deeper"))
            #expect((parent[.posixPermissions] as? Int) == 0o700)
            let mode = try await store.database.read { db in try String.fetchOne(db, sql: "PRAGMA journal_mode") }
            #expect(mode == "wal")
            #expect(store.database is DatabasePool)
        }
    }

    @Test(.enabled(if: ReadOnlyBindMount.available, "needs root and bind mounts for a read-only folder"))
    func aDatabaseInAReadOnlyFolderIsOpenedReadOnly() async throws {
        try await TemporaryFolder.with { folder in
            let (source, target) = (folder.file("source"), folder.file("read-only"))
            #expect(mkdir(source, 0o700) == 0 && mkdir(target, 0o700) == 0)
            let id = try SessionID("kept")
            do {
                let store = try SQLiteSessionStore(path: source + "/sessions.sqlite")
                try await store.append([entry(type: "user", uuid: "u1"), entry(type: "user", uuid: "u2")], to: key)
                let writer = try await store.openRecord(id, startTime: Date(), workingDirectory: "/w", options: [:])
                try await writer.close()
            }
            let mount = try ReadOnlyBindMount(source, at: target)
            defer { mount.unmount() }
            let path = target + "/sessions.sqlite"
            let store = try SQLiteSessionStore(path: path)
            #expect(store.isReadOnly)
            #expect(store.path == path)
            #expect(try await store.load(key)?.compactMap(\.uuid) == ["u1", "u2"])
            #expect(try await store.listSessions(projectKey: key.projectKey).map(\.sessionID) == [key.sessionID])
            #expect(try await store.listRecords().compactMap(\.summary).map(\.sessionID) == [id])
            #expect(try await store.loadRecord(id).sessionID == id)
            do throws(SessionStoreError) {
                try await store.append([entry(type: "user", uuid: "u3")], to: key)
                Issue.record("appended to a read-only database")
            } catch {
                #expect(error.code == .ioFailure)
                #expect(error.systemErrorNumber == EROFS)
                #expect(error.path == path)
                #expect(error.key == key)
                #expect(error.reason?.contains("read-only") == true)
            }
            await #expect(throws: SessionStoreError.self) {
                _ = try await store.openRecord(
                    try SessionID("new"), startTime: Date(), workingDirectory: "/w", options: [:])
            }
            #expect(try await store.load(key)?.count == 2)
            // A file that is not there cannot be made: said so, with the file.
            do throws(SessionStoreError) {
                _ = try SQLiteSessionStore(path: target + "/absent.sqlite")
                Issue.record("created a database in a read-only folder")
            } catch {
                #expect(error.code == .ioFailure)
                #expect(error.path == target + "/absent.sqlite")
                #expect(error.systemErrorNumber == EROFS)
                #expect(error.reason?.contains("cannot create the database file") == true)
            }
        }
    }

    @Test func unusablePathsAndFilesAreReportedWithTheirCode() async throws {
        try await TemporaryFolder.with { folder in
            let file = folder.file("plain-file")
            try Data("hello".utf8).write(to: URL(fileURLWithPath: file))
            #expect(throws: SessionStoreError.self) { _ = try SQLiteSessionStore(path: file + "/sessions.sqlite") }
            let garbage = folder.file("garbage.sqlite")
            try Data(repeating: 0x5A, count: 8192).write(to: URL(fileURLWithPath: garbage))
            do throws(SessionStoreError) {
                _ = try SQLiteSessionStore(path: garbage)
                Issue.record("opened a file that is not a database")
            } catch {
                #expect(error.code == .damagedFile)
                #expect(error.path == garbage)
            }
        }
    }

    @Test func aCheckpointSyncsAndLeavesTheConnectionAsConfigured() async throws {
        try await withFileStore { store, _ in
            let id = try SessionID("checkpointed")
            let writer = try await store.openRecord(id, startTime: Date(), workingDirectory: "", options: [:])
            try await writer.append([ConversationMessage(direction: .sent, rawJSON: #"{"type":"user"}"#)])
            try await writer.checkpoint()
            let (synchronous, stamp) = try await store.database.write { db in
                (
                    try Int.fetchOne(db, sql: "PRAGMA synchronous"),
                    try Int64.fetchOne(db, sql: "SELECT checkpoint_us FROM claude_records")
                )
            }
            #expect(synchronous == 1)  // NORMAL between checkpoints
            #expect((stamp ?? 0) > 0)  // the checkpoint committed a write under FULL
        }
    }

    @Test(.timeLimit(.minutes(2)))
    func appendsFromSeveralProcessesAreAllKeptInOrderAndDeduplicated() async throws {
        try await withFileStore { store, folder in
            let path = folder.file("sessions.sqlite")
            let count = 150
            // Four processes at once; two of them send the very same entries (same uuids).
            let tags = ["A", "B", "C", "C"]
            let results = try await withThrowingTaskGroup(of: (Int32, String).self) { group in
                for tag in tags {
                    group.addTask {
                        try await runBuiltExecutable(
                            "SQLiteStoreWriter", [path, key.projectKey, key.sessionID, tag, String(count)])
                    }
                }
                var results: [(Int32, String)] = []
                for try await result in group { results.append(result) }
                return results
            }
            for (status, output) in results { #expect(status == 0, "writer failed: \(output)") }
            let loaded = try #require(try await store.load(key))
            #expect(loaded.count == 3 * count)
            #expect(Set(loaded.compactMap(\.uuid)).count == 3 * count)
            for tag in ["A", "B", "C"] {
                let ns = try loaded.filter { $0.uuid?.hasPrefix("\(tag)-") == true }.map {
                    try $0.value()["n"]?.intValue
                }
                #expect(ns == Array(0..<count), "writer \(tag)'s order")
            }
            #expect(
                try await store.listSubkeys(projectKey: key.projectKey, sessionID: key.sessionID)
                    == ["subagents/agent-A", "subagents/agent-B", "subagents/agent-C"])
            let sub = SessionStoreKey(
                projectKey: key.projectKey, sessionID: key.sessionID, subpath: "subagents/agent-C")
            #expect(try await store.load(sub)?.count == count / 10)
            #expect(try await store.listSessionSummaries(projectKey: key.projectKey).count == 1)
        }
    }
}

extension SQLiteSessionStoreTests {
    @Test(.timeLimit(.minutes(2)))
    func recordWritersInSeveralProcessesKeepEveryMessageInOrder() async throws {
        try await withFileStore { store, folder in
            let path = folder.file("sessions.sqlite")
            let count = 120
            let id = try SessionID("shared-record")
            let results = try await withThrowingTaskGroup(of: (Int32, String).self) { group in
                for tag in ["A", "B", "C"] {
                    group.addTask {
                        try await runBuiltExecutable(
                            "SQLiteStoreWriter", [path, "unused", id.rawValue, tag, String(count), "records"])
                    }
                }
                var results: [(Int32, String)] = []
                for try await result in group { results.append(result) }
                return results
            }
            for (status, output) in results { #expect(status == 0, "writer failed: \(output)") }
            let history = try await store.loadRecord(id).conversationHistory
            #expect(history.count == 3 * count)
            for tag in ["A", "B", "C"] {
                let ns = try history.compactMap { message -> Int? in
                    let value = try JSONValue.parse(message.rawJSON)
                    return value["w"]?.stringValue == tag ? value["n"]?.intValue : nil
                }
                #expect(ns == Array(0..<count), "writer \(tag)'s order")
            }
            #expect(try await store.listRecords().compactMap(\.summary).map(\.messageCount) == [3 * count])
        }
    }
}

@Suite("SQLite session store: SessionPersistentClient", .timeLimit(.minutes(2)))
struct SQLiteSessionPersistentClientTests {
    @Test func theClientRecordsEveryFrameIntoSQLiteAndResumesFromIt() async throws {
        try await withFileStore { store, _ in try await recordConversationThroughClient(into: store) }
    }
}

@Suite("SQLite session store: real CLI", .serialized, .timeLimit(.minutes(3)))
struct SQLiteRealCLITests {
    @Test func aRealConversationIsRecordedInSQLiteAndResumed() async throws {
        try await withFileStore { store, _ in try await recordRealCLIConversation(into: store) }
    }
}

@Suite("SQLite session store: record folds", .timeLimit(.minutes(2)))
struct SQLiteRecordFoldTests {
    let start = Date(timeIntervalSince1970: 1_760_000_000)

    /// Appends frames as a version of this library without `records-summary-v1` did: the frames
    /// and the row's counters, not the fold.
    static func appendAsBefore(_ db: Database, sessionID: SessionID, _ messages: [ConversationMessage]) throws {
        if try Int64.fetchOne(
            db, sql: "SELECT id FROM claude_records WHERE session_id = ?", arguments: [sessionID.rawValue])
            == nil
        {
            try db.execute(
                sql: """
                    INSERT INTO claude_records (session_id, start_time_us, last_activity_us, working_directory, options, schema_version)
                    VALUES (?, ?, ?, ?, '{}', ?)
                    """,
                arguments: [
                    sessionID.rawValue, StoreBackendClock.microseconds(messages[0].timestamp),
                    StoreBackendClock.microseconds(messages[0].timestamp), "/w", SessionData.currentSchemaVersion,
                ])
        }
        for message in messages {
            let row = try #require(
                try Row.fetchOne(
                    db,
                    sql: """
                        UPDATE claude_records SET next_seq = next_seq + 1, message_count = message_count + 1,
                            last_activity_us = max(last_activity_us, ?)
                        WHERE session_id = ? RETURNING id, next_seq - 1
                        """,
                    arguments: [StoreBackendClock.microseconds(message.timestamp), sessionID.rawValue]))
            try db.execute(
                sql: """
                    INSERT INTO claude_record_messages (record_id, seq, direction, timestamp_us, type, subtype, raw)
                    VALUES (?, ?, ?, ?, ?, ?, ?)
                    """,
                arguments: [
                    row[0] as Int64, row[1] as Int64, message.direction.rawValue,
                    StoreBackendClock.microseconds(message.timestamp), message.type, message.subtype,
                    Data(message.rawJSON),
                ])
        }
    }

    /// The listed summary of `id`, checked against the fold of its loaded frames.
    static func listedFold(_ store: SQLiteSessionStore, _ id: SessionID) async throws -> RecordSummary {
        let expected = RecordSummaryFold(history: try await store.loadRecord(id).conversationHistory)
        let summary = try #require(try await store.listRecords().compactMap(\.summary).first { $0.sessionID == id })
        #expect(ListedLedger(summary.ledger) == ListedLedger(expected.ledger))
        #expect(summary.title == expected.title)
        #expect(summary.model == expected.model)
        return summary
    }

    static func foldIsCurrent(_ store: SQLiteSessionStore, _ id: SessionID) async throws -> Bool {
        try await store.database.read { db in
            try Bool.fetchOne(
                db,
                sql: "SELECT summary IS NOT NULL AND summary_seq = next_seq FROM claude_records WHERE session_id = ?",
                arguments: [id.rawValue])
        } ?? false
    }

    @Test func aDatabaseWithoutRecordLabelsUpgradesAndKeepsItsRecords() async throws {
        try await TemporaryFolder.with { folder in
            let path = folder.file("labels.sqlite")
            let id = try SessionID("written-before-labels")
            let pool = try DatabasePool(path: path)
            try SQLiteSessionStore.migrator.migrate(pool, upTo: "records-summary-v1")
            try await pool.write { db in
                #expect(try db.columns(in: "claude_records").contains { $0.name == "custom_title" } == false)
                try Self.appendAsBefore(
                    db, sessionID: id, Array(RecordStoreContract.twoProcessBatches(start: start).joined()))
            }
            try pool.close()
            let store = try SQLiteSessionStore(path: path)
            #expect(
                try await store.database.read { db in try SQLiteSessionStore.migrator.appliedMigrations(db) }.last
                    == "records-labels-v1")
            let data = try await store.loadRecord(id)
            #expect(data.title == nil && data.tag == nil && !data.conversationHistory.isEmpty)
            try await store.setRecordTitle(id, title: "After the upgrade")
            try await store.setRecordTag(id, tag: "upgraded")
            let summary = try #require(try await store.listRecords().compactMap(\.summary).first)
            #expect(summary.title == "After the upgrade" && summary.tag == "upgraded")
        }
    }

    @Test func aRecordWrittenBeforeTheSummaryMigrationListsItsFold() async throws {
        try await TemporaryFolder.with { folder in
            let path = folder.file("old.sqlite")
            let pool = try DatabasePool(path: path)
            try SQLiteSessionStore.migrator.migrate(pool, upTo: "records-v1")
            let id = try SessionID("written-before-the-migration")
            let batches = RecordStoreContract.twoProcessBatches(start: start)
            try await pool.write { db in
                #expect(try db.columns(in: "claude_records").contains { $0.name == "summary" } == false)
                try Self.appendAsBefore(db, sessionID: id, Array(batches.joined()))
            }
            try pool.close()

            let store = try SQLiteSessionStore(path: path)
            #expect(
                try await store.database.read { db in try SQLiteSessionStore.migrator.appliedMigrations(db) }
                    == ["transcripts-v1", "records-v1", "records-summary-v1", "records-labels-v1"])
            #expect(try await Self.foldIsCurrent(store, id) == false)
            let summary = try await Self.listedFold(store, id)
            #expect(summary.ledger.turns == 3)
            #expect(abs(summary.ledger.costUSD - 0.05) < 1e-9)
            #expect(summary.title == "Build, tests, deploy")
            #expect(summary.model == "claude-opus-4-1")
            // Computed once and kept: the record is current from now on.
            #expect(try await Self.foldIsCurrent(store, id))
            #expect(try await Self.listedFold(store, id) == summary)

            // Appends continue from the stored fold.
            let writer = try await store.openRecord(id, startTime: start, workingDirectory: "/w", options: [:])
            try await writer.append(RecordStoreContract.twoProcessBatches(start: start + 100)[2])
            try await writer.close()
            #expect(try await Self.foldIsCurrent(store, id))
            #expect(try await Self.listedFold(store, id).ledger.turns == 4)
        }
    }

    @Test func appendsFoldTheirBatchWithoutReadingFramesAndListingReadsOneRowPerRecord() async throws {
        let statements = StatementLog()
        var configuration = SQLiteSessionStore.databaseConfiguration(.init())
        configuration.prepareDatabase { db in db.trace { statements.append($0.description) } }
        let store = try SQLiteSessionStore(database: DatabaseQueue(configuration: configuration))
        let id = try SessionID("traced")
        let batches = RecordStoreContract.twoProcessBatches(start: start)
        let writer = try await store.openRecord(id, startTime: start, workingDirectory: "/w", options: [:])
        statements.clear()
        for batch in batches { try await writer.append(batch) }
        #expect(!statements.all.isEmpty)
        #expect(!statements.all.contains { $0.contains("FROM claude_record_messages") }, "an append read frames")
        statements.clear()
        let summary = try #require(try await store.listRecords().first?.summary)
        #expect(!statements.all.contains { $0.contains("claude_record_messages") }, "the listing read frames")
        #expect(summary.ledger.turns == 3)
        #expect(summary.title == "Build, tests, deploy")
        _ = try await Self.listedFold(store, id)
        try await writer.close()
    }

    @Test func aFoldAppendedAroundOrUnreadableIsComputedAgainFromTheFrames() async throws {
        let store = try makeInMemoryStore()
        let id = try SessionID("around")
        let batches = RecordStoreContract.twoProcessBatches(start: start)
        let writer = try await store.openRecord(id, startTime: start, workingDirectory: "/w", options: [:])
        for batch in batches[0..<3] { try await writer.append(batch) }
        #expect(try await Self.listedFold(store, id).ledger.turns == 1)

        // An older version of the library appends without keeping the fold.
        try await store.database.write { db in try Self.appendAsBefore(db, sessionID: id, batches[3]) }
        #expect(try await Self.foldIsCurrent(store, id) == false)
        // The writer's next append must not fold into the stale fold.
        try await writer.append(batches[4])
        #expect(try await Self.listedFold(store, id).ledger.turns == 2)
        #expect(try await Self.foldIsCurrent(store, id))

        // A fold that cannot be read back is computed again too.
        try await store.database.write { db in try db.execute(sql: "UPDATE claude_records SET summary = '{\"oops\"'") }
        #expect(try await Self.listedFold(store, id).title == "Fix the build")
        for batch in batches[5...] { try await writer.append(batch) }
        try await writer.close()
        let summary = try await Self.listedFold(store, id)
        #expect(summary.ledger.turns == 3)
        #expect(summary.title == "Build, tests, deploy")
        #expect(try await Self.foldIsCurrent(store, id))
        // Per-model figures that cannot be read back are computed again as well.
        try await store.database.write { db in try db.execute(sql: "UPDATE claude_records SET models = '[1'") }
        #expect(try await Self.listedFold(store, id) == summary)
    }
}

/// Statements traced by a database connection.
final class StatementLog: Sendable {
    private let statements = Mutex<[String]>([])
    func append(_ statement: String) { statements.withLock { $0.append(statement) } }
    func clear() { statements.withLock { $0.removeAll() } }
    var all: [String] { statements.withLock { $0 } }
}
