import ClaudeCode
public import ClaudeCodeSessions
import Foundation
public import Logging
public import PostgresNIO
public import ServiceLifecycle
import Synchronization
import _ConnectionPoolModule

/// Session storage in PostgreSQL, through postgres-nio: how sessions outlive one machine and
/// are shared by a fleet of servers.
///
/// One store serves both kinds of session data:
/// - as a `SessionCatalog` (and so a `SessionStore`), the CLI's transcripts: entries kept byte
///   for byte under a project key, a session id and an optional subpath, deduplicated by `uuid`,
///   in append order, with summaries folded as entries arrive;
/// - as a `SessionRecordStore`, the records of `SessionPersistentClient` (the seed's
///   `SessionData`), so that client can keep its conversations in PostgreSQL.
///
/// ## Lifecycle
/// The store talks through a pooled `PostgresClient`, which only works while its `run()` method
/// runs. Either the store owns the client and you run the store (it is a `Service`, so a
/// `ServiceGroup` can run it too):
///
/// ```swift
/// let store = try PostgresSessionStore(
///     clientConfiguration: .init(host: "db", username: "app", password: secret, database: "app", tls: .disable))
/// try await withThrowingDiscardingTaskGroup { group in
///     group.addTask { await store.run() }
///     try await store.migrate()
///     let client = SessionPersistentClient(options: options, store: store)
///     // …
///     group.cancelAll()  // closes the connections
/// }
/// ```
///
/// or your application already runs a `PostgresClient` and passes it to
/// `init(client:configuration:)`.
///
/// ## Schema
/// ``migrate()`` creates and upgrades the tables (named, ordered steps recorded in
/// `claude_schema_migrations`, applied in one transaction under an advisory lock, so several
/// servers may call it at once); running it again is a no-op. Tables live in
/// ``Configuration/schema``. Every value travels as a bound parameter; only the validated schema
/// name is spliced into statements.
///
/// ## Concurrency
/// Appends to one key are serialised by a row lock on the key, so their order is the order in
/// which their transactions ran, from any number of tasks or servers. The `uuid` idempotency key
/// is a unique index: an entry appended twice (a retried batch) is stored once.
///
/// ## Durability
/// Transcript appends commit with the server's `synchronous_commit`. A record writer's appends
/// commit without waiting for the server's disk under the default
/// `ClaudeCodeSessions/DurabilityPolicy/checkpoint`, and its `checkpoint()` (each turn's end)
/// waits until everything before it is on the server's disk;
/// `ClaudeCodeSessions/DurabilityPolicy/everyMessage` waits at every append.
public final class PostgresSessionStore: Sendable, Service {
    /// How a store behaves.
    public struct Configuration: Sendable {
        /// The PostgreSQL schema holding the tables: lowercase letters, digits and `_`, not
        /// starting with a digit, at most 63 characters. Default `public`. Created by ``migrate()``
        /// when missing.
        public var schema: String
        /// When a record writer's commits must reach the server's disk.
        /// Default `ClaudeCodeSessions/DurabilityPolicy/checkpoint`.
        public var durability: DurabilityPolicy
        /// How long an operation may wait (for a connection, the server, its locks) before it
        /// fails with `SessionStoreError/Code/backendFailure`; `nil` waits as long as the pool
        /// does (about a minute when the server is down). Default 30 s. A server known to be
        /// unreachable fails calls sooner, with `SessionStoreError/Code/backendUnavailable`.
        public var operationTimeout: Duration?
        /// Where statements are logged (at `debug`, without their values).
        public var logger: Logger

        /// Creates a configuration.
        public init(
            schema: String = "public", durability: DurabilityPolicy = .checkpoint,
            operationTimeout: Duration? = .seconds(30), logger: Logger = Logger(label: "claude.sessions.postgres")
        ) {
            self.schema = schema
            self.durability = durability
            self.operationTimeout = operationTimeout
            self.logger = logger
        }
    }

