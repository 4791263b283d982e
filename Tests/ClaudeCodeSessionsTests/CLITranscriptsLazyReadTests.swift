import ClaudeCode
import Foundation
import Testing

@testable import ClaudeCodeSessions

/// Reading transcripts without building trees for what nobody reads: messages keep their
/// `message` as JSON text in a buffer shared by the read, parsed on access.
@Suite("CLI transcripts: lazy message bodies")
struct CLITranscriptsLazyReadTests {
    /// A session with a tool call, a result, a string prompt and an entry without `message`.
    static func makeSession(_ fixtures: inout TranscriptFixtures, padding: Int = 0) throws -> (
        library: ClaudeSessionLibrary, id: String, cwd: String, path: String, lines: [String]
    ) {
        let cwd = try fixtures.workingDirectory("lazy")
        let folder = try fixtures.projectFolder(for: cwd)
        let id = fixtures.uuid()
        var builder = EntryBuilder(sessionID: id, cwd: cwd)
        let u1 = fixtures.uuid(), a1 = fixtures.uuid(), r1 = fixtures.uuid(), a2 = fixtures.uuid()
        let filler = String(repeating: "x", count: padding)
        let lines = [
            builder.user(u1, parent: nil, .string("read the \"file\"\n" + filler)),
            builder.assistant(
                a1, parent: u1, id: "msg_1",
                [["type": "tool_use", "id": "toolu_1", "name": "Read", "input": ["file_path": "/tmp/a"]]]),
            builder.toolResult(r1, parent: a1, callID: "toolu_1", text: "café ☕ " + filler),
            builder.assistant(a2, parent: r1, id: "msg_2", [["type": "text", "text": "done"]]),
        ]
        let path = try fixtures.write(lines, folder: folder, name: id + ".jsonl", modified: 1)
        let library = ClaudeSessionLibrary(configDirectory: fixtures.configDirectory, environment: [:])
        return (library, id, cwd, path, lines)
    }

    @Test func messagesKeepTheirTextAndParseItOnAccess() async throws {
        let root = try TranscriptFixtures.temporaryRoot("lazy-text")
        defer { try? FileManager.default.removeItem(atPath: root) }
        var fixtures = try TranscriptFixtures(root: root)
        let session = try Self.makeSession(&fixtures)
        let messages = try await session.library.messages(sessionID: session.id, directory: session.cwd)
        try #require(messages.count == 4)
        var buffers: [ObjectIdentifier] = []
        for (message, line) in zip(messages, session.lines) {
            guard case .text(let buffer, _) = message.body else {
                Issue.record("message \(message.uuid) was built while reading")
                continue
            }
            buffers.append(ObjectIdentifier(buffer))
            let expected = try JSONValue.parse(line)["message"]
            #expect(message.message == expected)
            #expect(message.content == expected?["content"])
        }
        #expect(Set(buffers).count == 1, "one buffer for the read")
        #expect(messages[0].content == .string("read the \"file\"\n"))
        #expect(messages[2].content?[0]?["content"] == "café ☕ ")
    }

    @Test func equalityAndHashingCompareValuesNotStorage() async throws {
        let root = try TranscriptFixtures.temporaryRoot("lazy-equal")
        defer { try? FileManager.default.removeItem(atPath: root) }
        var fixtures = try TranscriptFixtures(root: root)
        let session = try Self.makeSession(&fixtures)
        let lazy = try await session.library.messages(sessionID: session.id, directory: session.cwd)
        let built = lazy.map {
            CLISessionMessage(
                type: $0.type, uuid: $0.uuid, sessionID: $0.sessionID, message: $0.message,
                parentToolUseID: $0.parentToolUseID, parentAgentID: $0.parentAgentID)
        }
        #expect(lazy == built)
        #expect(lazy.map(\.hashValue) == built.map(\.hashValue))
        #expect(lazy[0] != lazy[1])
        var changed = lazy[1]
        changed.message = ["role": "assistant", "content": "replaced"]
        #expect(changed.content == "replaced")
        #expect(changed != lazy[1])
        guard case .value = changed.body else {
            Issue.record("setting `message` keeps a built value")
            return
        }
    }

