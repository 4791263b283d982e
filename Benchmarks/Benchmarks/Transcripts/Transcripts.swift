// CLI transcripts: listing a project folder of the CLI's sessions, and reading a whole
// transcript with every message's content touched.
import Benchmark
import BenchmarkSupport
import ClaudeCodeSessions
import Foundation

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.cpuTotal, .wallClock, .mallocCountTotal, .peakMemoryResident],
        maxDuration: .seconds(5), maxIterations: 30)

    Benchmark(
        "list 1,000 sessions of a project",
        closure: { benchmark, input in
            do {
                let sessions = try await input.library.listSessions(directory: "/work/bench")
                if sessions.count != 1_000 { benchmark.error("listed \(sessions.count) sessions") }
                blackHole(sessions)
            } catch {
                benchmark.error("\(error)")
            }
        },
        setup: { () async throws -> TranscriptInput in try TranscriptInput(sessions: 1_000, turns: 10) })

    Benchmark(
        "read a 2,000-turn transcript (about 2 MB), touching every message's content",
        closure: { benchmark, input in
            do {
                let messages = try await input.library.messages(sessionID: input.firstSession, directory: "/work/bench")
                var characters = 0
                for message in messages { characters += "\(message.content)".utf8.count }
                if messages.count != 4_000 { benchmark.error("read \(messages.count) messages") }
                blackHole(characters)
            } catch {
                benchmark.error("\(error)")
            }
        },
        setup: { () async throws -> TranscriptInput in try TranscriptInput(sessions: 1, turns: 2_000) })
}

/// A CLI config folder holding `sessions` transcripts of `turns` turns in the project `/work/bench`.
struct TranscriptInput: Sendable {
    let library: ClaudeSessionLibrary
    let firstSession: String

    init(sessions: Int, turns: Int) throws {
        let scratch = try ScratchDirectory("transcripts")
        let folder = "projects/" + ClaudeSessionLibrary.projectFolderName(for: "/work/bench")
        var first = ""
        for index in 0..<sessions {
            let id = String(format: "30000000-0000-4000-8000-%012d", index)
            if index == 0 { first = id }
            try scratch.write(
                lines: BenchmarkInput.transcriptLines(sessionID: id, turns: turns), to: "\(folder)/\(id).jsonl")
        }
        library = ClaudeSessionLibrary(configDirectory: scratch.path)
        firstSession = first
    }
}
