/// Splits a byte stream into lines on `\n` only.
///
/// JSON strings may hold raw U+2028 and U+2029, and the CLI never writes `\r`, so no other
/// separator is honoured. Lines longer than `maxLineLength` are not buffered: their bytes
/// are counted and dropped, and the line is reported as oversized with its first 200 bytes.
struct LineFramer {
    enum Output {
        case line([UInt8])
        case oversized(byteCount: Int, prefix: [UInt8])
    }

    let maxLineLength: Int
    private var buffer: [UInt8] = []
    private var discarding = false
    private var discardedCount = 0
    private var discardedPrefix: [UInt8] = []

    init(maxLineLength: Int) {
        self.maxLineLength = max(1, maxLineLength)
    }

    /// Feeds bytes; calls `emit` for every complete line (without its `\n`). Empty lines are skipped.
    mutating func push(_ bytes: UnsafeRawBufferPointer, emit: (Output) -> Void) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else { return }
        var start = 0
        let count = bytes.count
        while start < count {
            let remaining = count - start
            let found = memchr(base + start, 0x0A, remaining)
            let end = found.map { base.distance(to: UnsafeRawPointer($0)) } ?? count
            let chunk = UnsafeRawBufferPointer(rebasing: bytes[start..<end])
            if found != nil, buffer.isEmpty, !discarding {
                // The whole line is in this chunk: copy it once, straight into the line handed out.
                if chunk.count > maxLineLength {
                    emit(.oversized(byteCount: chunk.count, prefix: Array(chunk.prefix(200))))
                } else {
                    emitLine(Array(chunk), emit: emit)
                }
                start = end + 1
                continue
            }
            append(chunk)
            if found != nil {
                finishLine(emit: emit)
                start = end + 1
            } else {
                start = count
            }
        }
    }

    /// Emits whatever is left after end of input.
    mutating func finish(emit: (Output) -> Void) {
        if discarding || !buffer.isEmpty { finishLine(emit: emit) }
    }

    private mutating func append(_ chunk: UnsafeRawBufferPointer) {
        if discarding {
            discardedCount += chunk.count
            return
        }
        if buffer.count + chunk.count > maxLineLength {
            discarding = true
            discardedPrefix = Array((buffer + Array(chunk.prefix(200))).prefix(200))
            discardedCount = buffer.count + chunk.count
            buffer = []
            return
        }
        buffer.append(contentsOf: chunk)
    }

    private mutating func finishLine(emit: (Output) -> Void) {
        if discarding {
            emit(.oversized(byteCount: discardedCount, prefix: discardedPrefix))
            discarding = false
            discardedCount = 0
            discardedPrefix = []
            return
        }
        guard !buffer.isEmpty else { return }
        // Hand the buffer itself over; keeping its capacity would mean a copy, and after a huge line a huge
        // allocation per line.
        let line = buffer
        buffer = []
        emitLine(line, emit: emit)
    }

    private func emitLine(_ line: [UInt8], emit: (Output) -> Void) {
        var line = line
        if line.last == 0x0D { line.removeLast() }
        if !line.isEmpty { emit(.line(line)) }
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif
