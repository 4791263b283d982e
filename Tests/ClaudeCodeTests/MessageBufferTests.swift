import Foundation
import Testing

@testable import ClaudeCode

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The message queue's memory budget: past it, messages go to a private temporary file and come back in order.
@Suite("MessageBuffer: memory budget and spill")
struct MessageBufferTests {
    /// An assistant frame whose text is `seq=<index>` and `padding` more bytes.
    static func frame(_ index: Int, padding: Int = 1000) -> Message {
        let text = "seq=\(index) " + String(repeating: "x", count: padding)
        return Message(
            line: Array(
                #"{"type":"assistant","message":{"model":"m","content":[{"type":"text","text":"\#(text)"}]},"uuid":"u\#(index)"}"#
                    .utf8))
    }

    static func sequenceNumber(_ message: Message) -> Int? {
        guard case .assistant(let assistant) = message else { return nil }
        return Int(assistant.text.dropFirst(4).prefix { $0 != " " })
    }

    /// A fresh folder for spill files, removed by the caller.
    static func makeDirectory() throws -> String {
        let path = FileManager.default.temporaryDirectory.appendingPathComponent("mb-test-" + UUID().uuidString)
            .standardizedFileURL.path
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
        return path
    }

    /// Reads the whole buffer.
    static func drain(_ buffer: MessageBuffer) async throws -> [Message] {
        var out: [Message] = []
        while let message = try await buffer.next() { out.append(message) }
        return out
    }

    @Test("past the budget, messages are spilled and read back in order; every kind of invalid frame survives")
    func spillsInOrder() async throws {
        let directory = try Self.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let budget = 64 * 1024
        let buffer = MessageBuffer(memoryBudget: budget, spillDirectory: directory, spillSegmentSize: 256 * 1024)
        let invalid: [Message] = [
            .invalid(InvalidFrame(reason: .malformedJSON("bad at 3"), byteCount: 9, prefix: Array("not json!".utf8))),
            .invalid(InvalidFrame(reason: .notAnObject, byteCount: 2, prefix: Array("[]".utf8))),
            .invalid(InvalidFrame(reason: .tooLong(limit: 10), byteCount: 99, prefix: Array("{\"type\"".utf8))),
        ]
        var pushed: [Message] = []
        for batch in 0..<100 {
            var messages = (0..<20).map { Self.frame(batch * 20 + $0) }
            messages.insert(invalid[batch % 3], at: batch % 20)
            buffer.push(contentsOf: messages)
            pushed += messages
        }
        buffer.finish()
        let statistics = buffer.statistics
        #expect(statistics.spilledMessages > pushed.count - 100)
        #expect(statistics.peakQueuedBytes <= budget)
        #expect(statistics.spilledBytes > 1_000_000)
        let read = try await Self.drain(buffer)
        #expect(read.count == pushed.count)
        #expect(read.map(\.raw) == pushed.map(\.raw))
        #expect(read.map(\.type) == pushed.map(\.type))
        let invalidRead = read.compactMap { message -> InvalidFrame? in
            if case .invalid(let frame) = message { return frame } else { return nil }
        }
        let invalidPushed = pushed.compactMap { message -> InvalidFrame? in
            if case .invalid(let frame) = message { return frame } else { return nil }
        }
        #expect(invalidRead == invalidPushed)
        #expect(buffer.statistics.spilledBytes == 0)
        #expect(buffer.statistics.queuedBytes == 0)
        #expect(buffer.statistics.peakQueuedBytes <= budget)
    }

