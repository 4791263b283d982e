import Foundation
import Synchronization

/// Runs a program to completion without blocking Swift's cooperative thread pool.
///
/// Tests run in parallel on the pool, which has one thread per core. A test that waits for a
/// child process with `Process.waitUntilExit()` or a blocking pipe read holds one of those threads
/// for as long as the child runs (seconds, for a Python reference or the real CLI), and on a
/// 2-core machine two such tests starve every other test, including those that assert promptness.
/// `ChildProcess.run` does the blocking work on a thread of its own and resumes the caller when
/// the child has exited and both of its output pipes are drained.
///
/// ```swift
/// let result = try await ChildProcess.run("/usr/bin/env", ["git", "init"], currentDirectory: folder)
/// #expect(result.status == 0, "\(result.standardErrorText)")
/// ```
public enum ChildProcess {
    /// How a child ended and what it printed.
    public struct Result: Sendable {
        /// The exit status, or the signal number when ``signalled``.
        public var status: Int32
        /// Whether a signal ended the child.
        public var signalled: Bool
        /// Everything the child wrote to its standard output.
        public var standardOutput: Data
        /// Everything the child wrote to its standard error.
        public var standardError: Data

        /// ``standardOutput`` as UTF-8 text.
        public var standardOutputText: String { String(decoding: standardOutput, as: UTF8.self) }
        /// ``standardError`` as UTF-8 text.
        public var standardErrorText: String { String(decoding: standardError, as: UTF8.self) }
    }

    /// Runs `executable` with `arguments` and waits for it off the cooperative pool.
    ///
    /// - Parameters:
    ///   - executable: The program's path.
    ///   - arguments: Its arguments.
    ///   - environment: Its environment; this process's when `nil`.
    ///   - currentDirectory: Its working directory; this process's when `nil`.
    ///   - input: Written to its standard input, which is then closed; `/dev/null` when `nil`.
    /// - Returns: The exit status and both outputs.
    /// - Throws: When the program cannot be started.
    public static func run(
        _ executable: String, _ arguments: [String], environment: [String: String]? = nil,
        currentDirectory: String? = nil, input: Data? = nil
    ) async throws -> Result {
        try await withCheckedThrowingContinuation { continuation in
            Thread.detachNewThread {
                do {
                    continuation.resume(
                        returning: try runBlocking(
                            executable, arguments, environment: environment, currentDirectory: currentDirectory,
                            input: input))
                } catch {
                    continuation.resume(throwing: error)
                }
            }
        }
    }

    private static func runBlocking(
        _ executable: String, _ arguments: [String], environment: [String: String]?, currentDirectory: String?,
        input: Data?
    ) throws -> Result {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: executable)
        process.arguments = arguments
        if let environment { process.environment = environment }
        if let currentDirectory { process.currentDirectoryURL = URL(fileURLWithPath: currentDirectory) }
        let output = Pipe()
        let errors = Pipe()
        let stdin = Pipe()
        process.standardOutput = output
        process.standardError = errors
        process.standardInput = input == nil ? FileHandle.nullDevice : stdin
        try process.run()
        // Both pipes are drained while the child runs, so a large output cannot block it.
        let errorData = Mutex<Data>(Data())
        let errorsDrained = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            let data = errors.fileHandleForReading.readDataToEndOfFile()
            errorData.withLock { $0 = data }
            errorsDrained.signal()
        }
        if let input {
            Thread.detachNewThread {
                try? stdin.fileHandleForWriting.write(contentsOf: input)
                try? stdin.fileHandleForWriting.close()
            }
        }
        let outputData = output.fileHandleForReading.readDataToEndOfFile()
        errorsDrained.wait()
        process.waitUntilExit()
        return Result(
            status: process.terminationStatus, signalled: process.terminationReason == .uncaughtSignal,
            standardOutput: outputData, standardError: errorData.withLock { $0 })
    }
}
