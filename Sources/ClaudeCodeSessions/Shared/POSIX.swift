#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A failed system call: its `errno`, the call, and the path when one was involved.
struct SystemError: Error, Sendable {
    var number: Int32
    var operation: StaticString
    var path: String?

    init(number: Int32, operation: StaticString, path: String? = nil) {
        self.number = number
        self.operation = operation
        self.path = path
    }

    /// The C library's text for ``number``.
    var message: String { String(cString: strerror(number)) }
}

/// What `stat` says about a file.
struct FileStatus: Sendable {
    var device: UInt64
    var inode: UInt64
    var size: Int64
    var mode: UInt32
    var linkCount: UInt64
    /// Modification time in milliseconds, computed as Python computes `int(st_mtime * 1000)`.
    var modifiedMilliseconds: Int

    init(_ raw: stat) {
        device = UInt64(raw.st_dev)
        inode = UInt64(raw.st_ino)
        size = Int64(raw.st_size)
        mode = UInt32(raw.st_mode)
        linkCount = UInt64(raw.st_nlink)
        #if canImport(Darwin)
            let seconds = Double(raw.st_mtimespec.tv_sec) + Double(raw.st_mtimespec.tv_nsec) * 1e-9
        #else
            let seconds = Double(raw.st_mtim.tv_sec) + Double(raw.st_mtim.tv_nsec) * 1e-9
        #endif
        modifiedMilliseconds = Int((seconds * 1000).rounded(.towardZero))
    }

    var isRegularFile: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFREG) }
    var isDirectory: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFDIR) }
    var isSymbolicLink: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFLNK) }
    var permissions: UInt32 { mode & 0o7777 }
}

/// The package's one layer of thin, blocking POSIX calls. Everything here blocks: call it
/// inside ``BlockingIO`` (``BlockingIO/run(_:)``, ``BlockingIO/perform(_:)`` or a
/// ``BlockingIO/Lane``), never on Swift's cooperative pool. `EINTR` is retried throughout.
///
/// Two families: calls relative to a directory descriptor (the stores, which open every file
/// inside their folder with `O_NOFOLLOW`, so no symbolic link is ever followed there), and
/// calls on paths (the CLI's own transcript folders, read as the CLI and Python SDK read them).
enum POSIX {
    static let fileMode: mode_t = 0o600
    static let directoryMode: mode_t = 0o700

    // MARK: Relative to a directory descriptor

    static func openAt(_ directory: Int32, _ name: String, _ flags: Int32, mode: mode_t = fileMode) throws(SystemError)
        -> Int32
    {
        while true {
            let fd = openat(directory, name, flags | O_CLOEXEC, mode)
            if fd >= 0 { return fd }
            if errno != EINTR { throw SystemError(number: errno, operation: "openat") }
        }
    }

    static func open(path: String, _ flags: Int32, mode: mode_t = directoryMode) throws(SystemError) -> Int32 {
        while true {
            #if canImport(Glibc)
                let fd = Glibc.open(path, flags | O_CLOEXEC, mode)
            #elseif canImport(Musl)
                let fd = Musl.open(path, flags | O_CLOEXEC, mode)
            #else
                let fd = Darwin.open(path, flags | O_CLOEXEC, mode)
            #endif
            if fd >= 0 { return fd }
            if errno != EINTR { throw SystemError(number: errno, operation: "open") }
        }
    }

    static func status(of fd: Int32) throws(SystemError) -> FileStatus {
        var raw = stat()
        guard fstat(fd, &raw) == 0 else { throw SystemError(number: errno, operation: "fstat") }
        return FileStatus(raw)
    }

    /// `fstatat` without following a final symbolic link; `nil` when the name does not exist.
    static func status(_ directory: Int32, _ name: String) throws(SystemError) -> FileStatus? {
        var raw = stat()
        if fstatat(directory, name, &raw, AT_SYMLINK_NOFOLLOW) == 0 { return FileStatus(raw) }
        if errno == ENOENT { return nil }
        throw SystemError(number: errno, operation: "fstatat")
    }

    static func status(path: String) throws(SystemError) -> FileStatus? {
        var raw = stat()
        if stat(path, &raw) == 0 { return FileStatus(raw) }
        if errno == ENOENT { return nil }
        throw SystemError(number: errno, operation: "stat")
    }

    /// Writes all of `bytes`; returns how many were written and, if it stopped early, why.
    static func writeAll(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) -> (written: Int, error: SystemError?) {
        var offset = 0
        while offset < bytes.count {
            let result = write(fd, bytes.baseAddress! + offset, bytes.count - offset)
            if result > 0 {
                offset += result
            } else if result < 0 && errno == EINTR {
                continue
            } else {
                let number = result < 0 ? errno : ENOSPC
                return (offset, SystemError(number: number, operation: "write"))
            }
        }
        return (offset, nil)
    }

    static func writeAll(_ fd: Int32, _ bytes: [UInt8], path: String? = nil) throws(SystemError) {
        let failure = bytes.withUnsafeBytes { writeAll(fd, $0).error }
        if var failure {
            failure.path = path
            throw failure
        }
    }

