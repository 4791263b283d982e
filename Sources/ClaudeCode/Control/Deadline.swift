import Synchronization

/// A callback did not answer in time.
struct DeadlineExceeded: Error {}

/// Runs `body` in its own task and returns its result, or throws ``DeadlineExceeded`` after `timeout`.
///
/// Unlike a task group, this never waits for a `body` that ignores cancellation: on timeout, or
/// when the calling task is cancelled, `body`'s task is cancelled and left behind, and this
/// returns at once. A `nil` timeout waits as long as `body` takes (cancellation still returns at once).
func withDeadline<T: Sendable>(
    _ timeout: Duration?, _ body: @escaping @Sendable () async throws -> T
) async throws -> T {
    let once = ResumeOnce<T>()
    let work = Task { try await body() }
    return try await withTaskCancellationHandler {
        try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<T, any Error>) in
            once.install(continuation)
            let timer: Task<Void, Never>? = timeout.map { timeout in
                Task {
                    guard (try? await Task.sleep(for: timeout)) != nil else { return }
                    work.cancel()
                    once.resume(.failure(DeadlineExceeded()))
                }
            }
            Task {
                let result = await work.result
                timer?.cancel()
                once.resume(result)
            }
        }
    } onCancel: {
        work.cancel()
        once.resume(.failure(CancellationError()))
    }
}

/// Resumes a continuation once, whichever of the result, the timer or cancellation comes first
/// (cancellation may come before the continuation exists).
private final class ResumeOnce<T: Sendable>: Sendable {
    private struct State {
        var continuation: CheckedContinuation<T, any Error>?
        var early: Result<T, any Error>?
        var done = false
    }
    private let state = Mutex(State())

    func install(_ continuation: CheckedContinuation<T, any Error>) {
        let early = state.withLock { state -> Result<T, any Error>? in
            if let early = state.early {
                state.done = true
                return early
            }
            state.continuation = continuation
            return nil
        }
        if let early { continuation.resume(with: early) }
    }

    func resume(_ result: Result<T, any Error>) {
        let continuation = state.withLock { state -> CheckedContinuation<T, any Error>? in
            guard !state.done else { return nil }
            guard let continuation = state.continuation else {
                if state.early == nil { state.early = result }
                return nil
            }
            state.done = true
            state.continuation = nil
            return continuation
        }
        continuation?.resume(with: result)
    }
}
