internal import CClaudeCodeScan
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// How the search compares text: case- and diacritic-insensitively, one Unicode scalar at a
/// time. Each scalar folds to a short UTF-8 string (`"É"` to `"e"`, `"ß"` to `"ss"`, a combining
/// accent to nothing); a term occurs in a text where the folded term occurs in the folded text,
/// starting and ending on the edges of whole scalars.
///
/// Defined per scalar (not per grapheme, as Foundation's `range(of:options:)` is) so that it can
/// be computed on bytes, and so that a search index built on the same folding (the trigrams of
/// `SQLiteSearchIndex`) finds exactly the sessions a scan finds.
package enum TextFolding {
    /// The folded UTF-8 of scalars seen so far, shared by every thread.
    private static let shared = Mutex<[UInt32: [UInt8]]>([:])

    /// The folded UTF-8 of one non-ASCII scalar (ASCII folds to its lowercase).
    package static func fold(scalar: UInt32) -> [UInt8] {
        if let known = shared.withLock({ $0[scalar] }) { return known }
        let folded: [UInt8]
        if let value = Unicode.Scalar(scalar), value.properties.generalCategory == .nonspacingMark {
            // A combining accent on its own (a decomposed "é") is a diacritic: it folds away.
            folded = []
        } else if let value = Unicode.Scalar(scalar) {
            folded = Array(
                String(Character(value)).folding(options: [.caseInsensitive, .diacriticInsensitive], locale: nil)
                    .lowercased().utf8)
        } else {
            folded = []
        }
        shared.withLock { $0[scalar] = folded }
        return folded
    }

    /// Decodes the scalar starting at `index` of valid UTF-8 (Swift strings are), returning it
    /// and its length.
    @inline(__always)
    package static func scalar(at index: Int, in base: UnsafePointer<UInt8>, count: Int) -> (UInt32, Int) {
        let byte = base[index]
        let length: Int
        var scalar: UInt32
        if byte >= 0xF0 {
            length = 4
            scalar = UInt32(byte & 0x07)
        } else if byte >= 0xE0 {
            length = 3
            scalar = UInt32(byte & 0x0F)
        } else {
            length = 2
            scalar = UInt32(byte & 0x1F)
        }
        var next = index + 1
        while next < index + length && next < count {
            scalar = scalar << 6 | UInt32(base[next] & 0x3F)
            next += 1
        }
        return (scalar, length)
    }

    /// The folded UTF-8 of a whole string (a term).
    package static func fold(_ text: String) -> [UInt8] {
        var matcher = Matcher()
        matcher.load(text)
        return matcher.foldedText
    }

    /// Finds folded terms in texts, reusing its buffers from one text to the next.
    ///
    /// The folded text is kept with one anchor per non-ASCII scalar (where its fold starts, its
    /// UTF-8 offset, the lengths of both); between anchors, ASCII maps one byte to one byte, so
    /// a text is folded with a copy and a lowercase, and offsets are mapped back only for the
    /// matches found.
    package struct Matcher {
        struct Anchor {
            var folded: Int32
            var source: Int32
            var foldedLength: Int32
            var sourceLength: Int32
        }

        /// The folded text: its first `foldedCount` bytes (the rest is room kept from one load to
        /// the next, so that a load does not zero its buffer).
        private var folded: [UInt8] = []
        private var foldedCount = 0
        private var anchors: [Anchor] = []
        private var sourceCount = 0
        /// A direct-mapped cache of folds of up to 7 bytes: the scalar, and the bytes with their
        /// count in the low byte.
        private var cacheKeys = [UInt32](repeating: .max, count: 1024)
        private var cacheValues = [UInt64](repeating: 0, count: 1024)

        package init() {}

        /// The loaded text, folded.
        var foldedText: [UInt8] { Array(folded[0..<foldedCount]) }

        /// Folds `text` for the next calls of ``offsets(of:)``.
        package mutating func load(_ text: String) {
            var text = text
            text.withUTF8 { load(UnsafeRawBufferPointer($0)) }
        }

        /// Folds UTF-8 `bytes` (from a `String`, or stored from one; invalid bytes fold to
        /// nothing) for the next calls of ``offsets(of:)``.
        package mutating func load(_ bytes: UnsafeRawBufferPointer) {
            var out = folded
            var marks = anchors
            var keys = cacheKeys
            var values = cacheValues
            folded = []
            anchors = []
            cacheKeys = []
            cacheValues = []
            defer {
                folded = out
                anchors = marks
                cacheKeys = keys
                cacheValues = values
            }
            marks.removeAll(keepingCapacity: true)
            let count = bytes.count
            sourceCount = count
            foldedCount = 0
            guard count > 0, let base = bytes.baseAddress?.assumingMemoryBound(to: UInt8.self) else { return }
            // Room for every byte at one byte each, and more when a fold is longer than its scalar.
            if out.count < count + 16 { out.append(contentsOf: repeatElement(0, count: count + 16 - out.count)) }
            var capacity = out.count
            var length = 0
            var index = 0
            while index < count {
                out.withUnsafeMutableBufferPointer { buffer in
                    let target = buffer.baseAddress!
                    while index < count {
                        // A run of ASCII: copied with A-Z lowercased, 16 or 32 bytes at a time
                        // (it writes at most `count - index` bytes, which the room kept allows).
                        if base[index] < 0x80 {
                            let copied = ccscan_lower_ascii(base + index, count - index, target + length)
                            length += copied
                            index += copied
                            guard index < count else { break }
                        }
                        let (scalar, size) = TextFolding.scalar(at: index, in: base, count: count)
                        let slot = Int(scalar & 1023)
                        var packed: UInt64
                        if keys[slot] == scalar {
                            packed = values[slot]
                        } else {
                            let bytes = TextFolding.fold(scalar: scalar)
                            if bytes.count <= 7 {
                                packed = UInt64(bytes.count)
                                for (position, value) in bytes.enumerated() {
                                    packed |= UInt64(value) << (8 * UInt64(position + 1))
                                }
                                keys[slot] = scalar
                                values[slot] = packed
                            } else {
                                packed = .max  // long: written from `bytes` below
                            }
                        }
                        let foldLength = packed == .max ? TextFolding.fold(scalar: scalar).count : Int(packed & 0xFF)
                        // Room for this fold and every byte left, at one byte each.
                        if length + foldLength + (count - index) + 8 > capacity { return }
                        marks.append(
                            Anchor(
                                folded: Int32(length), source: Int32(index), foldedLength: Int32(foldLength),
                                sourceLength: Int32(min(size, count - index))))
                        if packed == .max {
                            for value in TextFolding.fold(scalar: scalar) {
                                target[length] = value
                                length += 1
                            }
                        } else {
                            var rest = packed >> 8
                            for _ in 0..<foldLength {
                                target[length] = UInt8(truncatingIfNeeded: rest)
                                rest >>= 8
                                length += 1
                            }
                        }
                        index += size
                    }
                }
                if index < count {
                    let more = capacity + 64
                    capacity += more
                    out.append(contentsOf: repeatElement(0, count: more))
                }
            }
            foldedCount = length
        }

        /// The last anchor at or before folded byte `index` (`nil`: only ASCII before it).
        @inline(__always) private func anchor(before index: Int) -> Anchor? {
            var low = 0
            var high = anchors.count
            while low < high {
                let middle = (low + high) / 2
                if Int(anchors[middle].folded) <= index { low = middle + 1 } else { high = middle }
            }
            return low == 0 ? nil : anchors[low - 1]
        }

        /// The UTF-8 offset in the text of folded byte `index` when it begins a scalar (or is
        /// the end); `nil` inside a scalar's fold.
        @inline(__always) private func source(_ index: Int) -> Int? {
            if index == foldedCount { return sourceCount }
            guard let last = anchor(before: index) else { return index }
            let start = Int(last.folded)
            let end = start + Int(last.foldedLength)
            if index < end { return index == start ? Int(last.source) : nil }
            return Int(last.source) + Int(last.sourceLength) + (index - end)
        }

        /// The first occurrence of `pattern` in `haystack` (`ccscan_find`: its first and last
        /// byte compared 16 or 32 positions at a time, the rest only where both match).
        @inline(__always)
        static func find(
            _ pattern: UnsafeRawPointer, _ length: Int, in haystack: UnsafeRawPointer, _ count: Int
        ) -> UnsafeRawPointer? {
            let at = ccscan_find(
                haystack.assumingMemoryBound(to: UInt8.self), count, pattern.assumingMemoryBound(to: UInt8.self),
                length)
            return at < 0 ? nil : haystack + at
        }

        /// What ``count(of:)`` would give for each of `terms` (folded) after loading `text`,
        /// without folding it: `false` (and `counts` unspecified) when a term or `text` is not
        /// all ASCII, where folding does more than lowercase A-Z.
        package static func countInASCII(
            _ terms: [[UInt8]], in text: UnsafeRawBufferPointer, into counts: inout [Int]
        ) -> Bool {
            let base = text.baseAddress?.assumingMemoryBound(to: UInt8.self)
            for (index, term) in terms.enumerated() {
                guard !term.isEmpty else { return false }
                guard let base else {
                    counts[index] = 0
                    continue
                }
                let found = term.withUnsafeBufferPointer {
                    ccscan_count_folded_ascii(base, text.count, $0.baseAddress!, term.count)
                }
                guard found >= 0 else { return false }
                counts[index] = found
            }
            return true
        }

        /// ``count(of:)`` of each of `terms` (folded) in `text`, into `counts`: counted in place
        /// when terms and text are ASCII (``countInASCII(_:in:into:)``), else after ``load(_:)``.
        package mutating func counts(of terms: [[UInt8]], in text: UnsafeRawBufferPointer, into counts: inout [Int]) {
            guard !Self.countInASCII(terms, in: text, into: &counts) else { return }
            load(text)
            for (index, term) in terms.enumerated() { counts[index] = count(of: term) }
        }

        /// The number of non-overlapping occurrences of `term` (folded) in the loaded text.
        package func count(of term: [UInt8]) -> Int {
            var total = 0
            scan(term) { _, _ in total += 1 }
            return total
        }

        /// The UTF-8 ranges of the non-overlapping occurrences of `term` (folded) in the loaded
        /// text, first to last.
        package func offsets(of term: [UInt8]) -> [Range<Int>] {
            var found: [Range<Int>] = []
            scan(term) { start, end in found.append(start..<end) }
            return found
        }

        private func scan(_ term: [UInt8], _ body: (Int, Int) -> Void) {
            guard !term.isEmpty, term.count <= foldedCount else { return }
            folded.withUnsafeBytes { haystack in
                term.withUnsafeBytes { needle in
                    guard let base = haystack.baseAddress, let pattern = needle.baseAddress else { return }
                    var from = 0
                    while from + term.count <= foldedCount {
                        guard let hit = Self.find(pattern, term.count, in: base + from, foldedCount - from) else {
                            break
                        }
                        let start = base.distance(to: hit)
                        let end = start + term.count
                        if let sourceStart = source(start), let sourceEnd = source(end) {
                            body(sourceStart, sourceEnd)
                            from = end
                        } else {
                            from = start + 1
                        }
                    }
                }
            }
        }
    }
}
