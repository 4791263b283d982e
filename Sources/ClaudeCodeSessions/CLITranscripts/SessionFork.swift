import ClaudeCode

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Writes a copy of a session under a new id, with fresh message ids.
///
/// Differences from the Python SDK's `fork_session`, all deliberate:
/// - **Chain order.** Python copies every non-sidechain entry up to the cut point *in file
///   order*, so messages from abandoned branches (an edited prompt, a rewind) come along
///   and can even become the leaf. Here the fork holds the conversation that leads to the
///   cut point (or to the current leaf): its `parentUuid` ancestry, continued through
///   `logicalParentUuid` across compactions, the parallel tool calls and results of its
///   turns, and the metadata entries (attachments, system and progress rows) that hang off
///   those messages. Entries after the cut point in the file are never included.
/// - **Bytes kept.** Each line is rewritten member by member, so key order, number
///   spelling and non-ASCII text stay exactly as the CLI wrote them. Python re-serializes
///   with `ensure_ascii`.
/// - **Lines.** Lines are split on `\n` only. Python's `splitlines()` also splits on
///   U+2028 and U+2029, which the CLI writes unescaped inside strings, and so drops every
///   message that contains one.
/// - **Timestamps** written for the fork use the CLI's format (milliseconds, `Z`).
enum SessionFork {
    /// Members removed from forked entries because they belong to the source session.
    static let removedKeys: Set<String> = ["teamName", "agentName", "slug", "sourceToolAssistantUUID"]

    struct Plan {
        var lines: [UInt8]
        var sessionID: String
    }

