import ClaudeCode
import ClaudeCodeTesting
import Foundation

/// A fake Messages API plus a throwaway HOME/TMPDIR/cwd, and options that run the real CLI there.
struct RealCLIHarness {
    let api: FakeMessagesAPI
    let sandbox: CLITestEnvironment
    let cliPath: String

    /// Options for the real CLI in this sandbox.
    func options(_ configure: (inout ClaudeCodeOptions) -> Void = { _ in }) -> ClaudeCodeOptions {
        var options = ClaudeCodeOptions()
        options.cliPath = cliPath
        options.cwd = sandbox.workDirectory.path
        options.env = sandbox.environment
        options.shutdownGracePeriod = .seconds(10)
        configure(&options)
        return options
    }

    /// Runs `body` with a fresh harness, always stopping the server and removing the folders.
    static func run<T>(_ body: (RealCLIHarness) async throws -> T) async throws -> T {
        // Fails, never skips, when the CLI is missing: the message says how to install it.
        let cli = try CLITestEnvironment.locateRealCLI()
        let api = FakeMessagesAPI()
        try await api.start()
        let sandbox: CLITestEnvironment
        do {
            sandbox = try CLITestEnvironment(baseURL: api.baseURL)
        } catch {
            await api.stop()
            throw error
        }
        let harness = RealCLIHarness(api: api, sandbox: sandbox, cliPath: cli)
        do {
            let value = try await body(harness)
            await api.stop()
            sandbox.cleanup()
            return value
        } catch {
            await api.stop()
            sandbox.cleanup()
            throw error
        }
    }
}

extension Message {
    /// The assistant text or result text, for assertions.
    var text: String? {
        switch self {
        case .assistant(let message): return message.text
        case .result(let result): return result.result
        default: return nil
        }
    }
}

/// Collects one turn.
func collectResponse(_ client: ClaudeSDKClient) async throws -> [Message] {
    var messages: [Message] = []
    for try await message in client.receiveResponse() { messages.append(message) }
    return messages
}

func lastResult(_ messages: [Message]) -> ResultMessage? {
    for message in messages.reversed() {
        if case .result(let result) = message { return result }
    }
    return nil
}
