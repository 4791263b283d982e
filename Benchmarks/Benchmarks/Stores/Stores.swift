// Stores: appending a session's transcript lines to the session stores the way the mirror
// does (batches of 50), and loading it back.
import Benchmark
import BenchmarkSupport
import ClaudeCodeSessions
import Foundation

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.cpuTotal, .wallClock, .mallocCountTotal, .peakMemoryResident],
        maxDuration: .seconds(5), maxIterations: 30)

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
                await appendAndLoad(store) { benchmark.error($0) }
            },
            setup: { try ScratchDirectory("stores") })
    }
}
