import ClaudeCode
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The file operations of ``FileSessionStore``. Every method is synchronous and runs on
/// the store's serial queue; the caches are behind a mutex only to satisfy `Sendable`.
final class TranscriptFileEngine: Sendable {
    struct IndexRecord: Sendable {
        /// The store's write time, epoch milliseconds.
        var modified: Int64
        /// The transcript's size in bytes that the summary covers.
        var size: Int64
        /// The folded summary data.
        var data: JSONValue
    }

    /// A project's index as read so far.
    struct ProjectIndex: Sendable {
        var device: UInt64 = 0
        var inode: UInt64 = 0
        /// Bytes of `.index.jsonl` consumed (always at a line end).
        var offset: Int64 = 0
        var lines = 0
        var records: [String: IndexRecord] = [:]
    }

    /// What is known of one transcript file, for deduplication.
    struct TranscriptState: Sendable {
        var device: UInt64
        var inode: UInt64
        /// Bytes read so far (always at a line end).
        var knownSize: Int64 = 0
        var uuids: Set<UUIDKey> = []
        var lastUse: UInt64 = 0
    }

    private struct Caches {
        var transcripts: [String: TranscriptState] = [:]
        var indexes: [String: ProjectIndex] = [:]
        var clock: UInt64 = 0
    }

    static let indexName = ".index.jsonl"
    static let lockName = ".lock"

    let root: StoreRoot
    let configuration: FileSessionStore.Configuration
    private let caches = Mutex(Caches())

    init(configuration: FileSessionStore.Configuration) {
        self.configuration = configuration
        self.root = StoreRoot(path: configuration.directory)
    }

    // MARK: Names

    struct Names {
        var project: String
        var session: String
        /// The transcript's file name inside its folder (the project's, or the session's for a subpath).
        var file: String
        /// For a subpath whose name is hashed: the `.key` file that keeps the subpath.
        var sidecar: String?
        var cacheKey: String
    }

    func names(_ key: SessionStoreKey) -> Names {
        let project = FileNameCodec.encode(key.projectKey)
        let session = FileNameCodec.encode(key.sessionID)
        guard let subpath = key.subpath else {
            return Names(
                project: project, session: session, file: session + ".jsonl", sidecar: nil,
                cacheKey: project + "/" + session)
        }
        let encoded = FileNameCodec.encode(subpath)
        return Names(
            project: project, session: session, file: encoded + ".jsonl",
            sidecar: FileNameCodec.isHashed(encoded) ? encoded + ".key" : nil,
            cacheKey: project + "/" + session + "/" + encoded)
    }

    private func path(_ parts: String...) -> String {
        ([configuration.directory] + parts).joined(separator: "/")
    }

    // MARK: Errors

    private func ioError(_ error: SystemError, _ path: String, _ key: SessionStoreKey?) -> SessionStoreError {
        SessionStoreError(
            .ioFailure, path: path, systemErrorNumber: error.number, reason: "\(error.operation) failed", key: key)
    }

    // MARK: Folders

    /// The store's folder, or `nil` when it does not exist and `create` is false.
    private func rootHandle(create: Bool) throws(SessionStoreError) -> DirectoryHandle? {
        try root.revalidate(create: create)
    }

    /// Opens (and with `create`, makes, mode 0700) a folder inside `parent`, never through a link.
    private func openDirectory(_ parent: Int32, _ name: String, create: Bool, path: String, key: SessionStoreKey?)
        throws(SessionStoreError) -> Int32?
    {
        let flags = O_RDONLY | O_DIRECTORY | O_NOFOLLOW
        do {
            return try POSIX.openAt(parent, name, flags)
        } catch {
            switch error.number {
            case ENOENT:
                guard create else { return nil }
                let made = mkdirat(parent, name, POSIX.directoryMode) == 0
                if !made && errno != EEXIST {
                    throw ioError(SystemError(number: errno, operation: "mkdirat"), path, key)
                }
                let fd: Int32
                do {
                    fd = try POSIX.openAt(parent, name, flags)
                } catch {
                    throw ioError(error, path, key)
                }
                if made { try? POSIX.setMode(fd, POSIX.directoryMode) }
                return fd
            case ENOTDIR, ELOOP:
                throw SessionStoreError(
                    .unsafePath, path: path, systemErrorNumber: error.number,
                    reason: "not a directory, or a symbolic link", key: key)
            default:
                throw ioError(error, path, key)
            }
        }
    }