    /// The pooled client the store runs its statements on.
    public let client: PostgresClient
    /// The configuration the store was created with.
    public let configuration: Configuration
    let tables: PostgresTables
    private let ownsClient: Bool
    /// Probes the server's address; `nil` for a borrowed client whose configuration is unknown.
    let reachability: PostgresReachability?
    /// Brings the full-text index up to date after appends, off their transactions.
    let searchIndexer = SearchIndexer()

    /// Uses a client that your application runs (`client.run()` must be running for the store to work).
    ///
    /// - Parameters:
    ///   - client: The running client.
    ///   - configuration: How the store behaves.
    ///   - clientConfiguration: The configuration `client` was created with. With it, calls fail
    ///     at once with `ClaudeCodeSessions/SessionStoreError/Code/backendUnavailable` when the
    ///     server refuses connections or its host does not resolve (the store probes the server's
    ///     address); without it, they wait for ``Configuration/operationTimeout``.
    /// - Throws: `SessionStoreError/Code/backendFailure` when ``Configuration/schema`` is not a plain identifier.
    public init(
        client: PostgresClient, configuration: Configuration = Configuration(),
        clientConfiguration: PostgresClient.Configuration? = nil
    ) throws(SessionStoreError) {
        self.client = client
        self.configuration = configuration
        self.tables = try PostgresTables(schema: configuration.schema)
        self.ownsClient = false
        self.reachability = clientConfiguration.flatMap {
            PostgresReachability($0, limit: configuration.operationTimeout)
        }
    }

    /// Creates its own pooled client; run it with ``run()``.
    ///
    /// A server that refuses connections or whose host does not resolve makes calls fail at once
    /// with `ClaudeCodeSessions/SessionStoreError/Code/backendUnavailable` (not after
    /// ``Configuration/operationTimeout``); they work again as soon as the server answers.
    ///
    /// `backgroundLogger` receives the pool's own messages (connections made, failed, closed);
    /// by default only its warnings and errors.
    /// - Throws: `SessionStoreError/Code/backendFailure` when ``Configuration/schema`` is not a plain identifier.
    public init(
        clientConfiguration: PostgresClient.Configuration, configuration: Configuration = Configuration(),
        backgroundLogger: Logger = PostgresSessionStore.defaultBackgroundLogger
    ) throws(SessionStoreError) {
        self.tables = try PostgresTables(schema: configuration.schema)
        self.client = PostgresClient(configuration: clientConfiguration, backgroundLogger: backgroundLogger)
        self.configuration = configuration
        self.ownsClient = true
        self.reachability = PostgresReachability(clientConfiguration, limit: configuration.operationTimeout)
    }

    /// `claude.sessions.postgres` at `warning`: a server that is down logs one line per failed
    /// connection attempt at `info`.
    public static var defaultBackgroundLogger: Logger {
        var logger = Logger(label: "claude.sessions.postgres")
        logger.logLevel = .warning
        return logger
    }

    /// Runs the store's own client until the calling task is cancelled (or a `ServiceGroup`
    /// shuts down gracefully); then its connections are closed and statements fail.
    ///
    /// A store made with `init(client:configuration:)` does not own its client, which your
    /// application runs: this method then only waits for the same signals, so the store can sit
    /// in a `ServiceGroup` either way.
    public func run() async {
        if ownsClient {
            await client.run()
        } else {
            try? await gracefulShutdown()
        }
    }

