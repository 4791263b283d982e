// Records: what SessionPersistentClient's recording costs, through the public record-store
// protocol (FileRecordStore): appending a 1,000-message conversation with a checkpoint per
// 10 messages (a turn), and loading it back.
import Benchmark
import BenchmarkSupport
import ClaudeCodeSessions
import Foundation

let benchmarks: @Sendable () -> Void = {
    Benchmark.defaultConfiguration = .init(
        metrics: [.cpuTotal, .wallClock, .mallocCountTotal, .peakMemoryResident],
        maxDuration: .seconds(5), maxIterations: 30)

    let messages = BenchmarkInput.conversationMessages(count: 1_000)

    for (name, policy) in [("fsync at checkpoints", DurabilityPolicy.checkpoint), ("no fsync", .never)] {
        Benchmark(
            "append 1,000 messages, a checkpoint per turn (\(name))",
            closure: { benchmark, scratch in
                let store = FileRecordStore(configuration: .init(directory: scratch.path, durability: policy))
                do {
                    let writer = try await store.openRecord(
                        try SessionID(UUID().uuidString.lowercased()), startTime: Date(), workingDirectory: "/work",
                        options: [:])
                    for turn in stride(from: 0, to: messages.count, by: 10) {
                        try await writer.append(Array(messages[turn..<turn + 10]))
                        try await writer.checkpoint()
                    }
                    try await writer.close()
                } catch {
                    benchmark.error("\(error)")
                }
            },
            setup: { try ScratchDirectory("records") },
            teardown: {})
    }

    Benchmark(
        "load a 1,000-message record",
        closure: { benchmark, input in
            do {
                let data = try await input.store.loadRecord(input.id)
                if data.conversationHistory.count != 1_000 { benchmark.error("lost messages") }
                blackHole(data)
            } catch {
                benchmark.error("\(error)")
            }
        },
        setup: { () async throws -> RecordInput in
            let scratch = try ScratchDirectory("records-load")
            let store = FileRecordStore(configuration: .init(directory: scratch.path, durability: .never))
            let id = try SessionID("b0a1c2d3-0000-4000-8000-000000000001")
            let writer = try await store.openRecord(id, startTime: Date(), workingDirectory: "/work", options: [:])
            try await writer.append(messages)
            try await writer.close()
            return RecordInput(store: store, id: id)
        })
}

struct RecordInput: Sendable {
    let store: FileRecordStore
    let id: SessionID
}
