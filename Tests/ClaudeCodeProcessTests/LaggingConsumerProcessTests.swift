import ClaudeCode
import ClaudeCodeTesting
import Foundation
import Synchronization
import Testing

/// Issue 12: a consumer that falls behind must not grow memory without limit, and must not stall control
/// traffic. fake-claude's `flood` scenario streams numbered assistant frames from a thread of its own (so
/// it answers our control requests mid-stream), asks `can_use_tool` every few thousand frames and waits for
/// each answer, and reports how long each answer took as a `fake_control_latency` system frame.
@Suite("A lagging consumer: bounded memory, control traffic flows, nothing lost", .serialized, .timeLimit(.minutes(5)))
struct LaggingConsumerProcessTests {
    static let budget = 2 * 1024 * 1024

    /// The `can_use_tool` requests the callback saw, in order.
    final class PermissionLog: Sendable {
        private let ids = Mutex<[String]>([])
        func record(_ id: String) { ids.withLock { $0.append(id) } }
        var all: [String] { ids.withLock { $0 } }
    }

    /// What the consumer read.
    struct Received {
        var sequence: [Int] = []
        var latencies: [(id: String, milliseconds: Int, answered: Bool)] = []
        var result: ResultMessage?

        mutating func read(_ message: Message) {
            switch message {
            case .assistant(let assistant):
                let text = assistant.text
                if text.hasPrefix("seq="), let number = Int(text.dropFirst(4).prefix { $0 != " " }) {
                    sequence.append(number)
                }
            case .system(let system) where system.subtype == "fake_control_latency":
                latencies.append(
                    (
                        system.data["request_id"]?.stringValue ?? "?", system.data["latency_ms"]?.intValue ?? -1,
                        system.data["answered"]?.boolValue ?? false
                    ))
            case .result(let result):
                self.result = result
            default:
                break
            }
        }
    }

    func options(
        _ harness: ProcessHarness, frames: Int, permissionEvery: Int, permissions: PermissionLog
    ) -> ClaudeCodeOptions {
        var options = harness.options(
            "flood",
            env: [
                "FAKE_CLAUDE_FLOOD_FRAMES": "\(frames)", "FAKE_CLAUDE_FLOOD_BYTES": "1024",
                "FAKE_CLAUDE_FLOOD_PERMISSION_EVERY": "\(permissionEvery)",
            ])
        options.messageMemoryBudget = Self.budget
        options.canUseTool = { _, input, _ in
            permissions.record(String(input["command"]?.stringValue?.dropFirst("echo ".count) ?? ""))
            return .allow()
        }
        return options
    }

    /// The permission requests fake-claude makes for `frames` frames, one every `every`, and the last.
    func expectedPermissions(frames: Int, every: Int) -> [String] {
        stride(from: every, to: frames, by: every).map { "perm_\($0)" } + ["perm_final"]
    }

    /// Polls (bounded) until `condition` holds.
    func waitUntil(timeout: Duration = .seconds(60), _ condition: () -> Bool) async throws {
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        while !condition() {
            try #require(clock.now < deadline, "timed out after \(timeout)")
            try await Task.sleep(for: .milliseconds(10))
        }
    }

    func timed(_ body: () async throws -> Void) async throws -> Duration {
        let clock = ContinuousClock()
        let start = clock.now
        try await body()
        return clock.now - start
    }

    func check(_ received: Received, frames: Int, every: Int, permissions: PermissionLog) {
        #expect(received.sequence.count == frames)
        #expect(received.sequence == Array(0..<frames), "every frame, in order")
        #expect(received.result?.result == "flooded \(frames) frames")
        let expected = expectedPermissions(frames: frames, every: every)
        #expect(received.latencies.map(\.id) == expected)
        #expect(permissions.all == expected)
        for latency in received.latencies {
            #expect(latency.answered, "\(latency.id) was not answered")
            #expect(latency.milliseconds < 1000, "\(latency.id) took \(latency.milliseconds) ms to answer")
        }
    }

