import Foundation
import Synchronization
import Testing

@testable import ClaudeCodeSessions

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// `BlockingIO` is the module's one way off the cooperative pool, and `POSIX` its one layer of
/// system calls: what they promise, and that nothing in the module goes around them.
@Suite struct BlockingIOTests {
    @Test func aLaneRunsItsJobsOneAtATimeInOrder() async throws {
        let lane = BlockingIO.Lane(label: "test.lane")
        let log = Mutex<[Int]>([])
        let running = Atomic<Int>(0)
        let overlapped = Atomic<Bool>(false)
        for index in 0..<50 {
            lane.submit {
                if running.wrappingAdd(1, ordering: .sequentiallyConsistent).newValue > 1 {
                    overlapped.store(true, ordering: .sequentiallyConsistent)
                }
                usleep(100)
                log.withLock { $0.append(index) }
                running.wrappingSubtract(1, ordering: .sequentiallyConsistent)
            }
        }
        // `perform` queues behind everything submitted before it.
        let seen = await lane.perform { () -> Int in log.withLock { $0.count } }
        #expect(seen == 50)
        #expect(log.withLock { $0 } == Array(0..<50))
        let didOverlap = overlapped.load(ordering: .sequentiallyConsistent)
        #expect(!didOverlap)
    }

    @Test func performKeepsTheTypedError() async {
        let lane = BlockingIO.Lane(label: "test.lane.errors")
        await #expect(throws: SessionStoreError.self) {
            try await lane.perform { () throws(SessionStoreError) -> Int in
                throw SessionStoreError(.ioFailure, reason: "test")
            }
        }
        let shared = await BlockingIO.perform { () -> Int in 7 }
        #expect(shared == 7)
    }

    @Test func blockingWorkDoesNotOccupyTheCooperativePool() async throws {
        // More blocked jobs than the pool has threads: if they ran on the pool, the probe task
        // below could not run until one of them ended.
        let release = DispatchSemaphore(value: 0)
        let jobs = ProcessInfo.processInfo.activeProcessorCount + 2
        let started = SharedCounter()
        let blocked = Task {
            try await withThrowingTaskGroup(of: Void.self) { group in
                for _ in 0..<jobs {
                    group.addTask {
                        try await BlockingIO.perform { () throws(SessionStoreError) in
                            _ = started.takeNext()
                            release.wait()
                        }
                    }
                }
                try await group.waitForAll()
            }
        }
        // A safety valve so that a broken BlockingIO fails the test instead of hanging it.
        let releasedBySafety = CancellationFlag()
        DispatchQueue.global().asyncAfter(deadline: .now() + 30) {
            releasedBySafety.cancel()
            for _ in 0..<jobs { release.signal() }
        }
        while started.current < jobs,
            !releasedBySafety.isCancelled
        {
            await Task.yield()
        }
        let probe = await Task { 42 }.value
        let probeRanWhileBlocked = !releasedBySafety.isCancelled
        #expect(probe == 42)
        #expect(probeRanWhileBlocked)
        if probeRanWhileBlocked {
            for _ in 0..<jobs { release.signal() }
        }
        try await blocked.value
    }

    /// Nothing in the module makes its own Dispatch queue or thread, or calls `stat` through
    /// another layer: new blocking work goes through `BlockingIO`, new system calls through `POSIX`.
    @Test func theModuleHasOneWayOffThePoolAndOnePOSIXLayer() throws {
        let sources = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/ClaudeCodeSessions")
        let files = try #require(FileManager.default.enumerator(atPath: sources.path)).compactMap { $0 as? String }
            .filter { $0.hasSuffix(".swift") }
        #expect(files.count > 20)
        var offenders: [String] = []
        for file in files {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            let owner = file.hasSuffix("Shared/BlockingIO.swift")
            for pattern in ["DispatchQueue(", "DispatchQueue.global", "Thread {", "Thread(", "detachNewThread"]
            where !owner && text.contains(pattern) {
                offenders.append("\(file): \(pattern)")
            }
            for pattern in ["StoreSystem", "FileSystemFailure"] where text.contains(pattern) {
                offenders.append("\(file): \(pattern)")
            }
        }
        #expect(offenders.isEmpty, "\(offenders)")
    }
}