    /// A client configuration from libpq's environment variables: `PGHOST` (default
    /// `127.0.0.1`), `PGPORT` (5432), `PGUSER` (`postgres`), `PGPASSWORD`, `PGDATABASE` (the user
    /// name), `PGSSLMODE` (``SSLMode``; default ``SSLMode/prefer``, as in libpq: TLS when the
    /// server offers it) and `PGSSLROOTCERT` (the root certificate that ``SSLMode/verifyCA`` and
    /// ``SSLMode/verifyFull`` check the server's certificate with; `~/.postgresql/root.crt` by default).
    ///
    /// - Throws: `SessionStoreError/Code/backendFailure` when `PGSSLMODE` is not one of
    ///   ``SSLMode``'s names, or the mode needs a root certificate file that is missing.
    public static func clientConfiguration(
        environment: [String: String] = ProcessInfo.processInfo.environment
    ) throws(SessionStoreError) -> PostgresClient.Configuration {
        let user = environment["PGUSER"].flatMap { $0.isEmpty ? nil : $0 } ?? "postgres"
        var mode = SSLMode.prefer
        if let text = environment["PGSSLMODE"], !text.isEmpty {
            guard let parsed = SSLMode(rawValue: text) else {
                throw SessionStoreError(
                    .backendFailure, reason: "PGSSLMODE '\(text)' is not one of \(SSLMode.names)")
            }
            mode = parsed
        }
        let tls = try tls(mode, rootCertificate: environment["PGSSLROOTCERT"], environment: environment)
        return PostgresClient.Configuration(
            host: environment["PGHOST"].flatMap { $0.isEmpty || $0.hasPrefix("/") ? nil : $0 } ?? "127.0.0.1",
            port: environment["PGPORT"].flatMap { Int($0) } ?? 5432, username: user,
            password: environment["PGPASSWORD"], database: environment["PGDATABASE"] ?? user, tls: tls)
    }

    // MARK: Migrations

    /// The names of the schema's migrations, in order.
    public static var migrationNames: [String] { PostgresSchema.migrations.map(\.name) }

    /// Creates the schema and tables, or upgrades them; a no-op when they are current.
    ///
    /// Runs in one transaction under an advisory lock, so concurrent calls from several
    /// servers apply each step once.
    /// - Returns: The names of the migrations this call applied.
    /// - Throws: `SessionStoreError` — `.schemaTooNew` when the database holds migrations this
    ///   version does not know; `.backendFailure`.
    @discardableResult
    public func migrate() async throws(SessionStoreError) -> [String] {
        let tables = self.tables
        let logger = configuration.logger
        return try await transaction { connection in
            try await PostgresSchema.migrate(connection, tables: tables, logger: logger)
        }
    }

    /// Applies the migrations up to and including the one named `last` (tests build older schemas with it).
    @discardableResult
    package func migrate(upTo last: String) async throws(SessionStoreError) -> [String] {
        let tables = self.tables
        let logger = configuration.logger
        return try await transaction { connection in
            try await PostgresSchema.migrate(connection, tables: tables, logger: logger, upTo: last)
        }
    }

    /// The migrations applied to the schema, in the order they ran (empty before ``migrate()``).
    public func appliedMigrations() async throws(SessionStoreError) -> [String] {
        let (tables, logger) = (self.tables, configuration.logger)
        return try await connection { connection in
            try await PostgresSchema.applied(connection, tables: tables, logger: logger)
        }
    }

    // MARK: Running statements

