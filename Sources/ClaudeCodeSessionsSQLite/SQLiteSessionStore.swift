import ClaudeCode
public import ClaudeCodeSessions
import Foundation
public import GRDB

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Session storage in one SQLite database, through GRDB.
///
/// One store serves both kinds of session data:
/// - as a `SessionCatalog` (and so a `SessionStore`), the CLI's transcripts: entries kept byte
///   for byte under a project key, a session id and an optional subpath, deduplicated by `uuid`,
///   in append order, with summaries folded as entries arrive;
/// - as a `SessionRecordStore`, the records of `SessionPersistentClient` (the seed's
///   `SessionData`), so that client can keep its conversations here instead of JSON files.
///
/// ```swift
/// let store = try SQLiteSessionStore(path: "/var/lib/app/sessions.sqlite")
/// let client = SessionPersistentClient(options: options, store: store)
/// ```
///
/// ## Storage
/// Opened by path, the store uses a GRDB `DatabasePool` in WAL mode: reads run in parallel with
/// the one writer, and several processes may share the file (writers wait for each other up to
/// ``Configuration/busyTimeout``). The file is created with mode 0600 and its folder with 0700.
/// Tests can pass an in-memory `DatabaseQueue()` to ``init(database:configuration:)``.
///
/// The schema is created and upgraded by named migrations (``migrator``) when the store is
/// created; running them again is a no-op. Every append is one transaction. Keys, sequence
/// numbers and the `uuid` idempotency key are enforced by the schema (primary keys, a unique
/// partial index on `(transcript, uuid)`, cascading foreign keys).
///
/// ## Durability
/// Commits are handed to the operating system at once (a crash of the process loses nothing
/// committed). Under the default `ClaudeCodeSessions/DurabilityPolicy/checkpoint`, a record
/// writer's `checkpoint()` (each turn's end) also forces the write-ahead log to stable storage;
/// `ClaudeCodeSessions/DurabilityPolicy/everyMessage` syncs every commit.
public final class SQLiteSessionStore: Sendable {
    /// How a store behaves.
    public struct Configuration: Sendable {
        /// When commits are forced to stable storage. Default `ClaudeCodeSessions/DurabilityPolicy/checkpoint`.
        public var durability: DurabilityPolicy
        /// How long a writer waits for another connection or process holding the write lock
        /// before failing with `SessionStoreError/Code/lockTimeout`. Default 30 s.
        public var busyTimeout: Duration
        /// The most concurrent readers of a `DatabasePool` opened by path. Default 5.
        public var maximumReaderCount: Int

        /// Creates a configuration.
        public init(
            durability: DurabilityPolicy = .checkpoint, busyTimeout: Duration = .seconds(30),
            maximumReaderCount: Int = 5
        ) {
            self.durability = durability
            self.busyTimeout = busyTimeout
            self.maximumReaderCount = maximumReaderCount
        }
    }

    /// The database.
    public let database: any DatabaseWriter
    /// The configuration the store was created with.
    public let configuration: Configuration
    /// The file opened by ``init(path:configuration:)``.
    private let filePath: String?
    /// Why the store was opened read-only (the `errno` of opening the file or its folder for
    /// writing), or `nil` when it can write.
    private let readOnlyErrorNumber: Int32?

    /// Whether the store was opened read-only, because its file or folder is not writable
    /// (see ``init(path:configuration:)``): listing and loading work, writes fail.
    public var isReadOnly: Bool { readOnlyErrorNumber != nil }

    /// Opens (creating when missing) the database file at `path` as a WAL `DatabasePool` and
    /// applies the migrations.
    ///
    /// An existing file that cannot be opened for writing (a read-only folder or file system, a
    /// file of another user) is opened read-only instead: ``isReadOnly`` is `true`, listing and
    /// loading work, and every write fails with `ClaudeCodeSessions/SessionStoreError/Code/ioFailure`
    /// and the `errno` that refused writing. When no writer has the database open, the file is
    /// read as an immutable snapshot (SQLite cannot share a WAL database's index with writers it
    /// cannot see): reopen the store to see later writes.
    ///
    /// - Throws: `SessionStoreError` — `.ioFailure` when the file or its folder cannot be
    ///   created or opened (the reason says which, and what was attempted), `.damagedFile` when it
    ///   is not a database, `.schemaTooNew` when a newer version of this library migrated it,
    ///   `.lockTimeout` when another process holds it.
    public convenience init(path: String, configuration: Configuration = Configuration()) throws(SessionStoreError) {
        if let refused = try Self.prepareFile(path) {
            let queue = try Self.openReadOnly(path, configuration: configuration, refused: refused)
            try self.init(database: queue, configuration: configuration, filePath: path, readOnlyErrorNumber: refused)
            return
        }
        let pool: DatabasePool
        do {
            pool = try DatabasePool(path: path, configuration: Self.databaseConfiguration(configuration))
        } catch {
            throw Self.mapped(error, path: path)
        }
        try self.init(database: pool, configuration: configuration, filePath: path, readOnlyErrorNumber: nil)
    }

