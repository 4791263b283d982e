public import ClaudeCodeSessions
import Foundation
import GRDB

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

extension SQLiteSearchIndex {
    /// A transcript file as `stat` sees it.
    struct FileStamp: Sendable {
        var sessionID: String
        var folder: String
        var size: Int64
        var modified: Int64
        var changed: Int64
        var inode: UInt64

        func path(in projects: String) -> String { projects + "/" + folder + "/" + sessionID + ".jsonl" }

        init(sessionID: String, folder: String, size: Int64, modified: Int64, changed: Int64, inode: UInt64) {
            self.sessionID = sessionID
            self.folder = folder
            self.size = size
            self.modified = modified
            self.changed = changed
            self.inode = inode
        }

        init(sessionID: String, folder: String, status: stat) {
            self.init(
                sessionID: sessionID, folder: folder, size: Int64(status.st_size),
                modified: FolderStamp.nanoseconds(status.modificationTime),
                changed: FolderStamp.nanoseconds(status.changeTime), inode: UInt64(status.st_ino))
        }
        var fingerprint: String { "\(folder)/\(inode)/\(size)/\(modified)/\(changed)" }

        /// A hash of the stamp (FNV-1a over its id, folder and figures).
        var hash: UInt64 {
            var hash: UInt64 = 0xcbf2_9ce4_8422_2325
            for byte in sessionID.utf8 {
                hash ^= UInt64(byte)
                hash &*= 0x100_0000_01b3
            }
            for byte in folder.utf8 {
                hash ^= UInt64(byte)
                hash &*= 0x100_0000_01b3
            }
            for value in [UInt64(bitPattern: size), UInt64(bitPattern: modified), UInt64(bitPattern: changed), inode] {
                hash ^= value
                hash &*= 0x100_0000_01b3
            }
            return hash
        }
    }

