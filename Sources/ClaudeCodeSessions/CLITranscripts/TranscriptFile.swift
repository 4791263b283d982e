#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads a whole transcript for the readers (`messages`, `subagentMessages`).
///
/// Like ``POSIX/readFile(_:)``, but the buffer of a large file is first advised to use huge
/// pages (Linux, where transparent huge pages are enabled for advised memory): a 50 MB
/// transcript then costs a few dozen page faults instead of some 13,000, which was a tenth of
/// the CPU time of reading it. Elsewhere, or when the advice is refused, it reads the same way.
enum TranscriptFile {
    /// Files from this size on get the huge-page advice (a few huge pages' worth).
    static let hugePageThreshold = 8 << 20

    static func read(_ path: String) throws(SystemError) -> [UInt8] {
        #if os(Linux)
            let descriptor = try POSIX.openForReading(path)
            var info = stat()
            let size = fstat(descriptor, &info) == 0 && (info.st_mode & S_IFMT) == S_IFREG ? Int(info.st_size) : 0
            close(descriptor)
            guard size >= hugePageThreshold else { return try POSIX.readFile(path) }
            return try readAdvised(path, expectedSize: size)
        #else
            return try POSIX.readFile(path)
        #endif
    }

    #if os(Linux)
        /// Reads the file into a buffer whose huge-page-aligned middle is advised `MADV_HUGEPAGE`
        /// before any page of it is touched.
        static func readAdvised(_ path: String, expectedSize: Int) throws(SystemError) -> [UInt8] {
            let descriptor = try POSIX.openForReading(path)
            defer { close(descriptor) }
            var info = stat()
            guard fstat(descriptor, &info) == 0 else {
                throw SystemError(number: errno, operation: "fstat", path: path)
            }
            guard (info.st_mode & S_IFMT) == S_IFREG else {
                throw SystemError(number: EINVAL, operation: "read", path: path)
            }
            let size = Int(info.st_size)
            var buffer = [UInt8](unsafeUninitializedCapacity: size) { storage, initialized in
                guard let start = storage.baseAddress else {
                    initialized = 0
                    return
                }
                advise(UnsafeMutableRawPointer(start), count: size)
                initialized = POSIX.parallelRead(descriptor, into: start, size: size)
            }
            guard buffer.count == size else { return buffer }
            // Whatever was appended after fstat (an active session), in one more pass.
            var more = [UInt8](repeating: 0, count: 1 << 16)
            while true {
                let count = POSIX.read(descriptor, into: &more, at: 0, count: more.count, offset: buffer.count)
                if count <= 0 { break }
                buffer.append(contentsOf: more[0..<count])
            }
            return buffer
        }

        /// Advises the whole 2 MiB pages inside `[start, start + count)` to be huge pages.
        static func advise(_ start: UnsafeMutableRawPointer, count: Int) {
            let huge = 2 << 20
            let first = (UInt(bitPattern: start) + UInt(huge - 1)) & ~UInt(huge - 1)
            let last = (UInt(bitPattern: start) + UInt(count)) & ~UInt(huge - 1)
            guard last > first, let aligned = UnsafeMutableRawPointer(bitPattern: first) else { return }
            _ = madvise(aligned, Int(last - first), 14)  // MADV_HUGEPAGE
        }
    #endif
}
