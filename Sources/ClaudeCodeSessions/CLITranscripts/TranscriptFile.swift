#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads a whole transcript for the readers (`messages`, `subagentMessages`).
///
/// Like ``POSIX/readFile(_:)``, but the buffer of a large file is advised to use huge pages
/// (Linux, where transparent huge pages are enabled for advised memory): a 50 MB transcript then
/// costs a few dozen page faults instead of some 13,000, about half the kernel's time of reading
/// it. The advice is given one huge page at a time, and withdrawn for the rest of the read once
/// a huge page costs more than small pages would (``HugePageCost``): in a virtual machine a fresh
/// huge page is sometimes backed lazily by the host, and zeroing it then cost up to ten times as
/// much as small pages. Elsewhere, or when the advice is refused, it reads the
/// same way.
enum TranscriptFile {
    /// Files from this size on get the huge-page advice (a few huge pages' worth).
    static let hugePageThreshold = 8 << 20

    static func read(_ path: String) throws(SystemError) -> [UInt8] {
        try readWithStatus(path).bytes
    }

    /// The whole file and the `fstat` taken when it was opened (what a reader of its head and
    /// tail would see, for ``LiteFileReader/sessionInfo(bytes:status:sessionID:projectPath:)``).
    static func readWithStatus(_ path: String) throws(SystemError) -> (bytes: [UInt8], status: FileStatus) {
        let descriptor = try POSIX.openForReading(path)
        defer { close(descriptor) }
        let status = try POSIX.regularFileStatus(descriptor, path: path)
        #if os(Linux)
            if Int(status.st_size) >= hugePageThreshold {
                return (readAdvised(descriptor, size: Int(status.st_size)), FileStatus(status))
            }
        #endif
        return (try POSIX.readFile(descriptor: descriptor, status: status), FileStatus(status))
    }

    #if os(Linux)
        /// Reads the open file of `size` bytes into a buffer whose pieces are advised
        /// `MADV_HUGEPAGE` before any page of them is touched (``readInHugePages(_:into:size:)``).
        static func readAdvised(_ descriptor: Int32, size: Int) -> [UInt8] {
            var buffer = [UInt8](unsafeUninitializedCapacity: size) { storage, initialized in
                guard let start = storage.baseAddress else {
                    initialized = 0
                    return
                }
                initialized = readInHugePages(descriptor, into: start, size: size).length
            }
            guard buffer.count == size else { return buffer }
            POSIX.appendRest(of: descriptor, to: &buffer)
            return buffer
        }

        /// Reads `size` bytes into `start`: huge pages first, one at a time on this thread, each
        /// advised `MADV_HUGEPAGE` before it is touched, until one is slow (``HugePageCost``);
        /// then the rest in small pages, in parallel 4 MiB pieces, each populated first
        /// (`MADV_POPULATE_WRITE`: one call faults its pages in, instead of one fault per page
        /// during the copy). The unaligned lead and a tail under a huge page are small pages too.
        ///
        /// `isSlow` judges a huge page from its size and the thread CPU time its read took
        /// (tests substitute it). Returns the length of the contiguous prefix read (a file
        /// that shrank ends early) and the number of huge pages read with the advice.
        static func readInHugePages(
            _ descriptor: Int32, into start: UnsafeMutablePointer<UInt8>, size: Int,
            isSlow: (_ bytes: Int, _ nanoseconds: Int) -> Bool = HugePageCost.isSlow
        ) -> (length: Int, hugePages: Int) {
            let huge = 2 << 20
            let lead = min(size, (huge - Int(UInt(bitPattern: start) % UInt(huge))) % huge)
            var offset = 0
            if lead > 0 {
                populate(start, count: lead)
                let count = POSIX.read(descriptor, into: start, count: lead, offset: 0)
                guard count == lead else { return (count, 0) }
                offset = lead
            }
            var hugePages = 0
            while size - offset >= huge {
                let piece = UnsafeMutableRawPointer(start + offset)
                guard advise(piece, count: huge) else { break }
                let before = threadCPUNanoseconds()
                let count = POSIX.read(descriptor, into: start + offset, count: huge, offset: offset)
                hugePages += 1
                offset += count
                guard count == huge else { return (offset, hugePages) }
                if isSlow(huge, threadCPUNanoseconds() - before) { break }
            }
            guard offset < size else { return (offset, hugePages) }
            var bounds = Array(stride(from: offset, to: size, by: 4 << 20))
            bounds.append(size)
            let counts = ParallelSlots<Int>(count: bounds.count - 1)
            let base = UncheckedSendable(value: start)
            BlockingIO.parallel(iterations: bounds.count - 1) { index in
                let from = bounds[index]
                let count = bounds[index + 1] - from
                populate(UnsafeMutableRawPointer(base.value + from), count: count)
                counts[index] = POSIX.read(descriptor, into: base.value + from, count: count, offset: from)
            }
            return (offset + POSIX.contiguousPrefix(counts: counts, bounds: bounds.map { $0 - offset }), hugePages)
        }