    /// Brings the index up to date with the CLI's transcripts under `library`'s configuration
    /// directory, reading only the sessions whose files changed.
    ///
    /// The check costs one `stat` per transcript file (size, modification and change times,
    /// inode), compared with what the index stored; when nothing changed, nothing else is read.
    /// New and changed sessions are read in parallel; sessions whose files are gone are dropped.
    ///
    /// With a `fullCheckInterval`, a full check (every file's `stat`) is trusted for that long:
    /// until then a refresh only `stat`s the project folders (adding, removing or renaming a
    /// transcript changes its folder) and the transcripts that were active in the
    /// ``activeWindow`` before the last full check (the sessions the CLI is still writing). A
    /// transcript idle before the last full check that grows again (an old session resumed) is
    /// then seen at the first full check after the interval. With 10,000 transcripts that is
    /// the difference between a few dozen `stat` calls and 10,000.
    ///
    /// - Parameters:
    ///   - library: The CLI's sessions.
    ///   - indexingText: Whether the sessions' text is indexed for ``search(_:limit:only:)``;
    ///     `false` keeps only their summaries (``summaries()``), which is cheaper.
    ///   - fullCheckInterval: How long a full check is trusted (see above); zero, the default,
    ///     checks every file each time.
    /// - Returns: What was read and dropped.
    /// - Throws: `SessionStoreError` when the index cannot be read or written.
    @discardableResult
    public func refresh(library: ClaudeSessionLibrary, indexingText: Bool, fullCheckInterval: Duration = .zero)
        async throws(SessionStoreError) -> RefreshReport
    {
        let projects = library.projectsDirectory
        if fullCheckInterval > .zero {
            let quick: QuickCheck?
            do {
                quick = try await database.read { db in
                    let statement = try db.cachedStatement(sql: "SELECT CAST(value AS TEXT) FROM meta WHERE name = ?")
                    let text = try String.fetchOne(statement, arguments: ["text"])
                    guard !indexingText || text == "1",
                        let quick = try String.fetchOne(statement, arguments: ["quick"])
                    else { return nil }
                    return QuickCheck(encoded: quick)
                }
            } catch {
                throw Self.failure("read", error)
            }
            if let quick, quick.isCurrent(projectsDirectory: projects, interval: fullCheckInterval) {
                return RefreshReport(unchanged: quick.sessions)
            }
        }
        let checkedAt = Date()
        let (stamps, folders) = await Self.offPool { Self.stampTranscripts(projectsDirectory: projects) }
        // The files' stamps summed up (in any order): equal to the stored sum when nothing changed.
        var digest: UInt64 = 0
        for stamp in stamps { digest &+= stamp.hash }
        let stamp = "\(stamps.count)-\(digest)"
        var report = RefreshReport()
        struct Known: Sendable {
            var fingerprint: String
            var listed: Bool
            var indexed: Bool
        }
        var known: [String: Known]?
        do {
            known = try await database.read { db -> [String: Known]? in
                let meta = Dictionary(
                    uniqueKeysWithValues: try Row.fetchAll(db, sql: "SELECT name, CAST(value AS TEXT) FROM meta").map {
                        ($0[0] as String, $0[1] as String? ?? "")
                    })
                if meta["stamp"] == stamp && (!indexingText || meta["text"] == "1") { return nil }
                var result: [String: Known] = [:]
                for row in try Row.fetchAll(db, sql: "SELECT session_id, fingerprint, listed, slot FROM sessions") {
                    result[row[0]] = Known(fingerprint: row[1], listed: row[2], indexed: (row[3] as Int64?) != nil)
                }
                return result
            }
        } catch {
            throw Self.failure("read", error)
        }
        let quick = QuickCheck(checkedAt: checkedAt, folders: folders, stamps: stamps)
        guard let known else {
            report.unchanged = stamps.count
            // Recorded for the next quick check; best effort (an index the user can only read still answers).
            let encoded = quick.encoded
            try? await database.write { db in
                try db.execute(
                    sql: "INSERT OR REPLACE INTO meta (name, value) VALUES ('quick', ?)", arguments: [encoded])
            }
            return report
        }
        var bySession: [String: [FileStamp]] = [:]
        for stamp in stamps { bySession[stamp.sessionID, default: []].append(stamp) }
        var fingerprints: [String: String] = [:]
        fingerprints.reserveCapacity(bySession.count)
        for (id, files) in bySession {
            fingerprints[id] = files.sorted { $0.folder < $1.folder }.map(\.fingerprint).joined(separator: "|")
        }
        report.removed = known.keys.filter { fingerprints[$0] == nil }.sorted()
        var changed: [String] = []
        for (id, fingerprint) in fingerprints {
            if let old = known[id], old.fingerprint == fingerprint, !indexingText || !old.listed || old.indexed {
                report.unchanged += 1
            } else {
                changed.append(id)
            }
        }
        changed.sort()
        do {
            let writer = try await Writer(database: database, bulk: changed.count > Self.bulkLimit)
            if !report.removed.isEmpty { try await writer.write(removed: report.removed, updates: []) }
            let infos = await Self.infos(of: changed, library: library)
            var failed = false
            var pending: Task<Void, any Error>?
            // Updates of a listing hold figures only: larger batches, fewer waits for a batch's slowest file.
            let batch = indexingText ? 256 : 2048
            var start = 0
            while start < changed.count {
                let ids = Array(changed[start..<min(start + batch, changed.count)])
                start += ids.count
                let updates = await Self.readSessions(
                    ids, infos: infos, fingerprints: fingerprints, stamps: bySession, library: library,
                    indexingText: indexingText)
                for update in updates {
                    if update.fingerprint.isEmpty {
                        report.failed.append(update.id)
                        failed = true
                    } else {
                        report.indexed.append(update.id)
                    }
                }
                if let pending { try await pending.value }
                pending = Task { try await writer.write(removed: [], updates: updates) }
            }
            if let pending { try await pending.value }
            try await writer.finish(meta: [
                "stamp": failed ? "" : stamp, "text": indexingText ? "1" : "0",
                "quick": failed ? "" : quick.encoded,
            ])
        } catch {
            throw Self.failure("write", error)
        }
        return report
    }

    /// Every listed session's summary, most recently changed first (then by id).
    public func summaries() async throws(SessionStoreError) -> [Summary] {
        do {
            return try await database.read { db in
                try Row.fetchAll(
                    db,
                    sql: """
                        SELECT session_id, title, project, last_modified, tag, messages, tokens, cost
                        FROM sessions WHERE listed = 1 ORDER BY last_modified DESC, session_id
                        """
                ).map { row in
                    let modified: Double? = row[3]
                    return Summary(
                        sessionID: row[0], title: row[1], projectPath: row[2],
                        lastModified: modified.map { Date(timeIntervalSince1970: $0) }, tag: row[4],
                        messageCount: row[5], totalTokens: row[6], costUSD: row[7])
                }
            }
        } catch {
            throw Self.failure("read", error)
        }
    }

