import ClaudeCodeSessions
import ClaudeCodeSessionsPostgres
import Foundation
import Logging
import PostgresNIO
import SessionBackendTestSupport
import Testing

/// The PostgreSQL server the tests use: the one `scripts/test/with-postgres.sh` starts, named
/// by the `PG*` variables.
///
/// Without those variables the suites are skipped, unless `CLAUDE_SDK_REQUIRE_POSTGRES=1`
/// (set by `scripts/test.sh`), which turns a missing or unreachable server into a failure.
enum PostgresTestServer {
    static let environment = ProcessInfo.processInfo.environment

    static var required: Bool { environment["CLAUDE_SDK_REQUIRE_POSTGRES"] == "1" }

    /// Whether the suites run at all.
    static var enabled: Bool {
        required || ["PGHOST", "PGPORT", "PGDATABASE", "PGUSER"].contains { environment[$0] != nil }
    }

    static let skipReason: Comment =
        "no PostgreSQL server configured: run through scripts/test/with-postgres.sh (CLAUDE_SDK_REQUIRE_POSTGRES=1 fails instead)"

    struct Unreachable: Error, CustomStringConvertible {
        var description: String
    }

    static var clientConfiguration: PostgresClient.Configuration {
        var environment = environment
        environment["PGSSLMODE"] = "disable"
        var configuration = try! PostgresSessionStore.clientConfiguration(environment: environment)
        configuration.options.maximumConnections = 8
        return configuration
    }

    /// Fails fast, with a remedy, when the server cannot be reached (the pool would retry for a minute).
    static func probe() async throws {
        let configuration = clientConfiguration
        let host = configuration.host ?? "?"
        let port = configuration.port ?? 0
        do {
            let connection = try await PostgresConnection.connect(
                configuration: PostgresConnection.Configuration(
                    host: host, port: port, username: configuration.username, password: configuration.password,
                    database: configuration.database, tls: .disable),
                id: 0, logger: Logger(label: "postgres-test-probe"))
            try await connection.close()
        } catch {
            throw Unreachable(
                description: """
                    PostgreSQL is not reachable at \(host):\(port) as \(configuration.username) (\(type(of: error))). \
                    Run the tests through scripts/test/with-postgres.sh, or set PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE.
                    """)
        }
    }

    /// A fresh schema name.
    static func newSchema() -> String {
        "claude_test_" + UUID().uuidString.lowercased().replacingOccurrences(of: "-", with: "")
    }

    /// Runs `body` with a running client, always stopping it (its connections close) afterwards.
    static func withClient<T: Sendable>(_ body: @Sendable (PostgresClient) async throws -> T) async throws -> T {
        try await probe()
        let client = PostgresClient(configuration: clientConfiguration)
        return try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask { await client.run() }
            do {
                let value = try await body(client)
                group.cancelAll()
                return value
            } catch {
                group.cancelAll()
                throw error
            }
        }
    }

    /// Runs `body` with a migrated store in a schema of its own, dropped afterwards.
    static func withStore<T: Sendable>(
        durability: DurabilityPolicy = .checkpoint,
        _ body: @Sendable (PostgresSessionStore, PostgresClient) async throws -> T
    ) async throws -> T {
        try await withClient { client in
            let schema = newSchema()
            let store = try PostgresSessionStore(
                client: client, configuration: .init(schema: schema, durability: durability),
                clientConfiguration: clientConfiguration)
            do {
                try await store.migrate()
                let value = try await body(store, client)
                await store.searchIndexingFinished()
                try await dropSchema(schema, client)
                return value
            } catch {
                try? await dropSchema(schema, client)
                throw error
            }
        }
    }

    static func dropSchema(_ schema: String, _ client: PostgresClient) async throws {
        try await client.query(PostgresQuery(unsafeSQL: "DROP SCHEMA IF EXISTS \"\(schema)\" CASCADE"))
    }
}

/// A PostgreSQL server of one test's own, which the test can stop and start again on the same
/// port: `initdb` and `pg_ctl` as `scripts/test/with-postgres.sh` runs them (as the `postgres`
/// user when the tests run as root), on 127.0.0.1 only, trusting local connections.
final class ThrowawayPostgresServer: Sendable {
    let folder: String
    let port: Int
    let bindir: String

    /// The newest `/usr/lib/postgresql/*/bin` with `initdb` and `pg_ctl`.
    static let bindir: String? = {
        let base = "/usr/lib/postgresql"
        let versions = (try? FileManager.default.contentsOfDirectory(atPath: base)) ?? []
        return
            versions
            .sorted { $0.compare($1, options: .numeric) == .orderedAscending }
            .map { "\(base)/\($0)/bin" }
            .last { FileManager.default.isExecutableFile(atPath: "\($0)/pg_ctl") }
    }()