    @Test func aSmallPageDoesNotKeepTheWholeFile() async throws {
        let root = try TranscriptFixtures.temporaryRoot("lazy-page")
        defer { try? FileManager.default.removeItem(atPath: root) }
        var fixtures = try TranscriptFixtures(root: root)
        let session = try Self.makeSession(&fixtures, padding: 20_000)
        let fileSize = try #require(FileManager.default.attributesOfItem(atPath: session.path)[.size] as? Int)
        let page = try await session.library.messages(
            sessionID: session.id, directory: session.cwd, limit: 1, offset: 3)
        let whole = try await session.library.messages(sessionID: session.id, directory: session.cwd)
        try #require(page.count == 1)
        guard case .text(let buffer, _) = page[0].body, case .text(let wholeBuffer, _) = whole[0].body else {
            Issue.record("messages were built while reading")
            return
        }
        #expect(buffer.bytes.count < fileSize / 4, "a compact copy of the page's text")
        #expect(wholeBuffer.bytes.count == fileSize, "the whole conversation shares the file's buffer")
        #expect(page[0] == whole[3])
        #expect(page[0].content?[0]?["text"] == "done")
    }

    /// A transcript large enough to be parsed in several chunks in parallel reads the same
    /// entries, in the same order, with the same figures and corrupt lines, as one pass over it.
    @Test func parsingInChunksIsParsingInOnePass() throws {
        var fixtures = try TranscriptFixtures(root: TranscriptFixtures.temporaryRoot("chunks"))
        defer { try? FileManager.default.removeItem(atPath: fixtures.root) }
        let cwd = try fixtures.workingDirectory("chunks")
        let session = fixtures.uuid(), other = fixtures.uuid()
        var builder = EntryBuilder(sessionID: session, cwd: cwd)
        let filler = String(repeating: "chunk \\ \"text\" ", count: 300)
        var lines: [String] = []
        var parent: String?
        for turn in 0..<700 {
            let u = fixtures.uuid(), a = fixtures.uuid()
            lines.append(builder.user(u, parent: parent, .string("turn \(turn) \(filler)")))
            lines.append(
                builder.assistant(
                    a, parent: u, id: "msg_\(turn)",
                    [["type": "text", "text": .string(filler)], ["type": "tool_use", "id": .string("t\(turn)")]]))
            if turn % 97 == 0 { lines.append("{\"type\":\"user\", cut") }
            // Runs of entries naming another session, across the chunks' cuts.
            if turn % 50 >= 30 {
                lines[lines.count - 2] = lines[lines.count - 2].replacingOccurrences(of: session, with: other)
            }
            parent = a
        }
        let bytes = Array((lines.joined(separator: "\n") + "\n").utf8)
        #expect(bytes.count > 3 << 20)
        #expect(TranscriptParser.chunkBoundaries(bytes, chunks: 3).count == 4)
        let chunked = TranscriptParser.parse(bytes, figures: true)
        let whole = TranscriptParser.parseLines(
            bytes, range: 0..<bytes.count, replacementsFor: nil, cancellation: nil, figures: true)
        #expect(chunked.entries.count == 1400)
        #expect(chunked.entries.map(\.uuid) == whole.entries.map(\.uuid))
        #expect(chunked.entries.map(\.line) == whole.entries.map(\.line))
        #expect(chunked.entries.map(\.toolUseIDs) == whole.entries.map(\.toolUseIDs))
        #expect(chunked.figures.map(\.id) == (whole.figures ?? []).map(\.id))
        #expect(chunked.figures.map(\.model) == (whole.figures ?? []).map(\.model))
        #expect(chunked.figures.count == chunked.entries.count)
        #expect(chunked.corruptLineCount == whole.corrupt)
        #expect(chunked.corruptLineCount == 8)
        let chunkedSessions = chunked.entries.map { chunked.sessionID(of: $0)?.string }
        let wholeSessions = whole.entries.map {
            $0.sessionIDIndex >= 0 ? whole.sessionIDs[Int($0.sessionIDIndex)].string : nil
        }
        #expect(chunkedSessions == wholeSessions)
        #expect(chunkedSessions.filter { $0 == other }.count == 280)
        #expect(chunkedSessions.allSatisfy { $0 == session || $0 == other })
    }

