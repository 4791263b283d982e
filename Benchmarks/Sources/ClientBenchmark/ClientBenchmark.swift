import BenchmarkSupport
// client-benchmark: streams a stream-json replay through the real SubprocessTransport and ClaudeSDKClient
// (fake-claude in replay mode) and reports messages/s, MB/s and peak RSS as one JSON line.
//
//   client-benchmark --fake PATH --replay FILE [--turns N] [--delay-us N] [--memory-budget BYTES]
//
// --delay-us makes the consumer lag: it spends N µs on every message, spinning below 1000 µs (CPU work, like a
// consumer that does something with each message) and sleeping (Task.sleep) from 1000 µs up.
// --memory-budget sets ClaudeCodeOptions.messageMemoryBudget (default: the SDK's, 16 MiB).
//
// Each turn sends one prompt; fake-claude answers it with the whole replay file and a result frame. The consumer
// reads every message's content (text lengths, tool inputs, tool results), so lazy decoding gains nothing.
import ClaudeCode
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

struct Arguments {
    var fake = ""
    var replay = ""
    var turns = 1
    var decodeOnly = false
    var delayMicroseconds = 0
    var memoryBudget: Int?

    init() {
        var rest = CommandLine.arguments.dropFirst()
        func value(_ flag: String) -> String {
            guard let value = rest.popFirst() else { fail("\(flag) needs a value") }
            return value
        }
        while let flag = rest.popFirst() {
            switch flag {
            case "--fake": fake = value(flag)
            case "--replay": replay = value(flag)
            case "--turns": turns = Int(value(flag)) ?? 0
            case "--decode-only": decodeOnly = true
            case "--delay-us": delayMicroseconds = Int(value(flag)) ?? 0
            case "--memory-budget": memoryBudget = Int(value(flag))
            case "--help", "-h":
                print("usage: client-benchmark --fake PATH --replay FILE [--turns N]")
                exit(0)
            default: fail("unknown argument \(flag)")
            }
        }
        guard (!fake.isEmpty || decodeOnly), !replay.isEmpty, turns > 0 else {
            fail("--fake and --replay are required; --turns > 0")
        }
    }
}

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("client-benchmark: \(message)\n".utf8))
    exit(2)
}

/// A field of /proc/self/status in KiB (`VmHWM`, `VmRSS`), or 0 when unavailable.
func procStatusKiB(_ field: String) -> Int {
    guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8) else { return 0 }
    for line in status.split(separator: "\n") where line.hasPrefix(field + ":") {
        return Int(line.split(separator: " ", omittingEmptySubsequences: true).dropFirst().first ?? "") ?? 0
    }
    return 0
}

/// Spends `microseconds` of CPU time on this thread (a consumer busy with each message).
func spin(microseconds: Int) {
    var start = timespec()
    clock_gettime(CLOCK_MONOTONIC, &start)
    var now = timespec()
    repeat {
        clock_gettime(CLOCK_MONOTONIC, &now)
    } while (now.tv_sec - start.tv_sec) * 1_000_000 + (now.tv_nsec - start.tv_nsec) / 1000 < microseconds
}

/// What the consumer reads: every text, tool input and tool result, so everything must be decoded.
struct Tally {
    var messages = 0
    var byType: [String: Int] = [:]
    var contentBytes = 0
    var blocks = 0

    mutating func read(_ message: Message) {
        messages += 1
        byType[message.type, default: 0] += 1
        switch message {
        case .assistant(let assistant):
            for block in assistant.content { read(block) }
        case .user(let user):
            switch user.content {
            case .text(let text): contentBytes += text.utf8.count
            case .blocks(let blocks): for block in blocks { read(block) }
            }
        case .result(let result):
            contentBytes += result.result?.utf8.count ?? 0
        default:
            break
        }
    }

    mutating func read(_ block: ContentBlock) {
        blocks += 1
        switch block {
        case .text(let text): contentBytes += text.text.utf8.count
        case .thinking(let thinking): contentBytes += thinking.thinking.utf8.count
        case .toolUse(let use): contentBytes += use.name.utf8.count + Self.length(of: use.input)
        case .toolResult(let result): contentBytes += result.content.map(Self.length(of:)) ?? 0
        default: break
        }
    }

    /// The UTF-8 length of every string (keys and values) in a JSON value.
    static func length(of value: JSONValue) -> Int {
        switch value {
        case .string(let string): return string.utf8.count
        case .array(let elements): return elements.reduce(0) { $0 + length(of: $1) }
        case .object(let members): return members.reduce(0) { $0 + $1.key.utf8.count + length(of: $1.value) }
        default: return 0
        }
    }
}