    @Test(
        "a consumer that sleeps between messages: can_use_tool, interrupt() and setModel() answered within a second, queue under the budget, every message in order"
    )
    func sleepingConsumer() async throws {
        let frames = 30_000
        let every = 3_000
        try await ProcessHarness.run { harness in
            let permissions = PermissionLog()
            let client = harness.client(
                options(harness, frames: frames, permissionEvery: every, permissions: permissions))
            try await client.connect()
            try await client.query("flood")
            let progress = Atomic<Int>(0)
            let consumer = Task {
                var received = Received()
                var count = 0
                for try await message in client.receiveResponse() {
                    received.read(message)
                    count += 1
                    progress.store(count, ordering: .relaxed)
                    // The lag under test: about 1 ms every 5 messages.
                    if count % 5 == 0 { try await Task.sleep(for: .milliseconds(1)) }
                }
                return received
            }
            // Once the queue is past its budget, the consumer lags well behind the CLI.
            try await waitUntil { (client.messageQueueStatistics?.spilledMessages ?? 0) > 0 }
            let interrupt = try await timed { try await client.interrupt() }
            let setModel = try await timed { try await client.setModel("fake-model-2") }
            let readWhenAnswered = progress.load(ordering: .relaxed)
            #expect(interrupt < .seconds(1), "interrupt() took \(interrupt)")
            #expect(setModel < .seconds(1), "setModel() took \(setModel)")
            #expect(readWhenAnswered < frames, "the consumer was still behind when both calls returned")

            let received = try await consumer.value
            check(received, frames: frames, every: every, permissions: permissions)
            let statistics = try #require(client.messageQueueStatistics)
            #expect(statistics.spilledMessages > 0)
            #expect(statistics.peakQueuedBytes <= Self.budget, "peak \(statistics.peakQueuedBytes) bytes queued")
            #expect(statistics.queuedBytes == 0)
            #expect(statistics.spilledBytes == 0)
            await client.disconnect()
        }
    }

    @Test(
        "a consumer that stops for 30 s and resumes gets everything in order; meanwhile can_use_tool, interrupt() and setModel() are answered within a second"
    )
    func stoppedConsumer() async throws {
        let frames = 40_000
        let every = 4_000
        try await ProcessHarness.run { harness in
            let permissions = PermissionLog()
            let client = harness.client(
                options(harness, frames: frames, permissionEvery: every, permissions: permissions))
            try await client.connect()
            try await client.query("flood")
            var received = Received()
            var messages = client.receiveResponse().makeAsyncIterator()
            while received.sequence.isEmpty, let message = try await messages.next() { received.read(message) }
            // The consumer stops here.
            let clock = ContinuousClock()
            let stopped = clock.now
            // The CLI asks its last permission after its last frame: then everything has been read from it.
            try await waitUntil { permissions.all.last == "perm_final" }
            let interrupt = try await timed { try await client.interrupt() }
            let setModel = try await timed { try await client.setModel("fake-model-2") }
            #expect(interrupt < .seconds(1), "interrupt() took \(interrupt)")
            #expect(setModel < .seconds(1), "setModel() took \(setModel)")
            let during = try #require(client.messageQueueStatistics)
            #expect(during.peakQueuedBytes <= Self.budget, "peak \(during.peakQueuedBytes) bytes queued")
            #expect(during.spilledBytes > 20 * 1024 * 1024, "the stream waits on disk: \(during.spilledBytes) bytes")
            // The stop lasts 30 s, as specified; the CLI is done, so nothing is waited for here.
            try await Task.sleep(until: stopped.advanced(by: .seconds(30)), clock: .continuous)

            while let message = try await messages.next() { received.read(message) }
            check(received, frames: frames, every: every, permissions: permissions)
            let after = try #require(client.messageQueueStatistics)
            #expect(after.peakQueuedBytes <= Self.budget, "peak \(after.peakQueuedBytes) bytes queued")
            #expect(after.spilledBytes == 0)
            await client.disconnect()
        }
    }
}
