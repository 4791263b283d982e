import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The part of a ``MessageBuffer``'s queue past its memory budget: the newest messages, in order, as
/// records in private temporary files.
///
/// - Files are made in the spill directory with `O_TMPFILE` on Linux (they never have a name), else
///   with `mkstemp` and unlinked at once; mode 0600 and close-on-exec (the CLI never inherits them).
///   Nothing else can open them, and the system frees them when they are closed, whatever happens to
///   this process.
/// - Records are appended to the newest file (a *segment*) and read from the oldest. A segment read
///   to its end is closed (its disk space is freed) once a newer one exists, so the disk holds about
///   what the consumer has not read yet, plus at most one segment.
/// - Writes are batched: records collect in memory (``flushThreshold``) before one `pwrite`. The
///   consumer reads the files in chunks of about ``chunkSize``, and takes the unwritten records
///   straight from memory when the files are read to their end.
/// - If a file cannot be made or written (a full disk), records stay in memory from then on:
///   nothing is lost or reordered, but memory grows again (``diskFailure`` says why).
///
/// Record: an 8-byte little-endian payload length, a kind byte, the payload. Kind 0 is a frame (the
/// message's exact bytes, decoded again when read back); kind 1 an ``InvalidFrame``.
///
/// Not thread-safe: the buffer uses it only under its lock.
final class MessageSpill {
    private struct Segment {
        var descriptor: Int32
        var writeOffset = 0
        var readOffset = 0
    }

    let directory: String
    /// A new segment is started once the newest holds this many bytes.
    let segmentSize: Int
    /// Records are written once this many bytes are waiting.
    let flushThreshold: Int
    /// About how many bytes the consumer takes back at a time (at least one record).
    let chunkSize: Int
    private var segments: [Segment] = []
    private var pending: [UInt8] = []
    /// Encoded bytes queued (in the files and in memory).
    private(set) var byteCount = 0
    /// Why records stay in memory, once writing failed.
    private(set) var diskFailure: String?

    /// - Parameter memoryBudget: The buffer's budget: a chunk read back (decoded, it takes about three times its
    ///   size) is at most a quarter of it, and records waiting to be written at most an eighth (each up to 1 MiB).
    init(directory: String, memoryBudget: Int, segmentSize: Int = 32 << 20) {
        self.directory = directory
        self.segmentSize = segmentSize
        chunkSize = min(1 << 20, max(4096, memoryBudget / 4))
        flushThreshold = min(1 << 20, max(4096, memoryBudget / 8))
    }

    deinit {
        for segment in segments { close(segment.descriptor) }
    }

    var isEmpty: Bool { byteCount == 0 }

    /// Bytes on disk not yet read back.
    var diskBytes: Int { segments.reduce(0) { $0 + $1.writeOffset - $1.readOffset } }

    /// Queues a message after every other.
    func append(_ element: QueuedMessage) {
        let before = pending.count
        switch element {
        case .message(let message): Self.encode(message, into: &pending)
        case .frame(let raw): Self.encodeFrame(raw.bytes, into: &pending)
        }
        byteCount += pending.count - before
        if pending.count >= flushThreshold, diskFailure == nil { flush() }
    }

    /// Takes the oldest whole records: at most about ``chunkSize`` bytes, and at most `maxCost` of memory
    /// once decoded (``cost(ofRecords:)``), but always at least one record.
    /// - Throws: ``ClaudeCodeError/Code/messageSpillFailed`` when a file cannot be read.
    func take(maxCost: Int) throws(ClaudeCodeError) -> [UInt8] {
        while let first = segments.first {
            if first.readOffset < first.writeOffset {
                let available = first.writeOffset - first.readOffset
                var header = [UInt8](repeating: 0, count: Self.headerSize)
                try Self.read(first.descriptor, into: &header, at: first.readOffset)
                let recordLength = Self.headerSize + Self.length(in: header, at: 0)
                var chunk = [UInt8](repeating: 0, count: min(available, max(chunkSize, recordLength)))
                try Self.read(first.descriptor, into: &chunk, at: first.readOffset)
                let whole = Self.wholeRecords(in: chunk, maxCost: maxCost)
                chunk.removeSubrange(whole...)
                segments[0].readOffset += whole
                byteCount -= whole
                return chunk
            }
            if segments.count > 1 {
                close(first.descriptor)
                segments.removeFirst()
            } else {
                // The only segment is read to its end: start it again from the beginning.
                _ = ftruncate(first.descriptor, 0)
                segments[0].readOffset = 0
                segments[0].writeOffset = 0
                break
            }
        }
        let whole = Self.wholeRecords(in: pending, maxCost: maxCost)
        let out: [UInt8]
        if whole == pending.count {
            out = pending
            pending = []
        } else {
            out = Array(pending[..<whole])
            pending.removeFirst(whole)
        }
        byteCount -= whole
        return out
    }

