import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A failed system call: its `errno`.
struct SystemError: Error {
    var number: Int32
    var operation: StaticString
}

/// Thin wrappers over the POSIX calls the store needs. Every file is opened relative to the
/// store's directory descriptor with `O_NOFOLLOW`, so no symbolic link is ever followed
/// inside the folder, and `EINTR` is retried.
enum StoreSystem {
    static let fileMode: mode_t = 0o600
    static let directoryMode: mode_t = 0o700

    struct FileStatus {
        var device: UInt64
        var inode: UInt64
        var size: Int64
        var mode: UInt32
        var linkCount: UInt64

        init(_ raw: stat) {
            device = UInt64(raw.st_dev)
            inode = UInt64(raw.st_ino)
            size = Int64(raw.st_size)
            mode = UInt32(raw.st_mode)
            linkCount = UInt64(raw.st_nlink)
        }

        var isRegularFile: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFREG) }
        var isDirectory: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFDIR) }
        var isSymbolicLink: Bool { mode & UInt32(S_IFMT) == UInt32(S_IFLNK) }
        var permissions: UInt32 { mode & 0o7777 }
    }

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

    static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(SystemError) {
        let failure = bytes.withUnsafeBytes { writeAll(fd, $0).error }
        if let failure { throw failure }
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
}

/// An open directory descriptor for the store's folder; closed when the last user lets go.
final class DirectoryHandle: Sendable {
    let fd: Int32
    let device: UInt64
    let inode: UInt64

    init(fd: Int32, status: StoreSystem.FileStatus) {
        self.fd = fd
        self.device = status.device
        self.inode = status.inode
    }

    deinit { StoreSystem.closeQuietly(fd) }

    /// Flushes the directory entry changes (renames, creations) to disk.
    func sync() throws(SystemError) {
        try StoreSystem.sync(fd)
    }
}

/// The store's folder. Opened (and created, 0700, when writing) on first use; reopened if
/// it was removed or replaced.
///
/// The configured path itself may be a symbolic link (it is the user's explicit choice);
/// nothing inside it is ever followed.
final class StoreRoot: Sendable {
    let path: String
    private let cached = Mutex<DirectoryHandle?>(nil)

    init(path: String) {
        self.path = path
    }

    func filePath(_ name: String) -> String {
        path.hasSuffix("/") ? path + name : path + "/" + name
    }

    /// Whether `handle` is still the folder at the configured path.
    func isCurrent(_ handle: DirectoryHandle) -> Bool {
        guard let status = try? StoreSystem.status(path: path) else { return false }
        return status.device == handle.device && status.inode == handle.inode
    }

    /// The open folder; `nil` when it does not exist and `create` is false.
    func handle(create: Bool) throws(SessionStoreError) -> DirectoryHandle? {
        if let handle = cached.withLock({ $0 }) { return handle }
        return try open(create: create)
    }

    /// Checks that the path still names the cached folder and reopens it if not.
    func revalidate(create: Bool) throws(SessionStoreError) -> DirectoryHandle? {
        let current = cached.withLock { $0 }
        if let current {
            let status: StoreSystem.FileStatus?
            do {
                status = try StoreSystem.status(path: path)
            } catch {
                throw SessionStoreError(.ioFailure, path: path, systemErrorNumber: error.number)
            }
            if let status, status.device == current.device, status.inode == current.inode {
                return current
            }
            cached.withLock { if $0 === current { $0 = nil } }
        }
        return try open(create: create)
    }

    private func open(create: Bool) throws(SessionStoreError) -> DirectoryHandle? {
        var fd: Int32
        do {
            fd = try StoreSystem.open(path: path, O_RDONLY | O_DIRECTORY)
        } catch {
            switch error.number {
            case ENOENT where create:
                try makeDirectories()
                do {
                    fd = try StoreSystem.open(path: path, O_RDONLY | O_DIRECTORY)
                } catch {
                    throw mapOpenError(error)
                }
            case ENOENT:
                return nil
            default:
                throw mapOpenError(error)
            }
        }
        let status: StoreSystem.FileStatus
        do {
            status = try StoreSystem.status(of: fd)
        } catch {
            StoreSystem.closeQuietly(fd)
            throw SessionStoreError(.ioFailure, path: path, systemErrorNumber: error.number)
        }
        let handle = DirectoryHandle(fd: fd, status: status)
        return cached.withLock { slot in
            if let existing = slot { return existing }
            slot = handle
            return handle
        }
    }

    private func mapOpenError(_ error: SystemError) -> SessionStoreError {
        if error.number == ENOTDIR {
            return SessionStoreError(
                .notADirectory, path: path, systemErrorNumber: error.number,
                reason: "the store path or one of its parents is not a directory")
        }
        return SessionStoreError(.ioFailure, path: path, systemErrorNumber: error.number)
    }

    /// `mkdir -p` where every folder it creates gets mode 0700, set explicitly with
    /// `fchmod` (not left to the umask). Existing folders are not changed.
    private func makeDirectories() throws(SessionStoreError) {
        var prefix = path.hasPrefix("/") ? "" : "."
        let components = path.split(separator: "/", omittingEmptySubsequences: true)
        for component in components {
            prefix += "/" + component
            if mkdir(prefix, StoreSystem.directoryMode) == 0 {
                // Set the mode on what we just made, without following a swapped-in link.
                guard let fd = try? StoreSystem.open(path: prefix, O_RDONLY | O_DIRECTORY | O_NOFOLLOW) else {
                    throw SessionStoreError(.ioFailure, path: prefix, systemErrorNumber: errno)
                }
                defer { StoreSystem.closeQuietly(fd) }
                do {
                    try StoreSystem.setMode(fd, StoreSystem.directoryMode)
                } catch {
                    throw SessionStoreError(.ioFailure, path: prefix, systemErrorNumber: error.number)
                }
            } else if errno != EEXIST {
                let number = errno
                if number == ENOTDIR {
                    throw SessionStoreError(
                        .notADirectory, path: prefix, systemErrorNumber: number,
                        reason: "a parent of the store path is not a directory")
                }
                throw SessionStoreError(.ioFailure, path: prefix, systemErrorNumber: number)
            }
        }
    }
}
