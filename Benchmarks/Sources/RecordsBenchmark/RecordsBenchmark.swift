// Measures what persisting a conversation costs per message as the session grows.
//
//   records-benchmark [--messages 15000] [--turn 5] [--policy checkpoint|message|never]
//                         [--dir DIR] [--frames-out FILE] [--json-out FILE]
//                         [--points 100,300,1000,3000,10000]
//
// It streams one session of realistic frames (turns of: the user's prompt, three ~1.3 KB
// assistant messages, a ~1.2 KB result) through FileRecordStore: each message with an
// awaited `append`, and a `checkpoint()` at the end of each turn, as SessionPersistentClient
// does. For each message it records the append latency and its share of the turn's
// checkpoint (which includes compaction whenever it happens). At each point N it reports:
//
//   amortized  mean cost per message over the doubling window [N/√2, N·√2): appends plus
//              checkpoints plus compactions: the real I/O work per message;
//   append p50 the median awaited append latency in the window (what a caller that awaits
//              each append sees; SessionPersistentClient enqueues without waiting).
//
// With --frames-out it writes the same stream as JSON lines for the Python benchmark
// (scripts/bench/records-python.py); scripts/bench/records.sh runs both.

@_spi(Benchmarking) import ClaudeCodeSessions
import Synchronization

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

@main
struct RecordsBenchmark {
    static func main() async throws {
        var arguments: [String: String] = [:]
        var iterator = CommandLine.arguments.dropFirst().makeIterator()
        while let key = iterator.next() {
            guard key.hasPrefix("--"), let value = iterator.next() else {
                print(
                    "usage: records-benchmark [--messages N] [--turn T] [--policy P] [--dir D] [--frames-out F] [--json-out F] [--points a,b,c]"
                )
                exit(2)
            }
            arguments[String(key.dropFirst(2))] = value
        }
        let count = Int(arguments["messages"] ?? "15000") ?? 15000
        let turn = max(1, Int(arguments["turn"] ?? "5") ?? 5)
        let policyName = arguments["policy"] ?? "checkpoint"
        let policy: DurabilityPolicy =
            switch policyName {
            case "message": .everyMessage
            case "never": .never
            default: .checkpoint
            }
        let points = (arguments["points"] ?? "100,300,1000,3000,10000").split(separator: ",").compactMap { Int($0) }
        let directory = arguments["dir"] ?? makeTemporaryDirectory()

        if let recordCount = arguments["record"].flatMap({ Int($0) }) {
            try await recordBenchmark(
                count: recordCount, turn: turn, policy: policy, policyName: policyName, directory: directory,
                jsonOut: arguments["json-out"])
            return
        }
        let frames = FrameStream.make(count: count, turn: turn)
        if let path = arguments["frames-out"] {
            try FrameStream.writeJSONLines(frames, to: path)
        }

        let compactionCount = Atomic<Int>(0)
        let store = FileRecordStore(
            configuration: .init(
                directory: directory, durability: policy,
                eventHandler: { event in
                    if event.kind == .compacted { compactionCount.add(1, ordering: .relaxed) }
                }))
        let repeats = max(1, Int(arguments["repeat"] ?? "3") ?? 3)
        let clock = ContinuousClock()

        // Warm up (thread start-up, page faults, code paths) on a throw-away session.
        try await stream(frames: Array(frames.prefix(1000)), turn: turn, store: store, id: try SessionID("warm-up"))

        var runs: [Run] = []
        var totals: [Duration] = []
        let id = try SessionID(FrameStream.sessionID)
        for _ in 0..<repeats {
            let started = clock.now
            runs.append(try await stream(frames: frames, turn: turn, store: store, id: id))
            totals.append(clock.now - started)
        }
        let compactions = compactionCount.load(ordering: .relaxed) / (repeats + 1)

        // Caller-visible cost of enqueue (fire-and-forget), on another session.
        let enqueueWriter = try await store.openProbeWriter(
            try SessionID("enqueue-only"), workingDirectory: "/work/bench")
        let enqueueCount = min(count, 2000)
        let enqueueStarted = clock.now
        for position in 0..<enqueueCount {
            enqueueWriter.enqueue(
                ConversationMessage(direction: frames[position].direction, rawJSON: frames[position].raw))
        }
        let enqueueNanos = nanoseconds(clock.now - enqueueStarted) / Double(enqueueCount)
        try await enqueueWriter.close()

        let loadStarted = clock.now
        let loaded = try await store.loadRecord(id)
        let loadMillis = nanoseconds(clock.now - loadStarted) / 1e6
        precondition(loaded.conversationHistory.count == count, "lost messages")

        var rows: [[String: Double]] = []
        print(
            "FileRecordStore (policy \(policyName), \(count) messages, turn \(turn), \(compactions) compactions per run, "
                + "median of \(repeats) runs, run times \(totals.map { format(nanoseconds($0) / 1e9) }) s)")
        print("  N        I/O µs/msg   amortized µs/msg   append p50 µs   append p99 µs")
        for point in points where point <= count {
            let low = max(0, Int((Double(point) / 2.0.squareRoot()).rounded()) - 1)
            let high = min(count, Int((Double(point) * 2.0.squareRoot()).rounded()))
            func median(_ values: [Double]) -> Double { values.sorted()[values.count / 2] }
            let amortized = median(runs.map { $0.amortized[low..<high].reduce(0, +) / Double(high - low) })
            let io = median(runs.map { $0.io[low..<high].reduce(0, +) / Double(high - low) })
            let p50 = median(
                runs.map { run in
                    let sorted = run.append[low..<high].sorted()
                    return sorted[sorted.count / 2]
                })
            let p99 = median(
                runs.map { run in
                    let sorted = run.append[low..<high].sorted()
                    return sorted[min(sorted.count - 1, sorted.count * 99 / 100)]
                })
            rows.append([
                "n": Double(point), "io_us": io / 1000, "amortized_us": amortized / 1000, "append_p50_us": p50 / 1000,
                "append_p99_us": p99 / 1000,
            ])
            print(
                "  " + pad("\(point)", 8) + pad(format(io / 1000), 13) + pad(format(amortized / 1000), 19)
                    + pad(format(p50 / 1000), 16) + format(p99 / 1000))
        }
        print("  enqueue (caller-visible, fire-and-forget): \(format(enqueueNanos / 1000)) µs/msg")
        print("  load of \(count) messages: \(format(loadMillis)) ms")

        if let path = arguments["json-out"] {
            var json =
                "{\"implementation\":\"swift\",\"policy\":\"\(policyName)\",\"messages\":\(count),\"turn\":\(turn),"
            json +=
                "\"compactions\":\(compactions),\"enqueue_us\":\(enqueueNanos / 1000),\"load_ms\":\(loadMillis),\"points\":["
            json += rows.map { row in
                "{\"n\":\(Int(row["n"]!)),\"io_us\":\(row["io_us"]!),\"amortized_us\":\(row["amortized_us"]!),\"append_p50_us\":\(row["append_p50_us"]!),\"append_p99_us\":\(row["append_p99_us"]!)}"
            }.joined(separator: ",")
            json += "]}\n"
            try Data(json.utf8).write(to: URL(fileURLWithPath: path))
        }
    }

