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

/// Runs file-system work on Dispatch threads instead of Swift's cooperative pool, so a
/// slow disk or a large directory never starves other tasks.
enum BlockingIO {
    static let queue = DispatchQueue(
        label: "ClaudeCodeSessions.CLITranscripts.io", qos: .userInitiated, attributes: .concurrent)

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

/// Byte searches. `memrchr` comes from the C library, looked up at run time because
/// Glibc's Swift module hides the GNU extensions.
enum ByteSearch {
    private typealias MemrchrFunction = @convention(c) (UnsafeRawPointer?, Int32, Int) -> UnsafeMutableRawPointer?

    private static let memrchrFunction: MemrchrFunction? = {
        guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "memrchr") else { return nil }
        return unsafeBitCast(symbol, to: MemrchrFunction.self)
    }()

    /// The first occurrence of `needle` in `haystack[0..<length]`, as an offset.
    ///
    /// Looks for the needle's least common pair of adjacent bytes eight positions at a
    /// time and compares the whole needle only there. For the short keys searched here
    /// this beats `memmem`, whose per-call setup dominates on short lines.
    static func find(_ needle: UnsafeRawBufferPointer, in haystack: UnsafeRawPointer, length: Int) -> Int? {
        let count = needle.count
        guard count > 0 else { return 0 }
        guard length >= count else { return nil }
        let pattern = needle.baseAddress!.assumingMemoryBound(to: UInt8.self)
        let bytes = haystack.assumingMemoryBound(to: UInt8.self)
        if count == 1 { return findFirst(pattern[0], in: haystack, length: length) }
        let anchor = rarestPair(pattern, count)
        let first = pattern[anchor]
        let second = pattern[anchor + 1]
        let lastAnchor = length - count + anchor
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        let firstPattern = ones &* UInt64(first)
        let secondPattern = ones &* UInt64(second)
        var position = anchor
        while position + 9 <= length, position <= lastAnchor {
            let x = UnsafeRawPointer(bytes + position).loadUnaligned(as: UInt64.self).littleEndian ^ firstPattern
            let y = UnsafeRawPointer(bytes + position + 1).loadUnaligned(as: UInt64.self).littleEndian ^ secondPattern
            var candidates = ((x &- ones) & ~x) & ((y &- ones) & ~y) & highs
            while candidates != 0 {
                let hit = position + (candidates.trailingZeroBitCount >> 3)
                if hit > lastAnchor { return nil }
                if memcmp(bytes + hit - anchor, pattern, count) == 0 { return hit - anchor }
                candidates &= candidates &- 1
            }
            position += 8
        }
        while position <= lastAnchor {
            if bytes[position] == first, bytes[position + 1] == second,
                memcmp(bytes + position - anchor, pattern, count) == 0
            {
                return position - anchor
            }
            position += 1
        }
        return nil
    }

    /// The offset of the adjacent byte pair least likely to occur in JSON transcripts.
    private static func rarestPair(_ pattern: UnsafePointer<UInt8>, _ count: Int) -> Int {
        func commonness(_ byte: UInt8) -> Int {
            switch byte {
            case UInt8(ascii: "\""), UInt8(ascii: " "): return 10
            case UInt8(ascii: "e"), UInt8(ascii: "t"), UInt8(ascii: "a"), UInt8(ascii: "o"), UInt8(ascii: "i"),
                UInt8(ascii: "n"), UInt8(ascii: "s"), UInt8(ascii: "r"), UInt8(ascii: "h"), UInt8(ascii: "l"):
                return 8
            case UInt8(ascii: ":"), UInt8(ascii: ","): return 6
            case UInt8(ascii: "a")...UInt8(ascii: "z"), UInt8(ascii: "0")...UInt8(ascii: "9"): return 5
            case UInt8(ascii: "A")...UInt8(ascii: "Z"): return 2
            default: return 3
            }
        }
        var best = 0
        var bestScore = Int.max
        for index in 0..<(count - 1) {
            let score = commonness(pattern[index]) + commonness(pattern[index + 1])
            if score < bestScore {
                best = index
                bestScore = score
            }
        }
        return best
    }

    /// The last occurrence of `byte` in `haystack[0..<length]`, as an offset.
    static func findLast(_ byte: UInt8, in haystack: UnsafeRawPointer, length: Int) -> Int? {
        guard length > 0 else { return nil }
        if let memrchrFunction {
            guard let hit = memrchrFunction(haystack, Int32(byte), length) else { return nil }
            return haystack.distance(to: UnsafeRawPointer(hit))
        }
        let bytes = haystack.assumingMemoryBound(to: UInt8.self)
        var index = length - 1
        while index >= 0 {
            if bytes[index] == byte { return index }
            index -= 1
        }
        return nil
    }

