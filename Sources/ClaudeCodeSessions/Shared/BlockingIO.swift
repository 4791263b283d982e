import Dispatch
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A flag the blocking work polls so that cancelling the calling task stops it early.
final class CancellationFlag: Sendable {
    private let flag = Atomic<Bool>(false)
    var isCancelled: Bool { flag.load(ordering: .relaxed) }
    func cancel() { flag.store(true, ordering: .relaxed) }
}

/// The package's one way off Swift's cooperative pool: every blocking call (file system,
/// `fsync`, a child process's pipe) runs here, on Dispatch threads, so a slow disk or a large
/// directory never starves other tasks.
///
/// - ``run(_:)``: cancellable work on the shared concurrent queue (reads of the CLI's transcripts).
/// - ``perform(_:)``: the same with a typed error and no cancellation (the stores' reads).
/// - ``submit(_:)``: fire and forget on the shared queue.
/// - ``Lane``: a serial line of work, for what must happen one at a time and in order (a
///   store's writes, its folds, the recorder's task).
/// - ``parallel(iterations:_:)``: one blocking job spread over the cores.
enum BlockingIO {
    static let queue = DispatchQueue(
        label: "ClaudeCodeSessions.blocking", qos: .userInitiated, attributes: .concurrent)

    /// Runs `body` on the shared queue and returns its result or its typed error.
    static func perform<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
        try await perform(on: queue, body)
    }

    /// Runs `body` on the shared queue without waiting for it.
    static func submit(_ body: @escaping @Sendable () -> Void) {
        queue.async(execute: body)
    }

    fileprivate static func perform<T: Sendable, E: Error>(
        on queue: DispatchQueue, _ body: @escaping @Sendable () throws(E) -> T
    ) async throws(E) -> T {
        let result: Result<T, E> = await withCheckedContinuation { continuation in
            queue.async {
                continuation.resume(returning: Result { () throws(E) -> T in try body() })
            }
        }
        return try result.get()
    }

    /// A serial line of blocking work: jobs run one at a time, in the order they were
    /// submitted, off the cooperative pool. Also a `TaskExecutor`, for a task that must not
    /// share the cooperative pool (see `SessionRecorder`).
    final class Lane: TaskExecutor, Sendable {
        private let queue: DispatchQueue

        init(label: String, qos: DispatchQoS = .userInitiated) {
            queue = DispatchQueue(label: label, qos: qos)
        }

        /// Runs `body` after every job submitted before it and returns its result or its typed error.
        func perform<T: Sendable, E: Error>(_ body: @escaping @Sendable () throws(E) -> T) async throws(E) -> T {
            try await BlockingIO.perform(on: queue, body)
        }

        /// Queues `body` without waiting for it.
        func submit(_ body: @escaping @Sendable () -> Void) {
            queue.async(execute: body)
        }

        func enqueue(_ job: consuming ExecutorJob) {
            let job = UnownedJob(job)
            let executor = asUnownedTaskExecutor()
            queue.async { job.runSynchronously(on: executor) }
        }
    }

    /// Runs `body` off the cooperative pool and returns its result. Cancelling the calling
    /// task sets the flag `body` receives; when `body` returns after that, the call throws
    /// `CancellationError`.
    static func run<T: Sendable>(_ body: @escaping @Sendable (CancellationFlag) throws -> T) async throws -> T {
        try Task.checkCancellation()
        let flag = CancellationFlag()
        let value = try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
                queue.async {
                    continuation.resume(with: Result { try body(flag) })
                }
            }
        } onCancel: {
            flag.cancel()
        }
        if flag.isCancelled { throw CancellationError() }
        return value
    }

    /// Runs `iterations` pieces of work on the calling thread and one helper thread per
    /// other core, each taking the next piece until none is left. Call only from inside
    /// ``run(_:)``. `body` must only touch state that each iteration owns (see ``ParallelSlots``).
    ///
    /// Dedicated threads, rather than `concurrentPerform`, because Dispatch may run the
    /// pieces one after another when its pool looks busy.
    static func parallel(iterations: Int, _ body: (Int) -> Void) {
        if iterations <= 1 {
            if iterations == 1 { body(0) }
            return
        }
        let helpers = min(iterations, processorCount) - 1
        if helpers <= 0 {
            for index in 0..<iterations { body(index) }
            return
        }
        withoutActuallyEscaping(body) { body in
            // The helper threads reach `body` only through the box, which is emptied before
            // returning, so `body` does not outlive this call.
            let work = WorkBox(body)
            let next = SharedCounter()
            let finished = DispatchSemaphore(value: 0)
            let drain: @Sendable () -> Void = {
                while true {
                    let index = next.takeNext()
                    if index >= iterations { return }
                    work.run(index)
                }
            }
            for _ in 0..<helpers {
                let thread = Thread {
                    drain()
                    finished.signal()
                }
                thread.stackSize = 1 << 20
                thread.start()
            }
            drain()
            for _ in 0..<helpers { finished.wait() }
            work.clear()
        }
    }

    static let processorCount = max(1, Int(sysconf(Int32(_SC_NPROCESSORS_ONLN))))

    /// How many parallel pieces to cut `count` items into.
    static func chunkCount(for count: Int, minimumPerChunk: Int) -> Int {
        max(1, min(processorCount * 4, count / max(1, minimumPerChunk)))
    }
}

/// The body of a parallel loop, shared by its threads until the loop ends.
final class WorkBox: @unchecked Sendable {
    private var body: ((Int) -> Void)?

    init(_ body: @escaping (Int) -> Void) { self.body = body }

    /// Called only while the loop runs; `clear()` happens after every thread is done.
    func run(_ index: Int) { body!(index) }

    func clear() { body = nil }
}

/// The next index of a parallel loop, shared by its threads.
final class SharedCounter: Sendable {
    private let value = Atomic<Int>(0)
    func takeNext() -> Int { value.wrappingAdd(1, ordering: .relaxed).oldValue }
    var current: Int { value.load(ordering: .relaxed) }
}

/// Carries a value into helper threads; safe because each iteration touches only its own slot.
struct UncheckedSendable<Value>: @unchecked Sendable {
    let value: Value
}

/// One result slot per parallel iteration. Each iteration writes only its own index, and
/// the slots are read only after all iterations have finished.
final class ParallelSlots<Element>: @unchecked Sendable {
    private let storage: UnsafeMutableBufferPointer<Element?>

    init(count: Int) {
        storage = .allocate(capacity: count)
        storage.initialize(repeating: nil)
    }

    deinit {
        storage.deinitialize()
        storage.deallocate()
    }

    subscript(index: Int) -> Element? {
        get { storage[index] }
        set { storage[index] = newValue }
    }

    var count: Int { storage.count }
}
