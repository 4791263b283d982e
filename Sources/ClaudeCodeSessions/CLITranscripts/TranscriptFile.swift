import Synchronization

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
/// it. The advice is given piece by piece, and withdrawn for the rest of the read once a second
/// advised piece costs more than small pages would (``HugePageCost``): in a virtual
/// machine a fresh huge page is sometimes backed lazily by the host, and zeroing it then cost up
/// to ten times as much as small pages. Elsewhere, or when the advice is refused, it reads the
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
                initialized = readInHugePages(descriptor, into: start, size: size)
            }
            guard buffer.count == size else { return buffer }
            POSIX.appendRest(of: descriptor, to: &buffer)
            return buffer
        }

        /// Reads `size` bytes into `start` in pieces that start on huge-page boundaries (one huge
        /// page each at first, then two), advising each piece before reading it while
        /// ``HugePageCost`` says huge pages pay. The unaligned lead and the first whole piece (the
        /// probe) are read first, on this thread; the rest in parallel. A piece read without
        /// the advice is populated first (`MADV_POPULATE_WRITE`: one call faults its small pages
        /// in, instead of one fault per page during the copy).
        /// Returns the length of the contiguous prefix read.
        static func readInHugePages(_ descriptor: Int32, into start: UnsafeMutablePointer<UInt8>, size: Int) -> Int {
            let huge = 2 << 20
            let lead = (huge - Int(UInt(bitPattern: start) % UInt(huge))) % huge
            var bounds = [0]
            if lead > 0, lead < size { bounds.append(lead) }
            // One huge page per piece at first, so that slow huge pages are noticed early.
            while bounds.last! + (4 << 20) < size {
                bounds.append(bounds.last! + (bounds.count < 4 ? huge : 4 << 20))
            }
            bounds.append(size)
            let pieces = bounds.count - 1
            let counts = ParallelSlots<Int>(count: pieces)
            let base = UncheckedSendable(value: start)
            let cost = HugePageCost()
            let firstWhole = lead > 0 && lead < size ? 1 : 0  // the probe: the lead is read before it
            func read(_ index: Int) {
                let offset = bounds[index]
                let count = bounds[index + 1] - offset
                let piece = UnsafeMutableRawPointer(base.value + offset)
                // Only a piece holding a whole huge page is timed: the unaligned lead and a short
                // tail are small pages whatever the advice, and would count against huge pages.
                let advised = cost.worthAdvising && advise(piece, count: count)
                if !advised { populate(piece, count: count) }
                let before = threadCPUNanoseconds()
                let total = POSIX.read(descriptor, into: base.value + offset, count: count, offset: offset)
                if advised {
                    cost.record(
                        bytes: count, nanoseconds: threadCPUNanoseconds() - before, probe: index == firstWhole)
                }
                counts[index] = total
            }
            for index in 0...min(firstWhole, pieces - 1) { read(index) }
            let rest = pieces - firstWhole - 1
            BlockingIO.parallel(iterations: rest) { index in read(firstWhole + 1 + index) }
            return POSIX.contiguousPrefix(counts: counts, bounds: bounds)
        }

        /// How advised pieces have fared so far, shared by the readers of one file: huge pages
        /// are worth advising until the probe (the first advised piece) or a second advised
        /// piece took more CPU time per byte than small pages would (measured here: small pages
        /// 0.55–0.7 ns per byte, huge pages 0.25–0.35 when the host backs them at once, 2.3–4.8
        /// when it does not).
        ///
        /// In this virtual machine a read's huge pages are either all cheap or all slow (16
        /// reads piece by piece: one had every huge page at 3–4.8 ns per byte, the others every
        /// one under 0.4), so a slow probe ends the advice at once; before, the two pieces read
        /// in parallel at the start were both slow before it ended. After a fast probe one slow
        /// piece is tolerated, the second ends the advice. Nor does the unaligned lead count
        /// (small pages whatever the advice, at 0.6–0.9 ns per byte it would end the advice
        /// before any huge page).
        final class HugePageCost: Sendable {
            /// Small pages cost less than this per byte; an advised piece above it is slow.
            static let slowNanosecondsPerByte = 0.75
            /// Slow pieces that end the advice.
            static let slowPiecesToStop = 2

            private let slowPieces = Atomic<Int>(0)

            var worthAdvising: Bool { slowPieces.load(ordering: .relaxed) < Self.slowPiecesToStop }

            /// Adds an advised piece's size and the thread CPU time its read took; a slow
            /// `probe` ends the advice by itself.
            func record(bytes count: Int, nanoseconds elapsed: Int, probe: Bool = false) {
                if Double(elapsed) > Self.slowNanosecondsPerByte * Double(count) {
                    slowPieces.add(probe ? Self.slowPiecesToStop : 1, ordering: .relaxed)
                }
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