    static func makePlan(
        source bytes: [UInt8], sourceSessionID: String, upToMessageID: String?, title: String?
    ) throws(CLITranscriptError) -> Plan {
        guard !bytes.isEmpty else { throw CLITranscriptError(.nothingToFork, subject: sourceSessionID) }
        let parsed = TranscriptParser.parse(bytes, replacementsFor: sourceSessionID)
        let entries = parsed.entries.filter { !$0.isSidechain }
        guard !entries.isEmpty else { throw CLITranscriptError(.nothingToFork, subject: sourceSessionID) }
        let graph = ConversationGraph(entries: entries, bytes: bytes)

        var cutIndex: Int?
        if let upToMessageID {
            guard let index = entries.firstIndex(where: { $0.uuid == upToMessageID }) else {
                throw CLITranscriptError(.messageNotFound, subject: upToMessageID)
            }
            cutIndex = index
        }
        let kept = keptEntries(graph: graph, cutIndex: cutIndex)

        // New ids for every kept entry, progress rows included (parents resolve through them).
        var newUUID: [String: String] = [:]
        for index in kept { newUUID[entries[index].uuid] = TextRules.newUUID() }
        let keptByUUID = Dictionary(kept.map { (entries[$0].uuid, $0) }, uniquingKeysWith: { first, _ in first })
        let writable = kept.filter { entries[$0].type != .progress }
        guard !writable.isEmpty else { throw CLITranscriptError(.nothingToFork, subject: sourceSessionID) }

        let forkID = TextRules.newUUID()
        let now = TextRules.isoNow()
        var output: [UInt8] = []
        output.reserveCapacity(bytes.count / 2)
        for (position, index) in writable.enumerated() {
            let entry = entries[index]
            // The parent, skipping progress rows.
            var newParent: String?
            var parentID = entry.parentUUID
            while let id = parentID, let parentIndex = keptByUUID[id] {
                if entries[parentIndex].type != .progress {
                    newParent = newUUID[id]
                    break
                }
                parentID = entries[parentIndex].parentUUID
            }
            let isLast = position == writable.count - 1
            rewrite(
                bytes, entry: entry,
                overrides: Overrides(
                    uuid: newUUID[entry.uuid]!, parentUUID: newParent,
                    logicalParentUUID: entry.logicalParentUUID.map { newUUID[$0] },
                    sessionID: forkID, timestamp: isLast ? now : nil, fallbackTimestamp: now,
                    forkedFrom: .object(["sessionId": .string(sourceSessionID), "messageUuid": .string(entry.uuid)])),
                into: &output)
            output.append(0x0A)
        }

        let replacementElements = parsed.contentReplacements.flatMap { range in
            (try? JSONObjectScanner(bytes, range: range).arrayElementRanges(in: range)) ?? []
        }
        if !replacementElements.isEmpty {
            output.append(contentsOf: Array(#"{"type":"content-replacement","sessionId":"#.utf8))
            output.append(contentsOf: JSONValue.string(forkID).serialized())
            output.append(contentsOf: Array(#","replacements":["#.utf8))
            for (number, element) in replacementElements.enumerated() {
                if number > 0 { output.append(0x2C) }
                output.append(contentsOf: bytes[element])
            }
            output.append(contentsOf: Array(#"],"uuid":"#.utf8))
            output.append(contentsOf: JSONValue.string(TextRules.newUUID()).serialized())
            output.append(contentsOf: Array(#","timestamp":"#.utf8))
            output.append(contentsOf: JSONValue.string(now).serialized())
            output.append(contentsOf: Array("}\n".utf8))
        }

        var forkTitle = title.map(TextRules.pythonStrip) ?? ""
        if forkTitle.isEmpty {
            forkTitle = (derivedTitle(bytes) ?? "Forked session") + " (fork)"
        }
        output.append(contentsOf: Array(#"{"type":"custom-title","sessionId":"#.utf8))
        output.append(contentsOf: JSONValue.string(forkID).serialized())
        output.append(contentsOf: Array(#","customTitle":"#.utf8))
        output.append(contentsOf: JSONValue.string(forkTitle).serialized())
        output.append(contentsOf: Array(#","uuid":"#.utf8))
        output.append(contentsOf: JSONValue.string(TextRules.newUUID()).serialized())
        output.append(contentsOf: Array(#","timestamp":"#.utf8))
        output.append(contentsOf: JSONValue.string(now).serialized())
        output.append(contentsOf: Array("}\n".utf8))
        return Plan(lines: output, sessionID: forkID)
    }

    /// The entries a fork keeps, in file order (see the type's documentation).
    static func keptEntries(graph: ConversationGraph, cutIndex: Int?) -> [Int] {
        let entries = graph.entries
        let tip: Int? = cutIndex ?? graph.chooseLeaf()
        guard let tip else {
            // No conversation at all: keep everything, as Python does.
            return Array(entries.indices)
        }
        // Ancestry of the tip, continuing through compaction boundaries.
        var seen = [Bool](repeating: false, count: graph.latestEntry.count)
        var chain: [Int] = []
        var current: Int? = tip
        while let index = current {
            let slot = graph.slotOfEntry[index]
            if seen[slot] { break }
            seen[slot] = true
            chain.append(index)
            let entry = entries[index]
            current = graph.parentIndex(of: index) ?? entry.logicalParentUUID.flatMap(graph.entryIndex(uuid:))
        }
        chain.reverse()
        let conversation = graph.recoverParallelToolEntries(chain: chain, seen: &seen)
        var kept = [Bool](repeating: false, count: entries.count)
        for index in conversation { kept[index] = true }

        // Metadata rows ride along with the message they hang off; rows before the first
        // message (no conversation ancestor) are kept too.
        var verdict = [Int8](repeating: -1, count: entries.count)  // -1 unknown, 0 drop, 1 keep
        for index in entries.indices where !kept[index] && !entries[index].type.isConversation {
            var path: [Int] = []
            var current: Int? = index
            var decision: Int8 = 1
            var visited = Set<Int>()
            while let step = current {
                if verdict[step] >= 0 {
                    decision = verdict[step]
                    break
                }
                if entries[step].type.isConversation {
                    decision = kept[step] ? 1 : 0
                    break
                }
                if !visited.insert(step).inserted { break }
                path.append(step)
                current = graph.parentIndex(of: step)
            }
            for step in path { verdict[step] = decision }
        }
        var result: [Int] = []
        let limit = cutIndex ?? entries.count - 1
        for index in entries.indices where index <= limit {
            if kept[index] || (!entries[index].type.isConversation && verdict[index] == 1) {
                result.append(index)
            }
        }
        return result
    }

    /// The title the source session would show (custom, else AI, else first prompt).
    static func derivedTitle(_ bytes: [UInt8]) -> String? {
        let window = LiteFile.windowSize
        let head = Array(bytes.prefix(window))
        let tailOffset = max(0, bytes.count - window)
        let file = LiteFile(
            head: head, tail: tailOffset == 0 ? head : Array(bytes[tailOffset...]), tailOffset: tailOffset,
            tailStartsMidLine: tailOffset > 0 && bytes[tailOffset - 1] != 0x0A, size: bytes.count,
            modifiedMilliseconds: 0)
        let reader = LiteMetadataReader(file: file) {
            guard tailOffset > 0 else { return nil }
            var start = tailOffset
            while start > 0, bytes[start - 1] != 0x0A { start -= 1 }
            let end = bytes[tailOffset...].firstIndex(of: 0x0A) ?? bytes.count
            return Array(bytes[start..<end])
        }
        return reader.derivedForkTitle
    }

    struct Overrides {
        var uuid: String
        var parentUUID: String?
        /// `nil`: keep the original value (absent → null); `.some(nil)`: write null.
        var logicalParentUUID: String??
        var sessionID: String
        /// The timestamp to force, or `nil` to keep the original.
        var timestamp: String?
        /// Used when the original has no timestamp.
        var fallbackTimestamp: String
        var forkedFrom: JSONValue
    }

    /// Copies the entry's line member by member, replacing and removing some members and
    /// appending the ones it lacked, in Python's `{**original, ...}` order.
    static func rewrite(_ bytes: [UInt8], entry: TranscriptEntry, overrides: Overrides, into output: inout [UInt8]) {
        let scanner = JSONObjectScanner(bytes, range: entry.line)
        let members = (try? scanner.members()) ?? []
        var written = Set<String>()

        func value(for key: String, original: Range<Int>?) -> [UInt8]? {
            switch key {
            case "uuid": return JSONValue.string(overrides.uuid).serialized()
            case "parentUuid": return (overrides.parentUUID.map(JSONValue.string) ?? .null).serialized()
            case "logicalParentUuid":
                if let mapped = overrides.logicalParentUUID {
                    return (mapped.map(JSONValue.string) ?? .null).serialized()
                }
                return original.map { Array(bytes[$0]) } ?? JSONValue.null.serialized()
            case "sessionId": return JSONValue.string(overrides.sessionID).serialized()
            case "timestamp":
                if let forced = overrides.timestamp { return JSONValue.string(forced).serialized() }
                return original.map { Array(bytes[$0]) } ?? JSONValue.string(overrides.fallbackTimestamp).serialized()
            case "isSidechain": return JSONValue.bool(false).serialized()
            case "forkedFrom": return overrides.forkedFrom.serialized()
            default: return nil
            }
        }

        output.append(0x7B)
        var first = true
        func emit(_ key: String, _ valueBytes: [UInt8]) {
            if !first { output.append(0x2C) }
            first = false
            output.append(contentsOf: JSONValue.string(key).serialized())
            output.append(0x3A)
            output.append(contentsOf: valueBytes)
        }
        for member in members {
            if removedKeys.contains(member.key) { continue }
            if let replaced = value(for: member.key, original: member.valueRange) {
                if written.insert(member.key).inserted { emit(member.key, replaced) }
                continue
            }
            emit(member.key, Array(bytes[member.valueRange]))
        }
        for key in ["uuid", "parentUuid", "logicalParentUuid", "sessionId", "timestamp", "isSidechain", "forkedFrom"]
        where !written.contains(key) {
            emit(key, value(for: key, original: nil)!)
        }
        output.append(0x7D)
    }
}
