import ClaudeCode
import ClaudeCodeSessions
import ClaudeCodeSessionsPostgres
import ClaudeCodeTesting
import Foundation
import PostgresNIO
import SessionBackendTestSupport
import Testing

@Suite(
    "PostgreSQL session store: contracts", .enabled(if: PostgresTestServer.enabled, PostgresTestServer.skipReason),
    .timeLimit(.minutes(5)))
struct PostgresContractTests {
    @Test("transcript contract", arguments: TranscriptStoreContract.all)
    func transcriptContract(_ contract: TranscriptStoreContract) async throws {
        try await PostgresTestServer.withStore { store, _ in try await contract.run(store) }
    }

    @Test("record contract", arguments: RecordStoreContract.all)
    func recordContract(_ contract: RecordStoreContract) async throws {
        try await PostgresTestServer.withStore { store, _ in try await contract.run(store) }
    }

    @Test func libraryMutationsOfUnknownSessionsThrowAndLeaveNoPhantom() async throws {
        try await PostgresTestServer.withStore { store, _ in try await checkMutationsOfUnknownSessions(store) }
    }

    @Test("record contract, every message synchronous", arguments: RecordStoreContract.all.prefix(1))
    func recordContractEveryMessage(_ contract: RecordStoreContract) async throws {
        try await PostgresTestServer.withStore(durability: .everyMessage) { store, _ in try await contract.run(store) }
    }
}

@Suite(
    "PostgreSQL session store: schema, damage, servers",
    .enabled(if: PostgresTestServer.enabled, PostgresTestServer.skipReason), .timeLimit(.minutes(2)))
struct PostgresSessionStoreTests {
    static let key = SessionStoreKey(projectKey: "-home-me-project", sessionID: "11111111-2222-4333-8444-555555555555")
    static let migrations = ["transcripts-v1", "records-v1", "records-summary-v1", "records-labels-v1", "search-v1"]

    @Test func migrationsAreNamedAndApplyingThemAgainIsANoOp() async throws {
        try await PostgresTestServer.withStore { store, client in
            #expect(PostgresSessionStore.migrationNames == Self.migrations)
            #expect(try await store.appliedMigrations() == Self.migrations)
            try await store.append([entry(type: "user", uuid: "u1")], to: Self.key)
            let tables = try await Self.tableDefinitions(client, schema: store.configuration.schema)
            #expect(try await store.migrate() == [])
            // Another server starting on the same schema.
            let again = try PostgresSessionStore(client: client, configuration: store.configuration)
            #expect(try await again.migrate() == [])
            #expect(try await again.appliedMigrations() == Self.migrations)
            #expect(try await Self.tableDefinitions(client, schema: store.configuration.schema) == tables)
            #expect(try await again.load(Self.key)?.map(\.uuid) == ["u1"])
        }
    }

    @Test func serversMigratingAtOnceApplyEachStepOnce() async throws {
        try await PostgresTestServer.withClient { client in
            let schema = PostgresTestServer.newSchema()
            do {
                let applied = try await withThrowingTaskGroup(of: [String].self) { group in
                    for _ in 0..<4 {
                        group.addTask {
                            try await PostgresSessionStore(client: client, configuration: .init(schema: schema))
                                .migrate()
                        }
                    }
                    var all: [[String]] = []
                    for try await names in group { all.append(names) }
                    return all
                }
                #expect(applied.filter { !$0.isEmpty } == [Self.migrations])
                #expect(applied.filter(\.isEmpty).count == 3)
                try await PostgresTestServer.dropSchema(schema, client)
            } catch {
                try? await PostgresTestServer.dropSchema(schema, client)
                throw error
            }
        }
    }

    @Test func aSchemaMigratedByANewerVersionIsRefused() async throws {
        try await PostgresTestServer.withStore { store, client in
            try await client.query(
                PostgresQuery(
                    unsafeSQL:
                        "INSERT INTO \"\(store.configuration.schema)\".claude_schema_migrations (name) VALUES ('from-the-future')"
                ))
            await #expect(throws: SessionStoreError.self) { try await store.migrate() }
            do throws(SessionStoreError) {
                try await store.migrate()
            } catch {
                #expect(error.code == .schemaTooNew)
            }
        }
    }