    /// The first occurrence of `byte` in `haystack[0..<length]`, as an offset.
    static func findFirst(_ byte: UInt8, in haystack: UnsafeRawPointer, length: Int) -> Int? {
        guard length > 0, let hit = memchr(haystack, Int32(byte), length) else { return nil }
        return haystack.distance(to: UnsafeRawPointer(hit))
    }
}

/// A failed system call on a path.
struct FileSystemFailure: Error, Sendable {
    var path: String
    var code: Int32

    var message: String { String(cString: strerror(code)) }
}

/// What `stat` says about a path.
struct FileStatus: Sendable {
    var size: Int
    /// Modification time in milliseconds, computed as Python computes `int(st_mtime * 1000)`.
    var modifiedMilliseconds: Int
    var isDirectory: Bool
    var isRegularFile: Bool
    var isSymbolicLink: Bool

    init(_ info: stat) {
        size = Int(info.st_size)
        #if canImport(Darwin)
            let seconds = Double(info.st_mtimespec.tv_sec) + Double(info.st_mtimespec.tv_nsec) * 1e-9
        #else
            let seconds = Double(info.st_mtim.tv_sec) + Double(info.st_mtim.tv_nsec) * 1e-9
        #endif
        modifiedMilliseconds = Int((seconds * 1000).rounded(.towardZero))
        let type = info.st_mode & S_IFMT
        isDirectory = type == S_IFDIR
        isRegularFile = type == S_IFREG
        isSymbolicLink = type == S_IFLNK
    }
}

/// Thin, blocking POSIX helpers. Everything here runs inside ``BlockingIO/run(_:)``.
enum POSIX {
    static func status(_ path: String) -> FileStatus? {
        var info = stat()
        guard stat(path, &info) == 0 else { return nil }
        return FileStatus(info)
    }

    static func linkStatus(_ path: String) -> FileStatus? {
        var info = stat()
        guard lstat(path, &info) == 0 else { return nil }
        return FileStatus(info)
    }

    static func isDirectory(_ path: String) -> Bool {
        status(path)?.isDirectory ?? false
    }

    /// One directory entry.
    struct Entry: Sendable {
        var name: String
        /// `d_type`: `DT_DIR`, `DT_REG`, `DT_LNK` or `DT_UNKNOWN`.
        var kind: UInt8
    }

