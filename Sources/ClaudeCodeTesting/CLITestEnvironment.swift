import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A throwaway sandbox for running the real Claude Code CLI (or `fake-claude`) in a test.
///
/// It creates a root folder under the system temp directory holding:
/// - `home/`: the CLI's `HOME` (its `~/.claude` with transcripts, `~/.claude.json`, …);
/// - `tmp/`: its `TMPDIR` (moves `claude-<uid>/` and `cc-socks/` out of the shared `/tmp`);
/// - `work/`: the working directory to launch the CLI in.
///
/// All paths are symlink-resolved, because the CLI names the transcript folder after the resolved cwd.
///
/// ```swift
/// let api = FakeMessagesAPI()
/// try await api.start()
/// let sandbox = try CLITestEnvironment(baseURL: api.baseURL)
/// defer { sandbox.cleanup() }
/// let cli = try CLITestEnvironment.locateRealCLI()
/// // spawn cli with sandbox.environment, cwd sandbox.workDirectory
/// ```
///
/// - Important: Call ``cleanup()`` when done; nothing is removed automatically.
public struct CLITestEnvironment: Sendable {
    /// The CLI version the repository pins and ``locateRealCLI(filePath:)`` looks for.
    public static let pinnedCLIVersion = "2.1.331"

    /// The API key placed in ``environment``.
    public static let apiKey = "sk-test"

