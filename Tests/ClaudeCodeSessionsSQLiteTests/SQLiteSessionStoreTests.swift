import ClaudeCode
import ClaudeCodeSessions
import ClaudeCodeSessionsSQLite
import Foundation
import GRDB
import SessionBackendTestSupport
import Testing

@Suite("SQLite session store: contracts", .timeLimit(.minutes(2)))
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
            #expect(SQLiteSessionStore.migrator.migrations == ["transcripts-v1", "records-v1"])
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
            #expect(applied == ["transcripts-v1", "records-v1"])
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
                _ = try await store.openRecord(try SessionID("new"), startTime: Date(), workingDirectory: "/w", options: [:])
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
