import ClaudeCode
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A session written from a store into a temporary CLI config folder.
struct MaterializedSession: Sendable {
    /// The folder to give the CLI as `CLAUDE_CONFIG_DIR`.
    var configDirectory: String
    /// The session to pass as `--resume`.
    var sessionID: String

    /// Removes the folder (credentials included). Safe to call more than once.
    func remove() {
        StoreResume.removeTree(configDirectory)
    }
}

/// Store-backed resume, as the Python SDK's `materialize_resume_session` does it.
///
/// When a client with a store resumes (or continues) a session, the CLI can only read the
/// transcript from its own config folder. The transcript (and its subagent transcripts) is
/// loaded from the store and written to a fresh temporary folder laid out like `~/.claude`,
/// with the caller's `.claude.json`, settings (plugin declarations and `env.CLAUDE_CONFIG_DIR`
/// removed) and credentials (without the OAuth refresh token, so the CLI cannot spend it), and
/// the CLI runs with `CLAUDE_CONFIG_DIR` pointing there. The folder is removed when the
/// connection ends, and on every failure path.
enum StoreResume {
    static func materialize(
        store: any SessionStore, options: ClaudeCodeOptions, configuration: SessionStoreConfiguration
    ) async throws(ClaudeCodeError) -> MaterializedSession? {
        guard options.resume != nil || options.continueConversation else { return nil }
        let cwd = options.cwd ?? FileManager.default.currentDirectoryPath
        let folderName = ClaudeSessionLibrary.projectFolderName(for: cwd)
        let projectKey = configuration.projectKey ?? folderName
        let timeout = configuration.loadTimeout

        let resolved: (sessionID: String, entries: [SessionStoreEntry])?
        var sourceProjectKey = projectKey
        if let resume = options.resume {
            // Used as a file name below: only UUIDs, as the CLI names sessions.
            guard TextRules.isUUID(resume) else { return nil }
            let configDirectory = TranscriptPaths.configDirectory(environment: options.processEnvironment())
            if SessionImport.locate(
                resume, projectsDirectory: configDirectory + "/projects", directory: cwd) != nil
            {
                // The CLI still has its transcript here: bring the store up to date with it (a session
                // that began without the store, or turns a failed mirror missed), deduplicated. The CLI
                // resumes from its own file unless the store holds turns the file lacks (another host
                // continued the session), in which case it resumes from the store's fuller copy.
                let outcome = try await call("import", key: nil, timeout) { () async throws(SessionStoreError) in
                    try await SessionImport.run(
                        resume, into: store, directory: cwd, configDirectory: configDirectory, projectKey: projectKey,
                        includeSubagents: true, batchSize: 500)
                }
                if outcome.storeOnlyEntries == 0 { return nil }
            }
            var found = try await loadCandidate(
                store, SessionStoreKey(projectKey: projectKey, sessionID: resume), timeout)
            for fallback in configuration.resumeFallbackProjectKeys where found == nil && fallback != projectKey {
                guard
                    let candidate = try await loadCandidate(
                        store, SessionStoreKey(projectKey: fallback, sessionID: resume), timeout)
                else { continue }
                // Continued in another directory: keep the history under this directory's key too,
                // where the CLI's new lines will be mirrored.
                let target = SessionStoreKey(projectKey: projectKey, sessionID: resume)
                _ = try await call("append", key: target, timeout) { () async throws(SessionStoreError) in
                    try await store.append(candidate.entries, to: target)
                }
                sourceProjectKey = fallback
                found = candidate
            }
            resolved = found
        } else {
            resolved = try await continueCandidate(store, projectKey: projectKey, timeout: timeout)
        }
        guard let resolved else { return nil }

        let root = try makeTemporaryFolder(in: configuration.temporaryDirectory)
        do {
            let sessionFolder = root + "/projects/" + folderName
            try makeDirectories(sessionFolder)
            try writeLines(resolved.entries, to: sessionFolder + "/" + resolved.sessionID + ".jsonl")
            copyAuthAndSettings(into: root, environment: options.processEnvironment())
            if let catalog = store as? any SessionCatalog {
                try await materializeSubkeys(
                    catalog, projectKey: sourceProjectKey, sessionID: resolved.sessionID,
                    sessionFolder: sessionFolder + "/" + resolved.sessionID, timeout: timeout)
            }
            try Task.checkCancellation()
        } catch {
            removeTree(root)
            if let error = error as? ClaudeCodeError { throw error }
            if error is CancellationError {
                throw ClaudeCodeError(.cancelled, "resuming from the session store was cancelled")
            }
            throw ClaudeCodeError(.launchFailed, "could not write the resumed session for the CLI", underlying: error)
        }
        return MaterializedSession(configDirectory: root, sessionID: resolved.sessionID)
    }

