import ClaudeCodeSessions
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Folds text the way the search compares it (`TextFolding`: case- and diacritic-insensitive, one
/// Unicode scalar at a time) and collects the distinct trigrams of its folded UTF-8 bytes.
///
/// The trigrams of a session are a superset of those of every term it matches (a match is the
/// folded term inside the folded text), so sessions lacking one of a term's trigrams cannot match
/// it: the index reads only the others.
/// One extractor per thread: it keeps a 2 MiB bit set of the trigrams seen (a trigram is 24 bits).
final class TrigramExtractor {
    private let seen: UnsafeMutablePointer<UInt64>
    private var keys: [UInt32] = []
    private var folds: [UInt32: [UInt8]] = [:]
    private var window: UInt32 = 0
    private var filled = 0
    private static let words = 1 << 18

    init() {
        // calloc: the zero pages are only faulted in where bits are set (a query sets a few).
        seen = calloc(Self.words, MemoryLayout<UInt64>.stride)!.bindMemory(to: UInt64.self, capacity: Self.words)
    }

    deinit { free(seen) }

    /// Adds the trigrams of `text` (a trigram may span the end of the previous text: harmless, the
    /// set only has to hold every trigram of every text).
    ///
    /// The state lives in locals for the loop (the class's stored properties would each cost an
    /// exclusivity check per byte).
    func add(_ text: String) {
        var text = text
        var window = self.window
        var filled = self.filled
        var keys = self.keys
        self.keys = []  // `keys` stays uniquely referenced: appends do not copy
        let seen = self.seen
        @inline(__always) func push(_ byte: UInt8) {
            window = (window << 8 | UInt32(byte)) & 0xFF_FFFF
            filled &+= 1
            guard filled >= 3 else { return }
            let word = Int(window >> 6)
            let bit: UInt64 = 1 << UInt64(window & 63)
            if seen[word] & bit == 0 {
                seen[word] |= bit
                keys.append(window)
            }
        }
        text.withUTF8 { buffer in
            guard let base = buffer.baseAddress else { return }
            let count = buffer.count
            var index = 0
            while index < count {
                let byte = base[index]
                if byte < 0x80 {
                    push(byte &- 0x41 < 26 ? byte | 0x20 : byte)
                    index += 1
                    continue
                }
                let (scalar, length) = TextFolding.scalar(at: index, in: base, count: count)
                index += length
                for folded in fold(scalar) { push(folded) }
            }
        }
        self.window = window
        self.filled = filled
        self.keys = keys
    }

    private func fold(_ scalar: UInt32) -> [UInt8] {
        if let known = folds[scalar] { return known }
        let folded = TextFolding.fold(scalar: scalar)
        folds[scalar] = folded
        return folded
    }

    /// The distinct trigrams added since the last call, sorted; starts a new set.
    func finish() -> [UInt32] {
        for key in keys { seen[Int(key >> 6)] &= ~(1 << UInt64(key & 63)) }
        let result = Self.sortedKeys(keys)
        keys.removeAll(keepingCapacity: true)
        window = 0
        filled = 0
        return result
    }

    /// Sorts 24-bit keys: two passes of a 12-bit radix sort for many, the standard sort for a few.
    static func sortedKeys(_ keys: [UInt32]) -> [UInt32] {
        guard keys.count > 256 else { return keys.sorted() }
        var source = keys
        var target = [UInt32](repeating: 0, count: keys.count)
        var counts = [Int](repeating: 0, count: 4096)
        for shift: UInt32 in [0, 12] {
            source.withUnsafeBufferPointer { input in
                target.withUnsafeMutableBufferPointer { output in
                    counts.withUnsafeMutableBufferPointer { count in
                        for index in 0..<4096 { count[index] = 0 }
                        for key in input { count[Int((key >> shift) & 0xFFF)] += 1 }
                        var total = 0
                        for index in 0..<4096 {
                            let here = count[index]
                            count[index] = total
                            total += here
                        }
                        for key in input {
                            let bucket = Int((key >> shift) & 0xFFF)
                            output[count[bucket]] = key
                            count[bucket] += 1
                        }
                    }
                }
            }
            swap(&source, &target)
        }
        return source
    }

    /// The trigrams of one query term; `nil` when it folds to fewer than three bytes (no filter).
    func termKeys(_ term: String) -> [UInt32]? {
        window = 0
        filled = 0
        add(term)
        let enough = filled >= 3
        let result = finish()
        return enough ? result : nil
    }
}

/// The stored form of a session's passages: for each, its field, entry index and UTF-8 text.
enum PassageCoding {
    static let fields = SessionSearch.Field.allCases

    static func encode(_ passages: [SessionSearch.Passage]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(passages.reduce(0) { $0 + $1.text.utf8.count + 6 })
        for passage in passages {
            out.append(UInt8(fields.firstIndex(of: passage.field) ?? 0))
            appendVarint(UInt64(passage.entryIndex + 1), to: &out)
            appendVarint(UInt64(passage.text.utf8.count), to: &out)
            out.append(contentsOf: passage.text.utf8)
        }
        return out
    }

    /// Calls `body` with each stored passage's field and UTF-8 text, without making strings.
    static func forEach(_ bytes: UnsafeRawBufferPointer, _ body: (SessionSearch.Field, UnsafeRawBufferPointer) -> Void)
    {
        var offset = 0
        while offset < bytes.count {
            let fieldIndex = Int(bytes[offset])
            offset += 1
            guard readVarint(bytes, &offset) != nil, let length = readVarint(bytes, &offset),
                length <= UInt64(bytes.count - offset)
            else { return }
            body(
                fieldIndex < fields.count ? fields[fieldIndex] : .reply,
                UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + Int(length)]))
            offset += Int(length)
        }
    }

    static func decode(_ bytes: UnsafeRawBufferPointer) -> [SessionSearch.Passage] {
        decode(bytes, positions: nil)
    }

    /// The passages at `positions` (ascending; `nil` for all), in that order.
    static func decode(_ bytes: UnsafeRawBufferPointer, positions: [Int]?) -> [SessionSearch.Passage] {
        var passages: [SessionSearch.Passage] = []
        var offset = 0
        var position = -1
        var wanted = positions?.makeIterator()
        var next = wanted?.next()
        while offset < bytes.count {
            position += 1
            if positions != nil {
                guard let target = next else { break }
                if position != target {
                    // Skipped without making its string.
                    offset += 1
                    guard readVarint(bytes, &offset) != nil, let length = readVarint(bytes, &offset),
                        length <= UInt64(bytes.count - offset)
                    else { break }
                    offset += Int(length)
                    continue
                }
                next = wanted?.next()
            }
            let fieldIndex = Int(bytes[offset])
            offset += 1
            guard let entry = readVarint(bytes, &offset), let length = readVarint(bytes, &offset),
                length <= UInt64(bytes.count - offset)
            else { break }
            let text = String(
                decoding: UnsafeRawBufferPointer(rebasing: bytes[offset..<offset + Int(length)]), as: UTF8.self)
            offset += Int(length)
            passages.append(
                SessionSearch.Passage(
                    field: fieldIndex < fields.count ? fields[fieldIndex] : .reply, entryIndex: Int(entry) - 1,
                    text: text))
        }
        return passages
    }

    static func appendVarint(_ value: UInt64, to out: inout [UInt8]) {
        var value = value
        while value >= 0x80 {
            out.append(UInt8(value & 0x7F) | 0x80)
            value >>= 7
        }
        out.append(UInt8(value))
    }

    static func readVarint(_ bytes: UnsafeRawBufferPointer, _ offset: inout Int) -> UInt64? {
        var value: UInt64 = 0
        var shift: UInt64 = 0
        while offset < bytes.count {
            let byte = bytes[offset]
            offset += 1
            value |= UInt64(byte & 0x7F) << shift
            if byte < 0x80 { return value }
            shift += 7
            if shift > 63 { return nil }
        }
        return nil
    }
}