    @Test func onlyPlainSchemaNamesAreAccepted() async throws {
        try await PostgresTestServer.withClient { client in
            for good in ["public", "claude_sessions", "_x1", String(repeating: "a", count: 63)] {
                #expect(throws: Never.self) {
                    _ = try PostgresSessionStore(client: client, configuration: .init(schema: good))
                }
            }
            for bad in [
                "", "1abc", "Sessions", "x-y", "a\"; DROP SCHEMA public CASCADE; --", "é",
                String(repeating: "a", count: 64),
            ] {
                #expect(throws: SessionStoreError.self) {
                    _ = try PostgresSessionStore(client: client, configuration: .init(schema: bad))
                }
            }
        }
    }

    @Test func aCorruptEntryIsReportedWithItsKeyAndWithoutItsContent() async throws {
        try await PostgresTestServer.withStore { store, client in
            try await store.append([entry(type: "user"), entry(type: "user")], to: Self.key)
            try await client.query(
                PostgresQuery(
                    unsafeSQL: """
                        UPDATE "\(store.configuration.schema)".claude_transcript_entries
                        SET raw = convert_to('not json: do-not-print', 'UTF8') WHERE seq = 1
                        """))
            do throws(SessionStoreError) {
                _ = try await store.load(Self.key)
                Issue.record("a corrupt entry loaded")
            } catch {
                #expect(error.code == .damagedRecord)
                #expect(error.key == Self.key)
                #expect(error.reason?.contains("entry 1") == true)
                #expect(String(describing: error).contains("key: \(Self.key)"))
                #expect(!String(describing: error).contains("do-not-print"))
            }
        }
    }

    @Test func aCorruptSummaryOrRecordIsReportedWithItsKeyOrSession() async throws {
        try await PostgresTestServer.withStore { store, client in
            let schema = store.configuration.schema
            try await store.append([entry(type: "user")], to: Self.key)
            try await client.query(
                PostgresQuery(unsafeSQL: "UPDATE \"\(schema)\".claude_session_summaries SET data = '[1,'"))
            do throws(SessionStoreError) {
                _ = try await store.listSessionSummaries(projectKey: Self.key.projectKey)
                Issue.record("a corrupt summary listed")
            } catch {
                #expect(error.code == .damagedRecord)
                #expect(error.key == Self.key)
            }
            let id = try SessionID("a-session")
            let writer = try await store.openRecord(id, startTime: Date(), workingDirectory: "/w", options: [:])
            try await writer.close()
            try await client.query(PostgresQuery(unsafeSQL: "UPDATE \"\(schema)\".claude_records SET options = 'oops'"))
            do throws(SessionStoreError) {
                _ = try await store.loadRecord(id)
                Issue.record("a corrupt record loaded")
            } catch {
                #expect(error.code == .damagedRecord)
                #expect(error.sessionID == id)
            }
            try await client.query(
                PostgresQuery(
                    unsafeSQL: """
                        INSERT INTO "\(schema)".claude_records (session_id, start_time_us, last_activity_us, working_directory,
                            options, schema_version) VALUES ('../evil', 0, 0, '', '{}', 1)
                        """))
            let listed = try await store.listRecords()
            #expect(listed.compactMap(\.summary).map(\.sessionID) == [id])
            #expect(listed.compactMap(\.damagedFile).map(\.error.code) == [.invalidSessionID])
        }
    }

    @Test func twoServersAppendingToOneKeyKeepEveryEntryOnceInEachServersOrder() async throws {
        try await PostgresTestServer.withStore { store, _ in
            // A second server: its own pool of connections on the same schema.
            try await PostgresTestServer.withClient { otherClient in
                let other = try PostgresSessionStore(client: otherClient, configuration: store.configuration)
                let count = 60
                try await withThrowingTaskGroup(of: Void.self) { group in
                    for (tag, server) in [("A", store), ("B", other), ("C", store), ("C", other)] {
                        group.addTask {
                            for n in 0..<count {
                                try await server.append(
                                    [entry(type: "user", uuid: "\(tag)-\(n)", #""n":\#(n)"#)], to: Self.key)
                            }
                        }
                    }
                    try await group.waitForAll()
                }
                let loaded = try #require(try await other.load(Self.key))
                #expect(loaded.count == 3 * count)
                for tag in ["A", "B", "C"] {
                    let ns = try loaded.filter { $0.uuid?.hasPrefix("\(tag)-") == true }.map {
                        try $0.value()["n"]?.intValue
                    }
                    #expect(ns == Array(0..<count), "server \(tag)'s order")
                }
            }
        }
    }

    @Test func aStoreOwningItsClientWorksWhileRunningAndFailsAfterwards() async throws {
        try await PostgresTestServer.probe()
        let schema = PostgresTestServer.newSchema()
        let store = try PostgresSessionStore(
            clientConfiguration: PostgresTestServer.clientConfiguration, configuration: .init(schema: schema))
        let running = Task { await store.run() }
        do {
            try await store.migrate()
            try await store.append([entry(type: "user", uuid: "u1")], to: Self.key)
            #expect(try await store.load(Self.key)?.count == 1)
            try await store.client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \"\(schema)\" CASCADE"))
        } catch {
            running.cancel()
            await running.value
            throw error
        }
        running.cancel()
        await running.value  // run() returns once cancelled; the connections are closed
        do throws(SessionStoreError) {
            _ = try await store.load(Self.key)
            Issue.record("a statement ran after the client stopped")
        } catch {
            #expect(error.code == .backendFailure)
        }
        // A store on a client the application runs only waits for cancellation in run().
        let borrowed = try PostgresSessionStore(client: store.client)
        let waiting = Task { await borrowed.run() }
        waiting.cancel()
        await waiting.value
    }

    static func tableDefinitions(_ client: PostgresClient, schema: String) async throws -> [String] {
        var definitions: [String] = []
        let rows = try await client.query(
            """
            SELECT table_name || '.' || column_name || ':' || data_type || ':' || is_nullable
            FROM information_schema.columns WHERE table_schema = \(schema) ORDER BY 1
            """)
        for try await definition in rows.decode(String.self) { definitions.append(definition) }
        let indexes = try await client.query(
            "SELECT indexdef FROM pg_indexes WHERE schemaname = \(schema) ORDER BY 1")
        for try await definition in indexes.decode(String.self) { definitions.append(definition) }
        return definitions
    }
}