    /// The sessions that could not be read at the last refresh.
    public func problems() async throws(SessionStoreError) -> [Problem] {
        do {
            return try await database.read { db in
                try Row.fetchAll(db, sql: "SELECT session_id, problem FROM sessions WHERE problem IS NOT NULL").map {
                    Problem(sessionID: $0[0], message: $0[1])
                }
            }
        } catch {
            throw Self.failure("read", error)
        }
    }

    // MARK: - Reading changed sessions

    /// The listing metadata of the sessions: one scan of every head and tail for many, one look-up each for a few.
    static func infos(of ids: [String], library: ClaudeSessionLibrary) async -> [String: CLISessionInfo] {
        guard !ids.isEmpty else { return [:] }
        var infos: [String: CLISessionInfo] = [:]
        if ids.count > 64 {
            let scan = try? await library.scanSessions()
            for info in scan?.sessions ?? [] { infos[info.sessionID] = info }
        } else {
            for id in ids {
                if let info = try? await library.sessionInfo(id: id) { infos[id] = info }
            }
        }
        return infos
    }

    /// Reads sessions in parallel (a few at a time on each core): their documents, passages and trigrams.
    static func readSessions(
        _ ids: [String], infos: [String: CLISessionInfo], fingerprints: [String: String],
        stamps: [String: [FileStamp]], library: ClaudeSessionLibrary, indexingText: Bool
    ) async -> [Update] {
        if !indexingText {
            return await readFigures(ids, infos: infos, fingerprints: fingerprints, stamps: stamps, library: library)
        }
        let next = Locked(0)
        let results = Locked([Update?](repeating: nil, count: ids.count))
        let workers = max(2, ProcessInfo.processInfo.activeProcessorCount + 1)
        await withTaskGroup(of: Void.self) { group in
            for _ in 0..<min(workers, ids.count) {
                group.addTask {
                    let extractor = TrigramExtractor()
                    while true {
                        let index = next.withLock { value in
                            defer { value += 1 }
                            return value
                        }
                        guard index < ids.count else { return }
                        let id = ids[index]
                        let update = await readOne(
                            id, info: infos[id], fingerprint: fingerprints[id] ?? "", stamps: stamps[id] ?? [],
                            library: library, indexingText: indexingText, extractor: extractor)
                        results.withLock { $0[index] = update }
                    }
                }
            }
        }
        return results.withLock { $0.compactMap { $0 } }
    }

    /// Reads the sessions' figures only (a listing), in one blocking call for all of them.
    static func readFigures(
        _ ids: [String], infos: [String: CLISessionInfo], fingerprints: [String: String],
        stamps: [String: [FileStamp]], library: ClaudeSessionLibrary
    ) async -> [Update] {
        var updates: [Update?] = []
        var reads: [(index: Int, summary: Summary)] = []
        var files: [(sessionID: String, path: String)] = []
        for id in ids {
            switch prepare(
                id, info: infos[id], fingerprint: fingerprints[id] ?? "", stamps: stamps[id] ?? [], library: library)
            {
            case .done(let update): updates.append(update)
            case .read(let summary, let path):
                reads.append((updates.count, summary))
                files.append((id, path))
                updates.append(nil)
            }
        }
        let results: [Result<SessionExporter.TranscriptFigures, SessionExportError>]
        do {
            results = try await SessionExporter.loadTranscriptFigures(files)
        } catch {
            results = files.map { _ in .failure(error) }
        }
        for (read, result) in zip(reads, results) {
            let id = ids[read.index]
            updates[read.index] = figuresUpdate(
                id, fingerprint: fingerprints[id] ?? "", summary: read.summary, result: result)
        }
        return updates.compactMap { $0 }
    }

    /// What a session's update needs: it is already known (not listed, unreadable), or its file is to be read.
    enum Preparation {
        case done(Update)
        case read(Summary, path: String)
    }