    /// Streams `frames` into a fresh session `id`: an awaited append per message and a
    /// checkpoint per turn. Returns per-message append latency and amortized cost (ns).
    @discardableResult
    static func stream(frames: [FrameStream.Frame], turn: Int, store: FileRecordStore, id: SessionID) async throws
        -> Run
    {
        _ = try? await store.deleteRecord(id)
        let writer = try await store.openProbeWriter(
            id, workingDirectory: "/work/bench", options: ["model": "claude-opus-5-5"])
        let clock = ContinuousClock()
        var run = Run(count: frames.count)
        var index = 0
        while index < frames.count {
            let end = min(index + turn, frames.count)
            for position in index..<end {
                let message = ConversationMessage(direction: frames[position].direction, rawJSON: frames[position].raw)
                let ioBefore = writer.ioTime
                let elapsed = try await clock.measure { try await writer.append(message) }
                run.append[position] = nanoseconds(elapsed)
                run.io[position] = nanoseconds(writer.ioTime - ioBefore)
            }
            let ioBefore = writer.ioTime
            let checkpoint = nanoseconds(try await clock.measure { try await writer.checkpoint() })
            let checkpointIO = nanoseconds(writer.ioTime - ioBefore)
            for position in index..<end {
                run.amortized[position] = run.append[position] + checkpoint / Double(end - index)
                run.io[position] += checkpointIO / Double(end - index)
            }
            index = end
        }
        try await writer.close()
        return run
    }

