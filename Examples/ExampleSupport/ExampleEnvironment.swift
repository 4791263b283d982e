import ClaudeCode
import ClaudeCodeTesting
import Foundation

/// Sets up where the examples run.
///
/// With `ANTHROPIC_API_KEY` (or `ANTHROPIC_AUTH_TOKEN`, or `ANTHROPIC_BASE_URL`) set, the
/// examples talk to the real API through the installed CLI, in the current directory.
/// Without them they run offline: the project's fake Messages API answers on 127.0.0.1, and
/// the CLI gets a throwaway HOME and working directory, so no key is needed. Either way the
/// session records go where `SessionPersistentClient` keeps them by default,
/// `$HOME/.claude_sdk/sessions` (or `CLAUDE_SDK_SESSIONS_DIR`), so they can be listed afterwards.
public struct ExampleEnvironment: Sendable {
    public var options: ClaudeCodeOptions
    /// Where the example keeps its session records.
    public var storagePath: String
    public var isOffline: Bool
    private let api: FakeMessagesAPI?
    private let sandbox: CLITestEnvironment?

    public static func prepare(name: String) async throws -> ExampleEnvironment {
        let environment = ProcessInfo.processInfo.environment
        var options = ClaudeCodeOptions()
        options.cliPath = try? CLITestEnvironment.locateRealCLI(filePath: #filePath)
        if environment["CLAUDE_CODE_CLI_PATH"] != nil { options.cliPath = nil }
        let online = ["ANTHROPIC_API_KEY", "ANTHROPIC_AUTH_TOKEN", "ANTHROPIC_BASE_URL"].contains {
            !(environment[$0] ?? "").isEmpty
        }
        // The SDK's default records folder, from $HOME like every default path of the package.
        let storage =
            environment["CLAUDE_SDK_SESSIONS_DIR"]
            ?? HomeDirectory.path(".claude_sdk/sessions", environment: environment)
        if online {
            return ExampleEnvironment(options: options, storagePath: storage, isOffline: false, api: nil, sandbox: nil)
        }
        let api = FakeMessagesAPI()
        try await api.start()
        let sandbox = try CLITestEnvironment(baseURL: api.baseURL, prefix: name)
        options.cwd = sandbox.workDirectory.path
        options.env = sandbox.environment
        return ExampleEnvironment(options: options, storagePath: storage, isOffline: true, api: api, sandbox: sandbox)
    }

    /// Stops the fake API and removes the throwaway folders.
    public func cleanup() async {
        await api?.stop()
        sandbox?.cleanup()
    }

    public func banner() {
        if isOffline {
            print("Offline demo: the real Claude Code CLI talks to the project's fake Messages API on 127.0.0.1.")
            print("Set ANTHROPIC_API_KEY to talk to Claude instead.\n")
        }
    }
}

/// Prints one message the way the examples show them.
public func show(_ message: Message) {
    switch message {
    case .assistant(let assistant):
        for block in assistant.content {
            switch block {
            case .text(let text): print("Claude: \(text.text)")
            case .toolUse(let tool): print("Claude uses \(tool.name)")
            default: break
            }
        }
    case .result(let result):
        let cost = result.totalCostUSD.map { String(format: "$%.4f", $0) } ?? "-"
        print("[turn done: \(result.isError ? "error" : "ok"), \(result.numTurns) turn(s), cost \(cost)]")
    default:
        break
    }
}
