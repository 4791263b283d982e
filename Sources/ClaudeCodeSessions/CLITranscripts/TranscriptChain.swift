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

    var isConversation: Bool { self == .user || self == .assistant }
}

/// A uuid as a dictionary key: canonical lowercase UUIDs are packed into 128 bits, so
/// hashing and comparing them is cheap; any other text is kept as is.
struct UUIDKey: Hashable {
    var high: UInt64
    var low: UInt64
    var text: String?

    init(_ string: String) {
        var text = string
        if let (high, low) = text.withUTF8({ Self.pack($0) }) {
            self.high = high
            self.low = low
            self.text = nil
        } else {
            self.high = 0
            self.low = 0
            self.text = string
        }
    }

    /// The 128 bits of a canonical lowercase UUID, or `nil` for any other text.
    private static func pack(_ bytes: UnsafeBufferPointer<UInt8>) -> (UInt64, UInt64)? {
        guard bytes.count == 36 else { return nil }
        var high: UInt64 = 0
        var low: UInt64 = 0
        var digits = 0
        for offset in 0..<36 {
            let byte = bytes[offset]
            if offset == 8 || offset == 13 || offset == 18 || offset == 23 {
                if byte != UInt8(ascii: "-") { return nil }
                continue
            }
            let value: UInt8
            switch byte {
            case UInt8(ascii: "0")...UInt8(ascii: "9"): value = byte &- 48
            case UInt8(ascii: "a")...UInt8(ascii: "f"): value = byte &- 87
            default: return nil
            }
            if digits < 16 { high = high << 4 | UInt64(value) } else { low = low << 4 | UInt64(value) }
            digits &+= 1
        }
        return (high, low)
    }
}

/// One transcript line that belongs to the conversation graph, with the fields the chain
/// needs. The line itself stays in the file buffer; only these fields are decoded.
///
/// A class, so that the graph's many lookups share one instance instead of copying a
/// struct full of strings.
final class TranscriptEntry {
    let line: Range<Int>
    let type: EntryType
    let uuid: String
    let uuidKey: UUIDKey
    /// `parentUUID` as a key.
    var parentKey: UUIDKey?
    /// `parentUuid` when it is a non-empty string.
    var parentUUID: String?
    /// `logicalParentUuid` when it is a non-empty string (compaction back-pointer).
    var logicalParentUUID: String?
    var isSidechain = false
    var isMeta = false
    var hasTeamName = false
    /// `agentId`, or `nil` when absent.
    var agentID: JSONValue?
    /// The `timestamp` member (decoded only when needed).
    var timestamp: Range<Int>?
    var sourceToolAssistantUUID: String?
    /// The `sessionId` member (decoded only for the messages returned).
    var sessionID: Range<Int>?
    /// The `message` member's bytes.
    var message: Range<Int>?
    /// The `message` member, parsed while reading the line (when asked for).
    var messageValue: JSONValue?
    /// `message.id` of an assistant entry, when a non-empty string.
    var assistantMessageID: String?
    /// `id` of each `tool_use` block.
    var toolUseIDs: [String] = []
    /// `tool_use_id` of each `tool_result` block.
    var toolResultIDs: [String] = []
    /// Whether `message.content` holds any `tool_result` block.
    var hasToolResultBlock = false

    /// A user entry that answers tool calls and has a parent (Python: `_is_tool_result_entry`).
    var isToolResultEntry: Bool {
        type == .user && parentUUID != nil && hasToolResultBlock
    }

    /// Whether the conversation shows the entry (user or assistant, not meta, sidechain or team).
    var isVisible: Bool {
        type.isConversation && !isMeta && !isSidechain && !hasTeamName
    }

