// Stores: appending a session's transcript lines to the session stores the way the mirror
// does (batches of 50), and loading it back.
import Benchmark
import BenchmarkSupport
import ClaudeCode
import ClaudeCodeSessions
import Foundation

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.cpuTotal, .wallClock, .mallocCountTotal, .peakMemoryResident],
        maxDuration: .seconds(5), maxIterations: 30)

    let entries = BenchmarkInput.transcriptLines(sessionID: "s", turns: 500).map { line in
        // The lines are generated valid JSON objects.
        // swift-format-ignore: NeverUseForceTry
        try! SessionStoreEntry(raw: RawJSON(line))
    }
    let makers: [(String, @Sendable (String) -> any SessionStore)] = [
        ("InMemorySessionStore", { _ in InMemorySessionStore() }),
        ("FileSessionStore", { FileSessionStore(configuration: .init(directory: $0)) }),
        (
            "FileSessionStore, fsync per append",
            { FileSessionStore(configuration: .init(directory: $0, syncEachAppend: true)) }
        ),
    ]
    for (name, make) in makers {
        Benchmark(
            "\(name): append 1,000 lines in batches of 50, then load them",
            closure: { benchmark, scratch in
                let store = make(scratch.path + "/\(UUID().uuidString)")
                let key = SessionStoreKey(projectKey: "bench", sessionID: UUID().uuidString.lowercased())
                do {
                    for start in stride(from: 0, to: entries.count, by: 50) {
                        try await store.append(Array(entries[start..<min(start + 50, entries.count)]), to: key)
                    }
                    let loaded = try await store.load(key)
                    if loaded?.count != entries.count { benchmark.error("loaded \(loaded?.count ?? 0) entries") }
                } catch {
                    benchmark.error("\(error)")
                }
            },
            setup: { try ScratchDirectory("stores") })
    }
}