    // MARK: Choosing the session

    private static func loadCandidate(_ store: any SessionStore, _ key: SessionStoreKey, _ timeout: Duration)
        async throws(ClaudeCodeError) -> (sessionID: String, entries: [SessionStoreEntry])?
    {
        let entries = try await call("load", key: key, timeout) { () async throws(SessionStoreError) in
            try await store.load(key)
        }
        guard let entries, !entries.isEmpty else { return nil }
        return (key.sessionID, entries)
    }

    /// The most recently modified session whose first entry is not a sidechain.
    private static func continueCandidate(_ store: any SessionStore, projectKey: String, timeout: Duration)
        async throws(ClaudeCodeError) -> (sessionID: String, entries: [SessionStoreEntry])?
    {
        guard let catalog = store as? any SessionCatalog else {
            throw ClaudeCodeError(
                .invalidOptions,
                "continueConversation with a session store needs a SessionCatalog (it lists sessions); set resume instead"
            )
        }
        let sessions = try await call("listSessions", key: nil, timeout) { () async throws(SessionStoreError) in
            try await catalog.listSessions(projectKey: projectKey)
        }
        for session in sessions.sorted(by: { $0.modifiedMilliseconds > $1.modifiedMilliseconds })
        where TextRules.isUUID(session.sessionID) {
            guard
                let candidate = try await loadCandidate(
                    store, SessionStoreKey(projectKey: projectKey, sessionID: session.sessionID), timeout)
            else { continue }
            if let first = try? candidate.entries[0].value(), first["isSidechain"]?.boolValue == true { continue }
            return candidate
        }
        return nil
    }

    /// A store call bounded by `timeout`, its failure as a `ClaudeCodeError`.
    private static func call<Value: Sendable>(
        _ name: String, key: SessionStoreKey?, _ timeout: Duration,
        _ operation: @escaping @Sendable () async throws(SessionStoreError) -> Value
    ) async throws(ClaudeCodeError) -> Value {
        switch await withDeadline(timeout, operation) {
        case .success(let value):
            return value
        case .timedOut:
            throw ClaudeCodeError(
                .launchFailed, "SessionStore.\(name)() did not answer within \(timeout) while resuming")
        case .failed(let error):
            throw ClaudeCodeError(
                .launchFailed, "SessionStore.\(name)() failed while resuming: \(error)", underlying: error)
        }
    }

    // MARK: Subagents

    private static func materializeSubkeys(
        _ catalog: any SessionCatalog, projectKey: String, sessionID: String, sessionFolder: String, timeout: Duration
    ) async throws -> Void {
        let subpaths = try await call("listSubkeys", key: nil, timeout) { () async throws(SessionStoreError) in
            try await catalog.listSubkeys(projectKey: projectKey, sessionID: sessionID)
        }
        for subpath in subpaths {
            // Subpaths come from the store and become paths: skip anything that could escape.
            guard SessionStoreKey.isSafeSubpath(subpath) else { continue }
            let key = SessionStoreKey(projectKey: projectKey, sessionID: sessionID, subpath: subpath)
            let loaded = try await call("load", key: key, timeout) { () async throws(SessionStoreError) in
                try await catalog.load(key)
            }
            guard let entries = loaded, !entries.isEmpty else { continue }
            var metadata: SessionStoreEntry?
            var transcript: [SessionStoreEntry] = []
            for entry in entries {
                if entry.type == "agent_metadata" { metadata = entry } else { transcript.append(entry) }
            }
            let file = sessionFolder + "/" + subpath + ".jsonl"
            try makeDirectories(String(file[..<file.lastIndex(of: "/")!]))
            if !transcript.isEmpty { try writeLines(transcript, to: file) }
            if let metadata, case .object(var object) = try metadata.value() {
                object["type"] = nil
                try writeFile(JSONValue.object(object).serialized(), to: String(file.dropLast(6)) + ".meta.json")
            }
        }
    }

    // MARK: Auth and settings

    /// Copies the caller's `.credentials.json` (without `claudeAiOauth.refreshToken`),
    /// `.claude.json` and `settings.json`/`cowork_settings.json` (without `enabledPlugins`,
    /// `extraKnownMarketplaces` and `env.CLAUDE_CONFIG_DIR`) from where the CLI would read them.
    /// Missing, unreadable or non-regular files are skipped.
    static func copyAuthAndSettings(into root: String, environment: [String: String]) {
        let configured = environment["CLAUDE_CONFIG_DIR"].flatMap { $0.isEmpty ? nil : $0 }
        let source = TranscriptPaths.configDirectory(environment: environment)
        if let credentials = readRegularFile(source + "/.credentials.json") {
            try? writeFile(redactRefreshToken(credentials), to: root + "/.credentials.json")
        }
        let home = HomeDirectory.path(environment: environment)
        let claudeJSON = configured.map { $0 + "/.claude.json" } ?? home + "/.claude.json"
        if let bytes = readRegularFile(claudeJSON) { try? writeFile(bytes, to: root + "/.claude.json") }
        for name in ["settings.json", "cowork_settings.json"] {
            if let bytes = readRegularFile(source + "/" + name) {
                try? writeFile(scrubSettings(bytes), to: root + "/" + name)
            }
        }
    }