    static func prepare(
        _ id: String, info: CLISessionInfo?, fingerprint: String, stamps: [FileStamp], library: ClaudeSessionLibrary
    ) -> Preparation {
        guard let info else {
            // Not listed (a sidechain, nothing to show) or unreadable.
            let newest = stamps.max { $0.modified < $1.modified }
            let path = newest?.path(in: library.projectsDirectory) ?? id
            var problem: String?
            if access(path, R_OK) != 0 {
                problem = "cannot read \(path): \(String(cString: strerror(errno)))"
            }
            return .done(
                Update(
                    id: id, fingerprint: problem == nil ? fingerprint : "", listed: false,
                    summary: Summary(sessionID: id, title: id), searchTitle: id, passages: nil, keys: [],
                    problem: problem))
        }
        let summary = Summary(
            sessionID: id, title: info.customTitle ?? info.firstPrompt ?? info.summary, projectPath: info.cwd,
            lastModified: Date(timeIntervalSince1970: Double(info.lastModified) / 1000), tag: info.tag)
        // The file `locate` would pick: the newest non-empty one (the first folder in name order on a tie).
        var chosen: FileStamp?
        for stamp in stamps.sorted(by: { $0.folder.utf8.lexicographicallyPrecedes($1.folder.utf8) })
        where stamp.size > 0 {
            if chosen == nil || stamp.modified / 1_000_000 > chosen!.modified / 1_000_000 { chosen = stamp }
        }
        guard let chosen else {
            return .done(failedUpdate(id, summary: summary, SessionExportError(.sessionNotFound, subject: id)))
        }
        return .read(summary, path: chosen.path(in: library.projectsDirectory))
    }

    static func failedUpdate(_ id: String, summary: Summary, _ error: any Error) -> Update {
        Update(
            id: id, fingerprint: "", listed: true, summary: summary, searchTitle: summary.title, passages: nil,
            keys: [], problem: "\(error)")
    }

    /// The update of a listed session whose figures were read.
    static func figuresUpdate(
        _ id: String, fingerprint: String, summary: Summary,
        result: Result<SessionExporter.TranscriptFigures, SessionExportError>
    ) -> Update {
        switch result {
        case .success(let figures):
            var counted = summary
            counted.count(messages: figures.messageCount, usage: figures.usage)
            return Update(
                id: id, fingerprint: fingerprint, listed: true, summary: counted, searchTitle: summary.title,
                searchProject: summary.projectPath, searchLastActivity: summary.lastModified, passages: nil,
                keys: [])
        case .failure(let error):
            return failedUpdate(id, summary: summary, error)
        }
    }

    /// Reads one session's document for the index (``readFigures(_:infos:fingerprints:stamps:library:)`` when only its figures are wanted).
    static func readOne(
        _ id: String, info: CLISessionInfo?, fingerprint: String, stamps: [FileStamp], library: ClaudeSessionLibrary,
        indexingText: Bool, extractor: TrigramExtractor
    ) async -> Update {
        let summary: Summary
        let path: String
        switch prepare(id, info: info, fingerprint: fingerprint, stamps: stamps, library: library) {
        case .done(let update): return update
        case .read(let prepared, let file): (summary, path) = (prepared, file)
        }
        guard let info else {
            return failedUpdate(id, summary: summary, SessionExportError(.sessionNotFound, subject: id))
        }
        do {
            let document = try await SessionExporter.loadTranscript(
                sessionID: id, path: path, info: info, timestamped: false)
            return update(
                id: id, fingerprint: fingerprint, document: document, summary: summary, indexingText: indexingText,
                extractor: extractor)
        } catch {
            return failedUpdate(id, summary: summary, error)
        }
    }

    // MARK: - stat

    /// Runs blocking work on a Dispatch thread, off Swift's cooperative pool.
    static func offPool<T: Sendable>(_ body: @escaping @Sendable () -> T) async -> T {
        await withCheckedContinuation { continuation in
            DispatchQueue.global(qos: .userInitiated).async { continuation.resume(returning: body()) }
        }
    }

    static func fnv(_ text: String) -> UInt64 {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in text.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return hash
    }

    static func name(of entry: UnsafeMutablePointer<dirent>) -> String {
        withUnsafeBytes(of: entry.pointee.d_name) { raw in
            let bytes = raw.bindMemory(to: UInt8.self)
            let length = bytes.firstIndex(of: 0) ?? bytes.count
            return String(decoding: UnsafeBufferPointer(rebasing: bytes[0..<length]), as: UTF8.self)
        }
    }

