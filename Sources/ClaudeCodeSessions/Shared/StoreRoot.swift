import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// An open directory descriptor for the store's folder; closed when the last user lets go.
final class DirectoryHandle: Sendable {
    let fd: Int32
    let device: UInt64
    let inode: UInt64

    init(fd: Int32, status: FileStatus) {
        self.fd = fd
        self.device = status.device
        self.inode = status.inode
    }

    deinit { POSIX.closeQuietly(fd) }

    /// Flushes the directory entry changes (renames, creations) to disk.
    func sync() throws(SystemError) {
        try POSIX.sync(fd)
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
        guard let status = try? POSIX.status(path: path) else { return false }
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
            let status: FileStatus?
            do {
                status = try POSIX.status(path: path)
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
            fd = try POSIX.open(path: path, O_RDONLY | O_DIRECTORY)
        } catch {
            switch error.number {
            case ENOENT where create:
                try makeDirectories()
                do {
                    fd = try POSIX.open(path: path, O_RDONLY | O_DIRECTORY)
                } catch {
                    throw mapOpenError(error)
                }
            case ENOENT:
                return nil
            default:
                throw mapOpenError(error)
            }
        }
        let status: FileStatus
        do {
            status = try POSIX.status(of: fd)
        } catch {
            POSIX.closeQuietly(fd)
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
            if mkdir(prefix, POSIX.directoryMode) == 0 {
                // Set the mode on what we just made, without following a swapped-in link.
                guard let fd = try? POSIX.open(path: prefix, O_RDONLY | O_DIRECTORY | O_NOFOLLOW) else {
                    throw SessionStoreError(.ioFailure, path: prefix, systemErrorNumber: errno)
                }
                defer { POSIX.closeQuietly(fd) }
                do {
                    try POSIX.setMode(fd, POSIX.directoryMode)
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