    /// The credentials without `claudeAiOauth.refreshToken`; unparseable content is copied as is.
    static func redactRefreshToken(_ bytes: [UInt8]) -> [UInt8] {
        guard case .object(var object)? = try? JSONValue.parse(bytes),
            case .object(var oauth)? = object["claudeAiOauth"],
            oauth["refreshToken"] != nil
        else { return bytes }
        oauth["refreshToken"] = nil
        object["claudeAiOauth"] = .object(oauth)
        return JSONValue.object(object).serialized()
    }

    /// Settings without the keys that misbehave under a redirected config folder.
    static func scrubSettings(_ bytes: [UInt8]) -> [UInt8] {
        let body = bytes.starts(with: [0xEF, 0xBB, 0xBF]) ? Array(bytes.dropFirst(3)) : bytes
        guard case .object(var object)? = try? JSONValue.parse(body) else { return bytes }
        var changed = false
        for key in ["enabledPlugins", "extraKnownMarketplaces"] where object[key] != nil {
            object[key] = nil
            changed = true
        }
        if case .object(var env)? = object["env"], env["CLAUDE_CONFIG_DIR"] != nil {
            env["CLAUDE_CONFIG_DIR"] = nil
            object["env"] = .object(env)
            changed = true
        }
        guard changed else { return bytes }
        // Numbers JSON cannot hold (1e999 parsed to infinity) would be written as null: keep the original then.
        if containsNonFinite(.object(object)) { return bytes }
        return JSONValue.object(object).serialized()
    }

    private static func containsNonFinite(_ value: JSONValue) -> Bool {
        switch value {
        case .double(let number): return !number.isFinite
        case .array(let items): return items.contains(where: containsNonFinite)
        case .object(let members): return members.values.contains(where: containsNonFinite)
        default: return false
        }
    }

    // MARK: Files

    private static func makeTemporaryFolder(in directory: String?) throws(ClaudeCodeError) -> String {
        let parent =
            directory ?? ProcessInfo.processInfo.environment["TMPDIR"].flatMap { $0.isEmpty ? nil : $0 } ?? "/tmp"
        var template = Array(
            "\(parent.hasSuffix("/") ? String(parent.dropLast()) : parent)/claude-resume-XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { buffer -> String? in
            guard let base = buffer.baseAddress, mkdtemp(base) != nil else { return nil }
            return String(cString: base)
        }
        guard let created else {
            throw ClaudeCodeError(
                .launchFailed, "could not create a temporary config folder for the resumed session (errno \(errno))")
        }
        _ = chmod(created, 0o700)
        return created
    }

    private static func makeDirectories(_ path: String) throws {
        try FileManager.default.createDirectory(
            atPath: path, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
    }

    private static func writeLines(_ entries: [SessionStoreEntry], to path: String) throws {
        var bytes: [UInt8] = []
        bytes.reserveCapacity(entries.reduce(0) { $0 + $1.raw.bytes.count + 1 })
        for entry in entries { TranscriptFileEngine.appendLine(entry, to: &bytes) }
        try writeFile(bytes, to: path)
    }

    /// Creates `path` (it must not exist) with mode 0600 and writes `bytes`.
    static func writeFile(_ bytes: [UInt8], to path: String) throws {
        let fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw POSIXError(POSIXErrorCode(rawValue: errno) ?? .EIO) }
        defer { close(fd) }
        _ = fchmod(fd, 0o600)
        try POSIX.writeAll(fd, bytes)
    }

    /// The bytes of a regular file (following links), or `nil` when it is missing, not regular or unreadable.
    static func readRegularFile(_ path: String) -> [UInt8]? {
        let fd = open(path, O_RDONLY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else { return nil }
        defer { close(fd) }
        guard let status = try? POSIX.status(of: fd), status.isRegularFile else { return nil }
        return try? POSIX.readAll(fd, sizeHint: status.size)
    }

    /// `rm -rf`, never following links; errors are ignored.
    static func removeTree(_ path: String) {
        try? FileManager.default.removeItem(atPath: path)
    }
}