    /// `--record N`: N messages through the recording path `SessionPersistentClient` uses with a
    /// `FileRecordStore` (a synchronous `appendNow` per frame on the caller's thread, an awaited
    /// checkpoint at each turn's end, folds in the background). Reports the slowest appends,
    /// those during a fold in particular, and the memory a fold adds (resident set growth while
    /// it runs, sampled at every append).
    static func recordBenchmark(
        count: Int, turn: Int, policy: DurabilityPolicy, policyName: String, directory: String, jsonOut: String?
    ) async throws {
        let frames = FrameStream.make(count: count, turn: turn)
        let store = FileRecordStore(configuration: .init(directory: directory, durability: policy))
        let id = try SessionID(FrameStream.sessionID)
        _ = try? await store.deleteRecord(id)
        let writer = store.probeWriter(
            for: id, workingDirectory: "/work/bench", options: ["model": "claude-opus-5-5"])
        try writer.prepare()
        let clock = ContinuousClock()
        var latencies: [Double] = []
        latencies.reserveCapacity(count)
        var slowestDuringFold = 0.0
        var appendsDuringFold = 0
        var slowestOutsideFold = 0.0
        var rssBeforeFold = residentBytes()
        var extraDuringFold = 0
        var wasFolding = false
        let started = clock.now
        var index = 0
        while index < count {
            let end = min(index + turn, count)
            for position in index..<end {
                let message = ConversationMessage(direction: frames[position].direction, rawJSON: frames[position].raw)
                let foldingBefore = writer.isFolding
                let elapsed = clock.measure {
                    let result = writer.appendNow(CollectionOfOne(message))
                    precondition(result.error == nil, "append failed")
                }
                let nanos = nanoseconds(elapsed)
                latencies.append(nanos)
                let folding = foldingBefore || writer.isFolding
                let rss = residentBytes()
                if folding {
                    if !wasFolding { wasFolding = true }
                    appendsDuringFold += 1
                    slowestDuringFold = max(slowestDuringFold, nanos)
                    extraDuringFold = max(extraDuringFold, rss - rssBeforeFold)
                } else {
                    wasFolding = false
                    rssBeforeFold = rss
                    slowestOutsideFold = max(slowestOutsideFold, nanos)
                }
            }
            try await writer.checkpoint()
            index = end
        }
        let total = clock.now - started
        let folds = writer.foldStatistics
        try await writer.close()
        let loaded = try await store.loadRecord(id)
        precondition(loaded.conversationHistory.count == count, "lost messages")
        let snapshotBytes =
            (try? FileManager.default.attributesOfItem(atPath: directory + "/\(id).json")[.size] as? Int) ?? 0
        let sorted = latencies.sorted()
        let p50 = sorted[sorted.count / 2] / 1000
        let p99 = sorted[min(sorted.count - 1, sorted.count * 99 / 100)] / 1000
        let maximum = (sorted.last ?? 0) / 1000
        print(
            "Recording path (appendNow per frame, policy \(policyName)): \(count) messages, "
                + "\(format(Double(snapshotBytes) / 1e6)) MB snapshot, \(format(nanoseconds(total) / 1e9)) s")
        print("  append p50 \(format(p50)) µs, p99 \(format(p99)) µs, max \(format(maximum)) µs")
        print(
            "  folds (the last one at close): \(folds.count), longest \(format(nanoseconds(folds.longest) / 1e6)) ms; "
                + "\(appendsDuringFold) appends while a fold ran, slowest \(format(slowestDuringFold / 1000)) µs "
                + "(outside folds: \(format(slowestOutsideFold / 1000)) µs)")
        print("  resident memory added while a fold ran: \(format(Double(max(0, extraDuringFold)) / 1_048_576)) MiB")
        if let jsonOut {
            let json =
                "{\"implementation\":\"swift-record\",\"messages\":\(count),\"snapshot_bytes\":\(snapshotBytes),"
                + "\"append_p50_us\":\(p50),\"append_p99_us\":\(p99),\"append_max_us\":\(maximum),"
                + "\"append_max_during_fold_us\":\(slowestDuringFold / 1000),\"appends_during_fold\":\(appendsDuringFold),"
                + "\"folds\":\(folds.count),\"longest_fold_ms\":\(nanoseconds(folds.longest) / 1e6),"
                + "\"fold_extra_rss_bytes\":\(max(0, extraDuringFold))}\n"
            try Data(json.utf8).write(to: URL(fileURLWithPath: jsonOut))
        }
    }

