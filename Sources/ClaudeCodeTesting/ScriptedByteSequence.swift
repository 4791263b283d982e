import FlyingSocks
import Foundation

/// A response body played from a script of byte runs, pauses and a failure.
///
/// Consecutive byte runs are handed out together; a pause ends a buffer, so whatever came before it is written to
/// the socket (as one HTTP chunk) before the pause starts. That is what makes a slow stream arrive tick by tick.
struct ScriptedByteSequence: AsyncBufferedSequence, Sendable {
    typealias Element = UInt8

    enum Step: Sendable {
        /// Bytes to send.
        case bytes([UInt8])
        /// Wait before the next step (cancellable).
        case pause(Duration)
        /// End the body with an error, which makes the server drop the connection.
        case fail
    }

    struct DroppedConnection: Error {}

    let steps: [Step]

    func makeAsyncIterator() -> Iterator {
        Iterator(steps: steps)
    }

    struct Iterator: AsyncBufferedIteratorProtocol {
        typealias Element = UInt8

        private var steps: [Step]
        private var index = 0
        private var pending: ArraySlice<UInt8> = []

        init(steps: [Step]) {
            self.steps = steps
        }

        mutating func next() async throws -> UInt8? {
            try await nextBuffer(suggested: 1)?.first
        }

        mutating func nextBuffer(suggested count: Int) async throws -> ArraySlice<UInt8>? {
            let limit = Swift.max(1, count)
            while pending.isEmpty {
                guard index < steps.count else { return nil }
                let step = steps[index]
                index += 1
                switch step {
                case .bytes(let bytes):
                    var run = bytes
                    // Merge the following byte runs up to the next pause or failure.
                    while index < steps.count, case .bytes(let more) = steps[index] {
                        run += more
                        index += 1
                    }
                    pending = run[...]
                case .pause(let duration):
                    try await Task.sleep(for: duration)
                case .fail:
                    throw DroppedConnection()
                }
            }
            let slice = pending.prefix(limit)
            pending = pending.dropFirst(slice.count)
            return slice
        }
    }
}