    // MARK: Files

    private func flush() {
        if segments.isEmpty || segments[segments.count - 1].writeOffset >= segmentSize {
            guard let descriptor = makeFile() else { return }
            segments.append(Segment(descriptor: descriptor))
        }
        let index = segments.count - 1
        var written = 0
        let failure: Int32? = pending.withUnsafeBytes { bytes -> Int32? in
            while written < bytes.count {
                let result = pwrite(
                    segments[index].descriptor, bytes.baseAddress! + written, bytes.count - written,
                    off_t(segments[index].writeOffset + written))
                if result < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                if result == 0 { return EIO }
                written += result
            }
            return nil
        }
        // Written bytes stay written (in order); what failed stays in memory.
        segments[index].writeOffset += written
        if written == pending.count {
            pending.removeAll(keepingCapacity: true)
        } else {
            pending.removeFirst(written)
        }
        if let failure {
            diskFailure = "writing to the message spill file failed (errno \(failure))"
        }
    }

    private func makeFile() -> Int32? {
        #if os(Linux)
            // O_TMPFILE (not exported without _GNU_SOURCE): a file that never has a name.
            let unnamed = open(directory, O_RDWR | O_CLOEXEC | 0o20_200_000, 0o600)
            if unnamed >= 0 { return unnamed }
        #endif
        var base = directory
        if !base.hasSuffix("/") { base += "/" }
        var template = Array("\(base)claude-messages-XXXXXX".utf8CString)
        let descriptor = template.withUnsafeMutableBufferPointer { mkstemp($0.baseAddress!) }
        guard descriptor >= 0 else {
            diskFailure = "could not create a message spill file in \(directory) (errno \(errno))"
            return nil
        }
        // Nothing else may open it: unlinked now, freed at close; never inherited by a child.
        template.withUnsafeBufferPointer { _ = unlink($0.baseAddress!) }
        _ = fcntl(descriptor, F_SETFD, FD_CLOEXEC)
        _ = fchmod(descriptor, 0o600)
        return descriptor
    }

    private static func read(_ descriptor: Int32, into buffer: inout [UInt8], at offset: Int) throws(ClaudeCodeError) {
        var done = 0
        let count = buffer.count
        let failure: Int32? = buffer.withUnsafeMutableBytes { bytes -> Int32? in
            while done < count {
                let result = pread(descriptor, bytes.baseAddress! + done, count - done, off_t(offset + done))
                if result < 0 {
                    if errno == EINTR { continue }
                    return errno
                }
                if result == 0 { return EIO }
                done += result
            }
            return nil
        }
        if let failure {
            throw ClaudeCodeError(
                .messageSpillFailed,
                "reading queued messages back from the spill file failed (errno \(failure)); the stream cannot go on in order"
            )
        }
    }

    // MARK: Records

    /// A record's length (8 bytes) and kind (1 byte).
    static let headerSize = 9

