import ClaudeCode
import ClaudeCodeTesting
import Foundation
import Testing

/// Runs `scripts/test/dump-sessions.py` with the reference venv's Python.
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

    static var script: String { repositoryRoot + "/scripts/test/dump-sessions.py" }

    /// Fails the test with instructions when the reference venv is missing.
    static func requireAvailable() throws {
        guard FileManager.default.isExecutableFile(atPath: python) else {
            Issue.record(
                """
                The Python reference SDK is missing: \(python) does not exist.
                Create it with scripts/setup/install-python-reference.sh (it installs claude-agent-sdk 0.2.188 \
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
    static func run(_ operations: [JSONValue], configDirectory: String, home: String, workDirectory: String)
        async throws -> [JSONValue]
    {
        let planPath = workDirectory + "/plan-\(UUID().uuidString).json"
        try Data(JSONValue.object(["operations": .array(operations)]).serialized()).write(
            to: URL(fileURLWithPath: planPath))
        defer { try? FileManager.default.removeItem(atPath: planPath) }
        let output = try await execute(
            [script, planPath],
            environment: [
                "CLAUDE_CONFIG_DIR": configDirectory, "HOME": home,
                "PATH": ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin", "LANG": "C.UTF-8",
            ])
        guard case .array(let results)? = try JSONValue.parse(output)["results"] else {
            throw Failure(description: "unexpected output from dump-sessions.py")
        }
        return results
    }

    static func execute(_ arguments: [String], environment: [String: String]) async throws -> [UInt8] {
        // Waits off the cooperative pool: the Python side takes seconds.
        let result = try await ChildProcess.run(python, arguments, environment: environment)
        guard result.status == 0, !result.signalled else {
            throw Failure(
                description: "dump-sessions.py failed (\(result.status)): \(result.standardErrorText.suffix(2000))")
        }
        return Array(result.standardOutput)
    }
}
