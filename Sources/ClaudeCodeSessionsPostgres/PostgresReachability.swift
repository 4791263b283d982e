import ClaudeCodeSessions
import Foundation
import PostgresNIO
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Tells a server that cannot be reached, quickly, so that calls fail at once instead of after
/// the operation timeout.
///
/// `PostgresClient`'s pool never reports a failed connection attempt to the request waiting for
/// it: it retries in the background and the request waits (up to the operation timeout, or the
/// pool's own minute). So the store watches from outside: an operation not finished after
/// ``probeDelay`` starts a probe, a bare TCP (or Unix socket) connection to the server's address
/// that is closed before anything is sent (PostgreSQL does not log such connections). Only a
/// definite answer fails the operation: the connection was refused, the network or host is
/// unreachable, the socket file is missing, or the host name does not resolve. A probe that times
/// out or fails otherwise proves nothing, and the operation keeps waiting as before.
///
/// After a definite failure the server is *known down*: every call probes first (one probe at a
/// time, shared by concurrent calls) and fails at once while the server still refuses; the
/// first call after the server answers again closes the breaker and runs. A connection error
/// from the pool (the server closed a connection) marks the server suspect the same way, so the
/// next call probes before queueing.
final class PostgresReachability: Sendable {
    enum Endpoint: Sendable {
        case tcp(host: String, port: Int)
        case unixSocket(path: String)
    }

    enum Probe: Sendable, Equatable {
        case reachable
        /// A definite failure: a content-free phrase and the `errno` when there is one.
        case unreachable(reason: String, errorNumber: Int32?)
        case inconclusive
    }

    /// How long an operation runs before a probe checks the server.
    static let probeDelay: Duration = .milliseconds(100)

    let endpoint: Endpoint
    /// The probe's connect timeout (the pool's own).
    let connectTimeout: Duration

    private struct State {
        /// Why the server is known down, when it is.
        var down: Probe?
        var probe: Task<Probe, Never>?
    }
    private let state = Mutex(State())

    init?(_ configuration: PostgresClient.Configuration, limit: Duration?) {
        if let path = configuration.unixSocketPath {
            endpoint = .unixSocket(path: path)
        } else if let host = configuration.host, let port = configuration.port {
            endpoint = .tcp(host: host, port: port)
        } else {
            return nil
        }
        let timeout = configuration.options.connectTimeout
        connectTimeout = limit.map { min($0, timeout) } ?? timeout
    }

    /// The failure that made the server known down, or `nil`.
    var knownDown: Probe? { state.withLock { $0.down } }

    /// Marks the server suspect: the next call probes before running.
    func markSuspect() {
        state.withLock { state in
            if state.down == nil { state.down = .inconclusive }
        }
    }

    /// Probes the server (joining a probe in flight) and records the outcome.
    func probe() async -> Probe {
        let endpoint = self.endpoint
        let timeout = self.connectTimeout
        let task = state.withLock { state -> Task<Probe, Never> in
            if let probe = state.probe { return probe }
            let task = Task { await Self.connect(endpoint, timeout: timeout) }
            state.probe = task
            return task
        }
        let outcome = await task.value
        state.withLock { state in
            if state.probe == task { state.probe = nil }
            switch outcome {
            case .reachable: state.down = nil
            case .unreachable: state.down = outcome
            // A suspect server that gives no clear answer is left to the operation's timeout.
            case .inconclusive: if state.down == .inconclusive { state.down = nil }
            }
        }
        return outcome
    }

    /// Opens and closes a connection to `endpoint`, sending nothing.
    static func connect(_ endpoint: Endpoint, timeout: Duration) async -> Probe {
        let nanoseconds = timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.nanoseconds(max(1, nanoseconds)))
        do {
            let channel: any Channel
            switch endpoint {
            case .tcp(let host, let port): channel = try await bootstrap.connect(host: host, port: port).get()
            case .unixSocket(let path): channel = try await bootstrap.connect(unixDomainSocketPath: path).get()
            }
            channel.close(promise: nil)
            return .reachable
        } catch {
            return classify(error)
        }
    }

    /// A definite failure, or `.inconclusive`.
    static func classify(_ error: any Error) -> Probe {
        if let error = error as? NIOConnectionError {
            if error.connectionErrors.isEmpty {
                if error.dnsAError != nil || error.dnsAAAAError != nil {
                    return .unreachable(reason: "the PostgreSQL host name does not resolve", errorNumber: nil)
                }
                return .inconclusive
            }
            // Every address tried must have failed definitely (one refusing, another timing out proves nothing).
            let outcomes = error.connectionErrors.map { classify($0.error) }
            if let first = outcomes.first, case .unreachable = first, outcomes.allSatisfy({ $0 != .inconclusive }) {
                return first
            }
            return .inconclusive
        }
        if let error = error as? IOError {
            switch error.errnoCode {
            case ECONNREFUSED:
                return .unreachable(reason: "the PostgreSQL server refuses connections", errorNumber: ECONNREFUSED)
            case ENETUNREACH, EHOSTUNREACH:
                return .unreachable(
                    reason: "the PostgreSQL server's network is unreachable", errorNumber: error.errnoCode)
            case ENOENT:
                return .unreachable(reason: "the PostgreSQL socket file does not exist", errorNumber: ENOENT)
            default:
                return .inconclusive
            }
        }
        if error is SocketAddressError {
            return .unreachable(reason: "the PostgreSQL host name does not resolve", errorNumber: nil)
        }
        return .inconclusive
    }
}
