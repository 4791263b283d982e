import BenchmarkSupport
// stores-benchmark: throughput of the session stores, and what mirroring costs a client.
//
//   stores-benchmark stores [--dir DIR] [--entries N] [--sessions M] [--rounds R]
//       Append throughput (one entry per append, and 50 per append as the mirror batches), load
//       throughput, and listing M sessions (cold: a new store instance; warm: the same instance
//       again) for InMemorySessionStore and FileSessionStore (with and without fsync).
//       Entries are ~1.3 KB transcript lines. One JSON line per measurement, then a table on stderr.
//
//   stores-benchmark mirror --fake PATH --replay FILE --mirror-replay FILE [--runs N] [--dir DIR]
//       messages/s of a ClaudeSDKClient reading a fake-claude replay (FAKE_CLAUDE_SCENARIO=replay),
//       without a store over FILE, and with mirroring to a store over FILE plus the CLI's
//       transcript_mirror frames (scripts/bench/make-mirror-replay.py), alternating, N runs each. The time runs
//       from the query to the result, which mirroring delivers only after the turn is in the store.
//
//   stores-benchmark real-cli --cli PATH [--turns 40] [--runs 5] [--dir DIR]
//       The same question asked of the real CLI against FakeMessagesAPI: tool-call turns without a
//       store and mirrored to memory and to files (RealCLIMirrorBenchmark.swift).
//
//   stores-benchmark resume --cli PATH [--api PATH] [--turns 1000] [--runs 5] [--dir DIR]
//       Resuming a 1,000-turn session with the real CLI: from its local file (no store) against
//       from FileSessionStore, SQLiteSessionStore and PostgresSessionStore (when PG* is set) with
//       the local file gone, and with it present (ResumeBenchmark.swift).
import ClaudeCode
import ClaudeCodeSessions
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

func fail(_ message: String) -> Never {
    FileHandle.standardError.write(Data("stores-benchmark: \(message)\n".utf8))
    exit(2)
}

func seconds(_ duration: Duration) -> Double {
    Double(duration.components.seconds) + Double(duration.components.attoseconds) / 1e18
}

func emit(_ object: [String: JSONValue]) {
    print(JSONValue.object(object).jsonString)
}

func note(_ text: String) {
    FileHandle.standardError.write(Data((text + "\n").utf8))
}

func pad(_ text: String, _ width: Int = 11) -> String {
    text.count >= width ? text : text + String(repeating: " ", count: width - text.count)
}

func median(_ values: [Double]) -> Double {
    let sorted = values.sorted()
    guard !sorted.isEmpty else { return 0 }
    return sorted.count % 2 == 1
        ? sorted[sorted.count / 2] : (sorted[sorted.count / 2 - 1] + sorted[sorted.count / 2]) / 2
}

struct Options {
    var values: [String: String] = [:]
    init(_ arguments: ArraySlice<String>) {
        var rest = arguments
        while let flag = rest.popFirst() {
            guard flag.hasPrefix("--"), let value = rest.popFirst() else { fail("bad argument \(flag)") }
            values[String(flag.dropFirst(2))] = value
        }
    }
    func int(_ name: String, _ fallback: Int) -> Int { values[name].flatMap(Int.init) ?? fallback }
    func string(_ name: String) -> String? { values[name] }
}

/// A ~1.3 KB transcript line shaped like the CLI's assistant lines.
func transcriptEntry(_ index: Int, session: String) -> SessionStoreEntry {
    let text = String(repeating: "The quick brown fox jumps over the lazy dog — résumé ✓. ", count: 13)
    let line =
        #"{"parentUuid":"p-\#(index)","isSidechain":false,"message":{"id":"msg_\#(index)","type":"message","role":"assistant","model":"claude-opus-5-5","content":[{"type":"text","text":"\#(text)"}],"stop_reason":null,"usage":{"input_tokens":10517,"output_tokens":\#(index % 997)}},"requestId":"req_\#(index)","type":"assistant","uuid":"\#(session)-\#(index)","timestamp":"2026-11-24T17:07:49.922Z","userType":"external","entrypoint":"sdk-cli","cwd":"/work/project","sessionId":"\#(session)","version":"2.1.331","gitBranch":"main"}"#
    return try! SessionStoreEntry(raw: RawJSON(line))
}