    static func isTranscriptName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard bytes.count == 42, name.hasSuffix(".jsonl") else { return false }
        for index in 0..<36 {
            let byte = bytes[index]
            switch index {
            case 8, 13, 18, 23: if byte != UInt8(ascii: "-") { return false }
            default:
                guard (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x66) else {
                    return false
                }
            }
        }
        return true
    }

    /// Every `<uuid>.jsonl` of every project folder, with its `stat` (two threads), and the
    /// modification times of the folders (`""`: the projects folder itself), taken before they
    /// were read.
    static func stampTranscripts(projectsDirectory: String) -> ([FileStamp], [FolderStamp]) {
        var folderStamps: [FolderStamp] = []
        if let modified = FolderStamp.modified(projectsDirectory) {
            folderStamps.append(FolderStamp(name: "", modified: modified))
        }
        guard let top = opendir(projectsDirectory) else { return ([], folderStamps) }
        var folders: [String] = []
        while let entry = readdir(top) {
            let name = Self.name(of: entry)
            if name == "." || name == ".." { continue }
            folders.append(name)
        }
        closedir(top)
        var descriptors: [Int32] = []
        var names: [String] = []
        var files: [(folder: Int, name: String)] = []
        for folder in folders {
            let descriptor = openDirectory(projectsDirectory + "/" + folder)
            guard descriptor >= 0, let directory = fdopendir(descriptor) else {
                if descriptor >= 0 { close(descriptor) }
                continue
            }
            var status = stat()
            if fstat(descriptor, &status) == 0 {
                folderStamps.append(
                    FolderStamp(name: folder, modified: FolderStamp.nanoseconds(status.modificationTime)))
            }
            let folderIndex = descriptors.count
            descriptors.append(dup(descriptor))
            names.append(folder)
            while let entry = readdir(directory) {
                let name = Self.name(of: entry)
                if isTranscriptName(name) { files.append((folderIndex, name)) }
            }
            closedir(directory)
        }
        defer { for descriptor in descriptors { close(descriptor) } }
        let (listed, folderDescriptors, folderNames) = (files, descriptors, names)
        let count = listed.count
        nonisolated(unsafe) let results = UnsafeMutableBufferPointer<FileStamp?>.allocate(capacity: count)
        results.initialize(repeating: nil)
        defer {
            _ = results.deinitialize()
            results.deallocate()
        }
        let parts = count > 512 ? 2 : 1
        DispatchQueue.concurrentPerform(iterations: parts) { part in
            var index = part
            while index < count {
                let file = listed[index]
                var status = stat()
                if fstatat(folderDescriptors[file.folder], file.name, &status, 0) == 0,
                    (status.st_mode & 0o170000) == 0o100000
                {
                    results[index] = FileStamp(
                        sessionID: String(file.name.dropLast(6)), folder: folderNames[file.folder], status: status)
                } else if fstatat(folderDescriptors[file.folder], file.name, &status, AT_SYMLINK_NOFOLLOW) == 0 {
                    // A dangling link (or a folder by that name): kept, so that it is reported unreadable.
                    results[index] = FileStamp(
                        sessionID: String(file.name.dropLast(6)), folder: folderNames[file.folder], size: -1,
                        modified: 0, changed: 0, inode: UInt64(status.st_ino))
                }
                index += parts
            }
        }
        var stamps: [FileStamp] = []
        stamps.reserveCapacity(count)
        for index in 0..<count {
            if let stamp = results[index] { stamps.append(stamp) }
        }
        return (stamps, folderStamps)
    }
}

/// Opens a folder for `fstatat` (outside the index type, whose `open` would shadow the system's).
private func openDirectory(_ path: String) -> Int32 {
    let flags: Int32 = O_RDONLY | O_DIRECTORY | O_CLOEXEC
    return open(path, flags)
}

/// A value behind a lock.
final class Locked<Value>: @unchecked Sendable {
    private let lock = NSLock()
    private var value: Value

    init(_ value: Value) { self.value = value }

    func withLock<T>(_ body: (inout Value) -> T) -> T {
        lock.lock()
        defer { lock.unlock() }
        return body(&value)
    }
}