@Suite(
    "PostgreSQL session store: record folds", .enabled(if: PostgresTestServer.enabled, PostgresTestServer.skipReason),
    .timeLimit(.minutes(2)))
struct PostgresRecordFoldTests {
    let start = Date(timeIntervalSince1970: 1_760_000_000)

    /// Appends frames as a version of this library without `records-summary-v1` did: the frames
    /// and the row's counters, not the fold.
    static func appendAsBefore(
        _ client: PostgresClient, schema: String, sessionID: SessionID, _ messages: [ConversationMessage]
    ) async throws {
        let records = "\"\(schema)\".claude_records"
        let frames = "\"\(schema)\".claude_record_messages"
        try await client.query(
            """
            INSERT INTO \(unescaped: records) (session_id, start_time_us, last_activity_us, working_directory, options,
                schema_version)
            VALUES (\(sessionID.rawValue), \(StoreBackendClock.microseconds(messages[0].timestamp)),
                \(StoreBackendClock.microseconds(messages[0].timestamp)), '/w', '{}', \(SessionData.currentSchemaVersion))
            ON CONFLICT (session_id) DO NOTHING
            """)
        for message in messages {
            try await client.query(
                """
                WITH r AS (
                    UPDATE \(unescaped: records) SET next_seq = next_seq + 1, message_count = message_count + 1,
                        last_activity_us = GREATEST(last_activity_us, \(StoreBackendClock.microseconds(message.timestamp)))
                    WHERE session_id = \(sessionID.rawValue) RETURNING id, next_seq - 1 AS seq
                )
                INSERT INTO \(unescaped: frames) (record_id, seq, direction, timestamp_us, type, subtype, raw)
                SELECT r.id, r.seq, \(message.direction.rawValue), \(StoreBackendClock.microseconds(message.timestamp)),
                    \(message.type), \(message.subtype), \(ByteBuffer(bytes: message.rawJSON)) FROM r
                """)
        }
    }

    /// The listed summary of `id`, checked against the fold of its loaded frames.
    static func listedFold(_ store: PostgresSessionStore, _ id: SessionID) async throws -> RecordSummary {
        let expected = RecordSummaryFold(history: try await store.loadRecord(id).conversationHistory)
        let summary = try #require(try await store.listRecords().compactMap(\.summary).first { $0.sessionID == id })
        #expect(ListedLedger(summary.ledger) == ListedLedger(expected.ledger))
        #expect(summary.title == expected.title)
        #expect(summary.model == expected.model)
        return summary
    }

