// Mirroring: a turn streamed from a CLI process (fake-claude replaying 5,000 frames plus the
// transcript_mirror frames of its transcript lines) with and without mirroring to a store; the
// turn ends when the store holds it.
import Benchmark
import BenchmarkSupport
import ClaudeCode
import ClaudeCodeSessions
import Foundation

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.cpuTotal, .wallClock, .mallocCountTotal, .peakMemoryResident],
        maxDuration: .seconds(5), maxIterations: 30)

    for mirrored in [false, true] {
        Benchmark(
            mirrored ? "a 5,000-frame turn mirrored to FileSessionStore" : "a 5,000-frame turn without a store",
            closure: { benchmark, input in
                var options = ClaudeCodeOptions()
                options.cliPath = input.cli
                options.env = [
                    "FAKE_CLAUDE_SCENARIO": "replay",
                    "FAKE_CLAUDE_REPLAY_FILE": mirrored ? input.mirroredFile : input.plainFile,
                ]
                let client =
                    mirrored
                    ? ClaudeSDKClient(
                        options: options,
                        sessionStore: FileSessionStore(
                            configuration: .init(directory: input.scratch.path + "/\(UUID())")))
                    : ClaudeSDKClient(options: options)
                do {
                    try await client.connect()
                    try await client.query("replay")
                    for try await message in client.receiveResponse() { blackHole(message) }
                    await client.disconnect()
                } catch {
                    await client.disconnect()
                    benchmark.error("\(error)")
                }
            },
            setup: { () async throws -> MirrorInput in try MirrorInput() })
    }
}

/// A replay of assistant frames and, for the mirrored side, the same frames each followed by a
/// `transcript_mirror` frame carrying the transcript line the CLI would have written for it (the
/// CLI sends those only when the SDK mirrors).
struct MirrorInput: Sendable {
    let cli: String
    let plainFile: String
    let mirroredFile: String
    let scratch: ScratchDirectory

    init() throws {
        scratch = try ScratchDirectory("mirroring")
        let session = "6f0c5bd4-58b8-4bd5-9d0c-2b7a1a3e0c11"
        let transcript = BenchmarkInput.transcriptLines(sessionID: session, turns: 2_500)
        let path = "/bench-home/.claude/projects/-work-bench/\(session).jsonl"
        let frames = BenchmarkInput.assistantFrames(count: 5_000)
        plainFile = try scratch.write(lines: frames, to: "replay.jsonl")
        var lines: [String] = []
        for (frame, line) in zip(frames, transcript) {
            lines.append(frame)
            lines.append(#"{"type":"transcript_mirror","filePath":"\#(path)","entries":[\#(line)]}"#)
        }
        mirroredFile = try scratch.write(lines: lines, to: "mirrored-replay.jsonl")
        cli = try fakeClaudePath()
    }
}
