// Throughput of the SQLite and PostgreSQL session backends (scripts/bench/backends.sh).
//
//   backends-benchmark [--backend sqlite|postgres|all] [--entries 5000] [--sessions 10000] [--runs 7]
//                    [--dir DIR]
//
// For each backend, on ~1.2 KB transcript lines and client frames:
//   transcript append   entries/s appending one entry per call (a mirror flushing eagerly) and
//                       100 per call (a batched flush), to one key;
//   transcript load     entries/s and MB/s loading that key;
//   record append       messages/s through a SessionRecordWriter, one message per append as
//                       SessionPersistentClient does, with a checkpoint every 5 (a turn);
//   record load         messages/s loading that record;
//   listing             median time to list 10,000 sessions of a project (listSessions), their
//                       summaries (listSessionSummaries), and 10,000 records (listRecords).
// Medians of --runs runs where a run is cheap enough to repeat.
//
// SQLite uses a WAL database file in --dir (default a temp folder on the same disk as /tmp).
// PostgreSQL uses the server named by PGHOST/PGPORT/PGUSER/PGPASSWORD/PGDATABASE (as
// scripts/test/with-postgres.sh exports), in a schema of its own that it drops afterwards.

import ClaudeCode
import ClaudeCodeSessions
import ClaudeCodeSessionsPostgres
import ClaudeCodeSessionsSQLite
import Foundation
import GRDB
import PostgresNIO

@main
struct BackendsBenchmark {
    struct Settings {
        var backends: [String] = ["sqlite", "postgres"]
        var entries = 5000
        var sessions = 10_000
        var runs = 7
        var directory: String?
    }

    static func main() async throws {
        var settings = Settings()
        var iterator = CommandLine.arguments.dropFirst().makeIterator()
        while let key = iterator.next() {
            guard let value = iterator.next() else { usage() }
            switch key {
            case "--backend": settings.backends = value == "all" ? ["sqlite", "postgres"] : [value]
            case "--entries": settings.entries = Int(value) ?? settings.entries
            case "--sessions": settings.sessions = Int(value) ?? settings.sessions
            case "--runs": settings.runs = max(1, Int(value) ?? settings.runs)
            case "--dir": settings.directory = value
            default: usage()
            }
        }
        for backend in settings.backends {
            switch backend {
            case "sqlite": try await runSQLite(settings)
            case "postgres": try await runPostgres(settings)
            default: usage()
            }
        }
    }

    static func usage() -> Never {
        print(
            "usage: backends-benchmark [--backend sqlite|postgres|all] [--entries N] [--sessions N] [--runs N] [--dir DIR]"
        )
        exit(2)
    }

    // MARK: Backends

    static func runSQLite(_ settings: Settings) async throws {
        let folder =
            settings.directory ?? (FileManager.default.temporaryDirectory.path + "/backends-benchmark-\(getpid())")
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let store = try SQLiteSessionStore(path: folder + "/sessions.sqlite")
        print(
            "== SQLite \(try await store.database.read { try String.fetchOne($0, sql: "SELECT sqlite_version()") } ?? "?") (GRDB DatabasePool, WAL, synchronous=NORMAL + FULL at checkpoints) in \(folder)"
        )
        try await measure(store, recordStore: store, settings: settings)
    }

