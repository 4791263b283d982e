import ClaudeCodeSessions
import ClaudeCodeSessionsPostgres
import Foundation
import Logging
import PostgresNIO
import SessionBackendTestSupport
import Testing

/// The PostgreSQL server the tests use: the one `scripts/with-test-postgres.sh` starts, named
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
        "no PostgreSQL server configured: run through scripts/with-test-postgres.sh (CLAUDE_SDK_REQUIRE_POSTGRES=1 fails instead)"

    struct Unreachable: Error, CustomStringConvertible {
        var description: String
    }

    static var clientConfiguration: PostgresClient.Configuration {
        var configuration = PostgresSessionStore.clientConfiguration(environment: environment)
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
                    Run the tests through scripts/with-test-postgres.sh, or set PGHOST, PGPORT, PGUSER, PGPASSWORD and PGDATABASE.
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
                client: client, configuration: .init(schema: schema, durability: durability))
            do {
                try await store.migrate()
                let value = try await body(store, client)
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
