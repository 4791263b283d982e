import ClaudeCode
import ClaudeCodeSessions
import ClaudeCodeSessionsPostgres
import Foundation
import Logging
import PostgresNIO
import Testing

/// TLS to PostgreSQL with libpq's `sslmode` meanings (`PostgresSessionStore.SSLMode`): against
/// the shared test server (no TLS) and against a throwaway server of the test's own with TLS on,
/// its certificate self-signed and made here with `openssl`.
@Suite(
    "PostgreSQL session store: TLS", .enabled(if: PostgresTestServer.enabled, PostgresTestServer.skipReason),
    .timeLimit(.minutes(3)))
struct PostgresTLSTests {
    static func environment(_ mode: String?, root: String? = nil) -> [String: String] {
        var environment = PostgresTestServer.environment
        environment["PGSSLMODE"] = mode
        environment["PGSSLROOTCERT"] = root
        return environment
    }

    /// Whether the session's own connection uses TLS (`pg_stat_ssl`), through a store made from
    /// `configuration`. The store's client runs in a task that is cancelled, not awaited: a pool
    /// whose connections fail keeps retrying for a while.
    static func usesTLS(_ configuration: PostgresClient.Configuration, timeout: Duration = .seconds(60)) async throws
        -> Bool
    {
        var configuration = configuration
        configuration.options.maximumConnections = 1
        let store = try PostgresSessionStore(
            clientConfiguration: configuration, configuration: .init(operationTimeout: timeout))
        let runner = Task { await store.run() }
        defer { runner.cancel() }
        // Through the store, which gives up after its operation timeout, then on the connection it made.
        _ = try await store.appliedMigrations()
        let rows = try await store.client.query("SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()")
        return try await rows.decode(Bool.self).first { _ in true } ?? false
    }

    @Test func theEnvironmentNamesEveryModeAndRejectsOthers() throws {
        let root = NSTemporaryDirectory() + "claude-test-root-\(UUID().uuidString.prefix(8)).crt"
        FileManager.default.createFile(atPath: root, contents: Data("not checked here".utf8))
        defer { try? FileManager.default.removeItem(atPath: root) }
        for mode in ["disable", "prefer", "require", "verify-ca", "verify-full", nil, ""] {
            #expect(throws: Never.self, "\(mode ?? "unset")") {
                _ = try PostgresSessionStore.clientConfiguration(environment: Self.environment(mode, root: root))
            }
        }
        #expect(
            PostgresSessionStore.SSLMode.allCases.map(\.rawValue) == [
                "disable", "prefer", "require", "verify-ca", "verify-full",
            ])
        let error = #expect(throws: SessionStoreError.self) {
            _ = try PostgresSessionStore.clientConfiguration(environment: Self.environment("verify-everything"))
        }
        #expect(error?.description.contains("PGSSLMODE 'verify-everything' is not one of") == true)
        let missing = #expect(throws: SessionStoreError.self) {
            _ = try PostgresSessionStore.clientConfiguration(
                environment: Self.environment("verify-full", root: "/nonexistent/root.crt"))
        }
        #expect(missing?.description.contains("/nonexistent/root.crt") == true)
    }

    @Test func disableAndPreferConnectToAServerWithoutTLS() async throws {
        try await PostgresTestServer.probe()
        #expect(
            try await Self.usesTLS(PostgresSessionStore.clientConfiguration(environment: Self.environment("disable")))
                == false)
        // The default is prefer: the server offers no TLS, so the connection is plain.
        #expect(
            try await Self.usesTLS(PostgresSessionStore.clientConfiguration(environment: Self.environment(nil)))
                == false)
        #expect(
            try await Self.usesTLS(PostgresSessionStore.clientConfiguration(environment: Self.environment("prefer")))
                == false)
    }

    /// A self-signed certificate for 127.0.0.1 and localhost (its own root), and its key.
    static func makeCertificate(in folder: String, name: String) throws -> (certificate: String, key: String) {
        let certificate = folder + "/\(name).crt"
        let key = folder + "/\(name).key"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=localhost",
            "-addext", "subjectAltName=IP:127.0.0.1,DNS:localhost", "-keyout", key, "-out", certificate,
        ]
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ThrowawayPostgresServer.Failed(description: "openssl failed")
        }
        return (certificate, key)
    }

    static var opensslAvailable: Bool {
        (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin").split(separator: ":").contains {
            FileManager.default.isExecutableFile(atPath: "\($0)/openssl")
        }
    }

    @Test(.enabled(if: ThrowawayPostgresServer.available && opensslAvailable, "needs initdb, pg_ctl and openssl"))
    func everyModeAgainstAServerWithTLS() async throws {
        let folder = NSTemporaryDirectory() + "claude-test-tls-\(UUID().uuidString.prefix(8))"
        try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: folder) }
        let server = try Self.makeCertificate(in: folder, name: "server")
        let stranger = try Self.makeCertificate(in: folder, name: "stranger")
        if getuid() == 0 { try ThrowawayPostgresServer.run("/bin/chown", ["postgres:", server.key], asServer: false) }
        chmod(server.key, 0o600)
        let postgres = try await ThrowawayPostgresServer.make(
            options: "-c ssl=on -c ssl_cert_file=\(server.certificate) -c ssl_key_file=\(server.key)")
        defer { postgres.remove() }
        var environment = [
            "PGHOST": "127.0.0.1", "PGPORT": String(postgres.port), "PGUSER": "postgres", "PGDATABASE": "postgres",
        ]
        func configuration(_ mode: String, root: String? = nil) throws -> PostgresClient.Configuration {
            environment["PGSSLMODE"] = mode
            environment["PGSSLROOTCERT"] = root
            return try PostgresSessionStore.clientConfiguration(environment: environment)
        }
        #expect(try await Self.usesTLS(configuration("disable")) == false)
        #expect(try await Self.usesTLS(configuration("prefer")) == true)
        #expect(try await Self.usesTLS(configuration("require")) == true)
        #expect(try await Self.usesTLS(configuration("verify-ca", root: server.certificate)) == true)
        #expect(try await Self.usesTLS(configuration("verify-full", root: server.certificate)) == true)
        // A certificate the root did not sign is refused by the modes that check it.
        for mode in ["verify-ca", "verify-full", "require"] {
            await #expect(throws: (any Error).self, "\(mode) with another root") {
                _ = try await Self.usesTLS(try configuration(mode, root: stranger.certificate), timeout: .seconds(10))
            }
        }
    }
}
