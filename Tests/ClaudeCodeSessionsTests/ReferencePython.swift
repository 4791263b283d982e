import ClaudeCode
import Foundation
import Synchronization
import Testing

/// Runs `scripts/reference/dump_sessions.py` with the reference venv's Python.
enum ReferencePython {
    /// The repository root: the nearest folder above this file that holds `Package.swift`.
    static var repositoryRoot: String {
        var url = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        while url.path != "/" {
            if FileManager.default.fileExists(atPath: url.appendingPathComponent("Package.swift").path) {
                return url.path
            }
            url.deleteLastPathComponent()
        }
        return FileManager.default.currentDirectoryPath
    }

    /// `<repo>/.venv-ref/bin/python`, or `CLAUDE_SDK_REFERENCE_PYTHON` when set.
    static var python: String {
        if let override = ProcessInfo.processInfo.environment["CLAUDE_SDK_REFERENCE_PYTHON"], !override.isEmpty {
            return override
        }
        return repositoryRoot + "/.venv-ref/bin/python"
    }

    static var script: String { repositoryRoot + "/scripts/reference/dump_sessions.py" }

    /// Fails the test with instructions when the reference venv is missing.
    static func requireAvailable() throws {
        guard FileManager.default.isExecutableFile(atPath: python) else {
            Issue.record(
                """
                The Python reference SDK is missing: \(python) does not exist.
                Create it with scripts/install-python-reference.sh (it installs claude-agent-sdk 0.2.188 \
                into <repo>/.venv-ref), or set CLAUDE_SDK_REFERENCE_PYTHON to a python that has it.
                """)
            throw ReferenceUnavailable()
        }
    }

    struct ReferenceUnavailable: Error {}

    struct Failure: Error, CustomStringConvertible {
        var description: String
    }

    /// Runs the plan's operations with `CLAUDE_CONFIG_DIR=configDirectory` and returns one
    /// result per operation: `{"ok": …}` or `{"error": {"type": …, "message": …}}`.
    static func run(_ operations: [JSONValue], configDirectory: String, home: String, workDirectory: String) throws
        -> [JSONValue]
    {
        let planPath = workDirectory + "/plan-\(UUID().uuidString).json"
        try Data(JSONValue.object(["operations": .array(operations)]).serialized()).write(
            to: URL(fileURLWithPath: planPath))
        defer { try? FileManager.default.removeItem(atPath: planPath) }
        let output = try execute(
            [script, planPath],
            environment: [
                "CLAUDE_CONFIG_DIR": configDirectory, "HOME": home,
                "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "LANG": "C.UTF-8",
            ])
        guard case .array(let results)? = try JSONValue.parse(output)["results"] else {
            throw Failure(description: "unexpected output from dump_sessions.py")
        }
        return results
    }

    static func execute(_ arguments: [String], environment: [String: String]) throws -> [UInt8] {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: python)
        process.arguments = arguments
        process.environment = environment
        let stdout = Pipe()
        let stderr = Pipe()
        process.standardOutput = stdout
        process.standardError = stderr
        try process.run()
        let errorData = Mutex<Data>(Data())
        let errorReader = Thread {
            let data = stderr.fileHandleForReading.readDataToEndOfFile()
            errorData.withLock { $0 = data }
        }
        errorReader.start()
        let data = stdout.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        while errorReader.isExecuting || !errorReader.isFinished { usleep(1000) }
        guard process.terminationStatus == 0 else {
            let message = errorData.withLock { String(decoding: $0, as: UTF8.self) }
            throw Failure(
                description: "dump_sessions.py failed (\(process.terminationStatus)): \(message.suffix(2000))")
        }
        return Array(data)
    }
}
