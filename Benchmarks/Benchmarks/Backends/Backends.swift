// Database backends: appending a session's transcript lines to SQLiteSessionStore (and to
// PostgresSessionStore when PGHOST names a server, as scripts/test/with-postgres.sh sets it),
// then loading them.
import Benchmark
import BenchmarkSupport
import ClaudeCodeSessions
import ClaudeCodeSessionsPostgres
import ClaudeCodeSessionsSQLite
import Foundation
import PostgresNIO
import Synchronization

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.cpuTotal, .wallClock, .mallocCountTotal, .peakMemoryResident],
        maxDuration: .seconds(5), maxIterations: 30)

    Benchmark(
        "SQLiteSessionStore: append 1,000 lines in batches of 50, then load them",
        closure: { benchmark, scratch in
            do {
                let store = try SQLiteSessionStore(path: scratch.path + "/\(UUID().uuidString).sqlite")
                await appendAndLoad(store) { benchmark.error($0) }
            } catch {
                benchmark.error("\(error)")
            }
        },
        setup: { try ScratchDirectory("sqlite") })

    guard ProcessInfo.processInfo.environment["PGHOST"] != nil else {
        FileHandle.standardError.write(
            Data(
                "Backends: PGHOST is not set; the PostgreSQL benchmark is not registered (run it under scripts/test/with-postgres.sh)\n"
                    .utf8))
        return
    }
    Benchmark(
        "PostgresSessionStore: append 1,000 lines in batches of 50, then load them",
        closure: { benchmark in
            guard let store = postgres.withLock({ $0?.store }) else { return benchmark.error("no store") }
            await appendAndLoad(store) { benchmark.error($0) }
        },
        setup: {
            let store = try PostgresSessionStore(
                clientConfiguration: PostgresSessionStore.clientConfiguration(),
                configuration: .init(schema: "claude_bench_\(getpid())"))
            let runner = Task { await store.run() }
            _ = try await store.migrate()
            postgres.withLock { $0 = (store, runner) }
        },
        teardown: {
            guard let (store, runner) = postgres.withLock({ $0 }) else { return }
            _ = try? await store.client.query(
                PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS claude_bench_\(getpid()) CASCADE"))
            runner.cancel()
            await runner.value
        })
}

/// The PostgreSQL store of the run and the task that runs its client.
let postgres = Mutex<(store: PostgresSessionStore, runner: Task<Void, Never>)?>(nil)