    /// Opens the folder holding `key`'s file: the project's, or the session's for a subpath.
    /// Returns the descriptors to close (the last one is the folder).
    private func openFolders(_ key: SessionStoreKey, _ names: Names, create: Bool) throws(SessionStoreError) -> [Int32]?
    {
        guard let handle = try rootHandle(create: create) else { return nil }
        guard
            let project = try openDirectory(
                handle.fd, names.project, create: create, path: path(names.project), key: key)
        else {
            return nil
        }
        guard key.subpath != nil else { return [project] }
        do {
            guard
                let session = try openDirectory(
                    project, names.session, create: create, path: path(names.project, names.session), key: key)
            else {
                POSIX.closeQuietly(project)
                return nil
            }
            return [project, session]
        } catch {
            POSIX.closeQuietly(project)
            throw error
        }
    }

    // MARK: Locked files

    /// Opens a regular file for appending and locks it exclusively, making sure that the file
    /// locked is still the one at `name` (it may have been deleted or replaced while waiting).
    private func openLocked(_ directory: Int32, _ name: String, create: Bool, path: String, key: SessionStoreKey?)
        throws(SessionStoreError) -> (fd: Int32, status: FileStatus)?
    {
        while true {
            let fd: Int32
            do {
                fd = try POSIX.openAt(directory, name, O_RDWR | O_APPEND | O_NOFOLLOW | (create ? O_CREAT : 0))
            } catch {
                if error.number == ENOENT && !create { return nil }
                if error.number == ELOOP {
                    throw SessionStoreError(
                        .unsafePath, path: path, systemErrorNumber: error.number, reason: "a symbolic link", key: key)
                }
                throw ioError(error, path, key)
            }
            do throws(SessionStoreError) {
                var status: FileStatus
                do { status = try POSIX.status(of: fd) } catch { throw ioError(error, path, key) }
                guard status.isRegularFile else {
                    throw SessionStoreError(.unsafePath, path: path, reason: "not a regular file", key: key)
                }
                let locked: Bool
                do {
                    locked = try POSIX.lock(fd, exclusive: true, timeout: configuration.lockTimeout)
                } catch {
                    throw ioError(error, path, key)
                }
                guard locked else {
                    throw SessionStoreError(
                        .lockTimeout, path: path, reason: "another process held the lock too long", key: key)
                }
                let onDisk: FileStatus?
                do { onDisk = try POSIX.status(directory, name) } catch { throw ioError(error, path, key) }
                guard let onDisk, onDisk.inode == status.inode, onDisk.device == status.device else {
                    POSIX.unlock(fd)
                    POSIX.closeQuietly(fd)
                    continue
                }
                do { status = try POSIX.status(of: fd) } catch { throw ioError(error, path, key) }
                guard status.linkCount == 1 else {
                    throw SessionStoreError(.unsafePath, path: path, reason: "the file has other hard links", key: key)
                }
                if status.size == 0, status.permissions != UInt32(POSIX.fileMode) {
                    try? POSIX.setMode(fd, POSIX.fileMode)
                }
                return (fd, status)
            } catch {
                POSIX.closeQuietly(fd)
                throw error
            }
        }
    }

    private func unlockAndClose(_ fd: Int32) {
        POSIX.unlock(fd)
        POSIX.closeQuietly(fd)
    }

    // MARK: Lines