    init(line: Range<Int>, type: EntryType, uuid: String) {
        self.line = line
        self.type = type
        self.uuid = uuid
        self.uuidKey = UUIDKey(uuid)
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
}

enum TranscriptParser {
    /// Splits `bytes` into lines and decodes the conversation entries, in parallel for
    /// large files. Empty lines are ignored; lines that are not valid JSON objects are counted.
    /// - Parameter parseMessages: Whether to build each entry's `message` value while
    ///   reading (readers need them; forks copy bytes and only need the ids).
    static func parse(
        _ bytes: [UInt8], parseMessages: Bool = true, replacementsFor sessionID: String? = nil,
        cancellation: CancellationFlag? = nil
    ) -> ParsedTranscript {
        let boundaries = chunkBoundaries(
            bytes, chunks: BlockingIO.chunkCount(for: bytes.count, minimumPerChunk: 1 << 20))
        let slots = ParallelSlots<(entries: [TranscriptEntry], corrupt: Int, replacements: [Range<Int>])>(
            count: boundaries.count - 1)
        BlockingIO.parallel(iterations: boundaries.count - 1) { chunk in
            slots[chunk] = parseLines(
                bytes, range: boundaries[chunk]..<boundaries[chunk + 1], parseMessages: parseMessages,
                replacementsFor: sessionID, cancellation: cancellation)
        }
        var result = ParsedTranscript(bytes: bytes, entries: [], corruptLineCount: 0)
        for chunk in 0..<slots.count {
            guard let part = slots[chunk] else { continue }
            result.entries.append(contentsOf: part.entries)
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

    static func parseLines(
        _ bytes: [UInt8], range: Range<Int>, parseMessages: Bool, replacementsFor sessionID: String?,
        cancellation: CancellationFlag?
    ) -> (entries: [TranscriptEntry], corrupt: Int, replacements: [Range<Int>]) {
        var entries: [TranscriptEntry] = []
        var corrupt = 0
        var replacements: [Range<Int>] = []
        var lines: [Range<Int>] = []
        bytes.withUnsafeBytes { raw in
            let base = raw.baseAddress!
            var start = range.lowerBound
            while start < range.upperBound {
                let end =
                    ByteSearch.findFirst(0x0A, in: base + start, length: range.upperBound - start).map { start + $0 }
                    ?? range.upperBound
                lines.append(start..<end)
                start = end + 1
            }
        }
        for (number, line) in lines.enumerated() {
            if number & 1023 == 0, cancellation?.isCancelled == true { break }
            switch parseLine(bytes, line: line, parseMessages: parseMessages, replacementsFor: sessionID) {
            case .entry(let entry): entries.append(entry)
            case .replacements(let range): replacements.append(range)
            case .blank, .other: break
            case .corrupt: corrupt += 1
            }
        }
        return (entries, corrupt, replacements)
    }

    enum LineResult {
        case entry(TranscriptEntry)
        case replacements(Range<Int>)
        case blank
        case other
        case corrupt
    }

    static func isBlank(_ bytes: [UInt8], _ line: Range<Int>) -> Bool {
        for index in line where !(bytes[index] == 0x20 || bytes[index] == 0x09 || bytes[index] == 0x0D) {
            return false
        }
        return true
    }

    /// The members a line is read for, in one pass (`message` parsed or not).
    static let fields = [
        "type", "uuid", "parentUuid", "logicalParentUuid", "isSidechain", "isMeta", "teamName", "agentId",
        "timestamp", "sourceToolAssistantUUID", "sessionId", "message", "replacements",
    ]
    static let lookupParsingMessages = JSONObjectScanner.KeyLookup(fields, parse: ["message"])
    static let lookupSkippingMessages = JSONObjectScanner.KeyLookup(fields)

    /// Decodes one line. The whole line is checked strictly (as `json.loads` would), while
    /// only the members the chain needs are decoded.
    static func parseLine(_ bytes: [UInt8], line: Range<Int>, parseMessages: Bool, replacementsFor sessionID: String?)
        -> LineResult
    {
        if isBlank(bytes, line) { return .blank }
        let scanner = JSONObjectScanner(bytes, range: line)
        guard let found = try? scanner.lookUp(parseMessages ? lookupParsingMessages : lookupSkippingMessages) else {
            return .corrupt
        }
        let ranges = found.ranges
        guard let typeRange = ranges[0], let typeName = try? scanner.string(in: typeRange) else { return .other }
        guard let entryType = EntryType(typeName) else {
            if let sessionID, typeName == "content-replacement", let replacements = ranges[12],
                bytes[replacements.lowerBound] == 0x5B, let session = ranges[10],
                (try? scanner.string(in: session)) == sessionID
            {
                return .replacements(replacements)
            }
            return .other
        }
        guard let uuidRange = ranges[1], let uuidValue = try? scanner.string(in: uuidRange) else { return .other }
        let entry = TranscriptEntry(line: line, type: entryType, uuid: uuidValue)
        entry.parentUUID = ranges[2].flatMap { nonEmpty(try? scanner.string(in: $0)) }
        entry.parentKey = entry.parentUUID.map(UUIDKey.init)
        entry.logicalParentUUID = ranges[3].flatMap { nonEmpty(try? scanner.string(in: $0)) }
        entry.isSidechain = ranges[4].map { isTruthy(bytes, $0) } ?? false
        entry.isMeta = ranges[5].map { isTruthy(bytes, $0) } ?? false
        entry.hasTeamName = ranges[6].map { isTruthy(bytes, $0) } ?? false
        entry.agentID = ranges[7].flatMap { try? scanner.value(in: $0) }
        entry.timestamp = ranges[8]
        entry.sourceToolAssistantUUID = ranges[9].flatMap { try? scanner.string(in: $0) }
        entry.sessionID = ranges[10]
        entry.message = ranges[11]
        if let messageValue = found.values[11] {
            entry.messageValue = messageValue
            decodeMessage(messageValue, into: entry)
        } else if let message = ranges[11], bytes[message.lowerBound] == 0x7B {
            decodeMessage(bytes, message: message, into: entry)
        }
        return .entry(entry)
    }

    /// A string member of a line, or `nil` when absent or not a string.
    static func string(_ bytes: [UInt8], _ range: Range<Int>?) -> String? {
        guard let range, bytes[range.lowerBound] == 0x22 else { return nil }
        return try? JSONObjectScanner(bytes, range: range).string(in: range)
    }

    /// Reads `message.id` and the ids in `message.content` blocks from a parsed message.
    static func decodeMessage(_ message: JSONValue, into entry: TranscriptEntry) {
        guard case .object(let object) = message else { return }
        if entry.type == .assistant, case .string(let id)? = object["id"], !id.isEmpty { entry.assistantMessageID = id }
        guard case .array(let blocks)? = object["content"] else { return }
        for block in blocks {
            guard case .object(let fields) = block, case .string(let type)? = fields["type"] else { continue }
            switch type {
            case "tool_use":
                if case .string(let id)? = fields["id"] { entry.toolUseIDs.append(id) }
            case "tool_result":
                entry.hasToolResultBlock = true
                if case .string(let id)? = fields["tool_use_id"] { entry.toolResultIDs.append(id) }
            default:
                break
            }
        }
    }

    /// Reads `message.id` and the ids in `message.content` blocks without building them.
    static func decodeMessage(_ bytes: [UInt8], message: Range<Int>, into entry: TranscriptEntry) {
        let scanner = JSONObjectScanner(bytes, range: message)
        var content: Range<Int>?
        var iterator = scanner.makeIterator()
        while let member = iterator.next() {
            switch member.key {
            case "id":
                if entry.type == .assistant {
                    entry.assistantMessageID = nonEmpty(try? scanner.string(in: member.valueRange))
                }
            case "content":
                content = member.valueRange
            default:
                break
            }
        }
        guard let content, let blocks = try? scanner.arrayElementRanges(in: content) else { return }
        for block in blocks where bytes[block.lowerBound] == 0x7B {
            let blockScanner = JSONObjectScanner(bytes, range: block)
            var blockType: String?
            var id: Range<Int>?
            var toolUseID: Range<Int>?
            var blockIterator = blockScanner.makeIterator()
            while let member = blockIterator.next() {
                switch member.key {
                case "type": blockType = try? blockScanner.string(in: member.valueRange)
                case "id": id = member.valueRange
                case "tool_use_id": toolUseID = member.valueRange
                default: break
                }
            }
            switch blockType {
            case "tool_use":
                if let id, let value = try? blockScanner.string(in: id) { entry.toolUseIDs.append(value) }
            case "tool_result":
                entry.hasToolResultBlock = true
                if let toolUseID, let value = try? blockScanner.string(in: toolUseID) {
                    entry.toolResultIDs.append(value)
                }
            default:
                break
            }
        }
    }

    /// Python truthiness of the JSON value in `range`: false, null, 0, "", [] and {} are false.
    static func isTruthy(_ bytes: [UInt8], _ range: Range<Int>) -> Bool {
        guard !range.isEmpty else { return false }
        switch bytes[range.lowerBound] {
        case UInt8(ascii: "t"): return true
        case UInt8(ascii: "f"), UInt8(ascii: "n"): return false
        case 0x22: return range.count > 2
        case 0x5B, 0x7B:
            var index = range.lowerBound + 1
            while index < range.upperBound,
                bytes[index] == 0x20 || bytes[index] == 0x09 || bytes[index] == 0x0A || bytes[index] == 0x0D
            {
                index += 1
            }
            return index < range.upperBound && bytes[index] != 0x5D && bytes[index] != 0x7D
        default:
            let value = try? JSONObjectScanner(bytes, range: range).value(in: range)
            return (value?.doubleValue ?? 0) != 0
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
    private(set) var slotOfUUID: [UUIDKey: Int] = [:]
    /// slot → index of the latest entry with that uuid.
    private(set) var latestEntry: [Int] = []
    /// entry index → its slot.
    private(set) var slotOfEntry: [Int] = []
    /// entry index → the slot of its parent, or -1 when it has none in the transcript.
    private(set) var parentSlot: [Int] = []

    init(entries: [TranscriptEntry], bytes: [UInt8]) {
        self.entries = entries
        self.bytes = bytes
        slotOfUUID.reserveCapacity(entries.count)
        latestEntry.reserveCapacity(entries.count)
        slotOfEntry.reserveCapacity(entries.count)
        for index in entries.indices {
            if let slot = slotOfUUID[entries[index].uuidKey] {
                latestEntry[slot] = index
                slotOfEntry.append(slot)
            } else {
                slotOfUUID[entries[index].uuidKey] = latestEntry.count
                slotOfEntry.append(latestEntry.count)
                latestEntry.append(index)
            }
        }
        parentSlot = entries.indices.map { index in
            entries[index].parentKey.flatMap { slotOfUUID[$0] } ?? -1
        }
    }

    /// Whether two entries were written by the same (sub)agent.
    func sameWriter(_ first: Int, _ second: Int) -> Bool {
        entries[first].isSidechain == entries[second].isSidechain && entries[first].agentID == entries[second].agentID
    }

    func entryIndex(uuid: String) -> Int? {
        slotOfUUID[UUIDKey(uuid)].map { latestEntry[$0] }
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
        var stamp = [Int](repeating: -1, count: latestEntry.count)
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
        var anchorByMessageID: [String: Int] = [:]
        for index in chainAssistants {
            if let messageID = entries[index].assistantMessageID { anchorByMessageID[messageID] = index }
        }
        guard !anchorByMessageID.isEmpty else { return chain }

        // Group the assistant entries of the chain's responses; remember who made each call
        // (-1: ambiguous). Only the chain's responses are ever looked up, so only they are kept.
        var siblingsByMessageID: [String: [Int]] = [:]
        var callOwner: [String: Int] = [:]
        var toolResultEntries: [Int] = []
        for index in latestEntry {
            if entries[index].type == .assistant, let messageID = entries[index].assistantMessageID {
                if anchorByMessageID[messageID] != nil { siblingsByMessageID[messageID, default: []].append(index) }
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
        for group in siblingsByMessageID.values {
            for index in group { isMember[slotOfEntry[index]] = true }
        }
        for index in chainAssistants { isMember[slotOfEntry[index]] = true }

        // Index each result under its parent, its source assistant and the owners of its calls
        // (by slot; only the members of the chain's responses are ever looked up).
        var resultsBySlot: [Int: [Int]] = [:]
        for index in toolResultEntries {
            let parent = parentSlot[index]
            if parent >= 0, isMember[parent] { resultsBySlot[parent, default: []].append(index) }
            if let source = entries[index].sourceToolAssistantUUID, let sourceSlot = slotOfUUID[UUIDKey(source)],
                isMember[sourceSlot],
                sameWriter(index, latestEntry[sourceSlot])
            {
                resultsBySlot[sourceSlot, default: []].append(index)
            }
            for callID in entries[index].toolResultIDs {
                if let owner = callOwner[callID], owner >= 0, isMember[slotOfEntry[owner]], sameWriter(index, owner) {
                    resultsBySlot[slotOfEntry[owner], default: []].append(index)
                }
            }
        }

        var answeredOnChain: Set<String>?
        var processed = Set<String>()
        var inserts: [Int: [Int]] = [:]  // anchor slot → recovered entries
        var memberStamp = [Int](repeating: -1, count: latestEntry.count)
        var collectedStamp = [Int](repeating: -1, count: latestEntry.count)

        for (response, assistant) in chainAssistants.enumerated() {
            guard let messageID = entries[assistant].assistantMessageID, !processed.contains(messageID) else {
                continue
            }
            processed.insert(messageID)
            let group = siblingsByMessageID[messageID] ?? [assistant]
            for member in group { memberStamp[slotOfEntry[member]] = response }
            var orphanedSiblings = group.filter { !seen[slotOfEntry[$0]] }
            var orphanedResults: [Int] = []
            var strays: [Int] = []
            for member in group {
                for result in resultsBySlot[slotOfEntry[member]] ?? [] {
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
            inserts[slotOfEntry[anchorByMessageID[messageID]!]] = recovered
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

    /// The subagent chain: from the last user/assistant entry back to the root, filtered to
    /// user and assistant entries (subagent transcripts are linear; meta is not filtered).
    func subagentConversation() -> [Int] {
        guard let leaf = entries.indices.last(where: { entries[$0].type.isConversation }) else { return [] }
        var seen = [Bool](repeating: false, count: latestEntry.count)
        return walkToRoot(from: leaf, seen: &seen).filter { entries[$0].type.isConversation }
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
    return Array(items[start...])
}