    static func runPostgres(_ settings: Settings) async throws {
        let configuration = try PostgresSessionStore.clientConfiguration()
        let schema = "claude_bench_\(getpid())"
        let store = try PostgresSessionStore(
            clientConfiguration: configuration, configuration: .init(schema: schema))
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await store.run() }
            defer { group.cancelAll() }
            do {
                try await store.migrate()
                let version =
                    try await store.client.query("SHOW server_version").decode(String.self)
                    .first(where: { _ in true }) ?? "?"
                print(
                    "== PostgreSQL \(version) on \(configuration.host ?? "?"):\(configuration.port ?? 0) (postgres-nio pool)"
                )
                try await measure(store, recordStore: store, settings: settings)
                try await store.client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA \"\(schema)\" CASCADE"))
            } catch {
                _ = try? await store.client.query(
                    PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS \"\(schema)\" CASCADE"))
                throw error
            }
        }
    }

    // MARK: Measurements

    static func measure(_ store: any SessionCatalog, recordStore: any SessionRecordStore, settings: Settings)
        async throws
    {
        let clock = ContinuousClock()
        let project = "-home-user-project"
        let n = settings.entries
        let lines = (0..<n).map { transcriptLine(index: $0) }
        let bytes = lines.reduce(0) { $0 + $1.raw.bytes.count }

        // Transcript appends, one entry per call.
        let single = SessionStoreKey(projectKey: project, sessionID: "single")
        var elapsed = try await clock.measure {
            for line in lines { try await store.append([line], to: single) }
        }
        report("transcript append, 1 entry per call", count: n, unit: "entries", elapsed)

        // Transcript appends, 100 entries per call.
        let batched = SessionStoreKey(projectKey: project, sessionID: "batched")
        elapsed = try await clock.measure {
            var start = 0
            while start < n {
                try await store.append(Array(lines[start..<min(n, start + 100)]), to: batched)
                start += 100
            }
        }
        report("transcript append, 100 entries per call", count: n, unit: "entries", elapsed)

        // Transcript load.
        var loads: [Duration] = []
        for _ in 0..<settings.runs {
            loads.append(
                try await clock.measure {
                    guard try await store.load(single)?.count == n else { fatalError("load returned the wrong count") }
                })
        }
        let load = median(loads)
        report(
            "transcript load (\(n) entries, \(bytes / 1024) KiB)", count: n, unit: "entries", load,
            extra: String(format: ", %.0f MB/s", Double(bytes) / seconds(load) / 1e6))

        // Record writer appends, one message per append, a checkpoint every 5 (a turn), timed apart.
        let id = SessionID(rawValue: "bench-record")!
        let frames = (0..<n).map { clientFrame(index: $0) }
        var appendTime = Duration.zero
        var checkpointTime = Duration.zero
        let writer = try await recordStore.openRecord(id, startTime: Date(), workingDirectory: "/w", options: [:])
        for (index, frame) in frames.enumerated() {
            appendTime += try await clock.measure { try await writer.append([frame]) }
            if index % 5 == 4 { checkpointTime += try await clock.measure { try await writer.checkpoint() } }
        }
        try await writer.close()
        report("record append, 1 message per append", count: n, unit: "messages", appendTime)
        report("record checkpoint (durable), every 5 messages", count: n / 5, unit: "checkpoints", checkpointTime)
        report("record append + checkpoint per 5", count: n, unit: "messages", appendTime + checkpointTime)
        var recordLoads: [Duration] = []
        for _ in 0..<settings.runs {
            recordLoads.append(
                try await clock.measure {
                    guard try await recordStore.loadRecord(id).conversationHistory.count == n else {
                        fatalError("load returned the wrong count")
                    }
                })
        }
        report("record load (\(n) messages)", count: n, unit: "messages", median(recordLoads))

        // Listing 10,000 sessions: fill with 8 concurrent writers, then measure.
        let sessions = settings.sessions
        let listProject = "-home-user-listing"
        elapsed = try await clock.measure {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for worker in 0..<8 {
                    group.addTask {
                        for index in stride(from: worker, to: sessions, by: 8) {
                            let key = SessionStoreKey(projectKey: listProject, sessionID: "session-\(index)")
                            try await store.append([transcriptLine(index: index)], to: key)
                            let record = SessionID(rawValue: "listed-\(index)")!
                            let writer = try await recordStore.openRecord(
                                record, startTime: Date(), workingDirectory: "/w/\(index)", options: ["model": "m"])
                            try await writer.append([clientFrame(index: index)])
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        print(String(format: "  (filled %d sessions and %d records in %.1f s)", sessions, sessions, seconds(elapsed)))
        var listings: [Duration] = []
        var summaries: [Duration] = []
        var records: [Duration] = []
        for _ in 0..<settings.runs {
            listings.append(
                try await clock.measure {
                    guard try await store.listSessions(projectKey: listProject).count == sessions else {
                        fatalError("listing")
                    }
                })
            summaries.append(
                try await clock.measure {
                    guard try await store.listSessionSummaries(projectKey: listProject).count == sessions else {
                        fatalError("summaries")
                    }
                })
            records.append(
                try await clock.measure {
                    guard try await recordStore.listRecords().count >= sessions else { fatalError("records") }
                })
        }
        reportTime("listSessions, \(sessions) sessions", listings)
        reportTime("listSessionSummaries, \(sessions) sessions", summaries)
        reportTime("listRecords, \(sessions + 1) records", records)
    }

    // MARK: Data

    /// A ~1.2 KB CLI transcript line.
    static func transcriptLine(index: Int) -> SessionStoreEntry {
        let text = String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 14)
        let line = """
            {"parentUuid":"00000000-0000-4000-8000-\(String(format: "%012d", max(0, index - 1)))","isSidechain":false,\
            "userType":"external","cwd":"/home/user/project","sessionId":"5d8f7c2e-1a2b-4c3d-9e8f-0a1b2c3d4e5f",\
            "version":"2.1.331","gitBranch":"main","type":"\(index % 2 == 0 ? "user" : "assistant")",\
            "message":{"role":"\(index % 2 == 0 ? "user" : "assistant")","content":[{"type":"text","text":"\(text)"}]},\
            "uuid":"00000000-0000-4000-8000-\(String(format: "%012d", index))","timestamp":"2025-06-01T12:00:00.000Z"}
            """
        return try! SessionStoreEntry(raw: RawJSON(line))
    }

    /// A ~1.2 KB client frame.
    static func clientFrame(index: Int) -> ConversationMessage {
        let text = String(repeating: "The quick brown fox jumps over the lazy dog. ", count: 24)
        return ConversationMessage(
            direction: index % 5 == 0 ? .sent : .received,
            rawJSON: #"{"type":"assistant","message":{"content":[{"type":"text","text":"\#(text)"}]},"n":\#(index)}"#)
    }

    // MARK: Reporting

    static func seconds(_ duration: Duration) -> Double {
        Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
    }

    static func median(_ values: [Duration]) -> Duration { values.sorted()[values.count / 2] }

    static func report(_ label: String, count: Int, unit: String, _ elapsed: Duration, extra: String = "") {
        let time = seconds(elapsed)
        print(
            "  " + label.padding(toLength: 58, withPad: " ", startingAt: 0)
                + String(format: " %9.0f ", Double(count) / time) + unit + "/s"
                + String(format: "  (%.1f µs each, %.2f s total", time / Double(count) * 1e6, time) + extra + ")")
    }

    static func reportTime(_ label: String, _ runs: [Duration]) {
        let sorted = runs.map(seconds).sorted()
        print(
            "  " + label.padding(toLength: 58, withPad: " ", startingAt: 0)
                + String(
                    format: " median %7.1f ms  (min %.1f, max %.1f, %d runs)", sorted[sorted.count / 2] * 1000,
                    sorted[0] * 1000,
                    sorted[sorted.count - 1] * 1000, sorted.count))
    }
}