    /// Uses an existing database (a `DatabasePool` in production, an in-memory `DatabaseQueue()`
    /// in tests) and applies the migrations.
    ///
    /// Open it with ``databaseConfiguration(_:)`` so that commits are synchronised as
    /// ``Configuration/durability`` says and writers wait for each other.
    /// - Throws: `SessionStoreError` as ``init(path:configuration:)`` does.
    public convenience init(database: any DatabaseWriter, configuration: Configuration = Configuration())
        throws(SessionStoreError)
    {
        try self.init(database: database, configuration: configuration, filePath: nil, readOnlyErrorNumber: nil)
    }

    private init(
        database: any DatabaseWriter, configuration: Configuration, filePath: String?, readOnlyErrorNumber: Int32?
    ) throws(SessionStoreError) {
        self.database = database
        self.configuration = configuration
        self.filePath = filePath
        self.readOnlyErrorNumber = readOnlyErrorNumber
        try migrate()
    }

    /// Opens an existing database read-only: shared with the writers that have it open (their
    /// `-shm` index exists), else as an immutable file (no writer is active, and none can make the
    /// index this process cannot create).
    private static func openReadOnly(_ path: String, configuration: Configuration, refused: Int32)
        throws(SessionStoreError) -> DatabaseQueue
    {
        var database = databaseConfiguration(configuration)
        database.readonly = true
        // An SQLite URI (percent-encoded path): `mode=ro`, then `immutable=1`.
        let absolute = path.hasPrefix("/") ? path : FileManager.default.currentDirectoryPath + "/" + path
        var allowed = CharacterSet.urlPathAllowed
        allowed.remove(charactersIn: "?#%")
        let encoded = absolute.addingPercentEncoding(withAllowedCharacters: allowed) ?? absolute
        for query in ["mode=ro", "immutable=1"] {
            do {
                let queue = try DatabaseQueue(path: "file:\(encoded)?\(query)", configuration: database)
                _ = try queue.read { db in try Int.fetchOne(db, sql: "SELECT count(*) FROM sqlite_master") }
                return queue
            } catch let error as DatabaseError where error.resultCode == .SQLITE_CANTOPEN && query == "mode=ro" {
                continue
            } catch {
                var mapped = Self.mapped(error, path: path)
                if mapped.code == .ioFailure {
                    mapped.systemErrorNumber = refused
                    mapped.reason =
                        "cannot open the database file read-only (it is not writable: opened read-only instead): "
                        + (mapped.reason ?? "")
                }
                throw mapped
            }
        }
        throw SessionStoreError(
            .ioFailure, path: path, systemErrorNumber: refused, reason: "cannot open the database file read-only")
    }

    /// The error of a write to a store opened read-only, or `nil` when it can write.
    func readOnlyWriteError(key: SessionStoreKey? = nil, sessionID: SessionID? = nil) -> SessionStoreError? {
        guard let number = readOnlyErrorNumber else { return nil }
        return SessionStoreError(
            .ioFailure, path: path, sessionID: sessionID, systemErrorNumber: number,
            reason: "the store was opened read-only (the database file or its folder is not writable); cannot write",
            key: key)
    }

    /// The GRDB configuration the store uses for a database it opens: a busy timeout, and
    /// `synchronous = NORMAL` (or `FULL` under `ClaudeCodeSessions/DurabilityPolicy/everyMessage`).
    public static func databaseConfiguration(_ configuration: Configuration) -> GRDB.Configuration {
        var database = GRDB.Configuration()
        let timeout = configuration.busyTimeout.components
        database.busyMode = .timeout(Double(timeout.seconds) + Double(timeout.attoseconds) / 1e18)
        database.maximumReaderCount = max(1, configuration.maximumReaderCount)
        let synchronous = configuration.durability == .everyMessage ? "FULL" : "NORMAL"
        database.prepareDatabase { db in
            if !db.configuration.readonly { try db.execute(sql: "PRAGMA synchronous = \(synchronous)") }
        }
        return database
    }

    /// The file's path (`:memory:` or empty for an in-memory database).
    public var path: String { filePath ?? database.path }

    // MARK: Migrations

    /// The store's schema as named migrations, in order.
    ///
    /// ``init(database:configuration:)`` applies them; tests use `migrate(_:upTo:)`.
    public static var migrator: DatabaseMigrator { SQLiteSchema.migrator }