    static var available: Bool { bindir != nil }

    struct Failed: Error, CustomStringConvertible {
        var description: String
    }

    /// Extra `postgres` options (`-c name=value …`) for every start.
    let options: String

    init(options: String = "") throws {
        self.options = options
        guard let bindir = Self.bindir else {
            throw Failed(description: "PostgreSQL's initdb and pg_ctl are not installed")
        }
        self.bindir = bindir
        folder = NSTemporaryDirectory() + "claude-test-pg-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        if getuid() == 0 { try Self.run("/bin/chown", ["postgres:", folder], asServer: false) }
        port = try Self.freePort()
        try Self.run(
            "\(bindir)/initdb",
            [
                "-D", "\(folder)/data", "-U", "postgres", "--no-locale", "-E", "UTF8", "--no-sync",
                "--auth-local=trust", "--auth-host=trust",
            ])
        try start()
    }

    var clientConfiguration: PostgresClient.Configuration {
        var configuration = PostgresClient.Configuration(
            host: "127.0.0.1", port: port, username: "postgres", password: nil, database: "postgres", tls: .disable)
        configuration.options.maximumConnections = 4
        return configuration
    }

    func start() throws {
        try Self.run(
            "\(bindir)/pg_ctl",
            [
                "-D", "\(folder)/data", "-l", "\(folder)/server.log", "-w", "-t", "60", "start", "-o",
                "-c listen_addresses=127.0.0.1 -p \(port) -k \(folder) -c fsync=off \(options)",
            ])
    }

    func stop() throws {
        try Self.run("\(bindir)/pg_ctl", ["-D", "\(folder)/data", "-m", "fast", "-w", "stop"])
    }

    /// Creates and starts a server. `initdb` and `pg_ctl` take seconds (tens of seconds on a
    /// loaded machine): they run on a thread of their own, never on a thread of Swift's
    /// cooperative pool, which has one thread per core and would starve every other test.
    static func make(options: String = "") async throws -> ThrowawayPostgresServer {
        try await offThePool { try ThrowawayPostgresServer(options: options) }
    }

    /// ``start()`` on a thread of its own.
    func startOffThePool() async throws { try await Self.offThePool { try self.start() } }

    /// ``stop()`` on a thread of its own.
    func stopOffThePool() async throws { try await Self.offThePool { try self.stop() } }

    /// Runs blocking work (spawning and waiting for a program) on a new thread.
    static func offThePool<T: Sendable>(_ body: @escaping @Sendable () throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            Thread { continuation.resume(with: Result { try body() }) }.start()
        }
    }

    /// Stops the server (if running) and removes its files.
    func remove() {
        try? Self.run("\(bindir)/pg_ctl", ["-D", "\(folder)/data", "-m", "immediate", "-w", "stop"])
        try? FileManager.default.removeItem(atPath: folder)
    }

    /// Runs a program to its end (as `postgres` when root), throwing on a non-zero status.
    ///
    /// `posix_spawn` and `waitpid`, with the output in a file: a pipe would be held open by the
    /// server `pg_ctl` starts, and `Process` may not see the exit of a child in this test process.
    static func run(_ program: String, _ arguments: [String], asServer: Bool = true) throws {
        var argv = [program] + arguments
        if asServer && getuid() == 0 { argv = ["/usr/sbin/runuser", "-u", "postgres", "--"] + argv }
        let log = NSTemporaryDirectory() + "claude-test-pg-run-\(UUID().uuidString.prefix(8)).log"
        defer { try? FileManager.default.removeItem(atPath: log) }
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, log, O_WRONLY | O_CREAT | O_TRUNC, 0o644)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        var cArguments = argv.map { strdup($0) } + [nil]
        defer { for pointer in cArguments { free(pointer) } }
        var pid: pid_t = 0
        let spawned = posix_spawn(&pid, argv[0], &actions, nil, &cArguments, environ)
        guard spawned == 0 else { throw Failed(description: "cannot start \(argv[0]): errno \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) < 0 && errno == EINTR {}
        guard status == 0 else {
            let text = (try? String(contentsOfFile: log, encoding: .utf8)) ?? ""
            throw Failed(description: "\(program) exited with status \(status): \(text)")
        }
    }

    /// A port nothing listens on now (bound to port 0 and released).
    static func freePort() throws -> Int {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failed(description: "socket() failed") }
        defer { close(fd) }
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = 0
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) { pointer in
            pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { socketAddress in
                bind(fd, socketAddress, length) == 0 && getsockname(fd, socketAddress, &length) == 0
            }
        }
        guard bound else { throw Failed(description: "bind() failed") }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}