    static func foldIsCurrent(_ client: PostgresClient, schema: String, _ id: SessionID) async throws -> Bool {
        try await client.query(
            """
            SELECT summary IS NOT NULL AND summary_seq IS NOT DISTINCT FROM next_seq
            FROM "\(unescaped: schema)".claude_records WHERE session_id = \(id.rawValue)
            """
        ).decode(Bool.self).first { _ in true } ?? false
    }

    @Test func aSchemaWithoutRecordLabelsUpgradesAndKeepsItsRecords() async throws {
        try await PostgresTestServer.withClient { client in
            let schema = PostgresTestServer.newSchema()
            do {
                let store = try PostgresSessionStore(client: client, configuration: .init(schema: schema))
                _ = try await store.migrate(upTo: "records-summary-v1")
                let id = try SessionID("written-before-labels")
                try await Self.appendAsBefore(
                    client, schema: schema, sessionID: id,
                    Array(RecordStoreContract.twoProcessBatches(start: start).joined()))
                #expect(try await store.migrate() == ["records-labels-v1", "search-v1"])
                let data = try await store.loadRecord(id)
                #expect(data.title == nil && data.tag == nil && !data.conversationHistory.isEmpty)
                try await store.setRecordTitle(id, title: "After the upgrade")
                try await store.setRecordTag(id, tag: "upgraded")
                let summary = try #require(try await store.listRecords().compactMap(\.summary).first)
                #expect(summary.title == "After the upgrade" && summary.tag == "upgraded")
                try await PostgresTestServer.dropSchema(schema, client)
            } catch {
                try? await PostgresTestServer.dropSchema(schema, client)
                throw error
            }
        }
    }

    @Test func aRecordWrittenBeforeTheSummaryMigrationListsItsFold() async throws {
        try await PostgresTestServer.withClient { client in
            let schema = PostgresTestServer.newSchema()
            do {
                let store = try PostgresSessionStore(client: client, configuration: .init(schema: schema))
                #expect(try await store.migrate(upTo: "records-v1") == ["transcripts-v1", "records-v1"])
                let id = try SessionID("written-before-the-migration")
                let batches = RecordStoreContract.twoProcessBatches(start: start)
                try await Self.appendAsBefore(client, schema: schema, sessionID: id, Array(batches.joined()))

                #expect(try await store.migrate() == ["records-summary-v1", "records-labels-v1", "search-v1"])
                #expect(try await Self.foldIsCurrent(client, schema: schema, id) == false)
                let summary = try await Self.listedFold(store, id)
                #expect(summary.ledger.turns == 3)
                #expect(abs(summary.ledger.costUSD - 0.05) < 1e-9)
                #expect(summary.title == "Build, tests, deploy")
                #expect(summary.model == "claude-opus-4-1")
                // Computed once and kept: the record is current from now on.
                #expect(try await Self.foldIsCurrent(client, schema: schema, id))
                #expect(try await Self.listedFold(store, id) == summary)

                // Appends continue from the stored fold.
                let writer = try await store.openRecord(id, startTime: start, workingDirectory: "/w", options: [:])
                try await writer.append(RecordStoreContract.twoProcessBatches(start: start + 100)[2])
                try await writer.close()
                #expect(try await Self.foldIsCurrent(client, schema: schema, id))
                #expect(try await Self.listedFold(store, id).ledger.turns == 4)
                try await PostgresTestServer.dropSchema(schema, client)
            } catch {
                try? await PostgresTestServer.dropSchema(schema, client)
                throw error
            }
        }
    }

    @Test func aFoldAppendedAroundOrUnreadableIsComputedAgainFromTheFrames() async throws {
        try await PostgresTestServer.withStore { store, client in
            let schema = store.configuration.schema
            let id = try SessionID("around")
            let batches = RecordStoreContract.twoProcessBatches(start: start)
            let writer = try await store.openRecord(id, startTime: start, workingDirectory: "/w", options: [:])
            for batch in batches[0..<3] { try await writer.append(batch) }
            #expect(try await Self.listedFold(store, id).ledger.turns == 1)

            // An older version of the library appends without keeping the fold.
            try await Self.appendAsBefore(client, schema: schema, sessionID: id, batches[3])
            #expect(try await Self.foldIsCurrent(client, schema: schema, id) == false)
            // The writer's next append must not fold into the stale fold.
            try await writer.append(batches[4])
            #expect(try await Self.listedFold(store, id).ledger.turns == 2)
            #expect(try await Self.foldIsCurrent(client, schema: schema, id))

            // A fold that cannot be read back is computed again too.
            try await client.query(
                PostgresQuery(unsafeSQL: "UPDATE \"\(schema)\".claude_records SET summary = '{\"oops\"'"))
            #expect(try await Self.listedFold(store, id).title == "Fix the build")
            for batch in batches[5...] { try await writer.append(batch) }
            try await writer.close()
            let summary = try await Self.listedFold(store, id)
            #expect(summary.ledger.turns == 3)
            #expect(summary.title == "Build, tests, deploy")
            #expect(try await Self.foldIsCurrent(client, schema: schema, id))
        }
    }
}