    @Test func largeTranscriptsAreReadWhole() throws {
        let root = try TranscriptFixtures.temporaryRoot("lazy-file")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let path = root + "/big.jsonl"
        var bytes = [UInt8](repeating: 0, count: TranscriptFile.hugePageThreshold + 12_345)
        for index in bytes.indices { bytes[index] = UInt8(truncatingIfNeeded: index &* 31 &+ index >> 9) }
        try Data(bytes).write(to: URL(fileURLWithPath: path))
        #expect(try TranscriptFile.read(path) == bytes)
        #expect(throws: SystemError.self) { try TranscriptFile.read(root + "/missing.jsonl") }

        // What was appended after the `fstat` (an active session) is read too, past one chunk.
        let descriptor = try POSIX.openForReading(path)
        defer { close(descriptor) }
        let status = try POSIX.regularFileStatus(descriptor, path: path)
        let tail = (0..<150_000).map { UInt8(truncatingIfNeeded: $0 &* 7) }
        let handle = try #require(FileHandle(forWritingAtPath: path))
        handle.seekToEndOfFile()
        handle.write(Data(tail))
        try handle.close()
        #expect(try POSIX.readFile(descriptor: descriptor, status: status) == bytes + tail)
        #if os(Linux)
            #expect(TranscriptFile.readAdvised(descriptor, size: Int(status.st_size)) == bytes + tail)
        #endif
        #expect(throws: SystemError.self) { try TranscriptFile.read(root) }
    }

    #if os(Linux)
        /// The huge-page advice ends at the first slow huge page, whichever it is, and every byte
        /// is read whatever the advice: huge pages first, then the rest in parallel small pages.
        @Test func hugePageAdviceEndsAtTheFirstSlowHugePage() throws {
            let root = try TranscriptFixtures.temporaryRoot("huge-advice")
            defer { try? FileManager.default.removeItem(atPath: root) }
            let path = root + "/big.jsonl"
            let size = 9 * (2 << 20) + 54_321
            let bytes = (0..<size).map { UInt8(truncatingIfNeeded: $0 &* 131 &+ $0 >> 11) }
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            let descriptor = try POSIX.openForReading(path)
            defer { close(descriptor) }
            // The n-th huge page is slow (0: none is).
            for slow in [1, 2, 5, 0] {
                var calls = 0
                var hugePages = 0
                var whole = 0  // the whole huge pages after the unaligned lead
                let read = [UInt8](unsafeUninitializedCapacity: size) { storage, initialized in
                    let huge = 2 << 20
                    let lead = (huge - Int(UInt(bitPattern: storage.baseAddress!) % UInt(huge))) % huge
                    whole = (size - lead) / huge
                    let (length, advised) = TranscriptFile.readInHugePages(
                        descriptor, into: storage.baseAddress!, size: size,
                        isSlow: { bytes, _ in
                            #expect(bytes == 2 << 20)
                            calls += 1
                            return calls == slow
                        })
                    initialized = length
                    hugePages = advised
                }
                #expect(read == bytes, "slow huge page \(slow)")
                #expect(hugePages == (slow == 0 ? whole : slow), "slow huge page \(slow)")
                #expect(calls == hugePages)
            }
            #expect(TranscriptFile.HugePageCost.isSlow(bytes: 2 << 20, nanoseconds: Int(2.3 * Double(2 << 20))))
            #expect(!TranscriptFile.HugePageCost.isSlow(bytes: 2 << 20, nanoseconds: Int(0.7 * Double(2 << 20))))
        }
    #endif