    /// This process's resident set size in bytes (Linux: /proc/self/statm; else 0).
    static func residentBytes() -> Int {
        #if os(Linux)
            let fd = open("/proc/self/statm", O_RDONLY)
            guard fd >= 0 else { return 0 }
            defer { close(fd) }
            var buffer = [UInt8](repeating: 0, count: 128)
            let count = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, 128) }
            guard count > 0 else { return 0 }
            let fields = String(decoding: buffer[..<count], as: UTF8.self).split(separator: " ")
            guard fields.count > 1, let pages = Int(fields[1]) else { return 0 }
            return pages * Int(sysconf(Int32(_SC_PAGESIZE)))
        #else
            return 0
        #endif
    }

    struct Run {
        /// Awaited append latency.
        var append: [Double]
        /// Append latency plus the message's share of its turn's checkpoint.
        var amortized: [Double]
        /// Time on the store's I/O queue for the append plus the share of the checkpoint.
        var io: [Double]

        init(count: Int) {
            append = Array(repeating: 0, count: count)
            amortized = append
            io = append
        }
    }

    static func nanoseconds(_ duration: Duration) -> Double {
        let (seconds, attoseconds) = duration.components
        return Double(seconds) * 1e9 + Double(attoseconds) / 1e9
    }

    static func format(_ value: Double) -> String {
        let rounded = (value * 10).rounded() / 10
        return "\(rounded)"
    }

    static func pad(_ text: String, _ width: Int) -> String {
        text + String(repeating: " ", count: max(1, width - text.count))
    }

    static func makeTemporaryDirectory() -> String {
        var template = Array("/tmp/records-benchmark-XXXXXX".utf8CString)
        _ = template.withUnsafeMutableBufferPointer { mkdtemp($0.baseAddress!) }
        return String(decoding: template.dropLast().map { UInt8(bitPattern: $0) }, as: UTF8.self) + "/sessions"
    }
}

/// The benchmark's stream of frames: turns of a prompt, three assistant messages and a result.
enum FrameStream {
    struct Frame {
        var direction: ConversationMessage.Direction
        var raw: [UInt8]
    }

    static let sessionID = "9899897f-3c5e-4b7a-9d2e-0f1e2d3c4b5a"
    static let words = [
        "session", "journal", "snapshot", "append", "durable", "atomic", "rename", "folder", "record", "message",
        "assistant", "result", "turn", "checkpoint", "compaction", "the", "a", "of", "and", "to", "with", "store",
    ]

    static func text(_ seed: Int, bytes: Int) -> String {
        var generator = UInt64(truncatingIfNeeded: seed) &* 2_654_435_761 &+ 1
        var result = ""
        while result.utf8.count < bytes {
            generator = generator &* 6_364_136_223_846_793_005 &+ 1_442_695_040_888_963_407
            result += words[Int((generator >> 33) % UInt64(words.count))] + " "
        }
        return result
    }

    static func make(count: Int, turn: Int) -> [Frame] {
        (0..<count).map { index in
            let position = index % turn
            let raw: String
            let direction: ConversationMessage.Direction
            if position == 0 {
                direction = .sent
                raw =
                    #"{"type":"user","message":{"role":"user","content":"\#(text(index, bytes: 160))"},"parent_tool_use_id":null,"session_id":"default"}"#
            } else if position == turn - 1 && turn > 2 {
                direction = .received
                raw =
                    #"{"type":"result","subtype":"success","is_error":false,"duration_ms":\#(1000 + index % 900),"duration_api_ms":\#(800 + index % 700),"num_turns":\#(index / turn + 1),"result":"\#(text(index, bytes: 620))","stop_reason":"end_turn","session_id":"\#(sessionID)","total_cost_usd":0.0\#(1000 + index % 8999),"usage":{"input_tokens":2560,"cache_creation_input_tokens":0,"cache_read_input_tokens":18342,"output_tokens":\#(index % 997),"server_tool_use":{"web_search_requests":0},"service_tier":"standard"},"permission_denials":[],"uuid":"c2a1f0d4-\#(index)","terminal_reason":"completed"}"#
            } else {
                direction = .received
                raw =
                    #"{"type":"assistant","message":{"id":"msg_01\#(index)","type":"message","role":"assistant","model":"claude-opus-5-5","content":[{"type":"text","text":"\#(text(index, bytes: 760))"}],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":2560,"cache_creation_input_tokens":0,"cache_read_input_tokens":18342,"output_tokens":\#(index % 997),"service_tier":"standard"},"context_management":null},"parent_tool_use_id":null,"session_id":"\#(sessionID)","uuid":"a09bfb87-5d0c-4c6e-9f1b-\#(index)","request_id":"req_011CV\#(index)"}"#
            }
            return Frame(direction: direction, raw: Array(raw.utf8))
        }
    }

    /// One JSON object per line: {"direction": "...", "raw": <the frame>}.
    static func writeJSONLines(_ frames: [Frame], to path: String) throws {
        var bytes: [UInt8] = []
        for frame in frames {
            bytes += Array("{\"direction\":\"\(frame.direction.rawValue)\",\"raw\":".utf8)
            bytes += frame.raw
            bytes += Array("}\n".utf8)
        }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
    }
}