/// Sorted slot lists: a trigram's sessions, stored delta-encoded as varints.
enum SlotList {
    static func encode(_ slots: [UInt32]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(slots.count + 4)
        var previous: UInt32 = 0
        for slot in slots {
            PassageCoding.appendVarint(UInt64(slot - previous), to: &out)
            previous = slot
        }
        return out
    }

    static func decode(_ bytes: UnsafeRawBufferPointer, into slots: inout [UInt32]) {
        var offset = 0
        var previous: UInt32 = 0
        while let delta = PassageCoding.readVarint(bytes, &offset) {
            previous &+= UInt32(truncatingIfNeeded: delta)
            slots.append(previous)
        }
    }

    /// The slots in both sorted lists.
    static func intersect(_ left: [UInt32], _ right: [UInt32]) -> [UInt32] {
        var out: [UInt32] = []
        var i = 0
        var j = 0
        while i < left.count && j < right.count {
            if left[i] == right[j] {
                out.append(left[i])
                i += 1
                j += 1
            } else if left[i] < right[j] {
                i += 1
            } else {
                j += 1
            }
        }
        return out
    }

    /// The slots in either sorted list, sorted, without duplicates.
    static func union(_ left: [UInt32], _ right: [UInt32]) -> [UInt32] {
        if right.isEmpty { return left }
        if left.isEmpty { return right }
        var out: [UInt32] = []
        out.reserveCapacity(left.count + right.count)
        var i = 0
        var j = 0
        while i < left.count || j < right.count {
            if j >= right.count || (i < left.count && left[i] < right[j]) {
                out.append(left[i])
                i += 1
            } else if i >= left.count || right[j] < left[i] {
                out.append(right[j])
                j += 1
            } else {
                out.append(left[i])
                i += 1
                j += 1
            }
        }
        return out
    }
}

/// Trigram → sorted slots, built in memory for a bulk (re)build of the postings (used by one
/// writer at a time).
///
/// Trigrams are found through an open-addressing table of 24-bit keys (a `[UInt32: Int]` hashed
/// each of the tens of millions of (trigram, session) pairs of a full build with SipHash).
final class PostingsBuilder: @unchecked Sendable {
    /// Key + 1 in the low 32 bits (0: empty), the list's index in the high 32 bits.
    private var table = [UInt64](repeating: 0, count: 1 << 16)
    private var used = 0
    private var lists: [[UInt32]] = []

    /// The index of `key`'s list, made empty when new.
    @inline(__always) private func index(of key: UInt32) -> Int {
        let mask = table.count - 1
        var slot = Int(truncatingIfNeeded: (UInt64(key) &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask
        while true {
            let entry = table[slot]
            if entry == 0 { break }
            if UInt32(truncatingIfNeeded: entry) == key &+ 1 { return Int(entry >> 32) }
            slot = (slot + 1) & mask
        }
        let index = lists.count
        lists.append([])
        table[slot] = UInt64(index) << 32 | UInt64(key &+ 1)
        used += 1
        if used * 2 > table.count { grow() }
        return index
    }

    private func grow() {
        let old = table
        table = [UInt64](repeating: 0, count: old.count * 2)
        let mask = table.count - 1
        for entry in old where entry != 0 {
            let key = UInt32(truncatingIfNeeded: entry) &- 1
            var slot = Int(truncatingIfNeeded: (UInt64(key) &* 0x9E37_79B9_7F4A_7C15) >> 40) & mask
            while table[slot] != 0 { slot = (slot + 1) & mask }
            table[slot] = entry
        }
    }

    /// Adds a slot's trigrams (slots must come in increasing order for each trigram).
    func add(slot: UInt32, keys: [UInt32]) {
        for key in keys {
            let index = index(of: key)
            lists[index].append(slot)
        }
    }

    /// Adds a whole list for a trigram (before any `add(slot:keys:)` for it).
    func add(key: UInt32, slots: [UInt32]) {
        guard !slots.isEmpty else { return }
        let index = index(of: key)
        lists[index] = SlotList.union(lists[index], slots)
    }

    /// Every trigram with its slots.
    func forEach(_ body: (UInt32, [UInt32]) throws -> Void) rethrows {
        for entry in table where entry != 0 {
            let list = lists[Int(entry >> 32)]
            if !list.isEmpty { try body(UInt32(truncatingIfNeeded: entry) &- 1, list) }
        }
    }
}