    /// The figures a listing reads without building the conversation (`loadTranscriptFigures`)
    /// are the loaded document's: message count (content missing, `null` or `[]` does not
    /// count; consecutive assistant lines of one message are one), tokens counted once per
    /// message id, and the model.
    @Test func listingFiguresAreTheDocumentsFigures() async throws {
        let root = try TranscriptFixtures.temporaryRoot("figures")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let contents = [
            #"{"role":"user","content":"a prompt"}"#, #"{"role":"user","content":""}"#,
            #"{"role":"user","content":null}"#, #"{"role":"user","content":[]}"#, #"{"role":"user","content":[ ]}"#,
            #"{"role":"user"}"#, #"{"role":"user","content":[{"type":"tool_result","tool_use_id":"t","content":"x"}]}"#,
            #""not an object""#, #"{"role":"user","content":{"odd":true}}"#,
            // A repeated key: the last one wins, as in a parsed object.
            #"{"role":"user","content":[1],"content":null}"#, #"{"role":"user","\u0063ontent":"escaped key"}"#,
        ]
        let assistants = [
            #"{"id":"m1","model":"claude-a","role":"assistant","content":[{"type":"text","text":"one"}],"usage":{"input_tokens":3,"output_tokens":5}}"#,
            #"{"id":"m1","model":"claude-a","role":"assistant","content":[{"type":"tool_use","id":"t","name":"Bash","input":{}}],"usage":{"input_tokens":3,"output_tokens":5}}"#,
            #"{"id":"m2","model":"<synthetic>","role":"assistant","content":[],"usage":{"input_tokens":1,"cache_read_input_tokens":7,"cache_creation_input_tokens":2}}"#,
            #"{"role":"assistant","content":"no id","usage":{"output_tokens":4}}"#,
            #"{"id":"m3","model":"claude-b","role":"assistant","content":[{"type":"text","text":"x"}],"usage":"not an object"}"#,
            #"{"id":"m1","model":"claude-c","role":"assistant","content":[{"type":"text","text":"again"}],"usage":{"output_tokens":100}}"#,
            // An empty id, an escaped synthetic model, counts written as doubles (2.5 is not a count).
            #"{"id":"","model":"\u003csynthetic>","role":"assistant","content":"x","usage":{"input_tokens":2.0,"output_tokens":2.5}}"#,
            // Repeated and escaped keys: the last one wins (the model 5 is no model).
            #"{"id":"m4","model":"claude-d","role":"assistant","content":"x","usage":{"input_tokens":1},"\u0075sage":{"input_tokens":9,"input_tokens":11},"model":5,"usage":{"output_tokens":12}}"#,
            #"{"id":"m\u0035","model":"claude-\u00e9","role":"assistant","content":"x","usage":{"cache_read_input_tokens":6}}"#,
        ]
        var generator = SystemRandomNumberGenerator()
        for round in 0..<40 {
            // A chain of random user and assistant lines (each the child of the one before).
            var lines: [String] = []
            var parent = "null"
            let count = round == 0 ? contents.count + assistants.count : Int.random(in: 1...14, using: &generator)
            for index in 0..<count {
                let isUser = round == 0 ? index < contents.count : Bool.random(using: &generator)
                let message =
                    round == 0
                    ? (isUser ? contents[index] : assistants[index - contents.count])
                    : (isUser
                        ? contents.randomElement(using: &generator)! : assistants.randomElement(using: &generator)!)
                let uuid = String(format: "20000000-0000-4000-8000-%012d", index)
                lines.append(
                    #"{"type":"\#(isUser ? "user" : "assistant")","uuid":"\#(uuid)","parentUuid":\#(parent),"sessionId":"s","timestamp":"2025-10-01T00:00:00.000Z","message":\#(message)}"#
                )
                parent = "\"\(uuid)\""
            }
            let path = root + "/\(round).jsonl"
            try Data((lines.joined(separator: "\n") + "\n").utf8).write(to: URL(fileURLWithPath: path))
            let document = try await SessionExporter.loadTranscript(sessionID: "s", path: path, info: nil)
            let figures = try await SessionExporter.loadTranscriptFigures(sessionID: "s", path: path)
            #expect(figures.messageCount == document.messageCount, "round \(round): \(lines)")
            #expect(figures.usage == document.usage, "round \(round)")
            #expect(figures.model == document.model, "round \(round)")
        }
    }

