import Logging
import Synchronization

/// Keeps what is logged through its ``logger(level:)``, for tests that check what the SDK logs.
public final class LogCapture: Sendable {
    private let storage = Mutex<[String]>([])

    /// Creates an empty capture.
    public init() {}

    /// The messages logged so far, oldest first.
    public var messages: [String] { storage.withLock { $0 } }

    /// A logger whose messages at `level` and above are kept here.
    public func logger(level: Logger.Level = .warning) -> Logger {
        Logger(label: "capture") { _ in Handler(capture: self, logLevel: level) }
    }

    fileprivate func append(_ message: String) { storage.withLock { $0.append(message) } }

    private struct Handler: LogHandler {
        let capture: LogCapture
        var logLevel: Logger.Level
        var metadata: Logger.Metadata = [:]

        init(capture: LogCapture, logLevel: Logger.Level) {
            self.capture = capture
            self.logLevel = logLevel
        }

        subscript(metadataKey key: String) -> Logger.Metadata.Value? {
            get { metadata[key] }
            set { metadata[key] = newValue }
        }

        func log(event: LogEvent) { capture.append("\(event.message)") }
    }
}
