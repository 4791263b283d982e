import ClaudeCode

/// The entry types that take part in the conversation graph (they carry `uuid` and
/// `parentUuid`).
enum EntryType: UInt8, Sendable {
    case user, assistant, progress, system, attachment

    init?(_ name: String) {
        switch name {
        case "user": self = .user
        case "assistant": self = .assistant
        case "progress": self = .progress
        case "system": self = .system
        case "attachment": self = .attachment
        default: return nil
        }
    }

    /// The type a `type` string names, compared as bytes.
    init?(_ view: JSONTapeView) {
        guard let (bytes, escaped) = view.rawString else { return nil }
        if escaped {
            self.init(view.stringValue ?? "")
            return
        }
        switch bytes.count {
        case 4 where TranscriptParser.equal(bytes, "user"): self = .user
        case 6 where TranscriptParser.equal(bytes, "system"): self = .system
        case 8 where TranscriptParser.equal(bytes, "progress"): self = .progress
        case 9 where TranscriptParser.equal(bytes, "assistant"): self = .assistant
        case 10 where TranscriptParser.equal(bytes, "attachment"): self = .attachment
        default: return nil
        }
    }

    var isConversation: Bool { self == .user || self == .assistant }
}

/// A uuid as a dictionary key: canonical lowercase UUIDs are packed into 128 bits, so
/// hashing and comparing them is cheap; any other text is kept as is (boxed, so that a key
/// takes 24 bytes: every entry and message holds one or two).
struct UUIDKey: Hashable {
    var high: UInt64
    var low: UInt64
    private var box: TextBox?

    /// The text of a uuid that is not a canonical lowercase UUID (`nil` for a packed one).
    var text: String? { box?.text }

    final class TextBox: Sendable {
        let text: String
        init(_ text: String) { self.text = text }
    }

    init(_ string: String) {
        var text = string
        if let (high, low) = text.withUTF8({ Self.pack($0) }) {
            self.high = high
            self.low = low
            self.box = nil
        } else {
            self.high = 0
            self.low = 0
            self.box = TextBox(string)
        }
    }

    static func == (left: UUIDKey, right: UUIDKey) -> Bool {
        left.high == right.high && left.low == right.low && left.text == right.text
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(high)
        hasher.combine(low)
        hasher.combine(text)
    }

    /// A hash for ``UUIDSlotTable``: the packed bits mixed (a random UUID's bits are already
    /// uniform), or the text's hash.
    var tableHash: UInt64 {
        if let text { return UInt64(bitPattern: Int64(text.hashValue)) }
        let mixed = (high ^ low.rotatedLeft(by: 29)) &* 0x9E37_79B9_7F4A_7C15
        return mixed ^ (mixed >> 32)
    }

    /// The key of a string value read from a line's tape (no string is built for a canonical UUID).
    init?(_ view: JSONTapeView) {
        guard let (bytes, escaped) = view.rawString else { return nil }
        if !escaped, let (high, low) = Self.pack(bytes) {
            self.init(high: high, low: low)
        } else if let string = view.stringValue {
            self.init(string)
        } else {
            return nil
        }
    }

    private init(high: UInt64, low: UInt64) {
        self.high = high
        self.low = low
        self.box = nil
    }

    /// Whether the text is empty.
    var isEmpty: Bool { text?.isEmpty ?? false }

    /// The uuid's text (a packed UUID is spelled back in canonical lowercase form, as it was read).
    var string: String {
        if let text { return text }
        return String(unsafeUninitializedCapacity: 36) { buffer in
            let digits: StaticString = "0123456789abcdef"
            var output = 0
            for digit in 0..<32 {
                if digit == 8 || digit == 12 || digit == 16 || digit == 20 {
                    buffer[output] = UInt8(ascii: "-")
                    output += 1
                }
                let word = digit < 16 ? high : low
                let shift = UInt64(60 - 4 * (digit & 15))
                buffer[output] = digits.utf8Start[Int((word >> shift) & 0xF)]
                output += 1
            }
            return 36
        }
    }

    /// The 128 bits of a canonical lowercase UUID, or `nil` for any other text: its 32 digits
    /// decoded eight at a time (a uuid is packed for every line of a transcript).
    private static func pack(_ bytes: UnsafeBufferPointer<UInt8>) -> (UInt64, UInt64)? {
        guard bytes.count == 36, let base = bytes.baseAddress else { return nil }
        let dash = UInt8(ascii: "-")
        guard base[8] == dash, base[13] == dash, base[18] == dash, base[23] == dash else { return nil }
        let raw = UnsafeRawPointer(base)
        func word(_ offset: Int) -> UInt64 { raw.loadUnaligned(fromByteOffset: offset, as: UInt64.self).littleEndian }
        func half(_ offset: Int) -> UInt64 {
            UInt64(raw.loadUnaligned(fromByteOffset: offset, as: UInt32.self).littleEndian)
        }
        guard let first = hex8(word(0)), let second = hex8(half(9) | half(14) << 32),
            let third = hex8(half(19) | half(24) << 32), let fourth = hex8(word(28))
        else { return nil }
        return (first << 32 | second, third << 32 | fourth)
    }

    /// The value of eight lowercase hexadecimal digits (the first one in the lowest byte), or
    /// `nil` when a byte is not one.
    @inline(__always)
    private static func hex8(_ word: UInt64) -> UInt64? {
        let ones: UInt64 = 0x0101_0101_0101_0101
        let highs: UInt64 = 0x8080_8080_8080_8080
        guard word & highs == 0 else { return nil }
        // Every byte is below 0x80, so adding less than 0x80 to each never carries into the next.
        let digit = (word &+ ones &* 0x50) & ~(word &+ ones &* 0x46) & highs  // 0x30...0x39
        let letter = (word &+ ones &* 0x1F) & ~(word &+ ones &* 0x19) & highs  // 0x61...0x66
        guard digit | letter == highs else { return nil }
        let nibbles = (word & (ones &* 0x0F)) &+ (letter >> 7) &* 9
        let pairs = (nibbles & 0x000F_000F_000F_000F) << 4 | (nibbles >> 8) & 0x000F_000F_000F_000F
        let quads = (pairs & 0x0000_00FF_0000_00FF) << 8 | (pairs >> 16) & 0x0000_00FF_0000_00FF
        return (quads & 0xFFFF) << 16 | (quads >> 32) & 0xFFFF
    }
}

/// A message or tool-call id as a dictionary key: two 64-bit fingerprints of its UTF-8 (computed
/// while the line is parsed, on the parsing threads), so that the entries keep no string per id
/// and rebuilding the chain hashes and compares integers. Two different ids share a key only
/// if both 64-bit halves collide (about 10⁻³⁰ for the ids of a long session), which the chain
/// could not tell apart from the same id.
struct IDKey: Hashable {
    let first: UInt64
    let second: UInt64

    init(_ text: String) {
        var text = text
        let (first, second) = text.withUTF8 { Self.fingerprints($0) }
        self.init(first: first, second: second)
    }

    private init(first: UInt64, second: UInt64) {
        self.first = first
        self.second = second
    }

    /// A placeholder for an absent id (never compared: see ``TranscriptEntry/assistantMessageID``).
    static let zero = IDKey(first: 0, second: 0)

    /// The key of a string value read from a line's tape (no string is built for ASCII text
    /// without escapes, whose bytes are its UTF-8); `nil` when the value is not a string.
    init?(_ view: JSONTapeView) {
        guard let (bytes, escaped) = view.rawString else { return nil }
        if !escaped, !bytes.contains(where: { $0 >= 0x80 }) {
            let (first, second) = Self.fingerprints(bytes)
            self.init(first: first, second: second)
        } else if let text = view.stringValue {
            self.init(text)
        } else {
            return nil
        }
    }

    func hash(into hasher: inout Hasher) { hasher.combine(first) }

    /// Two independent multiply-rotate hashes over eight bytes at a time (not cryptographic).
    static func fingerprints(_ bytes: UnsafeBufferPointer<UInt8>) -> (UInt64, UInt64) {
        var first: UInt64 = 0x9E37_79B9_7F4A_7C15 ^ UInt64(bytes.count)
        var second: UInt64 = 0xC2B2_AE3D_27D4_EB4F &+ UInt64(bytes.count)
        guard let base = bytes.baseAddress else { return (first, second) }
        let raw = UnsafeRawPointer(base)
        var index = 0
        while index &+ 8 <= bytes.count {
            let word = raw.loadUnaligned(fromByteOffset: index, as: UInt64.self)
            first = ((first ^ word) &* 0xBF58_476D_1CE4_E5B9).rotatedLeft(by: 31)
            second = ((second &+ word) &* 0x94D0_49BB_1331_11EB).rotatedLeft(by: 27) ^ word
            index &+= 8
        }
        var tail: UInt64 = 0
        var shift: UInt64 = 0
        while index < bytes.count {
            tail |= UInt64(base[index]) << shift
            shift &+= 8
            index &+= 1
        }
        first = (first ^ tail) &* 0x94D0_49BB_1331_11EB
        second = ((second &+ tail) &* 0xBF58_476D_1CE4_E5B9) ^ tail
        return (first ^ (first >> 29), second ^ (second >> 32))
    }
}

extension UInt64 {
    fileprivate func rotatedLeft(by count: UInt64) -> UInt64 { self << count | self >> (64 &- count) }
}

/// One transcript line that belongs to the conversation graph, with the fields the chain
/// needs. The line itself stays in the file buffer; only these fields are decoded.
///
/// A compact struct (136 bytes), kept in one contiguous array: an entry is kept for every line
/// of a transcript, and the chain's walks read them by index.
struct TranscriptEntry {
    let line: Range<Int>
    /// `uuid` (kept packed; ``uuid`` spells it).
    let uuidKey: UUIDKey
    /// `parentUuid` when it is a non-empty string (kept packed; ``parentUUID`` spells it).
    var parentKey: UUIDKey?
    /// `message.id` of an assistant entry (meaningful when `hasAssistantMessageID`).
    private var assistantMessageIDKey = IDKey.zero
    /// `id` of each `tool_use` block.
    var toolUseIDs: [IDKey] = []
    /// `tool_use_id` of each `tool_result` block.
    var toolResultIDs: [IDKey] = []
    /// The members few entries have, allocated only when one is present.
    private var rare: RareFields?
    /// `timestamp` and `message` as 32-bit offsets into the line (a line is under 2 GiB, which
    /// the tape enforces).
    private var timestampSpan = LineSpan.absent
    private var messageSpan = LineSpan.absent
    /// `sessionId` when it is a string: its index in ``ParsedTranscript/sessionIDs`` (-1: none),
    /// read while the line was parsed, so that the messages do not read the line again once it
    /// has left the processor's caches. An index rather than the key: entries of a transcript
    /// nearly always share one id, and four bytes fit in the entry's padding.
    var sessionIDIndex: Int32 = -1
    let type: EntryType
    var isSidechain = false
    var isMeta = false
    var hasTeamName = false
    /// Whether `message.content` holds any `tool_result` block.
    var hasToolResultBlock = false
    private var hasAssistantMessageID = false

    /// The entry's `uuid`.
    var uuid: String { uuidKey.string }
    /// `parentUuid` when it is a non-empty string.
    var parentUUID: String? { parentKey?.string }

    /// `message.id` of an assistant entry, when a non-empty string.
    var assistantMessageID: IDKey? {
        get { hasAssistantMessageID ? assistantMessageIDKey : nil }
        set {
            hasAssistantMessageID = newValue != nil
            assistantMessageIDKey = newValue ?? .zero
        }
    }

    /// The `timestamp` member (decoded only when needed).
    var timestamp: Range<Int>? {
        get { timestampSpan.range(in: line) }
        set { timestampSpan = LineSpan(newValue, in: line) }
    }
    /// The `message` member's bytes (parsed only when a reader asks for the value).
    var message: Range<Int>? {
        get { messageSpan.range(in: line) }
        set { messageSpan = LineSpan(newValue, in: line) }
    }
    /// `logicalParentUuid` when it is a non-empty string (compaction back-pointer).
    var logicalParentUUID: String? {
        get { rare?.logicalParentUUID }
        set { updateRare { $0.logicalParentUUID = newValue } }
    }
    /// `agentId`, or `nil` when absent.
    var agentID: JSONValue? {
        get { rare?.agentID }
        set { updateRare { $0.agentID = newValue } }
    }
    /// `sourceToolAssistantUUID` when it is a string.
    var sourceToolAssistantKey: UUIDKey? {
        get { rare?.sourceToolAssistantKey }
        set { updateRare { $0.sourceToolAssistantKey = newValue } }
    }

    /// Changes the rare fields (on a copy, so that copies of the entry keep their own).
    private mutating func updateRare(_ change: (RareFields) -> Void) {
        let fields = RareFields()
        if let rare {
            fields.logicalParentUUID = rare.logicalParentUUID
            fields.agentID = rare.agentID
            fields.sourceToolAssistantKey = rare.sourceToolAssistantKey
        }
        change(fields)
        rare = fields.isEmpty ? nil : fields
    }

    final class RareFields {
        var logicalParentUUID: String?
        var agentID: JSONValue?
        var sourceToolAssistantKey: UUIDKey?
        var isEmpty: Bool { logicalParentUUID == nil && agentID == nil && sourceToolAssistantKey == nil }
    }

    /// A range inside the line, as offsets from its start; `start < 0` when absent.
    struct LineSpan {
        var start: Int32
        var end: Int32

        static let absent = LineSpan(start: -1, end: -1)

        init(start: Int32, end: Int32) {
            self.start = start
            self.end = end
        }

        init(_ range: Range<Int>?, in line: Range<Int>) {
            guard let range else {
                self = .absent
                return
            }
            start = Int32(range.lowerBound - line.lowerBound)
            end = Int32(range.upperBound - line.lowerBound)
        }

        func range(in line: Range<Int>) -> Range<Int>? {
            start < 0 ? nil : (line.lowerBound + Int(start))..<(line.lowerBound + Int(end))
        }
    }

    /// A user entry that answers tool calls and has a parent (Python: `_is_tool_result_entry`).
    var isToolResultEntry: Bool {
        type == .user && parentKey != nil && hasToolResultBlock
    }

    /// Whether the conversation shows the entry (user or assistant, not meta, sidechain or team).
    var isVisible: Bool {
        type.isConversation && !isMeta && !isSidechain && !hasTeamName
    }

    init(line: Range<Int>, type: EntryType, uuid: UUIDKey) {
        self.line = line
        self.type = type
        self.uuidKey = uuid
    }
}

/// A transcript file split into lines and decoded into conversation entries.
struct ParsedTranscript {
    var bytes: [UInt8]
    var entries: [TranscriptEntry]
    /// Lines that are not complete, valid JSON objects.
    var corruptLineCount: Int
    /// `content-replacement` payloads of the session (for forks): the raw `replacements` arrays.
    var contentReplacements: [Range<Int>] = []
    /// What a listing counts of each entry (`entries[i]`'s at `i`), when the parse was asked for
    /// it; empty otherwise.
    var figures: [EntryFigures] = []
    /// The session ids the entries name (``TranscriptEntry/sessionIDIndex``); an id repeated on
    /// consecutive entries is stored once.
    var sessionIDs: [UUIDKey] = []

    /// The session id of `entry` (an entry of this transcript), when its line names one.
    func sessionID(of entry: TranscriptEntry) -> UUIDKey? {
        entry.sessionIDIndex >= 0 ? sessionIDs[Int(entry.sessionIDIndex)] : nil
    }
}

/// What a listing counts of an entry's `message` (``SessionExporter/TranscriptFigures``), read
/// from the line's tape while it is parsed, so that no message is read twice.
struct EntryFigures {
    /// `message.content` is present and neither `null` nor `[]`.
    var hasContent = false
    /// `message.id` when it is a string (the empty string included).
    var id: IDKey?
    /// `message.model` when it is a string other than `<synthetic>`: its token's range in the file.
    var model: Range<Int>?
    /// `message.usage` when it is an object (a missing or non-integral count is 0).
    var usage: SessionDocument.Usage?
}

enum TranscriptParser {
    /// Splits `bytes` into lines and decodes the conversation entries, in parallel for
    /// large files. Empty lines are ignored; lines that are not valid JSON objects are counted.
    /// No `message` value is built: entries keep its byte range and the ids the chain needs.
    ///
    /// With `figures`, each entry's ``EntryFigures`` are read too (``ParsedTranscript/figures``).
    static func parse(
        _ bytes: [UInt8], replacementsFor sessionID: String? = nil,
        cancellation: CancellationFlag? = nil, figures: Bool = false
    ) -> ParsedTranscript {
        let boundaries = chunkBoundaries(
            bytes, chunks: BlockingIO.chunkCount(for: bytes.count, minimumPerChunk: 1 << 20))
        let slots = ParallelSlots<ParsedLines>(count: boundaries.count - 1)
        BlockingIO.parallel(iterations: boundaries.count - 1) { chunk in
            slots[chunk] = parseLines(
                bytes, range: boundaries[chunk]..<boundaries[chunk + 1], replacementsFor: sessionID,
                cancellation: cancellation, figures: figures)
        }
        var result = ParsedTranscript(bytes: bytes, entries: [], corruptLineCount: 0)
        var total = 0
        for chunk in 0..<slots.count { total += slots[chunk]?.entries.count ?? 0 }
        for chunk in 0..<slots.count {
            guard var part = slots[chunk] else { continue }
            slots[chunk] = nil  // each chunk's entries are freed as soon as they are copied
            if result.entries.isEmpty {
                // The first chunk's arrays are taken over, not copied entry by entry (growing
                // a uniquely held array moves its elements without retaining them).
                swap(&result.entries, &part.entries)
                swap(&result.sessionIDs, &part.sessionIDs)
                result.figures = part.figures ?? []
                part.figures = nil
                result.entries.reserveCapacity(total)
                if figures { result.figures.reserveCapacity(total) }
            } else {
                let offset = Int32(result.sessionIDs.count)
                if offset > 0 {
                    for index in part.entries.indices where part.entries[index].sessionIDIndex >= 0 {
                        part.entries[index].sessionIDIndex += offset
                    }
                }
                result.sessionIDs.append(contentsOf: part.sessionIDs)
                result.entries.append(contentsOf: part.entries)
                result.figures.append(contentsOf: part.figures ?? [])
            }
            result.corruptLineCount += part.corrupt
            result.contentReplacements.append(contentsOf: part.replacements)
        }
        return result
    }

    /// Cut points at line starts, about evenly spaced.
    static func chunkBoundaries(_ bytes: [UInt8], chunks: Int) -> [Int] {
        var boundaries = [0]
        guard chunks > 1 else { return [0, bytes.count] }
        bytes.withUnsafeBytes { raw in
            let step = bytes.count / chunks
            for chunk in 1..<chunks {
                let target = max(chunk * step, boundaries.last!)
                guard target < bytes.count,
                    let newline = ByteSearch.findFirst(
                        0x0A, in: raw.baseAddress! + target, length: bytes.count - target)
                else { break }
                let cut = target + newline + 1
                if cut < bytes.count, cut > boundaries.last! { boundaries.append(cut) }
            }
        }
        boundaries.append(bytes.count)
        return boundaries
    }

    /// What ``parseLines(_:range:replacementsFor:cancellation:figures:)`` found in a range of lines.
    struct ParsedLines {
        var entries: [TranscriptEntry]
        var corrupt: Int
        var replacements: [Range<Int>]
        /// One per entry, when asked for.
        var figures: [EntryFigures]?
        /// What the entries' ``TranscriptEntry/sessionIDIndex`` point to.
        var sessionIDs: [UUIDKey] = []
    }

    static func parseLines(
        _ bytes: [UInt8], range: Range<Int>, replacementsFor sessionID: String?,
        cancellation: CancellationFlag?, figures: Bool = false
    ) -> ParsedLines {
        var entries: [TranscriptEntry] = []
        var entryFigures: [EntryFigures]? = figures ? [] : nil
        var corrupt = 0
        var replacements: [Range<Int>] = []
        var sessionIDs: [UUIDKey] = []
        var tape = JSONTape()
        bytes.withUnsafeBufferPointer { buffer in
            let base = buffer.baseAddress!
            var start = range.lowerBound
            var number = 0
            while start < range.upperBound {
                if number & 1023 == 0, cancellation?.isCancelled == true { break }
                number &+= 1
                // A line is parsed where it starts, and its parse finds its end: no separate
                // search for the newline. A line that is not one value on one line (blank, corrupt,
                // or with a newline in its whitespace) is found the plain way and read as it is.
                let result: LineResult
                let line: Range<Int>
                if let end = tape.parseLine(base: base, from: start, end: range.upperBound) {
                    line = start..<end
                    result = decodeLine(
                        buffer, line: line, tape: tape, replacementsFor: sessionID, figures: &entryFigures,
                        sessionIDs: &sessionIDs)
                } else {
                    let end =
                        ByteSearch.findFirst(0x0A, in: base + start, length: range.upperBound - start).map {
                            start + $0
                        }
                        ?? range.upperBound
                    line = start..<end
                    result = parseLine(
                        buffer, line: line, tape: &tape, replacementsFor: sessionID, figures: &entryFigures,
                        sessionIDs: &sessionIDs)
                }
                start = line.upperBound + 1
                switch result {
                case .entry(let entry): entries.append(entry)
                case .replacements(let range): replacements.append(range)
                case .blank, .other: break
                case .corrupt: corrupt += 1
                }
            }
        }
        return ParsedLines(
            entries: entries, corrupt: corrupt, replacements: replacements, figures: entryFigures,
            sessionIDs: sessionIDs)
    }

    enum LineResult {
        case entry(TranscriptEntry)
        case replacements(Range<Int>)
        case blank
        case other
        case corrupt
    }

    static func isBlank(_ bytes: UnsafeBufferPointer<UInt8>, _ line: Range<Int>) -> Bool {
        for index in line where !(bytes[index] == 0x20 || bytes[index] == 0x09 || bytes[index] == 0x0D) {
            return false
        }
        return true
    }

    /// The members a line is read for.
    enum Field {
        case type, uuid, parentUuid, logicalParentUuid, isSidechain, isMeta, teamName, agentId, timestamp
        case sourceToolAssistantUUID, sessionId, message, replacements

        static let all: [(name: String, field: Field)] = [
            ("type", .type), ("uuid", .uuid), ("parentUuid", .parentUuid), ("logicalParentUuid", .logicalParentUuid),
            ("isSidechain", .isSidechain), ("isMeta", .isMeta), ("teamName", .teamName), ("agentId", .agentId),
            ("timestamp", .timestamp), ("sourceToolAssistantUUID", .sourceToolAssistantUUID),
            ("sessionId", .sessionId), ("message", .message), ("replacements", .replacements),
        ]

        /// The field a key names, compared as bytes (decoded first when it has escapes).
        static func named(_ key: JSONTapeView) -> Field? {
            guard let (bytes, escaped) = key.rawString else { return nil }
            if escaped {
                let decoded = key.stringValue ?? ""
                return all.first { $0.name == decoded }?.field
            }
            switch bytes.count {
            case 4:
                if equal(bytes, "type") { return .type }
                if equal(bytes, "uuid") { return .uuid }
            case 6: if equal(bytes, "isMeta") { return .isMeta }
            case 7:
                if equal(bytes, "agentId") { return .agentId }
                if equal(bytes, "message") { return .message }
            case 8: if equal(bytes, "teamName") { return .teamName }
            case 9:
                if equal(bytes, "timestamp") { return .timestamp }
                if equal(bytes, "sessionId") { return .sessionId }
            case 10: if equal(bytes, "parentUuid") { return .parentUuid }
            case 11: if equal(bytes, "isSidechain") { return .isSidechain }
            case 12: if equal(bytes, "replacements") { return .replacements }
            case 17: if equal(bytes, "logicalParentUuid") { return .logicalParentUuid }
            case 23: if equal(bytes, "sourceToolAssistantUUID") { return .sourceToolAssistantUUID }
            default: break
            }
            return nil
        }
    }

    /// Whether `bytes` spell `literal` (ASCII).
    @inline(__always)
    static func equal(_ bytes: UnsafeBufferPointer<UInt8>, _ literal: StaticString) -> Bool {
        guard bytes.count == literal.utf8CodeUnitCount else { return false }
        let expected = literal.utf8Start
        for index in 0..<bytes.count where bytes[index] != expected[index] { return false }
        return true
    }

    /// Whether the string `view` is `literal` (escapes decoded first).
    static func stringEquals(_ view: JSONTapeView, _ literal: StaticString) -> Bool {
        guard let (bytes, escaped) = view.rawString else { return false }
        if !escaped { return equal(bytes, literal) }
        return view.stringValue == literal.description
    }

    /// Decodes one line. The whole line is checked strictly (as `json.loads` would: one pass
    /// records it as a tape of byte ranges), and only the members the chain needs are decoded;
    /// the `message` value stays text.
    ///
    /// When `figures` is not `nil`, an entry's ``EntryFigures`` are appended to it. An entry's
    /// session id goes to `sessionIDs` (unless it repeats the last one), and the entry keeps its
    /// index there.
    static func parseLine(
        _ bytes: UnsafeBufferPointer<UInt8>, line: Range<Int>, tape: inout JSONTape, replacementsFor sessionID: String?,
        figures: inout [EntryFigures]?, sessionIDs: inout [UUIDKey]
    ) -> LineResult {
        if isBlank(bytes, line) { return .blank }
        do {
            try tape.parse(UnsafeBufferPointer(rebasing: bytes[line]))
        } catch {
            return .corrupt
        }
        return decodeLine(
            bytes, line: line, tape: tape, replacementsFor: sessionID, figures: &figures, sessionIDs: &sessionIDs)
    }

    /// Decodes the line whose value `tape` holds (with offsets from the line's start).
    static func decodeLine(
        _ bytes: UnsafeBufferPointer<UInt8>, line: Range<Int>, tape: JSONTape, replacementsFor sessionID: String?,
        figures: inout [EntryFigures]?, sessionIDs: inout [UUIDKey]
    ) -> LineResult {
        let text = UnsafeBufferPointer(rebasing: bytes[line])
        return tape.withRoot(of: text) { root -> LineResult in
            guard root.kind == .object else { return .corrupt }
            var values = FieldViews()
            root.forEachMemberView { key, value in
                if let field = Field.named(key) { values[field] = value }
            }
            let offset = line.lowerBound
            func range(_ view: JSONTapeView) -> Range<Int> {
                let local = view.textRange
                return (local.lowerBound + offset)..<(local.upperBound + offset)
            }
            guard let typeView = values[.type], typeView.kind == .string else { return .other }
            guard let entryType = EntryType(typeView) else {
                if let sessionID, stringEquals(typeView, "content-replacement"),
                    let replacements = values[.replacements],
                    replacements.kind == .array, let session = values[.sessionId], session.stringValue == sessionID
                {
                    return .replacements(range(replacements))
                }
                return .other
            }
            guard let uuid = values[.uuid].flatMap(UUIDKey.init) else { return .other }
            var entry = TranscriptEntry(line: line, type: entryType, uuid: uuid)
            entry.parentKey = values[.parentUuid].flatMap(UUIDKey.init).flatMap { $0.isEmpty ? nil : $0 }
            if let logicalParent = nonEmpty(values[.logicalParentUuid]?.stringValue) {
                entry.logicalParentUUID = logicalParent
            }
            entry.isSidechain = values[.isSidechain].map(isTruthy) ?? false
            entry.isMeta = values[.isMeta].map(isTruthy) ?? false
            entry.hasTeamName = values[.teamName].map(isTruthy) ?? false
            if let agentID = values[.agentId] { entry.agentID = agentID.jsonValue }
            entry.timestamp = values[.timestamp].map(range)
            if let source = values[.sourceToolAssistantUUID].flatMap(UUIDKey.init) {
                entry.sourceToolAssistantKey = source
            }
            if let session = values[.sessionId].flatMap(UUIDKey.init) {
                if sessionIDs.last != session { sessionIDs.append(session) }
                entry.sessionIDIndex = Int32(truncatingIfNeeded: sessionIDs.count - 1)
            }
            var counted = EntryFigures()
            if let message = values[.message] {
                entry.message = range(message)
                if message.kind == .object {
                    decodeMessage(message, into: &entry)
                    if figures != nil { counted = entryFigures(message, offset: offset) }
                }
            }
            figures?.append(counted)
            return .entry(entry)
        }
    }

    /// The views of the fields found on a line (the last one when a key repeats).
    struct FieldViews {
        var type, uuid, parentUuid, logicalParentUuid, isSidechain, isMeta, teamName, agentId: JSONTapeView?
        var timestamp, sourceToolAssistantUUID, sessionId, message, replacements: JSONTapeView?

        subscript(field: Field) -> JSONTapeView? {
            get {
                switch field {
                case .type: type
                case .uuid: uuid
                case .parentUuid: parentUuid
                case .logicalParentUuid: logicalParentUuid
                case .isSidechain: isSidechain
                case .isMeta: isMeta
                case .teamName: teamName
                case .agentId: agentId
                case .timestamp: timestamp
                case .sourceToolAssistantUUID: sourceToolAssistantUUID
                case .sessionId: sessionId
                case .message: message
                case .replacements: replacements
                }
            }
            set {
                switch field {
                case .type: type = newValue
                case .uuid: uuid = newValue
                case .parentUuid: parentUuid = newValue
                case .logicalParentUuid: logicalParentUuid = newValue
                case .isSidechain: isSidechain = newValue
                case .isMeta: isMeta = newValue
                case .teamName: teamName = newValue
                case .agentId: agentId = newValue
                case .timestamp: timestamp = newValue
                case .sourceToolAssistantUUID: sourceToolAssistantUUID = newValue
                case .sessionId: sessionId = newValue
                case .message: message = newValue
                case .replacements: replacements = newValue
                }
            }
        }
    }

    /// A string member of a line, or `nil` when absent or not a string.
    static func string(_ bytes: [UInt8], _ range: Range<Int>?) -> String? {
        guard let range, bytes[range.lowerBound] == 0x22 else { return nil }
        return try? JSONObjectScanner(bytes, range: range).string(in: range)
    }

    /// Reads `message.id` and the ids in `message.content` blocks from the line's tape.
    static func decodeMessage(_ message: JSONTapeView, into entry: inout TranscriptEntry) {
        var content: JSONTapeView?
        message.forEachMemberView { key, value in
            switch member(key, in: idAndContent) {
            case 0:
                if entry.type == .assistant {
                    // Non-empty strings only (an escape never decodes to nothing).
                    entry.assistantMessageID = value.rawString?.bytes.isEmpty == false ? IDKey(value) : nil
                }
            case 1: content = value
            default: break
            }
        }
        guard let content, content.kind == .array else { return }
        content.forEachElement { block in
            guard block.kind == .object else { return }
            var blockType: JSONTapeView?
            var id: JSONTapeView?
            var toolUseID: JSONTapeView?
            block.forEachMemberView { key, value in
                switch member(key, in: blockMembers) {
                case 0: blockType = value
                case 1: id = value
                case 2: toolUseID = value
                default: break
                }
            }
            guard let blockType else { return }
            if stringEquals(blockType, "tool_use") {
                if let value = id.flatMap(IDKey.init) { entry.toolUseIDs.append(value) }
            } else if stringEquals(blockType, "tool_result") {
                entry.hasToolResultBlock = true
                if let value = toolUseID.flatMap(IDKey.init) { entry.toolResultIDs.append(value) }
            }
        }
    }

    static let idAndContent: [StaticString] = ["id", "content"]
    static let blockMembers: [StaticString] = ["type", "id", "tool_use_id"]
    static let figuresMembers: [StaticString] = ["content", "id", "model", "usage"]
    static let usageMembers: [StaticString] = [
        "input_tokens", "output_tokens", "cache_creation_input_tokens", "cache_read_input_tokens",
    ]

    /// Which of `names` the key spells (escapes decoded first), as an index; `nil` for none.
    @inline(__always)
    static func member(_ key: JSONTapeView, in names: [StaticString]) -> Int? {
        guard let (bytes, escaped) = key.rawString else { return nil }
        if escaped {
            guard let decoded = key.stringValue else { return nil }
            return names.firstIndex { $0.description == decoded }
        }
        return names.firstIndex { equal(bytes, $0) }
    }

    /// The ``EntryFigures`` of a `message` object whose line starts at `offset` (the last member
    /// wins when a key repeats, as in a parsed object).
    static func entryFigures(_ message: JSONTapeView, offset: Int) -> EntryFigures {
        var figures = EntryFigures()
        var content: JSONTapeView?
        var model: JSONTapeView?
        var usage: JSONTapeView?
        var id: JSONTapeView?
        message.forEachMemberView { key, value in
            switch member(key, in: figuresMembers) {
            case 0: content = value
            case 1: id = value
            case 2: model = value
            case 3: usage = value
            default: break
            }
        }
        if let content {
            figures.hasContent = !(content.kind == .null || (content.kind == .array && content.count == 0))
        }
        figures.id = id.flatMap(IDKey.init)
        if let model, model.kind == .string, !stringEquals(model, "<synthetic>") {
            let local = model.textRange
            figures.model = (local.lowerBound + offset)..<(local.upperBound + offset)
        }
        if let usage, usage.kind == .object {
            var counts = SessionDocument.Usage()
            usage.forEachMemberView { key, value in
                switch member(key, in: usageMembers) {
                case 0: counts.inputTokens = value.intValue ?? 0
                case 1: counts.outputTokens = value.intValue ?? 0
                case 2: counts.cacheCreationInputTokens = value.intValue ?? 0
                case 3: counts.cacheReadInputTokens = value.intValue ?? 0
                default: break
                }
            }
            figures.usage = counts
        }
        return figures
    }

    /// Python truthiness of a JSON value: false, null, 0, "", [] and {} are false.
    static func isTruthy(_ view: JSONTapeView) -> Bool {
        switch view.kind {
        case .null: false
        case .bool: view.boolValue ?? false
        case .int, .double: (view.doubleValue ?? 0) != 0
        case .string: (view.rawString?.bytes.count ?? 0) > 0
        case .array, .object: view.count > 0
        }
    }
}

/// Rebuilds the conversation from `parentUuid` links, the way the CLI and the Python SDK do.
///
/// Every uuid gets a slot (in order of first appearance, like the keys of Python's
/// `by_uuid` dict, whose values are the latest entry with that uuid); the walks then use
/// integer slots instead of hashing strings.
struct ConversationGraph {
    let entries: [TranscriptEntry]
    let bytes: [UInt8]
    /// uuid → slot.
    private var uuidSlots: UUIDSlotTable
    /// slot → index of the latest entry with that uuid.
    private(set) var latestEntry = CompactIndices()
    /// entry index → its slot.
    private(set) var slotOfEntry = CompactIndices()
    /// entry index → the slot of its parent, or -1 when it has none in the transcript.
    private(set) var parentSlot = CompactIndices()

    init(entries: [TranscriptEntry], bytes: [UInt8]) {
        self.entries = entries
        self.bytes = bytes
        var table = UUIDSlotTable(capacity: entries.count)
        var latestEntry = CompactIndices()
        var slotOfEntry = CompactIndices()
        latestEntry.reserveCapacity(entries.count)
        slotOfEntry.reserveCapacity(entries.count)
        for index in entries.indices {
            let (slot, inserted) = table.slot(
                inserting: entries[index].uuidKey, as: latestEntry.count,
                keyOfSlot: { entries[latestEntry[$0]].uuidKey })
            if inserted {
                latestEntry.append(index)
            } else {
                latestEntry[slot] = index
            }
            slotOfEntry.append(slot)
        }
        parentSlot.reserveCapacity(entries.count)
        for entry in entries {
            parentSlot.append(
                entry.parentKey.flatMap { key in
                    table.slot(of: key, keyOfSlot: { entries[latestEntry[$0]].uuidKey })
                } ?? -1)
        }
        uuidSlots = table
        self.latestEntry = latestEntry
        self.slotOfEntry = slotOfEntry
    }

    /// The slot of a uuid, or `nil` when no entry has it.
    func slot(of key: UUIDKey) -> Int? {
        uuidSlots.slot(of: key, keyOfSlot: { entries[latestEntry[$0]].uuidKey })
    }

    /// Whether two entries were written by the same (sub)agent.
    func sameWriter(_ first: Int, _ second: Int) -> Bool {
        entries[first].isSidechain == entries[second].isSidechain && entries[first].agentID == entries[second].agentID
    }

    func entryIndex(uuid: String) -> Int? {
        slot(of: UUIDKey(uuid)).map { latestEntry[$0] }
    }

    func parentIndex(of index: Int) -> Int? {
        let slot = parentSlot[index]
        return slot >= 0 ? latestEntry[slot] : nil
    }

    /// The visible conversation, oldest first: the chain from the chosen leaf back to the
    /// root, with parallel tool calls and results put back, filtered to what users see.
    func visibleConversation() -> [Int] {
        conversationChain().filter { entries[$0].isVisible }
    }

    /// The chain as entry indices, oldest first, including recovered parallel-tool entries.
    func conversationChain() -> [Int] {
        guard let leaf = chooseLeaf() else { return [] }
        var seen = [Bool](repeating: false, count: latestEntry.count)
        let chain = walkToRoot(from: leaf, seen: &seen)
        return recoverParallelToolEntries(chain: chain, seen: &seen)
    }

    /// Walks `parentUuid` from `start` to the root (stopping at a cycle) and returns the
    /// path oldest first, marking each uuid in `seen`.
    func walkToRoot(from start: Int, seen: inout [Bool]) -> [Int] {
        var chain: [Int] = []
        var current: Int? = start
        while let index = current {
            let slot = slotOfEntry[index]
            if seen[slot] { break }
            seen[slot] = true
            chain.append(index)
            current = parentIndex(of: index)
        }
        chain.reverse()
        return chain
    }

    /// The leaf the conversation continues from: among the user/assistant entries nearest
    /// each terminal, the latest one that is not sidechain, team or meta (else the latest).
    func chooseLeaf() -> Int? {
        guard !entries.isEmpty else { return nil }
        // A uuid is a parent when any entry names it (entries naming unknown uuids don't count).
        var hasChild = [Bool](repeating: false, count: latestEntry.count)
        for slot in parentSlot where slot >= 0 { hasChild[slot] = true }
        var leaves: [Int] = []
        var stamp = CompactIndices(repeating: -1, count: latestEntry.count)
        for terminal in entries.indices where !hasChild[slotOfEntry[terminal]] {
            var current: Int? = terminal
            while let index = current {
                let slot = slotOfEntry[index]
                if stamp[slot] == terminal { break }
                stamp[slot] = terminal
                if entries[index].type.isConversation {
                    leaves.append(index)
                    break
                }
                current = parentIndex(of: index)
            }
        }
        guard !leaves.isEmpty else { return nil }
        let main = leaves.filter { !entries[$0].isSidechain && !entries[$0].hasTeamName && !entries[$0].isMeta }
        let candidates = main.isEmpty ? leaves : main
        var best = candidates[0]
        var bestPosition = latestEntry[slotOfEntry[best]]
        for candidate in candidates.dropFirst() {
            let position = latestEntry[slotOfEntry[candidate]]
            if position > bestPosition {
                best = candidate
                bestPosition = position
            }
        }
        return best
    }

    /// Puts back the tool calls and results that a turn with parallel tool calls left off
    /// the chain (the CLI writes one assistant entry per content block, and each result's
    /// parent is its own call, so the transcript forks). Mirrors the Python SDK's
    /// `_recover_orphaned_parallel_tool_results`.
    func recoverParallelToolEntries(chain: [Int], seen: inout [Bool]) -> [Int] {
        let chainAssistants = chain.filter { entries[$0].type == .assistant }
        guard !chainAssistants.isEmpty else { return chain }
        // One table per response of the chain (by `message.id`): its anchor (the last of its
        // entries on the chain), its group of sibling entries, and whether it was processed.
        var responses: [IDKey: Response] = [:]
        for index in chainAssistants {
            if let messageID = entries[index].assistantMessageID {
                responses[messageID, default: Response()].anchor = Int32(truncatingIfNeeded: index)
            }
        }
        guard !responses.isEmpty else { return chain }

        // Group the assistant entries of the chain's responses; remember who made each call
        // (-1: ambiguous). Only the chain's responses are ever looked up, so only they are kept.
        var groupCount = 0
        var siblings = IndexLists(lists: responses.count)
        var callOwner: [IDKey: Int] = [:]
        var toolResultEntries: [Int] = []
        for index in latestEntry {
            if entries[index].type == .assistant, let messageID = entries[index].assistantMessageID {
                if let response = responses.index(forKey: messageID) {
                    var group = Int(responses.values[response].group)
                    if group < 0 {
                        group = groupCount
                        groupCount += 1
                        responses.values[response].group = Int32(truncatingIfNeeded: group)
                    }
                    siblings.append(index, to: group)
                }
                for callID in entries[index].toolUseIDs {
                    guard let owner = callOwner[callID] else {
                        callOwner[callID] = index
                        continue
                    }
                    let sameResponse = owner >= 0 && entries[owner].assistantMessageID == messageID
                    callOwner[callID] = sameResponse ? index : -1
                }
            } else if entries[index].isToolResultEntry {
                toolResultEntries.append(index)
            }
        }
        var isMember = [Bool](repeating: false, count: latestEntry.count)
        siblings.forEachItem { index in isMember[slotOfEntry[index]] = true }
        for index in chainAssistants { isMember[slotOfEntry[index]] = true }

        // Index each result under its parent, its source assistant and the owners of its calls
        // (by slot; only the members of the chain's responses are ever looked up).
        var resultsBySlot = IndexLists(lists: latestEntry.count)
        for index in toolResultEntries {
            let parent = parentSlot[index]
            if parent >= 0, isMember[parent] { resultsBySlot.append(index, to: parent) }
            if let source = entries[index].sourceToolAssistantKey, let sourceSlot = slot(of: source),
                isMember[sourceSlot],
                sameWriter(index, latestEntry[sourceSlot])
            {
                resultsBySlot.append(index, to: sourceSlot)
            }
            for callID in entries[index].toolResultIDs {
                if let owner = callOwner[callID], owner >= 0, isMember[slotOfEntry[owner]], sameWriter(index, owner) {
                    resultsBySlot.append(index, to: slotOfEntry[owner])
                }
            }
        }

        var answeredOnChain: Set<IDKey>?
        var inserts: [Int: [Int]] = [:]  // anchor slot → recovered entries
        var memberStamp = CompactIndices(repeating: -1, count: latestEntry.count)
        var collectedStamp = CompactIndices(repeating: -1, count: latestEntry.count)

        for (response, assistant) in chainAssistants.enumerated() {
            guard let messageID = entries[assistant].assistantMessageID, let info = responses[messageID],
                !info.processed
            else { continue }
            responses[messageID]?.processed = true
            let group = info.group >= 0 ? siblings.items(of: Int(info.group)) : [assistant]
            for member in group { memberStamp[slotOfEntry[member]] = response }
            var orphanedSiblings = group.filter { !seen[slotOfEntry[$0]] }
            var orphanedResults: [Int] = []
            var strays: [Int] = []
            for member in group {
                for result in resultsBySlot.items(of: slotOfEntry[member]) {
                    let slot = slotOfEntry[result]
                    if seen[slot] || collectedStamp[slot] == response { continue }
                    collectedStamp[slot] = response
                    let parent = parentSlot[result]
                    if parent >= 0, memberStamp[parent] == response {
                        orphanedResults.append(result)
                    } else {
                        strays.append(result)
                    }
                }
            }
            if !strays.isEmpty {
                if answeredOnChain == nil {
                    answeredOnChain = Set(chain.flatMap { entries[$0].toolResultIDs })
                }
                var answered = answeredOnChain!
                for result in orphanedResults { answered.formUnion(entries[result].toolResultIDs) }
                strays = stableSorted(strays) { slotOfEntry[$0] < slotOfEntry[$1] }
                for result in strays {
                    let callIDs = entries[result].toolResultIDs
                    let answersOpenCall = callIDs.contains { callID in
                        guard !answered.contains(callID), let owner = callOwner[callID], owner >= 0 else {
                            return false
                        }
                        return memberStamp[slotOfEntry[owner]] == response
                    }
                    guard answersOpenCall else { continue }
                    answered.formUnion(callIDs)
                    orphanedResults.append(result)
                }
            }
            if orphanedSiblings.isEmpty && orphanedResults.isEmpty { continue }
            // Python sorts by the timestamp string ("" when it is not a string).
            let timestamps = Dictionary(
                (orphanedSiblings + orphanedResults).map {
                    ($0, TranscriptParser.string(bytes, entries[$0].timestamp) ?? "")
                },
                uniquingKeysWith: { first, _ in first })
            let byTimestamp: (Int, Int) -> Bool = {
                timestamps[$0]!.utf8.lexicographicallyPrecedes(timestamps[$1]!.utf8)
            }
            orphanedSiblings = stableSorted(orphanedSiblings, by: byTimestamp)
            orphanedResults = stableSorted(orphanedResults, by: byTimestamp)
            let recovered = orphanedSiblings + orphanedResults
            for index in recovered { seen[slotOfEntry[index]] = true }
            inserts[slotOfEntry[Int(info.anchor)]] = recovered
        }
        guard !inserts.isEmpty else { return chain }
        var result: [Int] = []
        result.reserveCapacity(chain.count + inserts.count)
        for index in chain {
            result.append(index)
            if let recovered = inserts[slotOfEntry[index]] { result.append(contentsOf: recovered) }
        }
        return result
    }

    /// A response of the chain, in ``recoverParallelToolEntries(chain:seen:)``.
    struct Response {
        /// The last entry of the chain with the response's `message.id`.
        var anchor: Int32 = -1
        /// Its group in the siblings' lists, or -1 before its first sibling is listed.
        var group: Int32 = -1
        var processed = false
    }

    /// The subagent chain: from the last user/assistant entry back to the root, filtered to
    /// user and assistant entries (subagent transcripts are linear; meta is not filtered).
    func subagentConversation() -> [Int] {
        guard let leaf = entries.indices.last(where: { entries[$0].type.isConversation }) else { return [] }
        var seen = [Bool](repeating: false, count: latestEntry.count)
        return walkToRoot(from: leaf, seen: &seen).filter { entries[$0].type.isConversation }
    }
}

/// uuid → slot, as an open-addressing table of 8-byte buckets that hold the slot and a tag of the
/// key's hash, not the key: the key of a slot is read from the entries (`keyOfSlot`) when a tag
/// matches. A fifth of the memory of a `[UUIDKey: Int]`, and no `Hasher` for packed uuids.
struct UUIDSlotTable {
    /// 0 when empty; else the slot + 1 in the low 32 bits, the hash's high 32 bits above.
    private var buckets: [UInt64]
    private let mask: Int

    init(capacity: Int) {
        var size = 16
        while size < capacity + capacity / 2 { size <<= 1 }
        buckets = [UInt64](repeating: 0, count: size)
        mask = size - 1
    }

    /// The slot of `key`, or `nil`.
    func slot(of key: UUIDKey, keyOfSlot: (Int) -> UUIDKey) -> Int? {
        let hash = key.tableHash
        var bucket = Int(truncatingIfNeeded: hash) & mask
        while true {
            let value = buckets[bucket]
            if value == 0 { return nil }
            if value >> 32 == hash >> 32 {
                let slot = Int(truncatingIfNeeded: value & 0xFFFF_FFFF) &- 1
                if keyOfSlot(slot) == key { return slot }
            }
            bucket = (bucket &+ 1) & mask
        }
    }

    /// The slot of `key`, after giving it `newSlot` when it had none (`inserted`).
    mutating func slot(
        inserting key: UUIDKey, as newSlot: Int, keyOfSlot: (Int) -> UUIDKey
    ) -> (slot: Int, inserted: Bool) {
        let hash = key.tableHash
        var bucket = Int(truncatingIfNeeded: hash) & mask
        while true {
            let value = buckets[bucket]
            if value == 0 {
                buckets[bucket] = (hash >> 32) << 32 | UInt64(newSlot &+ 1)
                return (newSlot, true)
            }
            if value >> 32 == hash >> 32 {
                let slot = Int(truncatingIfNeeded: value & 0xFFFF_FFFF) &- 1
                if keyOfSlot(slot) == key { return (slot, false) }
            }
            bucket = (bucket &+ 1) & mask
        }
    }
}

/// Lists of entry indices, each kept in the order of appending, in four flat arrays rather than
/// one array per list (the chain's indexes have thousands of short lists).
struct IndexLists {
    private var head: CompactIndices
    private var tail: CompactIndices
    private var item = CompactIndices()
    private var next = CompactIndices()

    init(lists: Int) {
        head = CompactIndices(repeating: -1, count: lists)
        tail = head
    }

    mutating func append(_ value: Int, to list: Int) {
        let node = item.count
        item.append(value)
        next.append(-1)
        if tail[list] >= 0 { next[tail[list]] = node } else { head[list] = node }
        tail[list] = node
    }

    func items(of list: Int) -> [Int] {
        var result: [Int] = []
        var node = head[list]
        while node >= 0 {
            result.append(item[node])
            node = next[node]
        }
        return result
    }

    /// Every value of every list.
    func forEachItem(_ body: (Int) -> Void) { item.forEach(body) }
}

/// Entry indices and slots (or -1) as 32-bit integers: half the memory of `[Int]` for the
/// chain's per-entry tables (a transcript has fewer than 2³¹ lines).
struct CompactIndices: Sequence {
    private var storage: [Int32]

    init() { storage = [] }

    init(repeating value: Int, count: Int) {
        storage = [Int32](repeating: Int32(truncatingIfNeeded: value), count: count)
    }

    var count: Int { storage.count }

    subscript(index: Int) -> Int {
        get { Int(storage[index]) }
        set { storage[index] = Int32(truncatingIfNeeded: newValue) }
    }

    mutating func append(_ value: Int) { storage.append(Int32(truncatingIfNeeded: value)) }

    mutating func reserveCapacity(_ capacity: Int) { storage.reserveCapacity(capacity) }

    func makeIterator() -> LazyMapSequence<[Int32], Int>.Iterator {
        storage.lazy.map { Int($0) }.makeIterator()
    }
}

/// A stable sort (Swift's `sorted` is not guaranteed stable; Python's is).
func stableSorted<T>(_ items: [T], by areInIncreasingOrder: (T, T) -> Bool) -> [T] {
    items.enumerated().sorted { left, right in
        if areInIncreasingOrder(left.element, right.element) { return true }
        if areInIncreasingOrder(right.element, left.element) { return false }
        return left.offset < right.offset
    }.map(\.element)
}

/// Applies Python's paging: `[offset:offset+limit]` when `limit > 0`, else `[offset:]`.
func page<T>(_ items: [T], limit: Int?, offset: Int) -> [T] {
    let start = min(max(0, offset), items.count)
    if let limit, limit > 0 {
        return Array(items[start..<min(items.count, start + limit)])
    }
    return start == 0 ? items : Array(items[start...])
}