    /// Calls `body` with the range of each complete line (without its newline) of `bytes`;
    /// returns the number of bytes up to and including the last newline.
    @discardableResult
    static func forEachLine(_ bytes: [UInt8], _ body: (Range<Int>) throws(SessionStoreError) -> Void)
        throws(SessionStoreError) -> Int
    {
        var start = 0
        var ranges: [Range<Int>] = []
        bytes.withUnsafeBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            while start < buffer.count {
                guard let found = memchr(base + start, 0x0A, buffer.count - start) else { break }
                let end = base.distance(to: found.assumingMemoryBound(to: UInt8.self))
                ranges.append(start..<end)
                start = end + 1
            }
        }
        for range in ranges where !range.isEmpty { try body(range) }
        return ranges.last.map { $0.upperBound + 1 } ?? 0
    }

    /// Appends one entry to `output` as a line: its bytes with any CR or LF (which valid JSON
    /// holds only as whitespace) turned into spaces, and a newline. One copy of the bytes.
    static func appendLine(_ entry: SessionStoreEntry, to output: inout [UInt8]) {
        let start = output.count
        output.append(contentsOf: entry.raw.bytes)
        output.withUnsafeMutableBufferPointer { buffer in
            guard let base = buffer.baseAddress else { return }
            func blank(_ byte: UInt8) {
                var position = start
                while position < buffer.count,
                    let found = ByteSearch.findFirst(byte, in: base + position, length: buffer.count - position)
                {
                    base[position + found] = 0x20
                    position += found + 1
                }
            }
            blank(0x0A)
            blank(0x0D)
        }
        output.append(0x0A)
    }

    // MARK: Append

    func append(_ entries: [SessionStoreEntry], to key: SessionStoreKey) throws(SessionStoreError) {
        let names = names(key)
        guard let folders = try openFolders(key, names, create: true) else {
            throw SessionStoreError(
                .ioFailure, path: configuration.directory, reason: "the store folder could not be created", key: key)
        }
        defer { folders.forEach(POSIX.closeQuietly) }
        let directory = folders.last!
        let filePath =
            key.subpath == nil ? path(names.project, names.file) : path(names.project, names.session, names.file)
        if let sidecar = names.sidecar, let subpath = key.subpath {
            try writeSidecar(directory, sidecar, Array(subpath.utf8), key: key)
        }
        guard let (fd, status) = try openLocked(directory, names.file, create: true, path: filePath, key: key) else {
            return
        }
        defer { unlockAndClose(fd) }

        var state = try catchUpTranscript(fd, status: status, cacheKey: names.cacheKey, path: filePath, key: key)
        let previousSize = state.knownSize
        var added: [SessionStoreEntry] = []
        var output: [UInt8] = []
        for entry in entries {
            if let uuid = entry.uuid, !state.uuids.insert(UUIDKey(uuid)).inserted { continue }
            added.append(entry)
            Self.appendLine(entry, to: &output)
        }
        guard !added.isEmpty else {
            remember(state, names.cacheKey)
            return
        }
        let failure = output.withUnsafeBytes { POSIX.writeAll(fd, $0).error }
        if let failure {
            // Take back what was written of the batch, so no torn line is left.
            _ = ftruncate(fd, off_t(previousSize))
            if previousSize == 0 { _ = unlinkat(directory, names.file, 0) }
            forget(names.cacheKey)
            throw ioError(failure, filePath, key)
        }
        if configuration.syncEachAppend {
            do { try POSIX.syncData(fd) } catch { throw ioError(error, filePath, key) }
        }
        state.knownSize = previousSize + Int64(output.count)
        remember(state, names.cacheKey)
        if key.subpath == nil {
            try updateIndex(
                folders[0], names: names, key: key, transcript: fd, previousSize: previousSize,
                newSize: state.knownSize,
                added: added)
        }
    }

    /// Brings the cached uuid set of a locked transcript up to date with its bytes, cutting off
    /// a line torn by a crashed writer.
    private func catchUpTranscript(
        _ fd: Int32, status: FileStatus, cacheKey: String, path: String, key: SessionStoreKey
    ) throws(SessionStoreError) -> TranscriptState {
        // Taken out of the cache while the file is locked, so adding uuids mutates the set in
        // place instead of copying it (a copy per append made long transcripts quadratic).
        // ``remember(_:_:)`` puts it back before the lock is released; an append that throws
        // in between leaves no entry, and the next one reads the file again.
        var state =
            caches.withLock { $0.transcripts.removeValue(forKey: cacheKey) }
            ?? TranscriptState(device: status.device, inode: status.inode)
        if state.device != status.device || state.inode != status.inode || state.knownSize > status.size {
            state = TranscriptState(device: status.device, inode: status.inode)
        }
        guard state.knownSize < status.size else { return state }
        let tail: [UInt8]
        do {
            tail = try POSIX.read(fd, offset: state.knownSize, count: Int(status.size - state.knownSize))
        } catch {
            throw ioError(error, path, key)
        }
        let consumed = try Self.forEachLine(tail) { range in
            let scanner = JSONObjectScanner(tail, range: range)
            if let uuid = (try? scanner.string(forKey: "uuid")) ?? nil { state.uuids.insert(UUIDKey(uuid)) }
        }
        let complete = state.knownSize + Int64(consumed)
        if complete < status.size {
            configuration.logger.warning(
                "cut off a torn line at the end of a transcript",
                metadata: ["path": .string(path), "bytes": .stringConvertible(status.size - complete)])
            guard ftruncate(fd, off_t(complete)) == 0 else {
                throw ioError(SystemError(number: errno, operation: "ftruncate"), path, key)
            }
        }
        state.knownSize = complete
        return state
    }

    private func remember(_ state: consuming TranscriptState, _ cacheKey: String) {
        let limit = max(configuration.cachedTranscripts, 1)
        var state = state
        caches.withLock { caches in
            caches.clock += 1
            state.lastUse = caches.clock
            caches.transcripts[cacheKey] = state
            if caches.transcripts.count > limit,
                let oldest = caches.transcripts.min(by: { $0.value.lastUse < $1.value.lastUse })?.key
            {
                caches.transcripts[oldest] = nil
            }
        }
    }

    private func forget(_ cacheKey: String) {
        _ = caches.withLock { $0.transcripts.removeValue(forKey: cacheKey) }
    }

    private func writeSidecar(_ directory: Int32, _ name: String, _ bytes: [UInt8], key: SessionStoreKey)
        throws(SessionStoreError)
    {
        let fd: Int32
        do {
            fd = try POSIX.openAt(directory, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW)
        } catch {
            if error.number == EEXIST { return }
            throw ioError(error, name, key)
        }
        defer { POSIX.closeQuietly(fd) }
        try? POSIX.setMode(fd, POSIX.fileMode)
        do { try POSIX.writeAll(fd, bytes) } catch {
            _ = unlinkat(directory, name, 0)
            throw ioError(error, name, key)
        }
    }

    // MARK: Index

    /// Appends the session's new summary to the project index, under the project lock.
    private func updateIndex(
        _ projectFD: Int32, names: Names, key: SessionStoreKey, transcript: Int32, previousSize: Int64, newSize: Int64,
        added: [SessionStoreEntry]
    ) throws(SessionStoreError) {
        try withProjectLock(projectFD, names: names, key: key) {
            (index: inout ProjectIndex, log: Int32) throws(SessionStoreError) in
            let previous = index.records[key.sessionID]
            var summary: SessionStoreSummary?
            var coveredSize: Int64 = 0
            if let previous, previous.size <= previousSize {
                summary = SessionStoreSummary(
                    sessionID: key.sessionID, modifiedMilliseconds: previous.modified, data: previous.data)
                coveredSize = previous.size
            }
            if coveredSize < previousSize {
                // A process died between its transcript write and its index record, or the index
                // was lost: fold what the summary misses first.
                configuration.logger.notice(
                    "catching up a session summary from its transcript",
                    metadata: [
                        "session": .string(key.sessionID), "bytes": .stringConvertible(previousSize - coveredSize),
                    ])
                let missing: [UInt8]
                do throws(SystemError) {
                    missing = try POSIX.read(
                        transcript, offset: coveredSize, count: Int(previousSize - coveredSize))
                } catch {
                    throw ioError(error, path(names.project, names.file), key)
                }
                var entries: [SessionStoreEntry] = []
                try Self.forEachLine(missing) { (range: Range<Int>) throws(SessionStoreError) in
                    if let entry = try? SessionStoreEntry(raw: RawJSON(bytes: Array(missing[range]))) {
                        entries.append(entry)
                    }
                }
                summary = SessionSummaryFold.fold(summary, key: key, entries: entries)
            }
            var folded = SessionSummaryFold.fold(summary, key: key, entries: added)
            let now = Int64((Date().timeIntervalSince1970 * 1000).rounded(.down))
            folded.modifiedMilliseconds = max(now, (previous?.modified ?? 0) + 1)
            let record = IndexRecord(modified: folded.modifiedMilliseconds, size: newSize, data: folded.data)
            let line: JSONValue = [
                "session_id": .string(key.sessionID), "mtime": .int(record.modified), "size": .int(record.size),
                "data": record.data,
            ]
            try appendIndexLine(log, line, &index, names: names, key: key)
            index.records[key.sessionID] = record
        }
    }

    /// Runs `body` holding the project lock, with the index caught up and its log open for appending.
    private func withProjectLock(
        _ projectFD: Int32, names: Names, key: SessionStoreKey?,
        _ body: (inout ProjectIndex, Int32) throws(SessionStoreError) -> Void
    ) throws(SessionStoreError) {
        guard
            let (lockFD, _) = try openLocked(
                projectFD, Self.lockName, create: true, path: path(names.project, Self.lockName), key: key)
        else { return }
        defer { unlockAndClose(lockFD) }
        let logPath = path(names.project, Self.indexName)
        let log: Int32
        do {
            log = try POSIX.openAt(projectFD, Self.indexName, O_RDWR | O_APPEND | O_CREAT | O_NOFOLLOW)
        } catch {
            throw ioError(error, logPath, key)
        }
        defer { POSIX.closeQuietly(log) }
        let status: FileStatus
        do { status = try POSIX.status(of: log) } catch { throw ioError(error, logPath, key) }
        guard status.isRegularFile else {
            throw SessionStoreError(.unsafePath, path: logPath, reason: "not a regular file", key: key)
        }
        if status.size == 0, status.permissions != UInt32(POSIX.fileMode) {
            try? POSIX.setMode(log, POSIX.fileMode)
        }
        var index = try catchUpIndex(log, status: status, project: names.project, path: logPath, take: true)
        if index.offset < status.size {
            // A torn record from a crashed writer: cut it off before appending.
            guard ftruncate(log, off_t(index.offset)) == 0 else {
                throw ioError(SystemError(number: errno, operation: "ftruncate"), logPath, key)
            }
        }
        try body(&index, log)
        if index.lines > max(256, 2 * index.records.count) {
            compact(projectFD, &index, logPath: logPath)
        }
        caches.withLock { [index] in $0.indexes[names.project] = index }
    }

    private func appendIndexLine(
        _ log: Int32, _ line: JSONValue, _ index: inout ProjectIndex, names: Names, key: SessionStoreKey?
    )
        throws(SessionStoreError)
    {
        var bytes = line.serialized()
        bytes.append(0x0A)
        let failure = bytes.withUnsafeBytes { POSIX.writeAll(log, $0).error }
        if let failure {
            _ = ftruncate(log, off_t(index.offset))
            throw ioError(failure, path(names.project, Self.indexName), key)
        }
        if configuration.syncEachAppend {
            do { try POSIX.syncData(log) } catch {
                throw ioError(error, path(names.project, Self.indexName), key)
            }
        }
        index.offset += Int64(bytes.count)
        index.lines += 1
    }

    /// The project's cached index, brought up to date with what its log gained since this
    /// instance last read it. A writer (holding the project lock) `take`s the cached index out,
    /// so its changes mutate the records in place instead of copying every session's record per
    /// append; it puts the index back when done.
    private func catchUpIndex(
        _ fd: Int32, status: FileStatus, project: String, path: String, take: Bool = false
    ) throws(SessionStoreError) -> ProjectIndex {
        var index =
            caches.withLock { take ? $0.indexes.removeValue(forKey: project) : $0.indexes[project] } ?? ProjectIndex()
        if index.device != status.device || index.inode != status.inode || index.offset > status.size {
            index = ProjectIndex(device: status.device, inode: status.inode)
        }
        guard index.offset < status.size else { return index }
        let bytes: [UInt8]
        do {
            bytes = try POSIX.read(fd, offset: index.offset, count: Int(status.size - index.offset))
        } catch {
            throw ioError(error, path, nil)
        }
        var corrupt = 0
        let consumed = try Self.forEachLine(bytes) { range in
            index.lines += 1
            guard let record = try? JSONValue.parse(Array(bytes[range])), let id = record["session_id"]?.stringValue
            else {
                corrupt += 1
                return
            }
            if record["deleted"]?.boolValue == true {
                index.records[id] = nil
            } else if let modified = record["mtime"]?.intValue, let size = record["size"]?.intValue,
                let data = record["data"],
                case .object = data
            {
                index.records[id] = IndexRecord(modified: Int64(modified), size: Int64(size), data: data)
            } else {
                corrupt += 1
            }
        }
        if corrupt > 0 {
            configuration.logger.warning(
                "skipped damaged records in a project index",
                metadata: ["path": .string(path), "records": .stringConvertible(corrupt)])
        }
        index.offset += Int64(consumed)
        return index
    }

    /// Rewrites the index with one record per session (temporary file, then rename).
    private func compact(_ projectFD: Int32, _ index: inout ProjectIndex, logPath: String) {
        var bytes: [UInt8] = []
        for (id, record) in index.records {
            let line: JSONValue = [
                "session_id": .string(id), "mtime": .int(record.modified), "size": .int(record.size),
                "data": record.data,
            ]
            bytes.append(contentsOf: line.serialized())
            bytes.append(0x0A)
        }
        let temporary = Self.indexName + ".tmp-" + POSIX.randomSuffix()
        guard let fd = try? POSIX.openAt(projectFD, temporary, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW) else {
            return
        }
        defer { POSIX.closeQuietly(fd) }
        try? POSIX.setMode(fd, POSIX.fileMode)
        guard (try? POSIX.writeAll(fd, bytes)) != nil, (try? POSIX.syncData(fd)) != nil,
            let status = try? POSIX.status(of: fd),
            (try? POSIX.rename(projectFD, temporary, Self.indexName)) != nil
        else {
            _ = unlinkat(projectFD, temporary, 0)
            configuration.logger.warning("could not compact a project index", metadata: ["path": .string(logPath)])
            return
        }
        index.device = status.device
        index.inode = status.inode
        index.offset = Int64(bytes.count)
        index.lines = index.records.count
    }

    /// The project's index, caught up; empty when the project does not exist.
    func index(projectKey: String) throws(SessionStoreError) -> ProjectIndex {
        let project = FileNameCodec.encode(projectKey)
        guard let handle = try rootHandle(create: false),
            let projectFD = try openDirectory(handle.fd, project, create: false, path: path(project), key: nil)
        else { return ProjectIndex() }
        defer { POSIX.closeQuietly(projectFD) }
        let logPath = path(project, Self.indexName)
        let log: Int32
        do {
            log = try POSIX.openAt(projectFD, Self.indexName, O_RDONLY | O_NOFOLLOW)
        } catch {
            if error.number == ENOENT { return ProjectIndex() }
            throw ioError(error, logPath, nil)
        }
        defer { POSIX.closeQuietly(log) }
        let status: FileStatus
        do { status = try POSIX.status(of: log) } catch { throw ioError(error, logPath, nil) }
        guard status.isRegularFile else {
            throw SessionStoreError(.unsafePath, path: logPath, reason: "not a regular file")
        }
        let index = try catchUpIndex(log, status: status, project: project, path: logPath)
        caches.withLock { $0.indexes[project] = index }
        return index
    }

    // MARK: Load

    func load(_ key: SessionStoreKey) throws(SessionStoreError) -> [SessionStoreEntry]? {
        let names = names(key)
        guard let folders = try openFolders(key, names, create: false) else { return nil }
        defer { folders.forEach(POSIX.closeQuietly) }
        let filePath =
            key.subpath == nil ? path(names.project, names.file) : path(names.project, names.session, names.file)
        let fd: Int32
        do {
            fd = try POSIX.openAt(folders.last!, names.file, O_RDONLY | O_NOFOLLOW)
        } catch {
            if error.number == ENOENT { return nil }
            if error.number == ELOOP {
                throw SessionStoreError(
                    .unsafePath, path: filePath, systemErrorNumber: error.number, reason: "a symbolic link", key: key)
            }
            throw ioError(error, filePath, key)
        }
        defer { POSIX.closeQuietly(fd) }
        let bytes: [UInt8]
        do {
            let status = try POSIX.status(of: fd)
            guard status.isRegularFile else {
                throw SessionStoreError(.unsafePath, path: filePath, reason: "not a regular file", key: key)
            }
            bytes = try POSIX.readAll(fd, sizeHint: status.size)
        } catch let error as SystemError {
            throw ioError(error, filePath, key)
        } catch let error as SessionStoreError {
            throw error
        } catch {
            throw SessionStoreError(.ioFailure, path: filePath, key: key)
        }
        var entries: [SessionStoreEntry] = []
        var lineNumber = 0
        // An unterminated last line is an append still being written (or torn): not loaded.
        try Self.forEachLine(bytes) { (range: Range<Int>) throws(SessionStoreError) in
            lineNumber += 1
            do throws(JSONParseError) {
                entries.append(try SessionStoreEntry(raw: RawJSON(bytes: Array(bytes[range]))))
            } catch {
                throw SessionStoreError(
                    .corruptEntry, path: filePath,
                    reason: "line \(lineNumber) is not a JSON object: \(error.reason) at byte \(error.offset)",
                    key: key)
            }
        }
        return entries.isEmpty ? nil : entries
    }

    // MARK: Delete

    func delete(_ key: SessionStoreKey) throws(SessionStoreError) {
        let names = names(key)
        guard let handle = try rootHandle(create: false),
            let projectFD = try openDirectory(
                handle.fd, names.project, create: false, path: path(names.project), key: key)
        else { return }
        defer { POSIX.closeQuietly(projectFD) }
        if let subpath = key.subpath {
            _ = subpath
            guard
                let sessionFD = try openDirectory(
                    projectFD, names.session, create: false, path: path(names.project, names.session), key: key)
            else { return }
            defer { POSIX.closeQuietly(sessionFD) }
            try removeLocked(sessionFD, names.file, path: path(names.project, names.session, names.file), key: key)
            if let sidecar = names.sidecar { _ = unlinkat(sessionFD, sidecar, 0) }
            forget(names.cacheKey)
            _ = unlinkat(projectFD, names.session, AT_REMOVEDIR)
            return
        }
        try removeLocked(projectFD, names.file, path: path(names.project, names.file), key: key)
        forget(names.cacheKey)
        // Cascade: every sub-transcript of the session.
        if let sessionFD = try? openDirectory(
            projectFD, names.session, create: false, path: path(names.project, names.session), key: key)
        {
            if let children = try? POSIX.listNames(sessionFD) {
                for child in children {
                    _ = unlinkat(sessionFD, child, 0)
                    forget(names.cacheKey + "/" + (child.hasSuffix(".jsonl") ? String(child.dropLast(6)) : child))
                }
            }
            POSIX.closeQuietly(sessionFD)
            _ = unlinkat(projectFD, names.session, AT_REMOVEDIR)
        }
        try withProjectLock(projectFD, names: names, key: key) {
            (index: inout ProjectIndex, log: Int32) throws(SessionStoreError) in
            guard index.records[key.sessionID] != nil else { return }
            try appendIndexLine(
                log, ["session_id": .string(key.sessionID), "deleted": true], &index, names: names, key: key)
            index.records[key.sessionID] = nil
        }
    }

    /// Unlinks a transcript while holding its lock, so no append lands in the unlinked file.
    private func removeLocked(_ directory: Int32, _ name: String, path: String, key: SessionStoreKey)
        throws(SessionStoreError)
    {
        guard let (fd, _) = try openLocked(directory, name, create: false, path: path, key: key) else { return }
        defer { unlockAndClose(fd) }
        guard unlinkat(directory, name, 0) == 0 || errno == ENOENT else {
            throw ioError(SystemError(number: errno, operation: "unlinkat"), path, key)
        }
    }

    // MARK: Subkeys

    func listSubkeys(_ key: SessionStoreKey) throws(SessionStoreError) -> [String] {
        let names = names(SessionStoreKey(projectKey: key.projectKey, sessionID: key.sessionID, subpath: "x"))
        guard
            let folders = try openFolders(
                SessionStoreKey(projectKey: key.projectKey, sessionID: key.sessionID, subpath: "x"), names,
                create: false)
        else { return [] }
        defer { folders.forEach(POSIX.closeQuietly) }
        let sessionFD = folders.last!
        let children: [String]
        do { children = try POSIX.listNames(sessionFD) } catch {
            throw ioError(error, path(names.project, names.session), key)
        }
        var subpaths: [String] = []
        for child in children where child.hasSuffix(".jsonl") {
            let encoded = String(child.dropLast(6))
            if FileNameCodec.isHashed(encoded) {
                guard let fd = try? POSIX.openAt(sessionFD, encoded + ".key", O_RDONLY | O_NOFOLLOW) else {
                    continue
                }
                defer { POSIX.closeQuietly(fd) }
                if let bytes = try? POSIX.readAll(fd, sizeHint: 256),
                    let subpath = String(validating: bytes, as: UTF8.self),
                    FileNameCodec.encode(subpath) == encoded
                {
                    subpaths.append(subpath)
                }
            } else if let subpath = FileNameCodec.decode(encoded) {
                subpaths.append(subpath)
            }
        }
        return subpaths.sorted()
    }
}
