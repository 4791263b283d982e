/// The one error type of the session store.
///
/// Match on ``code``; new codes may be added in minor releases, so keep a `default` case:
///
/// ```swift
/// do {
///     let session = try await store.load(id)
/// } catch SessionStoreError.Code.sessionNotFound {
///     // start a new one
/// } catch let error as SessionStoreError where error.code == .damagedFile {
///     print("cannot read \(error.path ?? "?")")
/// }
/// ```
///
/// ``description`` names the code, the file and the system error. It never contains message
/// content, option values or an invalid id's text; ``reason`` is a fixed phrase such as
/// `"invalid JSON at byte 120: expected ',' or '}' in an object"`.
public struct SessionStoreError: Error, Sendable, Hashable, CustomStringConvertible, CustomDebugStringConvertible {
    /// What went wrong. An extensible set: compare with the static members.
    public struct Code: Hashable, Sendable, CustomStringConvertible {
        private enum Storage: String, Hashable, Sendable {
            case invalidSessionID, sessionNotFound, damagedFile, schemaTooNew, ioFailure, unsafePath
            case lockTimeout, writerClosed, notADirectory
            // Database backends (SQLite, PostgreSQL) and transcript keys.
            case backendFailure, damagedRecord, invalidKey, timeout, unsupportedOperation, backendUnavailable
        }

        private let storage: Storage
        private init(_ storage: Storage) { self.storage = storage }

        /// The id is empty, too long, or has a character outside `[A-Za-z0-9._-]`, a leading
        /// dot or `..`. Raised before any path is formed.
        public static var invalidSessionID: Self { .init(.invalidSessionID) }
        /// No snapshot file exists for the id.
        public static var sessionNotFound: Self { .init(.sessionNotFound) }
        /// A session file exists but cannot be read as a session: invalid JSON, missing or
        /// wrong fields, a foreign JSON document, or a journal without its snapshot.
        /// ``SessionStoreError/path`` names the file and ``SessionStoreError/reason`` says why.
        public static var damagedFile: Self { .init(.damagedFile) }
        /// The file was written by a newer version of this library (`schema_version` too high).
        public static var schemaTooNew: Self { .init(.schemaTooNew) }
        /// A system call failed (disk full, permission denied, folder removed, …);
        /// ``SessionStoreError/systemErrorNumber`` holds `errno`.
        public static var ioFailure: Self { .init(.ioFailure) }
        /// A path is a symbolic link, not a regular file, or has extra hard links; the store
        /// refuses to read or write through it.
        public static var unsafePath: Self { .init(.unsafePath) }
        /// Another writer held the session's lock for longer than the configured timeout.
        public static var lockTimeout: Self { .init(.lockTimeout) }
        /// The writer was closed; it accepts no more records.
        public static var writerClosed: Self { .init(.writerClosed) }
        /// The store's folder path exists but is not a directory, or one of its parents is a file.
        public static var notADirectory: Self { .init(.notADirectory) }
        /// A database backend failed: a statement was refused, the schema is missing, the server
        /// did not answer in time (a server that cannot be reached at all is
        /// ``backendUnavailable``). ``SessionStoreError/reason`` holds a
        /// content-free phrase (an SQLite result code or a PostgreSQL SQLSTATE, never the
        /// statement's values or a connection password).
        public static var backendFailure: Self { .init(.backendFailure) }
        /// The database server cannot be reached: it refuses connections, its host name does not
        /// resolve, or it closed the connection. Reported at once instead of after the operation
        /// timeout, for as long as the server stays down; the store checks again at each call
        /// and works as soon as the server answers. The operation did not run, or (when the
        /// connection closed during it) may not have completed.
        public static var backendUnavailable: Self { .init(.backendUnavailable) }
        /// A stored row (a transcript entry, a summary, a record or one of its messages)
        /// cannot be read back. ``SessionStoreError/key`` or ``SessionStoreError/sessionID``
        /// names it and ``SessionStoreError/reason`` says why.
        public static var damagedRecord: Self { .init(.damagedRecord) }
        /// A ``SessionStoreKey`` is unusable: an empty project key or session id, a NUL
        /// character, or an unsafe subpath (empty, absolute, with `.` or `..` or empty
        /// components, or a backslash). Raised before anything is written.
        public static var invalidKey: Self { .init(.invalidKey) }
        /// A stored transcript line that cannot be read back as an entry (not a JSON object, or
        /// torn): the same code as ``damagedRecord``.
        public static var corruptEntry: Self { .damagedRecord }
        /// A store operation did not finish in time (it may still complete).
        public static var timeout: Self { .init(.timeout) }
        /// The store cannot do this: for example listing with a store that is not a `SessionCatalog`.
        public static var unsupportedOperation: Self { .init(.unsupportedOperation) }

        /// The code's name.
        public var description: String { storage.rawValue }

        /// Matches an error against a code: `catch SessionStoreError.Code.damagedFile { … }`.
        public static func ~= (code: Code, error: any Error) -> Bool {
            (error as? SessionStoreError)?.code == code
        }
    }

    /// What went wrong.
    public var code: Code
    /// The file or folder involved, when there is one.
    public var path: String?
    /// The session involved, when it is known and valid.
    public var sessionID: SessionID?
    /// The transcript key involved (``SessionStore`` backends), when there is one.
    public var key: SessionStoreKey?
    /// The POSIX `errno` of a failed system call, when there is one.
    public var systemErrorNumber: Int32?
    /// A fixed, content-free phrase with more detail, e.g. where a file stopped parsing.
    public var reason: String?

    /// Creates an error.
    public init(
        _ code: Code,
        path: String? = nil,
        sessionID: SessionID? = nil,
        systemErrorNumber: Int32? = nil,
        reason: String? = nil,
        key: SessionStoreKey? = nil
    ) {
        self.code = code
        self.path = path
        self.sessionID = sessionID
        self.systemErrorNumber = systemErrorNumber
        self.reason = reason
        self.key = key
    }

    /// The code, path, errno and reason; never message content.
    public var description: String {
        var text = "SessionStoreError.\(code)"
        var details: [String] = []
        if let path { details.append("path: \(path)") }
        if let key { details.append("key: \(key)") }
        if let systemErrorNumber {
            details.append("errno: \(systemErrorNumber) (\(Self.errnoName(systemErrorNumber)))")
        }
        if let reason { details.append(reason) }
        if !details.isEmpty { text += " (" + details.joined(separator: "; ") + ")" }
        return text
    }

    /// ``description`` plus the session id.
    public var debugDescription: String {
        var text = description
        if let sessionID { text += " [session \(sessionID)]" }
        return text
    }

    static func errnoName(_ number: Int32) -> String {
        switch number {
        case 1: return "EPERM"
        case 2: return "ENOENT"
        case 5: return "EIO"
        case 9: return "EBADF"
        case 13: return "EACCES"
        case 17: return "EEXIST"
        case 20: return "ENOTDIR"
        case 21: return "EISDIR"
        case 22: return "EINVAL"
        case 24: return "EMFILE"
        case 27: return "EFBIG"
        case 28: return "ENOSPC"
        case 30: return "EROFS"
        case 36: return "ENAMETOOLONG"
        case 40: return "ELOOP"
        case 122: return "EDQUOT"
        default: return "errno \(number)"
        }
    }
}