    /// `locateAll` picks each session's file as `locate` does (the newest non-empty copy among
    /// the project folders, the first folder in name order on a tie), and the figures read by id
    /// are the figures of that file.
    @Test func locatingManySessionsAgreesWithLocatingEach() async throws {
        let root = try TranscriptFixtures.temporaryRoot("locate-all")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let library = ClaudeSessionLibrary(configDirectory: root, environment: [:])
        let folders = ["-a", "-b", "-c"].map { library.projectsDirectory + "/" + $0 }
        for folder in folders {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        var ids: [String] = []
        for index in 0..<12 {
            let id = String(format: "30000000-0000-4000-8000-%012d", index)
            ids.append(id)
            // Copies in some folders, with distinct, equal or no modification times, some empty.
            for (number, folder) in folders.enumerated() where (index + number) % 3 != 0 || index % 4 == 0 {
                let path = folder + "/" + id + ".jsonl"
                let messages = number + 1 + index % 2
                var lines = ""
                for line in 0..<messages {
                    let uuid = String(format: "40000000-0000-4000-8000-%012d", line)
                    let parent =
                        line == 0 ? "null" : "\"" + String(format: "40000000-0000-4000-8000-%012d", line - 1) + "\""
                    lines +=
                        #"{"type":"user","uuid":"\#(uuid)","parentUuid":\#(parent),"sessionId":"\#(id)","message":{"role":"user","content":"m\#(line)"}}"#
                        + "\n"
                }
                try Data((index == 5 && number == 2 ? "" : lines).utf8).write(to: URL(fileURLWithPath: path))
                let seconds = index % 3 == 0 ? 1_700_000_000 : 1_700_000_000 + (number * 7 + index) % 5
                try FileManager.default.setAttributes(
                    [.modificationDate: Date(timeIntervalSince1970: Double(seconds))], ofItemAtPath: path)
            }
        }
        let located = library.locateAll(sessionIDs: Set(ids + ["30000000-0000-4000-8000-999999999999"]))
        for id in ids {
            #expect(located[id] == library.locate(sessionID: id, directory: nil)?.path, "\(id)")
        }
        #expect(located["30000000-0000-4000-8000-999999999999"] == nil)
        let byID = try await SessionExporter.loadTranscriptFigures(
            sessionIDs: ids + ["not-a-uuid"], library: library)
        for (id, result) in zip(ids, byID) {
            let path = try #require(located[id])
            #expect(try result.get() == (try await SessionExporter.loadTranscriptFigures(sessionID: id, path: path)))
        }
        #expect(throws: SessionExportError.self) { try byID.last!.get() }
    }

    /// What `stats` reads of each session (`loadTranscriptStats`: figures alone when the head
    /// names the start, else the document) is what the loaded document gives: figures, project,
    /// start and last activity, for sessions with and without timestamps, copies in two
    /// folders, a sidechain-only transcript and a missing id.
    @Test func statsReadByIDAreTheLoadedDocumentsStats() async throws {
        let root = try TranscriptFixtures.temporaryRoot("stats-by-id")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let library = ClaudeSessionLibrary(configDirectory: root, environment: [:])
        let folders = ["-p-one", "-p-two"].map { library.projectsDirectory + "/" + $0 }
        for folder in folders {
            try FileManager.default.createDirectory(atPath: folder, withIntermediateDirectories: true)
        }
        /// `stampedHead: false`: the first two lines have no timestamp and the first is longer
        /// than the head the listing reads, so the listing knows no start; later lines have one.
        func lines(_ id: String, count: Int, stampedHead: Bool, sidechain: Bool = false, cwd: String) -> String {
            var text = ""
            var parent = "null"
            for index in 0..<count {
                let uuid = String(format: "50000000-0000-4000-8000-%012d", index)
                let stamped = stampedHead || index >= 2
                let stamp = stamped ? #","timestamp":"2025-10-0\#(index % 9 + 1)T10:00:00.000Z""# : ""
                let padding = !stampedHead && index == 0 ? String(repeating: "x", count: 100_000) : ""
                let message =
                    index % 2 == 0
                    ? #"{"role":"user","content":"prompt \#(index)\#(padding)"}"#
                    : #"{"id":"msg_\#(index)","model":"claude-\#(index % 3)","role":"assistant","content":[{"type":"text","text":"r"}],"usage":{"input_tokens":\#(index),"output_tokens":2}}"#
                text +=
                    #"{"type":"\#(index % 2 == 0 ? "user" : "assistant")","uuid":"\#(uuid)","parentUuid":\#(parent),"isSidechain":\#(sidechain),"sessionId":"\#(id)","cwd":"\#(cwd)"\#(stamp),"message":\#(message)}"#
                    + "\n"
                parent = "\"" + uuid + "\""
            }
            return text
        }
        var ids: [String] = []
        for index in 0..<6 {
            let id = String(format: "60000000-0000-4000-8000-%012d", index)
            ids.append(id)
            var text = lines(
                id, count: 3 + index, stampedHead: index != 1, sidechain: index == 4, cwd: "/work/p\(index)")
            if index == 1 {
                // Listed by its title (its head, cut inside the first line, holds no prompt).
                text += #"{"type":"custom-title","customTitle":"named","sessionId":"\#(id)"}"# + "\n"
            }
            try Data(text.utf8).write(to: URL(fileURLWithPath: folders[0] + "/" + id + ".jsonl"))
            if index == 2 {
                // A newer copy elsewhere, with other figures: both readers take it.
                let other = folders[1] + "/" + id + ".jsonl"
                try Data(lines(id, count: 8, stampedHead: true, cwd: "/work/elsewhere").utf8).write(
                    to: URL(fileURLWithPath: other))
                try FileManager.default.setAttributes(
                    [.modificationDate: Date().addingTimeInterval(60)], ofItemAtPath: other)
            }
        }
        ids.append("60000000-0000-4000-8000-999999999999")
        let stats = try await SessionExporter.loadTranscriptStats(sessionIDs: ids, library: library)
        #expect(stats.count == ids.count)
        for (id, result) in zip(ids, stats) {
            do {
                let document = try await SessionExporter.load(sessionID: id, library: library).document
                #expect(try result.get() == SessionExporter.TranscriptStats(document), "\(id)")
            } catch {
                #expect(throws: SessionExportError.self, "\(id) is missing for both") { try result.get() }
            }
        }
        #expect(try stats[2].get().projectPath == "/work/elsewhere")
        let untimed = try #require(try await library.sessionInfo(id: ids[1]))
        #expect(untimed.createdAt == nil, "the listing knows no start")
        #expect(try stats[1].get().startedAt != nil, "no timestamp in the head: the document's own start")
    }

    /// The listing metadata taken from a transcript read whole is what reading its head and
    /// tail gives: small files, a head cut inside a long first line, a tail that starts inside a
    /// long last line (whose `lastPrompt` needs the whole line), many lines.
    @Test func sessionInfoFromTheWholeFileIsTheHeadAndTailsInfo() throws {
        let root = try TranscriptFixtures.temporaryRoot("info-bytes")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let id = "70000000-0000-4000-8000-000000000001"
        func user(_ text: String, _ index: Int) -> String {
            #"{"type":"user","uuid":"80000000-0000-4000-8000-\#(String(format: "%012d", index))","parentUuid":null,"sessionId":"\#(id)","cwd":"/work/x","timestamp":"2025-10-01T10:00:0\#(index % 10).000Z","message":{"role":"user","content":"\#(text)"}}"#
        }
        let long = String(repeating: "y", count: 70_000)
        let files: [String] = [
            user("hello", 0),
            user("head " + String(repeating: "x", count: 100_000), 1) + "\n"
                + #"{"type":"custom-title","customTitle":"named","sessionId":"\#(id)"}"#,
            user("first", 2) + "\n"
                + #"{"type":"last-prompt","padding":"\#(long)","lastPrompt":"LP last","sessionId":"\#(id)"}"#,
            (0..<900).map { user("line \($0) " + String(repeating: "z", count: 200), $0) }.joined(separator: "\n"),
        ]
        for (number, text) in files.enumerated() {
            let path = root + "/\(number).jsonl"
            try Data((text + "\n").utf8).write(to: URL(fileURLWithPath: path))
            let whole = try TranscriptFile.readWithStatus(path)
            let fromBytes = LiteFileReader.sessionInfo(
                bytes: whole.bytes, status: whole.status, sessionID: id, projectPath: nil)
            guard case .info(let fromFile) = LiteFileReader.sessionInfo(path: path, sessionID: id, projectPath: nil)
            else {
                Issue.record("file \(number) is listed")
                continue
            }
            #expect(fromBytes == fromFile, "file \(number)")
        }
        let fragmentNeeded = try TranscriptFile.readWithStatus(root + "/2.jsonl")
        let info = LiteFileReader.sessionInfo(
            bytes: fragmentNeeded.bytes, status: fragmentNeeded.status, sessionID: id, projectPath: nil)
        #expect(info?.summary == "LP last", "the last prompt, from the tail's whole first line")
    }

    @Test func uuidKeysSpellTheirTextBack() {
        for text in [
            "0123abcd-ef45-4678-9abc-def012345678", "00000000-0000-4000-8000-000000000001",
            "0123ABCD-EF45-4678-9ABC-DEF012345678", "not-a-uuid", "",
        ] {
            #expect(UUIDKey(text).string == text)
            #expect(UUIDKey(text) == UUIDKey(text))
        }
        #expect(UUIDKey("0123abcd-ef45-4678-9abc-def012345678").text == nil, "canonical uuids are packed")
        #expect(UUIDKey("0123abcd-ef45-4678-9abc-def012345678") != UUIDKey("0123abcd-ef45-4678-9abc-def012345679"))
    }

    @Test func idKeysCompareByText() {
        let ids = ["toolu_01", "toolu_02", "msg_" + String(repeating: "a", count: 40), "", "é"]
        for (left, right) in zip(ids, ids.dropFirst()) { #expect(IDKey(left) != IDKey(right)) }
        #expect(IDKey("toolu_01") == IDKey(String("toolu_01".reversed().reversed())))
        #expect(Set(ids.map(IDKey.init)).count == ids.count)
    }
}