struct StoreCase {
    var name: String
    var make: () -> any SessionCatalog
}

func temporaryFolder(_ parent: String?) -> String {
    let base = parent ?? (ProcessInfo.processInfo.environment["TMPDIR"] ?? "/tmp")
    var template = Array("\(base)/store-bench-XXXXXX".utf8CString)
    guard let made = template.withUnsafeMutableBufferPointer({ mkdtemp($0.baseAddress!) }) else {
        fail("mkdtemp failed")
    }
    return String(cString: made)
}

func storesBenchmark(_ options: Options) async throws {
    let entries = options.int("entries", 20_000)
    let sessions = options.int("sessions", 10_000)
    let rounds = options.int("rounds", 3)
    let root = temporaryFolder(options.string("dir"))
    defer { try? FileManager.default.removeItem(atPath: root) }
    let clock = ContinuousClock()
    var counter = 0
    func nextFolder() -> String {
        counter += 1
        return root + "/store-\(counter)"
    }
    let cases = [
        StoreCase(name: "memory", make: { InMemorySessionStore() }),
        StoreCase(name: "file", make: { FileSessionStore(directory: nextFolder()) }),
        StoreCase(
            name: "file+fsync",
            make: { FileSessionStore(configuration: .init(directory: nextFolder(), syncEachAppend: true)) }),
    ]
    let session = "11111111-2222-4333-8444-555555555555"
    let items = (0..<entries).map { transcriptEntry($0, session: session) }
    let bytes = items.reduce(0) { $0 + $1.raw.bytes.count }
    var table: [String] = []

    for storeCase in cases {
        for batch in [1, 50] {
            // fsync per single-entry append is slow: fewer entries keep the run short.
            let count = storeCase.name == "file+fsync" && batch == 1 ? min(entries, 2_000) : entries
            var rates: [Double] = []
            for _ in 0..<rounds {
                let store = storeCase.make()
                let key = SessionStoreKey(projectKey: "-bench", sessionID: session)
                let start = clock.now
                var index = 0
                while index < count {
                    let upper = min(index + batch, count)
                    try await store.append(Array(items[index..<upper]), to: key)
                    index = upper
                }
                rates.append(Double(count) / seconds(clock.now - start))
            }
            let rate = median(rates)
            let megabytes = rate * Double(bytes) / Double(entries) / 1e6
            emit([
                "benchmark": "append", "store": .string(storeCase.name), "batch": .int(Int64(batch)),
                "entries": .int(Int64(count)),
                "entries_per_second": .double(rate), "mb_per_second": .double(megabytes),
            ])
            table.append(
                "append  " + pad(storeCase.name)
                    + String(format: " batch %-3d %10.0f entries/s %8.1f MB/s", batch, rate, megabytes))
        }
    }

    // Load: one session of `entries` lines.
    for storeCase in cases where storeCase.name != "file+fsync" {
        let store = storeCase.make()
        let key = SessionStoreKey(projectKey: "-bench", sessionID: session)
        var index = 0
        while index < entries {
            try await store.append(Array(items[index..<min(index + 500, entries)]), to: key)
            index += 500
        }
        var times: [Double] = []
        for _ in 0..<rounds {
            let start = clock.now
            let loaded = try await store.load(key)
            times.append(seconds(clock.now - start))
            guard loaded?.count == entries else { fail("load returned \(loaded?.count ?? 0) entries") }
        }
        let time = median(times)
        emit([
            "benchmark": "load", "store": .string(storeCase.name), "entries": .int(Int64(entries)),
            "bytes": .int(Int64(bytes)),
            "seconds": .double(time), "entries_per_second": .double(Double(entries) / time),
            "mb_per_second": .double(Double(bytes) / 1e6 / time),
        ])
        table.append(
            "load    " + pad(storeCase.name)
                + String(
                    format: " %d entries (%.1f MB) in %.1f ms: %.0f MB/s", entries, Double(bytes) / 1e6, time * 1000,
                    Double(bytes) / 1e6 / time))
    }

    // Listing: `sessions` sessions in one project, two entries each.
    let listFolder = nextFolder()
    for name in ["memory", "file"] {
        let store: any SessionCatalog =
            name == "memory" ? InMemorySessionStore() : FileSessionStore(directory: listFolder)
        let fill = clock.now
        for number in 0..<sessions {
            let id = String(format: "%08x-0000-4000-8000-%012x", number, number)
            let first = try SessionStoreEntry(
                raw: RawJSON(
                    #"{"type":"user","uuid":"\#(id)-1","timestamp":"2026-11-24T17:07:49.922Z","cwd":"/work/project","message":{"role":"user","content":"session \#(number): refactor the parser"}}"#
                ))
            let second = try SessionStoreEntry(
                raw: RawJSON(#"{"type":"custom-title","customTitle":"Session \#(number)","uuid":"\#(id)-2"}"#))
            try await store.append([first, second], to: SessionStoreKey(projectKey: "-bench-list", sessionID: id))
        }
        let filled = seconds(clock.now - fill)
        for cold in [true, false] {
            var listTimes: [Double] = []
            var summaryTimes: [Double] = []
            for _ in 0..<rounds {
                let reader: any SessionCatalog =
                    cold && name == "file" ? FileSessionStore(directory: listFolder) : store
                var start = clock.now
                let listed = try await reader.listSessions(projectKey: "-bench-list")
                listTimes.append(seconds(clock.now - start))
                let readerForSummaries: any SessionCatalog =
                    cold && name == "file" ? FileSessionStore(directory: listFolder) : store
                start = clock.now
                let summaries = try await readerForSummaries.listSessionSummaries(projectKey: "-bench-list")
                summaryTimes.append(seconds(clock.now - start))
                guard listed.count == sessions, summaries.count == sessions else {
                    fail("listed \(listed.count), \(summaries.count)")
                }
            }
            let mode = name == "memory" ? "" : (cold ? " cold" : " warm")
            emit([
                "benchmark": "list", "store": .string(name + mode), "sessions": .int(Int64(sessions)),
                "list_sessions_ms": .double(median(listTimes) * 1000),
                "list_summaries_ms": .double(median(summaryTimes) * 1000),
                "fill_seconds": .double(filled),
            ])
            table.append(
                "list    " + pad(name + mode)
                    + String(
                        format: " %d sessions: listSessions %.1f ms, listSessionSummaries %.1f ms (filled in %.1f s)",
                        sessions, median(listTimes) * 1000, median(summaryTimes) * 1000, filled))
            if name == "memory" { break }
        }
    }
    note(table.joined(separator: "\n"))
}

/// What the benchmark consumer reads of each message (every text and tool payload).
func consume(_ message: Message) -> Int {
    switch message {
    case .assistant(let assistant):
        return assistant.content.reduce(0) { total, block in
            switch block {
            case .text(let text): return total + text.text.utf8.count
            case .toolUse(let use): return total + use.name.utf8.count
            default: return total
            }
        }
    case .user(let user):
        if case .blocks(let blocks) = user.content { return blocks.count }
        return 1
    default:
        return 0
    }
}

/// A client for one mirroring mode: `memory` and `file` mirror to an `InMemorySessionStore` and a
/// new `FileSessionStore` under `root`; any other mode has no store.
func mirrorClient(_ mode: String, _ options: ClaudeCodeOptions, root: String) -> (
    ClaudeSDKClient, (any SessionCatalog)?
) {
    let store: (any SessionCatalog)?
    switch mode {
    case "memory": store = InMemorySessionStore()
    case "file": store = FileSessionStore(directory: root + "/\(mode)-\(UUID().uuidString)")
    default: store = nil
    }
    guard let store else { return (ClaudeSDKClient(options: options), nil) }
    return (ClaudeSDKClient(options: options, sessionStore: store), store)
}

func mirrorBenchmark(_ options: Options) async throws {
    guard let fake = options.string("fake"), let replay = options.string("replay"),
        let mirrored = options.string("mirror-replay")
    else {
        fail("mirror needs --fake, --replay and --mirror-replay")
    }
    let runs = options.int("runs", 5)
    let root = temporaryFolder(options.string("dir"))
    defer { try? FileManager.default.removeItem(atPath: root) }
    let clock = ContinuousClock()

    func run(_ mode: String) async throws -> (rate: Double, cpu: Double, messages: Int, stored: Int) {
        var clientOptions = ClaudeCodeOptions()
        clientOptions.cliPath = fake
        clientOptions.env = [
            "FAKE_CLAUDE_SCENARIO": "replay", "FAKE_CLAUDE_REPLAY_FILE": mode == "none" ? replay : mirrored,
            "HOME": "/bench-home",
        ]
        let (client, store) = mirrorClient(mode, clientOptions, root: root)
        try await client.connect()
        var messages = 0
        var checksum = 0
        var mirrorErrors = 0
        let start = clock.now
        let cpuStart = ResourceUsage.processCPUSeconds()
        try await client.query("replay")
        for try await message in client.receiveResponse() {
            messages += 1
            checksum &+= consume(message)
            if case .system(let system) = message, case .mirrorError = system.kind { mirrorErrors += 1 }
        }
        let elapsed = seconds(clock.now - start)
        let cpu = ResourceUsage.processCPUSeconds() - cpuStart
        await client.disconnect()
        guard mirrorErrors == 0 else { fail("\(mirrorErrors) mirror errors") }
        var stored = 0
        if let store {
            for listing in try await store.listSessions(projectKey: "-bench-project") {
                stored +=
                    try await store.load(SessionStoreKey(projectKey: "-bench-project", sessionID: listing.sessionID))?
                    .count ?? 0
            }
        }
        _ = checksum
        return (Double(messages) / elapsed, cpu * 1e6 / Double(messages), messages, stored)
    }

    let modes = options.string("modes")?.split(separator: ",").map(String.init) ?? ["none", "frames", "memory", "file"]
    var rates: [String: [Double]] = [:]
    var cpus: [String: [Double]] = [:]
    var counts: [String: (Int, Int)] = [:]
    // One warm-up of each, then alternating runs.
    for mode in modes { _ = try await run(mode) }
    for _ in 0..<runs {
        for mode in modes {
            let result = try await run(mode)
            rates[mode, default: []].append(result.rate)
            cpus[mode, default: []].append(result.cpu)
            counts[mode] = (result.messages, result.stored)
            emit([
                "benchmark": "mirror", "store": .string(mode), "messages": .int(Int64(result.messages)),
                "stored_entries": .int(Int64(result.stored)), "messages_per_second": .double(result.rate),
                "cpu_us_per_message": .double(result.cpu),
            ])
        }
    }
    let labels = [
        "none": "no mirroring (plain replay)", "frames": "CLI mirror frames, no store", "memory": "mirrored to memory",
        "file": "mirrored to file store",
    ]
    let baseline = median(rates["none"] ?? [1])
    let framesOnly = median(rates["frames"] ?? [1])
    var lines = [String(format: "mirror: median of %d runs; client CPU µs/message includes the store's work", runs)]
    for mode in modes {
        let rate = median(rates[mode] ?? [])
        var line =
            pad(labels[mode]!, 30)
            + String(format: " %9.0f messages/s  %6.2f CPU µs/msg", rate, median(cpus[mode] ?? []))
        // Comparisons only with modes that ran (`--modes` may leave some out).
        if mode != "none", rates["none"] != nil {
            line += String(format: "  vs plain %+6.1f%%", (rate / baseline - 1) * 100)
        }
        if mode == "memory" || mode == "file" {
            if rates["frames"] != nil {
                line += String(format: "  vs frames, no store %+6.1f%%", (rate / framesOnly - 1) * 100)
            }
            line += String(format: "  (%d entries stored)", counts[mode]?.1 ?? 0)
        }
        lines.append(line)
    }
    note(lines.joined(separator: "\n"))
}

/// `drain --mirror-replay FILE [--rounds R]`: the mirror's own work, without a CLI or a client: every
/// transcript_mirror frame of FILE handed to a TranscriptMirror, then flushed to an in-memory store.
func drainBenchmark(_ options: Options) async throws {
    guard let path = options.string("mirror-replay"), let data = FileManager.default.contents(atPath: path) else {
        fail("drain needs --mirror-replay FILE")
    }
    var frames: [[UInt8]] = []
    data.withUnsafeBytes { raw in
        var start = 0
        for (index, byte) in raw.enumerated() where byte == UInt8(ascii: "\n") {
            let line = Array(raw[start..<index])
            if line.starts(with: Array(#"{"type":"transcript_mirror""#.utf8)) { frames.append(line) }
            start = index + 1
        }
    }
    guard
        case .result(let result) = Message(
            line: Array(
                #"{"type":"result","subtype":"success","is_error":false,"num_turns":1,"session_id":"s","duration_ms":1,"duration_api_ms":1}"#
                    .utf8))
    else { fail("no result") }
    var options_ = ClaudeCodeOptions()
    options_.env = ["HOME": "/bench-home"]
    for round in 0..<options.int("rounds", 5) {
        for storeName in ["memory", "discard"] {
            let store: any SessionStore = storeName == "memory" ? InMemorySessionStore() : DiscardingStore()
            let mirror = TranscriptMirror(store: store)
            _ = try await mirror.prepare(options_)
            let clock = ContinuousClock()
            let start = clock.now
            for frame in frames {
                mirror.observe(WireFrame(direction: .inbound, raw: RawJSON(bytes: frame), json: nil, timestamp: Date()))
            }
            let failures = await mirror.beforeDelivering(result)
            let elapsed = seconds(clock.now - start)
            guard failures.isEmpty else { fail("mirror failures") }
            note(
                "drain round \(round) " + pad(storeName, 8)
                    + String(
                        format: "%d frames in %.1f ms: %.2f µs/frame", frames.count, elapsed * 1000,
                        elapsed * 1e6 / Double(frames.count)))
        }
    }
}

/// A store that keeps nothing (to time the mirror's parsing alone).
struct DiscardingStore: SessionStore {
    func append(_ entries: [SessionStoreEntry], to key: SessionStoreKey) async throws(SessionStoreError) {}
    func load(_ key: SessionStoreKey) async throws(SessionStoreError) -> [SessionStoreEntry]? { nil }
}

@main
struct StoresBenchmark {
    static func main() async {
        let arguments = CommandLine.arguments
        guard arguments.count >= 2 else {
            fail("usage: stores-benchmark stores|mirror|drain|real-cli|resume [options]")
        }
        let options = Options(arguments.dropFirst(2))
        do {
            switch arguments[1] {
            case "stores": try await storesBenchmark(options)
            case "mirror": try await mirrorBenchmark(options)
            case "drain": try await drainBenchmark(options)
            case "real-cli": try await realCLIMirrorBenchmark(options)
            case "resume": try await resumeBenchmark(options)
            default: fail("unknown command \(arguments[1])")
            }
        } catch {
            fail("\(error)")
        }
    }
}