/// `--decode-only`: no process, no client; times `JSONValue.parse` and `Message(line:)` (what the client runs per
/// line) over the replay's lines on this thread, to tell the decoder's cost from the pipeline's.
func decodeOnly(_ arguments: Arguments) {
    guard let data = FileManager.default.contents(atPath: arguments.replay) else { fail("cannot read the replay") }
    var lines: [[UInt8]] = []
    data.withUnsafeBytes { raw in
        var start = 0
        for (index, byte) in raw.enumerated() where byte == UInt8(ascii: "\n") {
            lines.append(Array(raw[start..<index]))
            start = index + 1
        }
    }
    // Thread CPU time, so other load on the machine does not count.
    struct CPUClock {
        var now: Duration {
            var spec = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &spec)
            return .seconds(spec.tv_sec) + .nanoseconds(spec.tv_nsec)
        }
    }
    let clock = CPUClock()
    var parseTime = Duration.zero
    var decodeTime = Duration.zero
    var tally = Tally()
    var nodes = 0
    for _ in 1...arguments.turns {
        let parseStart = clock.now
        for line in lines {
            if case .object(let object) = try? JSONValue.parse(line) { nodes += object.count }
        }
        parseTime += clock.now - parseStart
        let decodeStart = clock.now
        for line in lines { tally.read(Message(line: line)) }
        decodeTime += clock.now - decodeStart
    }
    let count = Double(lines.count * arguments.turns)
    func microseconds(_ duration: Duration) -> Double {
        (Double(duration.components.seconds) * 1e6 + Double(duration.components.attoseconds) / 1e12) / count
    }
    print(
        "decode-only (thread CPU time): \(lines.count * arguments.turns) lines; JSONValue.parse \(microseconds(parseTime)) µs/line; "
            + "Message(line:) + read \(microseconds(decodeTime)) µs/line; content \(tally.contentBytes), keys \(nodes)")
}

@main
struct ClientBenchmark {
    static func main() async {
        let arguments = Arguments()
        let replayBytes = (try? FileManager.default.attributesOfItem(atPath: arguments.replay)[.size] as? Int) ?? 0
        guard replayBytes > 0 else { fail("cannot read \(arguments.replay)") }
        if arguments.decodeOnly {
            decodeOnly(arguments)
            return
        }

        var options = ClaudeCodeOptions()
        options.cliPath = arguments.fake
        options.env = ["FAKE_CLAUDE_SCENARIO": "replay", "FAKE_CLAUDE_REPLAY_FILE": arguments.replay]
        if let budget = arguments.memoryBudget { options.messageMemoryBudget = budget }
        let client = ClaudeSDKClient(options: options)
        let delay = arguments.delayMicroseconds
        var queue: MessageQueueStatistics?
        let clock = ContinuousClock()
        var tally = Tally()
        var rssAfterTurnKiB: [Int] = []
        let streamed: Duration
        var cpuStart = 0.0
        var cpuUsed = 0.0
        do {
            let connectStart = clock.now
            try await client.connect()
            let connected = clock.now - connectStart
            let start = clock.now
            cpuStart = ResourceUsage.processCPUSeconds()
            for turn in 1...arguments.turns {
                try await client.query("replay \(turn)")
                for try await message in client.receiveResponse() {
                    tally.read(message)
                    if delay >= 1000 {
                        try await Task.sleep(for: .microseconds(delay))
                    } else if delay > 0 {
                        spin(microseconds: delay)
                    }
                }
                rssAfterTurnKiB.append(procStatusKiB("VmRSS"))
            }
            streamed = clock.now - start
            cpuUsed = ResourceUsage.processCPUSeconds() - cpuStart
            queue = client.messageQueueStatistics
            await client.disconnect()
            FileHandle.standardError.write(Data("client-benchmark: connect took \(connected)\n".utf8))
        } catch {
            await client.disconnect()
            fail("\(error)")
        }

        let seconds = Double(streamed.components.seconds) + Double(streamed.components.attoseconds) / 1e18
        let totalBytes = replayBytes * arguments.turns
        var report: [String: JSONValue] = [
            "implementation": "swift",
            "turns": .int(Int64(arguments.turns)),
            "messages": .int(Int64(tally.messages)),
            "blocks": .int(Int64(tally.blocks)),
            "content_bytes": .int(Int64(tally.contentBytes)),
            "stream_bytes": .int(Int64(totalBytes)),
            "seconds": .double(seconds),
            "messages_per_second": .double(Double(tally.messages) / seconds),
            "mb_per_second": .double(Double(totalBytes) / 1e6 / seconds),
            "peak_rss_kib": .int(Int64(procStatusKiB("VmHWM"))),
            "cpu_seconds": .double(cpuUsed),
            "cpu_us_per_message": .double(cpuUsed * 1e6 / Double(max(tally.messages, 1))),
            "rss_after_turn_kib": .array(rssAfterTurnKiB.map { .int(Int64($0)) }),
        ]
        report["delay_us"] = .int(Int64(delay))
        if let queue {
            report["queue_budget"] = .int(Int64(queue.memoryBudget))
            report["queue_peak_bytes"] = .int(Int64(queue.peakQueuedBytes))
            report["spilled_messages"] = .int(Int64(queue.spilledMessages))
            report["peak_spilled_bytes"] = .int(Int64(queue.peakSpilledBytes))
        }
        report["by_type"] = .object(tally.byType.mapValues { .int(Int64($0)) })
        print(JSONValue.object(report).jsonString)
    }
}