    /// Applies the migrations that have not run yet (a no-op when the schema is current).
    /// - Throws: `SessionStoreError/Code/schemaTooNew` when the database holds migrations this
    ///   version does not know.
    public func migrate() throws(SessionStoreError) {
        let migrator = Self.migrator
        do {
            let (superseded, current) = try database.read { db in
                (try migrator.hasBeenSuperseded(db), try migrator.hasCompletedMigrations(db))
            }
            if superseded {
                throw SessionStoreError(
                    .schemaTooNew, path: path, reason: "the database was migrated by a newer version of this library")
            }
            if let number = readOnlyErrorNumber, !current {
                throw SessionStoreError(
                    .ioFailure, path: path, systemErrorNumber: number,
                    reason: "the database needs a schema upgrade but was opened read-only (it is not writable)")
            }
            if readOnlyErrorNumber != nil { return }
            try migrator.migrate(database)
        } catch {
            throw Self.mapped(error, path: path)
        }
    }

    // MARK: Running statements

    /// Runs `body` in a write transaction.
    func write<T: Sendable>(
        key: SessionStoreKey? = nil, sessionID: SessionID? = nil, _ body: @escaping @Sendable (Database) throws -> T
    ) async throws(SessionStoreError) -> T {
        if let refused = readOnlyWriteError(key: key, sessionID: sessionID) { throw refused }
        do {
            return try await database.write(body)
        } catch {
            throw Self.mapped(error, key: key, sessionID: sessionID, path: path)
        }
    }

    /// Runs `body` on a reader (a consistent snapshot).
    func read<T: Sendable>(
        key: SessionStoreKey? = nil, sessionID: SessionID? = nil, _ body: @escaping @Sendable (Database) throws -> T
    ) async throws(SessionStoreError) -> T {
        do {
            return try await database.read(body)
        } catch {
            throw Self.mapped(error, key: key, sessionID: sessionID, path: path)
        }
    }

    /// Maps any error to a `SessionStoreError` without statement arguments or content.
    static func mapped(
        _ error: any Error, key: SessionStoreKey? = nil, sessionID: SessionID? = nil, path: String? = nil
    ) -> SessionStoreError {
        if let error = error as? SessionStoreError { return error }
        guard let error = error as? DatabaseError else {
            let reason = error is CancellationError ? "cancelled" : "unexpected error: \(type(of: error))"
            return SessionStoreError(.backendFailure, path: path, sessionID: sessionID, reason: reason, key: key)
        }
        // The message is SQLite's own (e.g. "database is locked"); statements and their
        // arguments, which may hold content, are never included.
        let reason = "SQLite error \(error.extendedResultCode.rawValue): \(error.message ?? "no message")"
        let code: SessionStoreError.Code
        var errorNumber: Int32?
        switch error.resultCode {
        case .SQLITE_BUSY, .SQLITE_LOCKED:
            code = .lockTimeout
        case .SQLITE_FULL:
            code = .ioFailure
            errorNumber = ENOSPC
        case .SQLITE_IOERR, .SQLITE_CANTOPEN, .SQLITE_READONLY, .SQLITE_PERM, .SQLITE_AUTH:
            code = .ioFailure
        case .SQLITE_CORRUPT, .SQLITE_NOTADB:
            code = .damagedFile
        default:
            code = .backendFailure
        }
        return SessionStoreError(
            code, path: path, sessionID: sessionID, systemErrorNumber: errorNumber, reason: reason, key: key)
    }

    /// Creates the database file with mode 0600 (and its folder with 0700) when missing.
    ///
    /// - Returns: `nil` when the file can be written, or the `errno` refusing it when the file
    ///   exists but it or its folder cannot be written (a read-only location): the store then
    ///   opens it read-only.
    private static func prepareFile(_ path: String) throws(SessionStoreError) -> Int32? {
        guard !path.isEmpty, path != ":memory:" else { return nil }
        let folder = URL(fileURLWithPath: path).deletingLastPathComponent().path
        if !FileManager.default.fileExists(atPath: folder) {
            do {
                try FileManager.default.createDirectory(
                    atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
            } catch {
                throw SessionStoreError(.ioFailure, path: folder, reason: "cannot create the database folder")
            }
        }
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else {
            let number = errno
            guard [EACCES, EROFS, EPERM].contains(number) else {
                throw SessionStoreError(
                    .ioFailure, path: path, systemErrorNumber: number,
                    reason: "cannot open or create the database file for reading and writing")
            }
            var status = stat()
            guard stat(path, &status) == 0 else {
                throw SessionStoreError(
                    .ioFailure, path: path, systemErrorNumber: number,
                    reason: "cannot create the database file (its folder is not writable)")
            }
            return number
        }
        close(fd)
        // A writer also creates the `-wal` and `-shm` files beside the database.
        if access(folder, W_OK) != 0 {
            let number = errno
            if [EACCES, EROFS, EPERM].contains(number) { return number }
        }
        return nil
    }
}
