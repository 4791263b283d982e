// Client: decoding the CLI's stream-json frames, and a whole turn streamed from a CLI process
// (fake-claude replaying the frames) through the transport and ClaudeSDKClient.
import Benchmark
import BenchmarkSupport
import ClaudeCode

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.cpuTotal, .wallClock, .mallocCountTotal, .peakMemoryResident, .throughput],
        maxDuration: .seconds(5), maxIterations: 50)

    let lines = BenchmarkInput.assistantFrames(count: 10_000).map { Array($0.utf8) }
    Benchmark("decode 10,000 stream-json frames", configuration: .init(scalingFactor: .kilo)) { benchmark in
        for _ in 0..<10 {
            for line in lines {
                blackHole(Message(line: line))
            }
        }
    }

    Benchmark(
        "stream 10,000 frames from a CLI process",
        closure: { benchmark, replay in
            var options = ClaudeCodeOptions()
            options.cliPath = replay.cli
            options.env = ["FAKE_CLAUDE_SCENARIO": "replay", "FAKE_CLAUDE_REPLAY_FILE": replay.file]
            let client = ClaudeSDKClient(options: options)
            do {
                try await client.connect()
                try await client.query("replay")
                var count = 0
                for try await message in client.receiveResponse() {
                    blackHole(message)
                    count += 1
                }
                await client.disconnect()
                if count < 10_000 { benchmark.error("only \(count) messages arrived") }
            } catch {
                await client.disconnect()
                benchmark.error("\(error)")
            }
        },
        setup: { () async throws -> ReplayInput in
            let scratch = try ScratchDirectory("client")
            let file = try scratch.write(lines: BenchmarkInput.assistantFrames(count: 10_000), to: "replay.jsonl")
            return ReplayInput(cli: try fakeClaudePath(), file: file)
        })
}

struct ReplayInput: Sendable {
    let cli: String
    let file: String
}
