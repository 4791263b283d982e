import ClaudeCode
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// What ``importSession(_:into:directory:configDirectory:projectKey:includeSubagents:batchSize:)`` stored.
public struct SessionImportResult: Sendable, Hashable {
    /// The main transcript's key.
    public var key: SessionStoreKey
    /// Entries read from the main transcript (blank lines are not entries).
    public var entryCount: Int
    /// The subagent subpaths imported, with their entry counts.
    public var subkeys: [String: Int]
}

/// Copies a session the CLI wrote to disk into a store, as the Python SDK's
/// `import_session_to_store` does, so it can be listed, read and resumed from the store.
///
/// The transcript is streamed: `append` is called every `batchSize` lines or every 1 MiB,
/// whichever comes first, so memory stays flat however long the session is. Blank lines are
/// skipped; a line that is not a JSON object stops the import with
/// ``SessionStoreError/Code/corruptEntry`` (naming the key and the line).
///
/// Importing into a key the store already holds (importing again, or filling the gap a
/// `mirror_error` reported in a mirrored session) stores nothing twice: the key is loaded first
/// and lines already there — by `uuid`, or by their exact bytes for lines without one — are
/// skipped. The lines that were missing are appended after the stored ones. (The Python SDK
/// relies on `uuid` deduplication alone, so lines without a uuid are stored again.)
///
/// Subagent transcripts under `<session>/subagents/**` are imported too (sorted by name in each
/// folder), keyed `subagents/…/agent-<id>`; each `agent-<id>.meta.json` sidecar follows as one
/// `{"type":"agent_metadata", …}` entry, which a store-backed resume writes back as the sidecar.
///
/// - Parameters:
///   - sessionID: The session (a UUID).
///   - store: Where to copy it.
///   - directory: The project's working directory; `nil` searches every project folder.
///   - configDirectory: The CLI's config folder; `nil` uses `CLAUDE_CONFIG_DIR`, else `~/.claude`.
///   - projectKey: The store's project key; `nil` uses the name of the folder the file was found in
///     (the key live mirroring gives the same session).
///   - includeSubagents: Whether to import subagent transcripts.
///   - batchSize: Lines per `append` (at most). Default 500.
/// - Returns: What was imported.
/// - Throws: ``SessionStoreError``: `invalidSessionID` for a session id that is not a UUID,
///   `sessionNotFound` when no transcript file exists, `ioFailure` when a file cannot be read,
///   `corruptEntry` for a line that is not a JSON object, or what the store throws.
@discardableResult
public func importSession(
    _ sessionID: String, into store: any SessionStore, directory: String? = nil, configDirectory: String? = nil,
    projectKey: String? = nil, includeSubagents: Bool = true, batchSize: Int = 500
) async throws(SessionStoreError) -> SessionImportResult {
    try await SessionImport.run(
        sessionID, into: store, directory: directory, configDirectory: configDirectory, projectKey: projectKey,
        includeSubagents: includeSubagents, batchSize: batchSize
    ).result
}

enum SessionImport {
    /// What an import found besides what it stored.
    struct Outcome {
        var result: SessionImportResult
        /// Entries with a `uuid` in the main transcript that the store held and the local file
        /// does not (another host's turns): the store is then ahead of the file.
        var storeOnlyEntries: Int
    }

    /// ``importSession(_:into:directory:configDirectory:projectKey:includeSubagents:batchSize:)``,
    /// also telling whether the store holds main-transcript entries the file lacks.
    static func run(
        _ sessionID: String, into store: any SessionStore, directory: String?, configDirectory: String?,
        projectKey: String?, includeSubagents: Bool, batchSize: Int
    ) async throws(SessionStoreError) -> Outcome {
        guard TextRules.isUUID(sessionID) else {
            throw SessionStoreError(.invalidSessionID, reason: "a CLI session id is a UUID")
        }
        let projects =
            (configDirectory ?? TranscriptPaths.configDirectory(environment: ProcessInfo.processInfo.environment))
            + "/projects"
        guard let file = locate(sessionID, projectsDirectory: projects, directory: directory) else {
            throw SessionStoreError(.sessionNotFound, path: projects, reason: "no transcript file for the session")
        }
        let folderName = URL(fileURLWithPath: file).deletingLastPathComponent().lastPathComponent
        let key = SessionStoreKey(projectKey: projectKey ?? folderName, sessionID: sessionID)
        let batch = batchSize > 0 ? batchSize : 500
        let main = try await appendFile(file, to: key, store: store, batchSize: batch)
        var subkeys: [String: Int] = [:]
        if includeSubagents {
            let sessionFolder = String(file.dropLast(6))
            for subagentFile in jsonlFiles(under: sessionFolder + "/subagents") {
                let subpath = String(subagentFile.dropFirst(sessionFolder.count + 1).dropLast(6))
                let subkey = SessionStoreKey(projectKey: key.projectKey, sessionID: sessionID, subpath: subpath)
                var metadata: SessionStoreEntry?
                if let meta = StoreResume.readRegularFile(String(subagentFile.dropLast(6)) + ".meta.json"),
                    case .object(var object)? = try? JSONValue.parse(meta)
                {
                    // The discriminator last, so a stray "type" in the CLI's sidecar cannot shadow it.
                    object["type"] = "agent_metadata"
                    metadata = try entry(
                        JSONValue.object(object).serialized(), key: subkey, path: subagentFile, line: 0)
                }
                subkeys[subpath] =
                    try await appendFile(subagentFile, to: subkey, store: store, batchSize: batch, trailing: metadata)
                    .entries
            }
        }
        return Outcome(
            result: SessionImportResult(key: key, entryCount: main.entries, subkeys: subkeys),
            storeOnlyEntries: main.storeOnly)
    }