    /// Reads up to `count` bytes at `offset`; short only at end of file.
    static func read(_ fd: Int32, offset: Int64, count: Int) throws(SystemError) -> [UInt8] {
        var buffer = [UInt8](repeating: 0, count: count)
        var total = 0
        var failure: SystemError?
        buffer.withUnsafeMutableBytes { raw in
            while total < count {
                let result = pread(fd, raw.baseAddress! + total, count - total, off_t(offset) + off_t(total))
                if result > 0 {
                    total += result
                } else if result == 0 {
                    break
                } else if errno != EINTR {
                    failure = SystemError(number: errno, operation: "pread")
                    break
                }
            }
        }
        if let failure { throw failure }
        buffer.removeSubrange(total...)
        return buffer
    }

    /// Reads a whole file from the start.
    static func readAll(_ fd: Int32, sizeHint: Int64) throws(SystemError) -> [UInt8] {
        var result = try read(fd, offset: 0, count: Int(max(sizeHint, 0)))
        // The file may have grown (only possible for files we do not lock); read the rest.
        while true {
            let more = try read(fd, offset: Int64(result.count), count: 1 << 16)
            if more.isEmpty { return result }
            result.append(contentsOf: more)
        }
    }

    static func sync(_ fd: Int32) throws(SystemError) {
        while fsync(fd) != 0 {
            if errno != EINTR { throw SystemError(number: errno, operation: "fsync") }
        }
    }

    static func syncData(_ fd: Int32) throws(SystemError) {
        #if os(Linux)
            let call = fdatasync
        #else
            let call = fsync
        #endif
        while call(fd) != 0 {
            if errno != EINTR { throw SystemError(number: errno, operation: "fdatasync") }
        }
    }

    static func rename(_ directory: Int32, _ from: String, _ to: String) throws(SystemError) {
        guard renameat(directory, from, directory, to) == 0 else {
            throw SystemError(number: errno, operation: "renameat")
        }
    }

    /// Unlinks a name; returns `false` when it did not exist.
    @discardableResult
    static func unlink(_ directory: Int32, _ name: String) throws(SystemError) -> Bool {
        if unlinkat(directory, name, 0) == 0 { return true }
        if errno == ENOENT { return false }
        throw SystemError(number: errno, operation: "unlinkat")
    }

    static func setMode(_ fd: Int32, _ mode: mode_t) throws(SystemError) {
        guard fchmod(fd, mode) == 0 else { throw SystemError(number: errno, operation: "fchmod") }
    }

    static func closeQuietly(_ fd: Int32) {
        if fd >= 0 { _ = close(fd) }
    }

    /// Names in a directory, without `.` and `..`.
    static func listNames(_ directory: Int32) throws(SystemError) -> [String] {
        let copy = dup(directory)
        guard copy >= 0 else { throw SystemError(number: errno, operation: "dup") }
        guard let stream = fdopendir(copy) else {
            let number = errno
            _ = close(copy)
            throw SystemError(number: number, operation: "fdopendir")
        }
        defer { closedir(stream) }
        rewinddir(stream)
        var names: [String] = []
        while let entry = readdir(stream) {
            let name = withUnsafePointer(to: &entry.pointee.d_name) { pointer in
                pointer.withMemoryRebound(to: CChar.self, capacity: 256) { String(cString: $0) }
            }
            if name != "." && name != ".." { names.append(name) }
        }
        return names
    }

    /// Takes an advisory `flock` on `fd`, polling with back-off until `timeout`.
    /// - Returns: `false` on timeout.
    static func lock(_ fd: Int32, exclusive: Bool, timeout: Duration) throws(SystemError) -> Bool {
        let operation = (exclusive ? LOCK_EX : LOCK_SH) | LOCK_NB
        if try tryLock(fd, operation) { return true }
        let clock = ContinuousClock()
        let deadline = clock.now.advanced(by: timeout)
        var delayMicroseconds: UInt32 = 20
        while true {
            usleep(delayMicroseconds)
            if try tryLock(fd, operation) { return true }
            if clock.now >= deadline { return false }
            delayMicroseconds = min(delayMicroseconds * 2, 2_000)
        }
    }

    private static func tryLock(_ fd: Int32, _ operation: Int32) throws(SystemError) -> Bool {
        while true {
            if flock(fd, operation) == 0 { return true }
            if errno == EWOULDBLOCK { return false }
            if errno != EINTR { throw SystemError(number: errno, operation: "flock") }
        }
    }

    static func unlock(_ fd: Int32) {
        _ = flock(fd, LOCK_UN)
    }

    static func randomSuffix() -> String {
        String(UInt64.random(in: 0...UInt64.max), radix: 36)
    }

