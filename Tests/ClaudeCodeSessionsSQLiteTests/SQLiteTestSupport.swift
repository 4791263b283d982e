import ClaudeCodeSessions
import ClaudeCodeSessionsSQLite
import ClaudeCodeTesting
import Foundation
import GRDB
import SessionBackendTestSupport
import Testing

/// A private temp folder, removed by ``remove()``.
struct TemporaryFolder: Sendable {
    let path: String

    init() throws {
        var template = Array("\(FileManager.default.temporaryDirectory.path)/claude-sqlite-test.XXXXXX".utf8CString)
        let created = template.withUnsafeMutableBufferPointer { buffer -> String? in
            guard let base = buffer.baseAddress, mkdtemp(base) != nil else { return nil }
            return String(cString: base)
        }
        guard let created else { throw CocoaError(.fileWriteUnknown) }
        path = created
    }

    func file(_ name: String) -> String { path + "/" + name }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    /// Runs `body` with a fresh folder, removing it however `body` ends.
    static func with<T>(_ body: (TemporaryFolder) async throws -> T) async throws -> T {
        let folder = try TemporaryFolder()
        defer { folder.remove() }
        return try await body(folder)
    }
}

/// A store on a fresh database file (a WAL `DatabasePool`, as in production).
func withFileStore<T>(
    configuration: SQLiteSessionStore.Configuration = .init(),
    _ body: (SQLiteSessionStore, TemporaryFolder) async throws -> T
) async throws -> T {
    try await TemporaryFolder.with { folder in
        let store = try SQLiteSessionStore(path: folder.file("sessions.sqlite"), configuration: configuration)
        return try await body(store, folder)
    }
}

/// A store on an in-memory `DatabaseQueue`.
func makeInMemoryStore() throws -> SQLiteSessionStore {
    try SQLiteSessionStore(database: DatabaseQueue())
}

/// Runs an executable built by this package (beside the test bundle) and returns its exit status and output.
func runBuiltExecutable(_ name: String, _ arguments: [String]) async throws -> (status: Int32, output: String) {
    let folder = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent()
    var candidates = [folder.appendingPathComponent(name).path]
    if let explicit = ProcessInfo.processInfo.environment["SQLITE_STORE_WRITER_PATH"] {
        candidates.insert(explicit, at: 0)
    }
    guard let executable = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
        throw ContractFailure("\(name) not found beside the test bundle (swift build --product \(name))")
    }
    // Both outputs are drained while it runs, off the cooperative pool.
    let result = try await ChildProcess.run(executable, arguments)
    return (result.status, result.standardOutputText + result.standardErrorText)
}

/// A read-only view of a folder: a bind mount remounted read-only (root ignores permission
/// bits, so a chmod would not make a folder read-only for the tests).
struct ReadOnlyBindMount {
    let path: String

    /// Whether this process may bind-mount (root with the capability, as in the test sandbox).
    static let available: Bool = {
        guard geteuid() == 0, let folder = try? TemporaryFolder() else { return false }
        defer { folder.remove() }
        let (source, target) = (folder.file("s"), folder.file("t"))
        guard mkdir(source, 0o700) == 0, mkdir(target, 0o700) == 0 else { return false }
        guard (try? run("/bin/mount", ["--bind", source, target])) != nil else { return false }
        _ = try? run("/bin/umount", [target])
        return true
    }()

    /// Mounts `source` read-only at `target` (an existing folder).
    init(_ source: String, at target: String) throws {
        try Self.run("/bin/mount", ["--bind", source, target])
        do {
            try Self.run("/bin/mount", ["-o", "remount,ro,bind", target])
        } catch {
            _ = try? Self.run("/bin/umount", [target])
            throw error
        }
        path = target
    }

    func unmount() { _ = try? Self.run("/bin/umount", [path]) }

    static func run(_ program: String, _ arguments: [String]) throws {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: program)
        process.arguments = arguments
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
        process.waitUntilExit()
        guard process.terminationStatus == 0 else {
            throw ContractFailure(
                "\(program) \(arguments.joined(separator: " ")) exited with \(process.terminationStatus)")
        }
    }
}