@Suite(
    "PostgreSQL session store: SessionPersistentClient",
    .enabled(if: PostgresTestServer.enabled, PostgresTestServer.skipReason), .timeLimit(.minutes(2)))
struct PostgresSessionPersistentClientTests {
    @Test func theClientRecordsEveryFrameIntoPostgresAndResumesFromIt() async throws {
        try await PostgresTestServer.withStore { store, _ in try await recordConversationThroughClient(into: store) }
    }
}

@Suite(
    "PostgreSQL session store: real CLI", .enabled(if: PostgresTestServer.enabled, PostgresTestServer.skipReason),
    .serialized, .timeLimit(.minutes(3)))
struct PostgresRealCLITests {
    @Test func aRealConversationIsRecordedInPostgresAndResumed() async throws {
        try await PostgresTestServer.withStore { store, _ in try await recordRealCLIConversation(into: store) }
    }
}

/// Needs no server (or one of its own): what happens when there is none.
@Suite("PostgreSQL session store: server down", .timeLimit(.minutes(1)))
struct PostgresServerDownTests {
    static let key = SessionStoreKey(projectKey: "p", sessionID: "s")

    /// A store on 127.0.0.1 at a port nothing listens on, with the default 30 s timeout.
    static func refusingStore(password: String? = nil) throws -> PostgresSessionStore {
        try PostgresSessionStore(
            clientConfiguration: .init(
                host: "127.0.0.1", port: try ThrowawayPostgresServer.freePort(), username: "nobody", password: password,
                database: "none", tls: .disable))
    }

    @Test func aRefusingServerFailsEveryCallAtOnceAndNeverShowsThePassword() async throws {
        let password = "pw-\(UUID().uuidString)"
        let store = try Self.refusingStore(password: password)
        let running = Task { await store.run() }
        let clock = ContinuousClock()
        // The first call (the pool is still connecting) and the next ones (known down).
        for round in 0..<3 {
            let start = clock.now
            do throws(SessionStoreError) {
                try await store.append([entry(type: "user", uuid: "u1")], to: Self.key)
                Issue.record("an append succeeded without a server")
            } catch {
                #expect(error.code == .backendUnavailable)
                #expect(error.systemErrorNumber == ECONNREFUSED)
                #expect(error.key == Self.key)
                #expect(!String(reflecting: error).contains(password))
            }
            #expect(clock.now - start < .seconds(1), "call \(round) waited \(clock.now - start)")
        }
        let start = clock.now
        do throws(SessionStoreError) {
            _ = try await store.openRecord(try! SessionID("a"), startTime: Date(), workingDirectory: "", options: [:])
            Issue.record("a record opened without a server")
        } catch {
            #expect(error.code == .backendUnavailable)
            #expect(error.sessionID?.rawValue == "a")
        }
        await #expect(throws: SessionStoreError.self) { _ = try await store.listSessions(projectKey: "p") }
        #expect(clock.now - start < .seconds(1))
        running.cancel()
        await running.value
    }

    @Test func anUnknownHostFailsAtOnce() async throws {
        let store = try PostgresSessionStore(
            clientConfiguration: .init(
                host: "no-such-host.invalid", port: 5432, username: "nobody", password: nil, database: "none",
                tls: .disable))
        let running = Task { await store.run() }
        let clock = ContinuousClock()
        let start = clock.now
        do throws(SessionStoreError) {
            _ = try await store.load(Self.key)
            Issue.record("a load succeeded without a server")
        } catch {
            #expect(error.code == .backendUnavailable)
            #expect(error.reason?.contains("does not resolve") == true)
        }
        #expect(clock.now - start < .seconds(5))
        running.cancel()
        await running.value
    }