extension stat {
    /// The modification time.
    var modificationTime: timespec {
        #if canImport(Darwin)
            st_mtimespec
        #else
            st_mtim
        #endif
    }

    /// The status change time.
    var changeTime: timespec {
        #if canImport(Darwin)
            st_ctimespec
        #else
            st_ctim
        #endif
    }
}

extension SQLiteSearchIndex {
    /// A project folder's modification time (`name` `""`: the projects folder).
    struct FolderStamp: Sendable, Codable, Hashable {
        var name: String
        var modified: Int64

        static func nanoseconds(_ time: timespec) -> Int64 {
            Int64(time.tv_sec) * 1_000_000_000 + Int64(time.tv_nsec)
        }

        static func modified(_ path: String) -> Int64? {
            var status = stat()
            guard stat(path, &status) == 0 else { return nil }
            return nanoseconds(status.modificationTime)
        }
    }

    /// Transcripts modified this long before a full check count as active: the quick check of
    /// ``refresh(library:indexingText:fullCheckInterval:)`` `stat`s them.
    public static let activeWindow: Duration = .seconds(15 * 60)

    /// What the quick check of ``refresh(library:indexingText:fullCheckInterval:)`` compares: the
    /// folders' modification times and the active transcripts' stamps at the last full check.
    struct QuickCheck: Codable {
        /// When the last full check began (seconds since 1970).
        var checkedAt: Double
        /// Distinct sessions at that check.
        var sessions: Int
        var folders: [FolderStamp]
        /// Active transcripts: their path under the projects folder and their fingerprint.
        var active: [String: String]

        init(checkedAt: Date, folders: [FolderStamp], stamps: [FileStamp]) {
            self.checkedAt = checkedAt.timeIntervalSince1970
            self.folders = folders
            sessions = Set(stamps.map(\.sessionID)).count
            let window = SQLiteSearchIndex.activeWindow.components.seconds
            let since = (Int64(checkedAt.timeIntervalSince1970) - window) * 1_000_000_000
            var active: [String: String] = [:]
            for stamp in stamps where stamp.modified >= since || stamp.size < 0 {
                active[stamp.folder + "/" + stamp.sessionID + ".jsonl"] = stamp.fingerprint
            }
            self.active = active
        }

        init?(encoded: String) {
            guard !encoded.isEmpty,
                let value = try? JSONDecoder().decode(QuickCheck.self, from: Data(encoded.utf8))
            else { return nil }
            self = value
        }

        var encoded: String {
            (try? JSONEncoder().encode(self)).map { String(decoding: $0, as: UTF8.self) } ?? ""
        }

        /// Whether the last full check is recent and nothing it would notice soon changed: no
        /// folder changed (a folder changed within two seconds of the check is not trusted, its
        /// time may be too coarse to show a later change) and no active transcript changed.
        func isCurrent(projectsDirectory: String, interval: Duration) -> Bool {
            let age = Date().timeIntervalSince1970 - checkedAt
            let seconds = Double(interval.components.seconds) + Double(interval.components.attoseconds) / 1e18
            guard age >= 0, age < seconds, folders.first?.name == "" else { return false }
            let settled = Int64((checkedAt - 2) * 1e9)
            for folder in folders {
                guard folder.modified < settled else { return false }
                let path = folder.name.isEmpty ? projectsDirectory : projectsDirectory + "/" + folder.name
                guard FolderStamp.modified(path) == folder.modified else { return false }
            }
            for (relative, fingerprint) in active {
                let slash = relative.lastIndex(of: "/")!
                let folder = String(relative[..<slash])
                let name = relative[relative.index(after: slash)...]
                var status = stat()
                let path = projectsDirectory + "/" + relative
                let stamp: FileStamp
                if stat(path, &status) == 0, (status.st_mode & 0o170000) == 0o100000 {
                    stamp = FileStamp(sessionID: String(name.dropLast(6)), folder: folder, status: status)
                } else if lstat(path, &status) == 0 {
                    stamp = FileStamp(
                        sessionID: String(name.dropLast(6)), folder: folder, size: -1, modified: 0, changed: 0,
                        inode: UInt64(status.st_ino))
                } else {
                    return false
                }
                guard stamp.fingerprint == fingerprint else { return false }
            }
            return true
        }
    }
}