    /// The entries of a directory, without `.` and `..`, in the order the file system gives.
    static func listDirectory(_ path: String) throws(FileSystemFailure) -> [Entry] {
        guard let directory = opendir(path) else { throw FileSystemFailure(path: path, code: errno) }
        defer { closedir(directory) }
        var entries: [Entry] = []
        while let entry = readdir(directory) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: Int(NAME_MAX) + 1) { String(cString: $0) }
            }
            if name == "." || name == ".." { continue }
            entries.append(Entry(name: name, kind: entry.pointee.d_type))
        }
        return entries
    }

    /// Whether a directory entry is a directory, following symbolic links like Python's `is_dir()`.
    static func entryIsDirectory(_ entry: Entry, in directory: String) -> Bool {
        if entry.kind == UInt8(DT_DIR) { return true }
        if entry.kind == UInt8(DT_REG) { return false }
        return isDirectory(directory + "/" + entry.name)
    }

    static func openForReading(_ path: String) throws(FileSystemFailure) -> Int32 {
        // Non-blocking, so a FIFO named like a transcript cannot hang the reader.
        let descriptor = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK)
        guard descriptor >= 0 else { throw FileSystemFailure(path: path, code: errno) }
        return descriptor
    }

    /// Reads up to `count` bytes at `offset` into `buffer[start...]`; returns how many were read.
    static func read(
        _ descriptor: Int32, into buffer: inout [UInt8], at start: Int, count: Int, offset: Int
    ) -> Int {
        var total = 0
        buffer.withUnsafeMutableBytes { raw in
            while total < count {
                let result = pread(descriptor, raw.baseAddress! + start + total, count - total, off_t(offset + total))
                if result < 0 {
                    if errno == EINTR { continue }
                    break
                }
                if result == 0 { break }
                total += result
            }
        }
        return total
    }

    /// Reads the first `size` bytes of `descriptor` into `destination` in 4 MiB pieces, in
    /// parallel; returns how many leading bytes were read (a file that shrank ends early).
    static func parallelRead(_ descriptor: Int32, into destination: UnsafeMutablePointer<UInt8>, size: Int) -> Int {
        let piece = 4 << 20
        let pieces = max(1, (size + piece - 1) / piece)
        let counts = ParallelSlots<Int>(count: pieces)
        let base = UncheckedSendable(value: destination)
        BlockingIO.parallel(iterations: pieces) { index in
            let offset = index * piece
            let count = min(piece, size - offset)
            var total = 0
            while total < count {
                let result = pread(descriptor, base.value + offset + total, count - total, off_t(offset + total))
                if result < 0, errno == EINTR { continue }
                if result <= 0 { break }
                total += result
            }
            counts[index] = total
        }
        // Keep the contiguous prefix.
        var length = 0
        for index in 0..<pieces {
            let count = counts[index] ?? 0
            length += count
            if count < min(piece, size - index * piece) { break }
        }
        return length
    }

    /// The whole content of a file. Large files are read in parallel pieces into one
    /// buffer that is never zero-filled first; a file that grows meanwhile is read to its end.
    static func readFile(_ path: String) throws(FileSystemFailure) -> [UInt8] {
        let descriptor = try openForReading(path)
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw FileSystemFailure(path: path, code: errno) }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw FileSystemFailure(path: path, code: EISDIR) }
        if (info.st_mode & S_IFMT) != S_IFREG { throw FileSystemFailure(path: path, code: EINVAL) }
        let size = Int(info.st_size)
        var buffer = [UInt8](unsafeUninitializedCapacity: size) { storage, initialized in
            guard let start = storage.baseAddress else {
                initialized = 0
                return
            }
            initialized = size == 0 ? 0 : parallelRead(descriptor, into: start, size: size)
        }
        guard buffer.count == size else { return buffer }
        // Whatever was appended after fstat.
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let count = read(descriptor, into: &chunk, at: 0, count: chunk.count, offset: buffer.count)
            if count <= 0 { break }
            buffer.append(contentsOf: chunk[0..<count])
        }
        return buffer
    }

    /// Writes all of `bytes` to `descriptor`.
    static func writeAll(_ descriptor: Int32, _ bytes: [UInt8], path: String) throws(FileSystemFailure) {
        var written = 0
        var failure: Int32 = 0
        bytes.withUnsafeBytes { raw in
            while written < raw.count {
                let result = write(descriptor, raw.baseAddress! + written, raw.count - written)
                if result < 0 {
                    if errno == EINTR { continue }
                    failure = errno
                    return
                }
                written += result
            }
        }
        if failure != 0 { throw FileSystemFailure(path: path, code: failure) }
    }

    /// Removes a directory tree without following symbolic links. Errors are ignored,
    /// like Python's `shutil.rmtree(ignore_errors=True)`.
    static func removeTree(_ path: String) {
        guard let info = linkStatus(path) else { return }
        if info.isDirectory {
            if let entries = try? listDirectory(path) {
                for entry in entries { removeTree(path + "/" + entry.name) }
            }
            rmdir(path)
        } else {
            unlink(path)
        }
    }

    /// `realpath` that, like Python's `os.path.realpath`, also works for paths that do not
    /// exist: the longest existing prefix is resolved and the rest appended.
    static func realPath(_ path: String) -> String {
        var absolute = path
        if !absolute.hasPrefix("/") {
            var buffer = [CChar](repeating: 0, count: Int(PATH_MAX) + 1)
            if getcwd(&buffer, buffer.count) != nil {
                let cwd = String(decoding: buffer.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
                absolute = cwd + "/" + path
            }
        }
        if let resolved = resolve(absolute) { return resolved }
        // Resolve the longest existing prefix, then append the remaining components
        // with "." and ".." applied lexically.
        var components = absolute.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        var rest: [String] = []
        while !components.isEmpty {
            let prefix = "/" + components.joined(separator: "/")
            if let resolved = resolve(prefix) {
                return normalize(base: resolved, rest: rest)
            }
            rest.insert(components.removeLast(), at: 0)
        }
        return normalize(base: "/", rest: rest)
    }

    private static func resolve(_ path: String) -> String? {
        guard let resolved = realpath(path, nil) else { return nil }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    private static func normalize(base: String, rest: [String]) -> String {
        var parts = base.split(separator: "/", omittingEmptySubsequences: true).map(String.init)
        for component in rest {
            switch component {
            case ".": continue
            case "..": if !parts.isEmpty { parts.removeLast() }
            default: parts.append(component)
            }
        }
        return "/" + parts.joined(separator: "/")
    }
}