    /// Runs `body` in a transaction on a pooled connection.
    @discardableResult
    func transaction<T: Sendable>(
        key: SessionStoreKey? = nil, sessionID: SessionID? = nil,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws(SessionStoreError) -> T {
        let (client, logger) = (self.client, configuration.logger)
        return try await limited(key: key, sessionID: sessionID) {
            try await client.withTransaction(logger: logger) { connection in try await body(connection) }
        }
    }

    /// Runs `body` on a pooled connection, outside a transaction.
    @discardableResult
    func connection<T: Sendable>(
        key: SessionStoreKey? = nil, sessionID: SessionID? = nil,
        _ body: @escaping @Sendable (PostgresConnection) async throws -> T
    ) async throws(SessionStoreError) -> T {
        let client = self.client
        return try await limited(key: key, sessionID: sessionID) {
            try await client.withConnection { connection in try await body(connection) }
        }
    }

    /// Runs `operation` within ``Configuration/operationTimeout``, mapping its errors.
    ///
    /// On time-out the caller gets an error at once; the operation is cancelled but may still
    /// complete on the server (an append may land: appends of entries with a `uuid` are
    /// idempotent, so retrying them is safe).
    ///
    /// A server that cannot be reached fails the call with
    /// `ClaudeCodeSessions/SessionStoreError/Code/backendUnavailable` at once rather than at
    /// the timeout (see ``PostgresReachability``): a call slower than a probe delay races a
    /// probe, and while the server is known down each call probes before queueing.
    func limited<T: Sendable>(
        key: SessionStoreKey?, sessionID: SessionID?, _ operation: @escaping @Sendable () async throws -> T
    ) async throws(SessionStoreError) -> T {
        var watchers: [@Sendable () async -> (any Error)?] = []
        if let reachability {
            if let down = reachability.knownDown {
                switch await reachability.probe() {
                case .reachable:
                    break
                case .unreachable(let reason, let number):
                    throw SessionStoreError(
                        .backendUnavailable, sessionID: sessionID, systemErrorNumber: number, reason: reason, key: key)
                case .inconclusive:
                    if case .unreachable(let reason, let number) = down {
                        throw SessionStoreError(
                            .backendUnavailable, sessionID: sessionID, systemErrorNumber: number,
                            reason: "\(reason), and a new connection attempt did not succeed", key: key)
                    }
                }
            }
            watchers.append {
                guard (try? await Task.sleep(for: PostgresReachability.probeDelay)) != nil else { return nil }
                guard case .unreachable(let reason, let number) = await reachability.probe() else { return nil }
                return SessionStoreError(
                    .backendUnavailable, sessionID: sessionID, systemErrorNumber: number, reason: reason, key: key)
            }
        }
        if let timeout = configuration.operationTimeout {
            watchers.append {
                guard (try? await Task.sleep(for: timeout)) != nil else { return nil }
                return Deadline.Expired(timeout: timeout)
            }
        }
        let result: Result<T, any Error>
        if watchers.isEmpty {
            do { result = .success(try await operation()) } catch { result = .failure(error) }
        } else {
            result = await Deadline.race(operation, watchers: watchers)
        }
        switch result {
        case .success(let value):
            return value
        case .failure(let error as Deadline.Expired):
            throw SessionStoreError(
                .backendFailure, sessionID: sessionID,
                reason: "no answer from PostgreSQL within \(error.timeout) (the operation may still complete)", key: key
            )
        case .failure(let error):
            let mapped = Self.mapped(error, key: key, sessionID: sessionID)
            if mapped.code == .backendUnavailable { reachability?.markSuspect() }
            throw mapped
        }
    }

    /// Maps any error to a `SessionStoreError` with a content-free reason: an SQLSTATE or a
    /// connection error's kind, never a statement's values, a server message quoting them, or
    /// connection settings.
    static func mapped(_ error: any Error, key: SessionStoreKey? = nil, sessionID: SessionID? = nil)
        -> SessionStoreError
    {
        if let error = error as? SessionStoreError { return error }
        if let error = error as? PostgresTransactionError {
            if let inner = error.closureError ?? error.beginError ?? error.commitError {
                return mapped(inner, key: key, sessionID: sessionID)
            }
            return SessionStoreError(.backendFailure, sessionID: sessionID, reason: "transaction failed", key: key)
        }
        if let error = error as? PSQLError {
            guard error.code == .server, let state = error.serverInfo?[.sqlState] else {
                // The server went away under a connection (or never answered one): unavailable.
                let lost: Set<PSQLError.Code> = [.connectionError, .serverClosedConnection, .uncleanShutdown]
                return SessionStoreError(
                    lost.contains(error.code) ? .backendUnavailable : .backendFailure, sessionID: sessionID,
                    reason: "PostgreSQL client: \(error.code)", key: key)
            }
            let code: SessionStoreError.Code
            switch state {
            case "53100": code = .ioFailure  // disk_full
            case "55P03", "40P01", "40001": code = .lockTimeout  // lock_not_available, deadlock, serialization
            default: code = .backendFailure
            }
            return SessionStoreError(code, sessionID: sessionID, reason: "PostgreSQL SQLSTATE \(state)", key: key)
        }
        if let error = error as? ConnectionPoolError, error == .connectionCreationCircuitBreakerTripped {
            return SessionStoreError(
                .backendUnavailable, sessionID: sessionID,
                reason: "the PostgreSQL client's pool stopped connecting after repeated failures; it retries later",
                key: key)
        }
        if error is PostgresDecodingError {
            return SessionStoreError(
                .damagedRecord, sessionID: sessionID, reason: "a column has an unexpected type or value", key: key)
        }
        let reason = error is CancellationError ? "cancelled" : "PostgreSQL client: \(type(of: error))"
        return SessionStoreError(.backendFailure, sessionID: sessionID, reason: reason, key: key)
    }
}

/// Qualified table names for a validated schema.
struct PostgresTables: Sendable {
    let schema: String
    let quotedSchema: String
    let migrations: String
    let transcripts: String
    let entries: String
    let summaries: String
    let records: String
    let messages: String
    let search: String

    init(schema: String) throws(SessionStoreError) {
        guard Self.isPlainIdentifier(schema) else {
            throw SessionStoreError(
                .backendFailure,
                reason:
                    "the schema name must be lowercase letters, digits and '_', not start with a digit, at most 63 characters"
            )
        }
        self.schema = schema
        quotedSchema = "\"\(schema)\""
        migrations = "\(quotedSchema).claude_schema_migrations"
        transcripts = "\(quotedSchema).claude_transcripts"
        entries = "\(quotedSchema).claude_transcript_entries"
        summaries = "\(quotedSchema).claude_session_summaries"
        records = "\(quotedSchema).claude_records"
        messages = "\(quotedSchema).claude_record_messages"
        search = "\(quotedSchema).claude_search_passages"
    }

    static func isPlainIdentifier(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard (1...63).contains(bytes.count), let first = bytes.first, !(0x30...0x39).contains(first) else {
            return false
        }
        return bytes.allSatisfy { (0x61...0x7A).contains($0) || (0x30...0x39).contains($0) || $0 == UInt8(ascii: "_") }
    }
}

/// Races an operation against a time limit without waiting for the loser.
enum Deadline {
    struct Expired: Error {
        let timeout: Duration
    }

    private final class Race<T: Sendable>: Sendable {
        let state = Mutex<
            (continuation: CheckedContinuation<Result<T, any Error>, Never>?, tasks: [Task<Void, Never>])
        >(
            (nil, []))

        /// Resumes the caller once; the first result wins and cancels the other tasks.
        func finish(_ result: Result<T, any Error>) {
            let (continuation, tasks) = state.withLock { state in
                let taken = (state.continuation, state.tasks)
                state.continuation = nil
                state.tasks = []
                return taken
            }
            guard let continuation else { return }
            for task in tasks { task.cancel() }
            continuation.resume(returning: result)
        }
    }

    /// Runs `operation` against `watchers`: the first of the operation's result and a watcher's
    /// error wins (a watcher returning `nil` drops out).
    static func race<T: Sendable>(
        _ operation: @escaping @Sendable () async throws -> T, watchers: [@Sendable () async -> (any Error)?]
    ) async -> Result<T, any Error> {
        let race = Race<T>()
        return await withTaskCancellationHandler {
            await withCheckedContinuation { (continuation: CheckedContinuation<Result<T, any Error>, Never>) in
                race.state.withLock { $0.continuation = continuation }
                var tasks = [
                    Task {
                        do { race.finish(.success(try await operation())) } catch { race.finish(.failure(error)) }
                    }
                ]
                for watcher in watchers {
                    tasks.append(
                        Task {
                            // Cancelled (the operation finished first) or nothing to report: drop out.
                            if let error = await watcher() { race.finish(.failure(error)) }
                        })
                }
                let finished = race.state.withLock { state -> Bool in
                    guard state.continuation != nil else { return true }
                    state.tasks = tasks
                    return false
                }
                if finished {
                    for task in tasks { task.cancel() }
                }
            }
        } onCancel: {
            race.finish(.failure(CancellationError()))
        }
    }
}