    @Test func aTimeoutStillAppliesWhenTheServerCannotBeProbed() async throws {
        // A borrowed client without its configuration: no probe, the timeout decides.
        let client = PostgresClient(
            configuration: .init(
                host: "127.0.0.1", port: try ThrowawayPostgresServer.freePort(), username: "nobody", password: nil,
                database: "none", tls: .disable))
        let store = try PostgresSessionStore(client: client, configuration: .init(operationTimeout: .milliseconds(300)))
        let running = Task { await client.run() }
        do throws(SessionStoreError) {
            try await store.append([entry(type: "user", uuid: "u1")], to: Self.key)
            Issue.record("an append succeeded without a server")
        } catch {
            #expect(error.code == .backendFailure)
            #expect(error.reason?.contains("no answer") == true)
        }
        running.cancel()
        await running.value
    }

    @Test(.enabled(if: ThrowawayPostgresServer.available, "PostgreSQL's initdb and pg_ctl are not installed"))
    func aServerStoppedMidTestFailsCallsAtOnceAndServesThemAgainOnceRestarted() async throws {
        let server = try await ThrowawayPostgresServer.make()
        defer { server.remove() }
        let store = try PostgresSessionStore(clientConfiguration: server.clientConfiguration)
        let running = Task { await store.run() }
        do {
            try await store.migrate()
            try await store.append([entry(type: "user", uuid: "before")], to: Self.key)
            try await server.stopOffThePool()
            let clock = ContinuousClock()
            for round in 0..<3 {
                let start = clock.now
                do throws(SessionStoreError) {
                    try await store.append([entry(type: "user", uuid: "down-\(round)")], to: Self.key)
                    Issue.record("an append succeeded while the server was stopped")
                } catch {
                    #expect(error.code == .backendUnavailable, "\(error)")
                }
                await #expect(throws: SessionStoreError.self) { _ = try await store.load(Self.key) }
                #expect(clock.now - start < .seconds(1), "round \(round) waited \(clock.now - start)")
            }
            try await server.startOffThePool()
            // The first call after the restart goes through (the pool reconnects).
            try await store.append([entry(type: "user", uuid: "after")], to: Self.key)
            #expect(try await store.load(Self.key)?.compactMap(\.uuid) == ["before", "after"])
        } catch {
            running.cancel()
            await running.value
            throw error
        }
        running.cancel()
        await running.value
    }

    @Test func mirroredTurnsToARefusingServerAreReportedAtOnceTurnAfterTurn() async throws {
        let store = try Self.refusingStore()
        let running = Task { await store.run() }
        let session = "465172ef-4ebe-4852-a1ca-3da73101f380"
        let transport = ScriptedTransport()
        var options = ClaudeCodeOptions()
        options.env = ["HOME": "/h"]
        // Default mirror settings: 3 attempts, 0.2 and 0.8 s apart, 60 s append timeout.
        let client = ClaudeSDKClient(options: options, sessionStore: store, transport: { _ in transport })
        async let connecting: Void = client.connect()
        transport.respond(to: try #require(await transport.nextWritten()), with: [:])
        try await connecting
        let clock = ContinuousClock()
        let start = clock.now
        for turn in 0..<3 {
            try await client.query("go")
            _ = await transport.nextWritten()
            transport.emit(
                #"{"type":"transcript_mirror","filePath":"/h/.claude/projects/-w/\#(session).jsonl","entries":[{"type":"user","uuid":"u-\#(turn)","sessionId":"\#(session)"}]}"#
            )
            transport.emit(
                #"{"type":"result","subtype":"success","is_error":false,"num_turns":1,"session_id":"\#(session)","duration_ms":1,"duration_api_ms":1,"result":"ok"}"#
            )
            var errors: [String] = []
            for try await message in client.receiveResponse() {
                if case .system(let system) = message, case .mirrorError(let error, _) = system.kind {
                    errors.append(error)
                }
            }
            #expect(errors.count == 1, "turn \(turn)")
            #expect(errors.first?.contains("backendUnavailable") == true, "turn \(turn): \(errors)")
        }
        // Without failing fast each turn would wait the 30 s timeout; without the mirror giving
        // up at once, the 1 s of retry delays.
        #expect(clock.now - start < .milliseconds(2500), "three turns took \(clock.now - start)")
        await client.disconnect()
        running.cancel()
        await running.value
    }
}