    /// An error from ``CLITestEnvironment``.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        /// What went wrong, with the remedy when there is one.
        public var description: String
    }

    /// The root folder; removed by ``cleanup()``.
    public let root: URL
    /// `root/home`, the CLI's `HOME`.
    public let homeDirectory: URL
    /// `root/tmp`, the CLI's `TMPDIR`.
    public let tmpDirectory: URL
    /// `root/work`, the working directory for the CLI.
    public let workDirectory: URL
    /// The fake API's base URL placed in `ANTHROPIC_BASE_URL`, if any.
    public var baseURL: URL?

    /// Creates the folders.
    ///
    /// - Parameters:
    ///   - baseURL: The Messages API base URL (usually ``FakeMessagesAPI/baseURL``).
    ///   - prefix: The start of the root folder's name.
    /// - Throws: ``Failure`` when the folders cannot be created.
    public init(baseURL: URL? = nil, prefix: String = "cc-test") throws {
        let parent = Self.resolvedPath(FileManager.default.temporaryDirectory.path)
        var template = Array("\(parent)/\(prefix)-XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { buffer -> String? in
            guard let base = buffer.baseAddress, mkdtemp(base) != nil else { return nil }
            return String(cString: base)
        }
        guard let created else {
            throw Failure(description: "could not create a temp folder under \(parent): errno \(errno)")
        }
        let rootPath = Self.resolvedPath(created)
        root = URL(fileURLWithPath: rootPath, isDirectory: true)
        homeDirectory = root.appendingPathComponent("home", isDirectory: true)
        tmpDirectory = root.appendingPathComponent("tmp", isDirectory: true)
        workDirectory = root.appendingPathComponent("work", isDirectory: true)
        self.baseURL = baseURL
        do {
            for folder in [homeDirectory, tmpDirectory, workDirectory] {
                try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
            }
        } catch {
            try? FileManager.default.removeItem(at: root)
            throw Failure(description: "could not create the sandbox folders under \(rootPath): \(error)")
        }
    }

    /// The environment for the CLI process (not merged with the current process's environment).
    ///
    /// Holds `PATH` (copied from this process, for the CLI's Bash tool), `HOME`, `TMPDIR`, `ANTHROPIC_BASE_URL`
    /// (when ``baseURL`` is set), `ANTHROPIC_API_KEY=sk-test`, `CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC=1`,
    /// `CLAUDE_CODE_MAX_RETRIES=0` and `IS_SANDBOX=1`.
    public var environment: [String: String] {
        var env: [String: String] = [
            "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/local/bin:/usr/bin:/bin",
            "HOME": homeDirectory.path,
            "TMPDIR": tmpDirectory.path,
            "ANTHROPIC_API_KEY": Self.apiKey,
            "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
            "CLAUDE_CODE_MAX_RETRIES": "0",
            "IS_SANDBOX": "1",
        ]
        if let baseURL { env["ANTHROPIC_BASE_URL"] = baseURL.absoluteString }
        return env
    }

    /// ``environment`` with `overrides` applied (a value replaces, so retries can be re-enabled, for example).
    public func environment(overriding overrides: [String: String]) -> [String: String] {
        environment.merging(overrides) { _, new in new }
    }

    /// `home/.claude/projects/<sanitized work directory>`: where the CLI writes this sandbox's transcripts.
    public var transcriptsFolder: URL {
        homeDirectory
            .appendingPathComponent(".claude", isDirectory: true)
            .appendingPathComponent("projects", isDirectory: true)
            .appendingPathComponent(Self.sanitizedPath(workDirectory.path), isDirectory: true)
    }

    /// The transcript file of a session: `<transcriptsFolder>/<sessionID>.jsonl`.
    public func transcriptURL(sessionID: String) -> URL {
        transcriptsFolder.appendingPathComponent("\(sessionID).jsonl", isDirectory: false)
    }

    /// Removes the root folder and everything in it. Safe to call more than once.
    public func cleanup() {
        try? FileManager.default.removeItem(at: root)
    }

    /// The CLI's project-folder name for a path: every character outside `[A-Za-z0-9]` becomes `-`.
    ///
    /// The CLI adds a hash suffix to paths longer than 200 characters; this does not, so keep test paths short.
    public static func sanitizedPath(_ path: String) -> String {
        String(
            path.unicodeScalars.map { scalar -> Character in
                switch scalar {
                case "a"..."z", "A"..."Z", "0"..."9": return Character(scalar)
                default: return "-"
                }
            })
    }

    /// Finds the pinned real `claude` binary.
    ///
    /// Looks at `CLAUDE_CODE_CLI_PATH` first, then for `.claude-cli/2.1.331/claude` in every folder above
    /// `filePath` and above the current directory.
    ///
    /// - Parameter filePath: A file inside the repository; the caller's file by default.
    /// - Returns: The absolute path of an executable file.
    /// - Throws: ``Failure`` telling to run `scripts/setup/install-claude-cli.sh` when nothing is found.
    public static func locateRealCLI(filePath: String = #filePath) throws -> String {
        let environment = ProcessInfo.processInfo.environment
        if let explicit = environment["CLAUDE_CODE_CLI_PATH"], !explicit.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: explicit) else {
                throw Failure(description: "CLAUDE_CODE_CLI_PATH=\(explicit) is not an executable file")
            }
            return explicit
        }
        let relative = ".claude-cli/\(pinnedCLIVersion)/claude"
        var searched: [String] = []
        for start in [
            URL(fileURLWithPath: filePath).deletingLastPathComponent().path,
            FileManager.default.currentDirectoryPath,
        ] {
            for folder in ancestors(of: start) {
                let candidate = folder == "/" ? "/\(relative)" : "\(folder)/\(relative)"
                if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
                searched.append(folder)
            }
        }
        throw Failure(
            description: """
                The real Claude Code CLI \(pinnedCLIVersion) is not installed: no \(relative) above \
                \(searched.first ?? filePath) or the current directory, and CLAUDE_CODE_CLI_PATH is not set. \
                Run scripts/setup/install-claude-cli.sh from the repository root.
                """)
    }

    /// Finds the `fake-claude` executable built by this package.
    ///
    /// Looks at `FAKE_CLAUDE_PATH` first, then next to the running test bundle (SwiftPM puts executables of the
    /// package beside it), then in `.build/debug` above `filePath`.
    ///
    /// - Throws: ``Failure`` when it is not found (build it with `swift build --product fake-claude`).
    public static func locateFakeCLI(filePath: String = #filePath) throws -> String {
        try locateBuiltExecutable(named: "fake-claude", environmentKey: "FAKE_CLAUDE_PATH", filePath: filePath)
    }

    /// Finds the `fake-messages-api` executable built by this package (see ``locateFakeCLI(filePath:)``).
    ///
    /// - Throws: ``Failure`` when it is not found.
    public static func locateFakeMessagesAPIServer(filePath: String = #filePath) throws -> String {
        try locateBuiltExecutable(
            named: "fake-messages-api", environmentKey: "FAKE_MESSAGES_API_PATH", filePath: filePath)
    }

    /// Finds an executable this package builds (a product, or an executable target without one):
    /// `environmentKey`'s value when set, else beside the running test bundle, else in
    /// `.build/debug` above `filePath`.
    ///
    /// - Throws: ``Failure`` when it is not found.
    public static func locateBuiltExecutable(
        named name: String, environmentKey: String? = nil, filePath: String = #filePath
    ) throws -> String {
        if let environmentKey, let explicit = ProcessInfo.processInfo.environment[environmentKey], !explicit.isEmpty {
            guard FileManager.default.isExecutableFile(atPath: explicit) else {
                throw Failure(description: "\(environmentKey)=\(explicit) is not an executable file")
            }
            return explicit
        }
        var candidates: [String] = []
        var bundle = URL(fileURLWithPath: CommandLine.arguments.first ?? "").deletingLastPathComponent()
        // On macOS the runner sits inside `<name>.xctest/Contents/MacOS`; climb out of the bundle.
        while bundle.path.contains(".xctest") { bundle.deleteLastPathComponent() }
        candidates.append(bundle.appendingPathComponent(name).path)
        for folder in ancestors(of: URL(fileURLWithPath: filePath).deletingLastPathComponent().path) {
            candidates.append("\(folder)/.build/debug/\(name)")
        }
        if let found = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) {
            return found
        }
        throw Failure(
            description:
                "\(name) not found (\(environmentKey.map { "set \($0), or " } ?? "")run swift build --build-tests)")
    }

    private static func ancestors(of path: String) -> [String] {
        var result: [String] = []
        var current = URL(fileURLWithPath: path).standardizedFileURL.path
        while true {
            result.append(current)
            let parent = URL(fileURLWithPath: current).deletingLastPathComponent().standardizedFileURL.path
            if parent == current || current == "/" { break }
            current = parent
        }
        return result
    }

    /// `realpath(3)` of `path`, or `path` itself when it cannot be resolved.
    static func resolvedPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }
}