    /// The transcript file of a session: in the project folder of `directory`, or in any project folder.
    static func locate(_ sessionID: String, projectsDirectory: String, directory: String?) -> String? {
        let name = sessionID + ".jsonl"
        func isFile(_ path: String) -> Bool {
            var status = stat()
            return stat(path, &status) == 0 && (status.st_mode & S_IFMT) == S_IFREG && status.st_size > 0
        }
        if let directory {
            let path = projectsDirectory + "/" + ClaudeSessionLibrary.projectFolderName(for: directory) + "/" + name
            return isFile(path) ? path : nil
        }
        let folders = ((try? FileManager.default.contentsOfDirectory(atPath: projectsDirectory)) ?? []).sorted()
        for folder in folders {
            let path = projectsDirectory + "/" + folder + "/" + name
            if isFile(path) { return path }
        }
        return nil
    }

    /// Every `*.jsonl` file under `folder`, depth first, sorted by name in each folder.
    static func jsonlFiles(under folder: String) -> [String] {
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: folder) else { return [] }
        var files: [String] = []
        for name in names.sorted() {
            let path = folder + "/" + name
            var status = stat()
            guard lstat(path, &status) == 0 else { continue }
            if (status.st_mode & S_IFMT) == S_IFDIR {
                files += jsonlFiles(under: path)
            } else if (status.st_mode & S_IFMT) == S_IFREG, name.hasSuffix(".jsonl") {
                files.append(path)
            }
        }
        return files
    }

    static func entry(_ bytes: [UInt8], key: SessionStoreKey, path: String, line: Int) throws(SessionStoreError)
        -> SessionStoreEntry
    {
        do {
            return try SessionStoreEntry(raw: RawJSON(bytes: bytes))
        } catch {
            throw SessionStoreError(
                .corruptEntry, path: path,
                reason: "line \(line) is not a JSON object: \(error.reason) at byte \(error.offset)", key: key)
        }
    }

    /// Streams a JSONL file into the store; returns how many entries were read, and how many
    /// stored entries with a `uuid` the file does not have. `trailing` (an `agent_metadata` entry) goes after
    /// the file's lines.
    static func appendFile(
        _ path: String, to key: SessionStoreKey, store: any SessionStore, batchSize: Int,
        trailing: SessionStoreEntry? = nil
    ) async throws(SessionStoreError) -> (entries: Int, storeOnly: Int) {
        var storedUUIDs: Set<String> = []
        var matchedUUIDs: Set<String> = []
        var storedLines: [[UInt8]: Int] = [:]
        for entry in try await store.load(key) ?? [] {
            if let uuid = entry.uuid { storedUUIDs.insert(uuid) } else { storedLines[entry.raw.bytes, default: 0] += 1 }
        }
        /// Whether the store holds the entry already (each stored copy of a uuid-less line matches once).
        func alreadyStored(_ item: SessionStoreEntry) -> Bool {
            if let uuid = item.uuid {
                guard storedUUIDs.contains(uuid) else { return false }
                matchedUUIDs.insert(uuid)
                return true
            }
            guard let copies = storedLines[item.raw.bytes] else { return false }
            storedLines[item.raw.bytes] = copies > 1 ? copies - 1 : nil
            return true
        }
        let fd = open(path, O_RDONLY | O_CLOEXEC)
        guard fd >= 0 else { throw SessionStoreError(.ioFailure, path: path, systemErrorNumber: errno, key: key) }
        defer { close(fd) }
        var pending: [UInt8] = []
        var batch: [SessionStoreEntry] = []
        var batchBytes = 0
        var lineNumber = 0
        var entries = 0
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        var atEnd = false
        var scanned = 0
        while !atEnd {
            let count = chunk.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if count < 0 {
                if errno == EINTR { continue }
                throw SessionStoreError(.ioFailure, path: path, systemErrorNumber: errno, key: key)
            }
            if count == 0 {
                atEnd = true
                if !pending.isEmpty { pending.append(0x0A) }
            } else {
                pending.append(contentsOf: chunk[..<count])
            }
            var start = 0
            // Bytes before `scanned` hold no newline: a long line is not searched again per chunk.
            var from = scanned
            while let newline = pending[from...].firstIndex(of: 0x0A) {
                lineNumber += 1
                var line = pending[start..<newline]
                if line.last == 0x0D { line = line.dropLast() }
                start = newline + 1
                from = start
                if line.allSatisfy({ $0 == 0x20 || $0 == 0x09 }) { continue }
                let item = try entry(Array(line), key: key, path: path, line: lineNumber)
                entries += 1
                if alreadyStored(item) { continue }
                batch.append(item)
                batchBytes += line.count
                if batch.count >= batchSize || batchBytes >= 1 << 20 {
                    try await store.append(batch, to: key)
                    batch.removeAll(keepingCapacity: true)
                    batchBytes = 0
                }
            }
            pending.removeFirst(start)
            scanned = pending.count
        }
        if let trailing, !alreadyStored(trailing) { batch.append(trailing) }
        if !batch.isEmpty { try await store.append(batch, to: key) }
        return (entries, storedUUIDs.count - matchedUUIDs.count)
    }
}
