import ClaudeCode
import ClaudeCodeSessions
import ClaudeCodeTesting
import Foundation

/// The real Claude Code CLI in a throwaway HOME/TMPDIR/cwd against the fake Messages API.
public struct RealCLISandbox: Sendable {
    public let api: FakeMessagesAPI
    public let environment: CLITestEnvironment
    public let cliPath: String

    /// Options that run the real CLI in this sandbox.
    public func options() -> ClaudeCodeOptions {
        var options = ClaudeCodeOptions()
        options.cliPath = cliPath
        options.cwd = environment.workDirectory.path
        options.env = environment.environment
        options.shutdownGracePeriod = .seconds(10)
        return options
    }

    /// Runs `body` with a fresh sandbox, always stopping the server and removing the folders.
    /// Fails, never skips, when the CLI is missing (the message says how to install it).
    public static func run<T>(_ body: (RealCLISandbox) async throws -> T) async throws -> T {
        let cli = try CLITestEnvironment.locateRealCLI()
        let api = FakeMessagesAPI()
        try await api.start()
        let environment: CLITestEnvironment
        do {
            environment = try CLITestEnvironment(baseURL: api.baseURL)
        } catch {
            await api.stop()
            throw error
        }
        do {
            let value = try await body(RealCLISandbox(api: api, environment: environment, cliPath: cli))
            await api.stop()
            environment.cleanup()
            return value
        } catch {
            await api.stop()
            environment.cleanup()
            throw error
        }
    }
}

/// Records a two-turn conversation with the real CLI into `store`, resumes it with a new client
/// (the CLI provably gets the earlier turns back), and checks the record. Shared by every backend.
public func recordRealCLIConversation(into store: any SessionRecordStore) async throws {
    try await RealCLISandbox.run { sandbox in
        let first = SessionPersistentClient(options: sandbox.options(), store: store)
        let sessionID = try await first.withConnection { client in
            try await client.query("remember 42")
            for try await _ in client.receiveResponse() {}
            guard let id = client.currentSessionID else { throw ContractFailure("no session id") }
            return id
        }
        try await check(
            FileManager.default.fileExists(atPath: sandbox.environment.transcriptURL(sessionID: sessionID).path),
            "the record is named after the CLI's own transcript")

        let second = SessionPersistentClient(options: sandbox.options(), store: store)
        try await second.startOrResumeSession(sessionID)
        var answer = ""
        try await second.withConnection { client in
            try await client.query("turn two")
            for try await message in client.receiveResponse() {
                if case .result(let result) = message { answer = result.result ?? "" }
            }
        }
        try await check(
            answer.hasPrefix("echo: turn two | user_turns=2"), "the resumed CLI saw the first turn: \(answer)")
        try await checkEqual(second.currentSessionID, sessionID, "same session")

        let data = try await second.loadSession(sessionID)
        try await checkEqual(data.sessionID.rawValue, sessionID, "id")
        try await checkEqual(data.workingDirectory, sandbox.environment.workDirectory.path, "working directory")
        let kinds = data.conversationHistory.map { "\($0.direction == .sent ? ">" : "<")\($0.type)" }
        try await checkEqual(kinds.first, ">control_request", "initialize first")
        try await checkEqual(kinds.filter { $0 == "<result" }.count, 2, "two results")
        try await checkEqual(kinds.filter { $0 == ">user" }.count, 2, "two prompts")
        try await check(kinds.contains("<assistant"), "assistant messages")
        let prompts = data.conversationHistory.filter { $0.direction == .sent && $0.type == "user" }
        try await check(prompts.first?.rawJSONString?.contains("remember 42") == true, "first prompt's bytes")
        try await check(prompts.last?.rawJSONString?.contains("turn two") == true, "second prompt's bytes")
        let listed = try await second.listSessions().compactMap(\.summary)
        try await checkEqual(listed.map(\.sessionID.rawValue), [sessionID], "listed")
        try await checkEqual(listed.first?.messageCount, data.conversationHistory.count, "listing count")
    }
}
