// Test helper: runs a SessionPersistentClient conversation in its own process, so tests can
// record in one process and resume in another, with another HOME and another working directory.
//
//   PersistentSessionRunner --store files:DIR|sqlite:PATH|postgres:SCHEMA --cli PATH
//       [--resume ID] [--cwd DIR] [--transcripts off] [--kill-after-results N] [--prompt TEXT]...
//
// --kill-after-results N: SIGKILL this process right after the Nth result was received (a crash
// between turns).
//
// The CLI gets this process's environment (HOME, ANTHROPIC_BASE_URL, … set by the test).
// PostgreSQL is reached through the PG* variables. Prints one JSON object per line:
//   {"event":"init","cwd":…}            the CLI's system/init of each turn
//   {"event":"result","session_id":…,"text":…,"cost":…}
//   {"event":"summary","session_id":…,"messages":N,"working_directory":…,"ledger":{…},"title":…,"model":…}
//   {"event":"error","code":…,"message":…}   then exit 3
import ClaudeCode
import ClaudeCodeSessions
import ClaudeCodeSessionsPostgres
import ClaudeCodeSessionsSQLite
import Foundation

@main
struct PersistentSessionRunner {
    static func emit(_ object: [String: JSONValue]) {
        FileHandle.standardOutput.write(Data(JSONValue.object(object).serialized() + [0x0A]))
    }

    static func fail(_ code: String, _ message: String) -> Never {
        emit(["event": "error", "code": .string(code), "message": .string(message)])
        exit(3)
    }

    static func main() async {
        var arguments = Array(CommandLine.arguments.dropFirst())
        var store = "", cli = "", resume: String?, cwd: String?, prompts: [String] = [], copy = TranscriptCopy.automatic
        var killAfter = Int.max
        while !arguments.isEmpty {
            let flag = arguments.removeFirst()
            guard !arguments.isEmpty else { fail("usage", "\(flag) needs a value") }
            let value = arguments.removeFirst()
            switch flag {
            case "--store": store = value
            case "--cli": cli = value
            case "--resume": resume = value
            case "--cwd": cwd = value
            case "--prompt": prompts.append(value)
            case "--transcripts": copy = value == "off" ? .off : .automatic
            case "--kill-after-results": killAfter = Int(value) ?? Int.max
            default: fail("usage", "unknown flag \(flag)")
            }
        }
        var options = ClaudeCodeOptions()
        options.cliPath = cli
        options.cwd = cwd
        options.shutdownGracePeriod = .seconds(10)
        do {
            if store.hasPrefix("postgres:") {
                let configuration = PostgresSessionStore.Configuration(schema: String(store.dropFirst(9)))
                let records = try PostgresSessionStore(
                    clientConfiguration: PostgresSessionStore.clientConfiguration(
                        environment: ProcessInfo.processInfo.environment),
                    configuration: configuration)
                try await withThrowingTaskGroup(of: Void.self) { group in
                    group.addTask { await records.run() }
                    _ = try await records.migrate()
                    try await converse(
                        records, copy: copy, options: options, resume: resume, prompts: prompts, killAfter: killAfter)
                    group.cancelAll()
                }
            } else if store.hasPrefix("sqlite:") {
                let records = try SQLiteSessionStore(path: String(store.dropFirst(7)))
                try await converse(
                    records, copy: copy, options: options, resume: resume, prompts: prompts, killAfter: killAfter)
            } else if store.hasPrefix("files:") {
                let records = FileRecordStore(directory: String(store.dropFirst(6)))
                try await converse(
                    records, copy: copy, options: options, resume: resume, prompts: prompts, killAfter: killAfter)
            } else {
                fail("usage", "--store files:DIR, sqlite:PATH or postgres:SCHEMA")
            }
        } catch let error as ClaudeCodeError {
            fail(error.code.description, error.message)
        } catch let error as SessionStoreError {
            fail(error.code.description, error.description)
        } catch {
            fail("other", "\(error)")
        }
    }

    static func converse(
        _ records: any SessionRecordStore, copy: TranscriptCopy, options: ClaudeCodeOptions, resume: String?,
        prompts: [String], killAfter: Int
    ) async throws {
        var results = 0
        let client = SessionPersistentClient(options: options, store: records, transcripts: copy)
        if let resume { try await client.startOrResumeSession(resume) }
        try await client.connect()
        do {
            for prompt in prompts {
                try await client.query(prompt)
                for try await message in client.receiveResponse() {
                    switch message {
                    case .system(let system):
                        if case .initialize(let info) = system.kind {
                            emit(["event": "init", "cwd": info.cwd.map(JSONValue.string) ?? .null])
                        }
                    case .result(let result):
                        emit([
                            "event": "result", "session_id": .string(result.sessionID),
                            "text": .string(result.result ?? ""), "cost": .double(result.totalCostUSD ?? 0),
                        ])
                        results += 1
                        if results >= killAfter { kill(getpid(), SIGKILL) }
                    default:
                        break
                    }
                }
            }
        } catch {
            await client.disconnect()
            throw error
        }
        await client.disconnect()
        guard let id = client.currentSessionID else { fail("noSession", "the CLI confirmed no session") }
        let data = try await client.loadSession(id)
        let summary = try await records.listRecords().compactMap(\.summary).first { $0.sessionID.rawValue == id }
        let ledger = data.ledger
        emit([
            "event": "summary", "session_id": .string(id), "messages": .int(Int64(data.conversationHistory.count)),
            "working_directory": .string(data.workingDirectory),
            "turns": .int(Int64(ledger.turns)), "cost": .double(ledger.costUSD),
            "input_tokens": .int(Int64(ledger.totals.inputTokens)),
            "output_tokens": .int(Int64(ledger.totals.outputTokens)),
            "listed_turns": .int(Int64(summary?.ledger.turns ?? -1)),
            "listed_cost": .double(summary?.ledger.costUSD ?? -1),
            "title": summary?.title.map(JSONValue.string) ?? .null,
            "model": summary?.model.map(JSONValue.string) ?? .null,
        ])
    }
}