    static func encode(_ message: Message, into out: inout [UInt8]) {
        if case .invalid(let frame) = message {
            var payload: [UInt8] = []
            let reason: UInt8
            var limit = 0
            var text: [UInt8] = []
            switch frame.reason {
            case .malformedJSON(let description):
                reason = 0
                text = Array(description.utf8)
            case .notAnObject:
                reason = 1
            case .tooLong(let max):
                reason = 2
                limit = max
            }
            payload.append(reason)
            appendInteger(UInt64(frame.byteCount), to: &payload)
            appendInteger(UInt64(limit), to: &payload)
            appendInteger(UInt32(frame.prefix.count), to: &payload)
            payload.append(contentsOf: frame.prefix)
            payload.append(contentsOf: text)
            appendInteger(UInt64(payload.count), to: &out)
            out.append(1)
            out.append(contentsOf: payload)
        } else {
            encodeFrame(message.raw.bytes, into: &out)
        }
    }

    static func encodeFrame(_ bytes: [UInt8], into out: inout [UInt8]) {
        appendInteger(UInt64(bytes.count), to: &out)
        out.append(0)
        out.append(contentsOf: bytes)
    }

    /// Decodes whole records back into messages, in order.
    static func decode(_ records: [UInt8]) -> [Message] {
        var messages: [Message] = []
        var tape = JSONTape()
        var offset = 0
        while offset + headerSize <= records.count {
            let length = Self.length(in: records, at: offset)
            let kind = records[offset + 8]
            let payload = Array(records[(offset + headerSize)..<(offset + headerSize + length)])
            offset += headerSize + length
            if kind == 0 {
                messages.append(Message.decode(line: payload, tape: &tape))
            } else {
                messages.append(decodeInvalid(payload))
            }
        }
        return messages
    }

    private static func decodeInvalid(_ payload: [UInt8]) -> Message {
        let byteCount = Int(integer(UInt64.self, in: payload, at: 1))
        let limit = Int(integer(UInt64.self, in: payload, at: 9))
        let prefixCount = Int(integer(UInt32.self, in: payload, at: 17))
        let prefix = Array(payload[21..<(21 + prefixCount)])
        let reason: InvalidFrame.Reason
        switch payload[0] {
        case 0: reason = .malformedJSON(String(decoding: payload[(21 + prefixCount)...], as: UTF8.self))
        case 1: reason = .notAnObject
        default: reason = .tooLong(limit: limit)
        }
        return .invalid(InvalidFrame(reason: reason, byteCount: byteCount, prefix: prefix))
    }

    /// What the messages in `records` are counted for once decoded (``MessageBuffer/cost(of:)``).
    static func cost(ofRecords records: [UInt8]) -> Int {
        var cost = 0
        var offset = 0
        while offset + headerSize <= records.count {
            cost &+= recordCost(in: records, at: offset)
            offset += headerSize + length(in: records, at: offset)
        }
        return cost
    }

    /// The cost of the record at `offset` once decoded: a frame keeps its bytes, an invalid frame its prefix.
    private static func recordCost(in records: [UInt8], at offset: Int) -> Int {
        let kept =
            records[offset + 8] == 0
            ? length(in: records, at: offset) : Int(integer(UInt32.self, in: records, at: offset + headerSize + 17))
        return MessageBuffer.cost(frameBytes: kept)
    }

    /// How many leading bytes of `chunk` are whole records costing at most `maxCost` (at least one record).
    private static func wholeRecords(in chunk: [UInt8], maxCost: Int) -> Int {
        var offset = 0
        var cost = 0
        while offset + headerSize <= chunk.count {
            let end = offset + headerSize + length(in: chunk, at: offset)
            guard end <= chunk.count else { break }
            cost &+= recordCost(in: chunk, at: offset)
            if offset > 0, cost > maxCost { break }
            offset = end
        }
        return offset
    }

    private static func length(in bytes: [UInt8], at offset: Int) -> Int {
        Int(integer(UInt64.self, in: bytes, at: offset))
    }

    private static func appendInteger<T: FixedWidthInteger>(_ value: T, to out: inout [UInt8]) {
        withUnsafeBytes(of: value.littleEndian) { out.append(contentsOf: $0) }
    }

    private static func integer<T: FixedWidthInteger>(_: T.Type, in bytes: [UInt8], at offset: Int) -> T {
        var value: T = 0
        for index in 0..<MemoryLayout<T>.size { value |= T(bytes[offset + index]) << (8 * index) }
        return value
    }
}