    // MARK: On paths

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
    static func listDirectory(_ path: String) throws(SystemError) -> [Entry] {
        guard let directory = opendir(path) else { throw SystemError(number: errno, operation: "opendir", path: path) }
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

    static func openForReading(_ path: String) throws(SystemError) -> Int32 {
        // Non-blocking, so a FIFO named like a transcript cannot hang the reader.
        do {
            return try open(path: path, O_RDONLY | O_NONBLOCK, mode: 0)
        } catch {
            throw SystemError(number: error.number, operation: error.operation, path: path)
        }
    }

    /// Reads up to `count` bytes at `offset` into `buffer[start...]`; returns how many were read.
    static func read(
        _ descriptor: Int32, into buffer: inout [UInt8], at start: Int, count: Int, offset: Int
    ) -> Int {
        buffer.withUnsafeMutableBytes { raw in
            read(
                descriptor, into: raw.baseAddress!.assumingMemoryBound(to: UInt8.self) + start, count: count,
                offset: offset)
        }
    }

    /// Reads up to `count` bytes at `offset` into `destination`, retrying after `EINTR` and short
    /// reads; returns how many were read (fewer at the end of the file or on an error).
    static func read(_ descriptor: Int32, into destination: UnsafeMutablePointer<UInt8>, count: Int, offset: Int) -> Int
    {
        var total = 0
        while total < count {
            let result = pread(descriptor, destination + total, count - total, off_t(offset + total))
            if result < 0, errno == EINTR { continue }
            if result <= 0 { break }
            total += result
        }
        return total
    }

    /// How many leading bytes pieces `[bounds[i], bounds[i + 1])` read in full cover: the sum of
    /// `counts` up to and including the first piece that came up short.
    static func contiguousPrefix(counts: ParallelSlots<Int>, bounds: [Int]) -> Int {
        var length = 0
        for index in 0..<(bounds.count - 1) {
            let count = counts[index] ?? 0
            length += count
            if count < bounds[index + 1] - bounds[index] { break }
        }
        return length
    }

    /// Reads the first `size` bytes of `descriptor` into `destination` in 4 MiB pieces, in
    /// parallel; returns how many leading bytes were read (a file that shrank ends early).
    static func parallelRead(_ descriptor: Int32, into destination: UnsafeMutablePointer<UInt8>, size: Int) -> Int {
        let piece = 4 << 20
        let bounds = Array(stride(from: 0, to: max(size, 1), by: piece)) + [size]
        let counts = ParallelSlots<Int>(count: bounds.count - 1)
        let base = UncheckedSendable(value: destination)
        BlockingIO.parallel(iterations: bounds.count - 1) { index in
            let offset = bounds[index]
            counts[index] = read(
                descriptor, into: base.value + offset, count: bounds[index + 1] - offset, offset: offset)
        }
        return contiguousPrefix(counts: counts, bounds: bounds)
    }

    /// The whole content of a file. Large files are read in parallel pieces into one
    /// buffer that is never zero-filled first; a file that grows meanwhile is read to its end.
    static func readFile(_ path: String) throws(SystemError) -> [UInt8] {
        let descriptor = try openForReading(path)
        defer { close(descriptor) }
        return try readFile(descriptor: descriptor, status: try regularFileStatus(descriptor, path: path))
    }

    /// The `fstat` of an open descriptor, which must be a regular file (`EISDIR` for a
    /// folder, `EINVAL` for anything else).
    static func regularFileStatus(_ descriptor: Int32, path: String) throws(SystemError) -> stat {
        var info = stat()
        guard fstat(descriptor, &info) == 0 else { throw SystemError(number: errno, operation: "fstat", path: path) }
        if (info.st_mode & S_IFMT) == S_IFDIR { throw SystemError(number: EISDIR, operation: "read", path: path) }
        if (info.st_mode & S_IFMT) != S_IFREG { throw SystemError(number: EINVAL, operation: "read", path: path) }
        return info
    }

    /// ``readFile(_:)`` of an open regular file whose `fstat` is `status`.
    static func readFile(descriptor: Int32, status: stat) throws(SystemError) -> [UInt8] {
        let size = Int(status.st_size)
        var buffer = [UInt8](unsafeUninitializedCapacity: size) { storage, initialized in
            guard let start = storage.baseAddress else {
                initialized = 0
                return
            }
            initialized = size == 0 ? 0 : parallelRead(descriptor, into: start, size: size)
        }
        guard buffer.count == size else { return buffer }
        appendRest(of: descriptor, to: &buffer)
        return buffer
    }

    /// Appends what the file holds past `buffer.count` (written after its `fstat`: an active
    /// session), in chunks read into uninitialized memory.
    static func appendRest(of descriptor: Int32, to buffer: inout [UInt8]) {
        while true {
            let offset = buffer.count
            let chunk = [UInt8](unsafeUninitializedCapacity: 1 << 16) { storage, initialized in
                initialized = read(descriptor, into: storage.baseAddress!, count: storage.count, offset: offset)
            }
            if chunk.isEmpty { return }
            buffer.append(contentsOf: chunk)
        }
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
            unlinkat(AT_FDCWD, path, 0)
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