    @Test("a reader and a slow consumer at once: everything in order, memory under the budget")
    func concurrentReaderAndConsumer() async throws {
        let directory = try Self.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let budget = 128 * 1024
        let buffer = MessageBuffer(memoryBudget: budget, spillDirectory: directory, spillSegmentSize: 512 * 1024)
        let total = 20_000
        let producer = Task.detached {
            var index = 0
            while index < total {
                let count = min(total - index, Int.random(in: 1...64))
                buffer.push(contentsOf: (index..<(index + count)).map { Self.frame($0, padding: 200) })
                index += count
                if index % 1000 < 64 { await Task.yield() }
            }
            buffer.finish()
        }
        var numbers: [Int] = []
        while let message = try await buffer.next() {
            numbers.append(Self.sequenceNumber(message) ?? -1)
            if numbers.count % 500 == 0 { await Task.yield() }
        }
        await producer.value
        #expect(numbers == Array(0..<total))
        #expect(buffer.statistics.peakQueuedBytes <= budget)
    }

    @Test("the spill file is private (0600) and unlinked, and closed once read back")
    func spillFileIsPrivate() async throws {
        let directory = try Self.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let buffer = MessageBuffer(memoryBudget: 16 * 1024, spillDirectory: directory, spillSegmentSize: 64 * 1024)
        buffer.push(contentsOf: (0..<2000).map { Self.frame($0) })
        #expect(buffer.statistics.spilledMessages > 0)
        #expect(try FileManager.default.contentsOfDirectory(atPath: directory).isEmpty, "unlinked at once")
        let open = Self.openSpillFiles(in: directory)
        #expect(!open.isEmpty, "the spill files are open")
        for descriptor in open {
            var info = stat()
            #expect(fstat(descriptor, &info) == 0)
            #expect(info.st_mode & 0o777 == 0o600)
            #expect(info.st_nlink == 0)
        }
        buffer.finish()
        let read = try await Self.drain(buffer)
        #expect(read.count == 2000)
        #expect(Self.openSpillFiles(in: directory).count <= 1, "read segments are closed; one may be reused")
    }

    @Test("a spill directory that cannot be written: nothing is lost, memory is used instead")
    func unwritableDirectory() async throws {
        let buffer = MessageBuffer(memoryBudget: 8 * 1024, spillDirectory: "/nonexistent-\(UUID().uuidString)")
        buffer.push(contentsOf: (0..<3000).map { Self.frame($0) })
        buffer.finish(error: ClaudeCodeError(.processExited, "gone"))
        #expect(buffer.statistics.spillFailure != nil)
        var numbers: [Int] = []
        await #expect(throws: ClaudeCodeError.self) {
            while let message = try await buffer.next() { numbers.append(Self.sequenceNumber(message) ?? -1) }
        }
        #expect(numbers == Array(0..<3000))
    }

    @Test("the error that ends the stream comes after every spilled message")
    func errorAfterSpilledMessages() async throws {
        let directory = try Self.makeDirectory()
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let buffer = MessageBuffer(memoryBudget: 0, spillDirectory: directory)
        buffer.push(contentsOf: (0..<500).map { Self.frame($0) })
        buffer.finish(error: ClaudeCodeError(.processExited, "the CLI exited"))
        var numbers: [Int] = []
        do {
            while let message = try await buffer.next() { numbers.append(Self.sequenceNumber(message) ?? -1) }
            Issue.record("no error")
        } catch {
            #expect(error.code == .processExited)
        }
        #expect(numbers == Array(0..<500))
        #expect(buffer.statistics.spilledMessages == 499, "all but the first, with a budget of 0")
    }

    @Test("a consumer waiting on an empty queue gets a message larger than the budget at once")
    func waitingConsumerGetsLargeMessage() async throws {
        let buffer = MessageBuffer(memoryBudget: 1024)
        let consumer = Task { try await buffer.next() }
        // Whether or not the consumer already waits, the message is never lost.
        buffer.push(Self.frame(7, padding: 10_000))
        let message = try await consumer.value
        #expect(message.flatMap(Self.sequenceNumber) == 7)
    }

    /// Descriptors of this process open on deleted spill files in `directory`.
    static func openSpillFiles(in directory: String) -> [Int32] {
        guard let entries = try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd") else { return [] }
        return entries.compactMap { entry in
            guard let target = try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/fd/\(entry)"),
                target.hasPrefix(directory + "/")
            else { return nil }
            return Int32(entry)
        }
    }
}