        /// When huge pages stop paying. Small pages cost 0.55–0.7 ns per byte to fault in and fill
        /// here; a huge page 0.25–0.4 when the host backs it at once, 2.3–4.8 when it does not.
        ///
        /// In this virtual machine a read's huge pages came in three patterns. 22 reads of a
        /// 50 MB transcript alternating with the Python SDK's, counting the huge pages each kept
        /// (`AnonHugePages`; the earlier rule: a second slow piece ended the advice): 6 kept all
        /// 24, 5 only the probe, and 11 between 10 and 22: a run of cheap pages, then slow ones.
        /// The balloon device reports free 2 MiB blocks to the host, which takes them back; the
        /// cheap huge pages are likely the blocks freed recently and not yet reported. So the
        /// first slow huge page ends the advice: that costs one slow page (about 8 ms), where
        /// allowing a second and reading 4 MiB pieces two at a time cost up to four (about 30 ms).
        enum HugePageCost {
            /// Small pages cost less than this per byte; a huge page above it is slow.
            static let slowNanosecondsPerByte = 0.75

            /// Whether a huge page of `bytes` that took `nanoseconds` of thread CPU time to fill
            /// cost more than small pages would have.
            static func isSlow(bytes: Int, nanoseconds: Int) -> Bool {
                Double(nanoseconds) > slowNanosecondsPerByte * Double(bytes)
            }
        }

        static func threadCPUNanoseconds() -> Int {
            var time = timespec()
            clock_gettime(CLOCK_THREAD_CPUTIME_ID, &time)
            return Int(time.tv_sec) * 1_000_000_000 + Int(time.tv_nsec)
        }

        /// Faults in the small pages of `[start, start + count)` in one call (Linux 5.14 and
        /// later; elsewhere the read faults them in as it copies).
        static func populate(_ start: UnsafeMutableRawPointer, count: Int) {
            let page = UInt(sysconf(Int32(_SC_PAGESIZE)))
            let first = UInt(bitPattern: start) & ~(page - 1)
            let last = (UInt(bitPattern: start) + UInt(count) + page - 1) & ~(page - 1)
            guard last > first, let aligned = UnsafeMutableRawPointer(bitPattern: first) else { return }
            _ = madvise(aligned, Int(last - first), 23)  // MADV_POPULATE_WRITE
        }

        /// Advises the whole 2 MiB pages inside `[start, start + count)` to be huge pages;
        /// `false` when there is none or the kernel refused the advice.
        static func advise(_ start: UnsafeMutableRawPointer, count: Int) -> Bool {
            let huge = 2 << 20
            let first = (UInt(bitPattern: start) + UInt(huge - 1)) & ~UInt(huge - 1)
            let last = (UInt(bitPattern: start) + UInt(count)) & ~UInt(huge - 1)
            guard last > first, let aligned = UnsafeMutableRawPointer(bitPattern: first) else { return false }
            return madvise(aligned, Int(last - first), 14) == 0  // MADV_HUGEPAGE
        }
    #endif
}
