import ClaudeCode
import ClaudeCodeSessions
import Foundation
import Testing

/// Behaviour of ``ClaudeSessionLibrary`` that the differential test cannot show (because
/// Python fails, hangs or has no equivalent).
@Suite("CLI transcripts", .serialized)
struct CLITranscriptsTests {
    // MARK: Folder names

    /// The CLI's `simpleHash` over UTF-16 units, written independently of the library.
    static func cliHash(_ path: String) -> String {
        var hash: Int32 = 0
        for unit in path.utf16 { hash = hash &* 31 &+ Int32(unit) }
        return String(UInt64(hash.magnitude), radix: 36)
    }

    /// A fresh configuration root with one project folder (`p`) and a builder for the session
    /// `aaaaaaaa-…-000000000001`: the setup most tests below start from. Remove `root` when done.
    struct OneSession {
        var fixtures: TranscriptFixtures
        let root: String
        let cwd: String
        let folder: String
        let id = "aaaaaaaa-0000-4000-8000-000000000001"
        var builder: EntryBuilder

        init(_ name: String) throws {
            root = try TranscriptFixtures.temporaryRoot(name)
            fixtures = try TranscriptFixtures(root: root)
            cwd = try fixtures.workingDirectory("p")
            folder = try fixtures.projectFolder(for: cwd)
            builder = EntryBuilder(sessionID: id, cwd: cwd)
        }

        var library: ClaudeSessionLibrary {
            ClaudeSessionLibrary(configDirectory: fixtures.configDirectory, environment: [:])
        }
    }

    @Test func shortPathsReplaceEveryUTF16UnitOutsideAlphanumerics() {
        #expect(
            ClaudeSessionLibrary.projectFolderName(for: "/nonexistent/foo/my proj.v2") == "-nonexistent-foo-my-proj-v2")
        // 😀 is two UTF-16 units, so two dashes, as in the CLI.
        #expect(ClaudeSessionLibrary.projectFolderName(for: "/nonexistent/x😀y") == "-nonexistent-x--y")
        #expect(ClaudeSessionLibrary.projectFolderName(for: "/nonexistent/é") == "-nonexistent--")
    }

    @Test func longPathsGetTheCLIsHashSuffix() {
        let long = "/nonexistent/" + String(repeating: "abcdefghij", count: 25)
        let name = ClaudeSessionLibrary.projectFolderName(for: long)
        let sanitized = long.replacingOccurrences(of: "/", with: "-")
        #expect(name == String(sanitized.prefix(200)) + "-" + Self.cliHash(long))
        let astral = "/nonexistent/😀" + String(repeating: "z", count: 220)
        #expect(ClaudeSessionLibrary.projectFolderName(for: astral).hasSuffix("-" + Self.cliHash(astral)))
        // The documented reference value: "hello" hashes to 1n1e4y.
        #expect(Self.cliHash("hello") == "1n1e4y")
    }

    @Test func pathsAreResolvedAndNormalizedToNFC() throws {
        let root = try TranscriptFixtures.temporaryRoot("nfc")
        defer { try? FileManager.default.removeItem(atPath: root) }
        let decomposed = root + "/cafe\u{301}"
        try FileManager.default.createDirectory(atPath: decomposed, withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(atPath: root + "/link", withDestinationPath: decomposed)
        #expect(
            ClaudeSessionLibrary.projectFolderName(for: root + "/link")
                == ClaudeSessionLibrary.projectFolderName(for: root + "/caf\u{E9}"))
    }

    // MARK: Configuration directory

    @Test func configDirectoryComesFromParameterThenEnvironmentThenHome() {
        #expect(
            ClaudeSessionLibrary(configDirectory: "/x/conf", environment: ["CLAUDE_CONFIG_DIR": "/y"]).configDirectory
                == "/x/conf")
        #expect(
            ClaudeSessionLibrary(environment: ["CLAUDE_CONFIG_DIR": "/y/cafe\u{301}", "HOME": "/h"]).configDirectory
                == "/y/caf\u{E9}")
        #expect(
            ClaudeSessionLibrary(environment: ["CLAUDE_CONFIG_DIR": "", "HOME": "/h"]).configDirectory == "/h/.claude")
        #expect(
            ClaudeSessionLibrary(configDirectory: "", environment: ["HOME": "/h"]).projectsDirectory
                == "/h/.claude/projects")
    }

    // MARK: Bad input

    @Test func missingFoldersGiveEmptyResults() async throws {
        let library = ClaudeSessionLibrary(configDirectory: "/nonexistent/claude-config", environment: [:])
        let scan = try await library.scanSessions()
        #expect(scan.sessions.isEmpty && scan.issues.isEmpty)
        #expect(try await library.listSessions(directory: "/nonexistent/project").isEmpty)
        #expect(try await library.messages(sessionID: "aaaaaaaa-0000-4000-8000-000000000001").isEmpty)
        #expect(try await library.sessionInfo(id: "aaaaaaaa-0000-4000-8000-000000000001") == nil)
        #expect(try await library.subagents(sessionID: "aaaaaaaa-0000-4000-8000-000000000001").isEmpty)
    }

    @Test func danglingLinksAndFIFOsAreReportedNotFatal() async throws {
        let root = try TranscriptFixtures.temporaryRoot("bad")
        defer { try? FileManager.default.removeItem(atPath: root) }
        var fixtures = try TranscriptFixtures(root: root)
        let cwd = try fixtures.workingDirectory("p")
        let folder = try fixtures.projectFolder(for: cwd)
        var builder = EntryBuilder(sessionID: "aaaaaaaa-0000-4000-8000-000000000001", cwd: cwd)
        try fixtures.write(
            [builder.user(fixtures.uuid(), parent: nil, "good one")], folder: folder,
            name: "aaaaaaaa-0000-4000-8000-000000000001.jsonl", modified: 1)
        try FileManager.default.createSymbolicLink(
            atPath: folder + "/aaaaaaaa-0000-4000-8000-000000000002.jsonl", withDestinationPath: root + "/gone")
        #expect(mkfifo(folder + "/aaaaaaaa-0000-4000-8000-000000000003.jsonl", 0o600) == 0)
        try FileManager.default.createDirectory(
            atPath: folder + "/aaaaaaaa-0000-4000-8000-000000000004.jsonl", withIntermediateDirectories: true)

        let library = ClaudeSessionLibrary(configDirectory: fixtures.configDirectory, environment: [:])
        let scan = try await library.scanSessions(directory: cwd)
        #expect(scan.sessions.map(\.sessionID) == ["aaaaaaaa-0000-4000-8000-000000000001"])
        let kinds = Dictionary(
            scan.issues.map { (String($0.path.suffix(42)), $0.kind) }, uniquingKeysWith: { a, _ in a })
        #expect(kinds["aaaaaaaa-0000-4000-8000-000000000002.jsonl"] == .danglingSymlink)
        #expect(kinds["aaaaaaaa-0000-4000-8000-000000000003.jsonl"] == .notRegularFile)
        #expect(scan.issues.count == 2)
        // Reading the FIFO as a session neither hangs nor fails.
        #expect(try await library.messages(sessionID: "aaaaaaaa-0000-4000-8000-000000000003", directory: cwd).isEmpty)
    }

    @Test func corruptAndTruncatedLinesAreSkippedAndCounted() async throws {
        var session = try OneSession("corrupt")
        defer { try? FileManager.default.removeItem(atPath: session.root) }
        let (cwd, folder, id) = (session.cwd, session.folder, session.id)
        let u1 = session.fixtures.uuid(), a1 = session.fixtures.uuid()
        let lines = [
            session.builder.user(u1, parent: nil, "prompt"), "{\"type\":\"user\",", "garbage", "",
            #"{"type":"assistant","bad":01}"#,
            session.builder.assistant(a1, parent: u1, id: "m", [["type": "text", "text": "ok"]]),
            String(session.builder.user(session.fixtures.uuid(), parent: a1, "cut").prefix(40)),
        ]
        try session.fixtures.write(lines, folder: folder, name: id + ".jsonl", modified: 1, trailingNewline: false)
        let library = session.library
        let transcript = try await library.transcript(sessionID: id, directory: cwd)
        #expect(transcript.corruptLineCount == 4)
        #expect(transcript.messages.map(\.uuid) == [u1, a1])
        #expect(transcript.totalMessageCount == 2)
        #expect(transcript.path?.hasSuffix(id + ".jsonl") == true)
    }

    /// Lines are found by parsing them in place (no search for the newline first); that must read
    /// the same lines as splitting at each newline: CRLF endings and surrounding spaces are fine, a
    /// value spread over several lines is that many corrupt lines, never one entry.
    @Test func linesAreTheTextBetweenNewlinesWhateverTheJSONWhitespace() async throws {
        var session = try OneSession("lines")
        defer { try? FileManager.default.removeItem(atPath: session.root) }
        let (cwd, folder, id) = (session.cwd, session.folder, session.id)
        let u1 = session.fixtures.uuid(), a1 = session.fixtures.uuid(), u2 = session.fixtures.uuid(),
            u3 = session.fixtures.uuid()
        let spread = session.builder.user(u2, parent: a1, "spread").replacingOccurrences(of: ",\"", with: ",\n\"")
        let pieces = spread.split(separator: "\n", omittingEmptySubsequences: false).count
        #expect(pieces > 3)
        let lines = [
            session.builder.user(u1, parent: nil, "prompt") + "\r",
            "  " + session.builder.assistant(a1, parent: u1, id: "m", [["type": "text", "text": "ok"]]) + " \t",
            spread, " ",
            session.builder.user(u3, parent: a1, "after") + "\r",
        ]
        try session.fixtures.write(lines, folder: folder, name: id + ".jsonl", modified: 1, trailingNewline: false)
        let library = session.library
        let transcript = try await library.transcript(sessionID: id, directory: cwd)
        #expect(transcript.corruptLineCount == pieces)
        #expect(transcript.messages.map(\.uuid) == [u1, a1, u3])
        #expect(transcript.messages.last?.content == .string("after"))
    }

    /// Each message's session id is its line's `sessionId`, however it is spelled: a canonical
    /// UUID, another string, one with escapes, a non-string (no id), none, and ids that change
    /// from line to line (the reader keeps the last one it spelled).
    @Test func messagesCarryTheirLinesSessionIDWhateverItsSpelling() async throws {
        var session = try OneSession("session-ids")
        defer { try? FileManager.default.removeItem(atPath: session.root) }
        let (cwd, folder, id) = (session.cwd, session.folder, session.id)
        let other = "bbbbbbbb-0000-4000-8000-000000000002"
        // (what replaces `"<id>"` on the line, the session id the message must carry)
        let spellings: [(String, String)] = [
            ("\"\(id)\"", id), ("\"\(other)\"", other), ("\"\(id.uppercased())\"", id.uppercased()),
            (#""\u0061aaaaaaa-0000-4000-8000-000000000001""#, id), ("\"\(other)\"", other), ("42", ""),
            ("\"\(id)\"", id), ("\"s\\\"1\"", "s\"1"), ("\"\"", ""), ("null", ""),
        ]
        var lines: [String] = []
        var uuids: [String] = []
        for (spelling, _) in spellings {
            let uuid = session.fixtures.uuid()
            let line = session.builder.user(uuid, parent: uuids.last, .string("p\(uuids.count)"))
            lines.append(line.replacingOccurrences(of: "\"sessionId\":\"\(id)\"", with: "\"sessionId\":\(spelling)"))
            uuids.append(uuid)
        }
        let last = session.fixtures.uuid()
        lines.append(
            session.builder.user(last, parent: uuids.last, "none").replacingOccurrences(
                of: ",\"sessionId\":\"\(id)\"", with: ""))
        #expect(!lines.last!.contains("sessionId"))
        try session.fixtures.write(lines, folder: folder, name: id + ".jsonl", modified: 1, trailingNewline: true)
        let library = session.library
        let messages = try await library.messages(sessionID: id, directory: cwd)
        #expect(messages.map(\.uuid) == uuids + [last])
        #expect(messages.map(\.sessionID) == spellings.map(\.1) + [""])
    }

    @Test func sessionIDsAreValidatedBeforeAnyPathIsFormed() async throws {
        let library = ClaudeSessionLibrary(configDirectory: "/nonexistent/claude-config", environment: [:])
        for bad in [
            "../../etc/passwd", "", "aaaaaaaa-0000-4000-8000-00000000000", "aaaaaaaa-0000-4000-8000-000000000001/..",
            "aaaaaaaa_0000_4000_8000_000000000001",
        ] {
            #expect(try await library.messages(sessionID: bad).isEmpty)
            #expect(try await library.sessionInfo(id: bad) == nil)
            await #expect(throws: CLITranscriptError(.invalidSessionID, subject: bad)) {
                try await library.rename(sessionID: bad, title: "t")
            }
            await #expect(throws: CLITranscriptError(.invalidSessionID, subject: bad)) {
                try await library.tag(sessionID: bad, tag: "t")
            }
            await #expect(throws: CLITranscriptError(.invalidSessionID, subject: bad)) {
                try await library.delete(sessionID: bad)
            }
            await #expect(throws: CLITranscriptError(.invalidSessionID, subject: bad)) {
                try await library.fork(sessionID: bad)
            }
        }
        await #expect(throws: CLITranscriptError(.invalidMessageID, subject: "nope")) {
            try await library.fork(sessionID: "aaaaaaaa-0000-4000-8000-000000000001", upToMessageID: "nope")
        }
    }

    @Test func errorsDoNotLeakContent() {
        let error = CLITranscriptError(.emptyTitle, subject: "aaaaaaaa-0000-4000-8000-000000000001")
        #expect(!error.description.isEmpty)
        #expect(CLITranscriptError(.sessionNotFound, subject: "x").description == "session x not found")
    }

    // MARK: Writes

    @Test func forkWritesAPrivateNewFileAndResumesTheConversation() async throws {
        var session = try OneSession("fork")
        defer { try? FileManager.default.removeItem(atPath: session.root) }
        let (cwd, folder, id) = (session.cwd, session.folder, session.id)
        let u1 = session.fixtures.uuid(), a1 = session.fixtures.uuid(), u2 = session.fixtures.uuid(),
            a2 = session.fixtures.uuid()
        try session.fixtures.write(
            [
                session.builder.user(u1, parent: nil, "first"),
                session.builder.assistant(a1, parent: u1, id: "m1", [["type": "text", "text": "one"]]),
                session.builder.user(u2, parent: a1, "second"),
                session.builder.assistant(a2, parent: u2, id: "m2", [["type": "text", "text": "two"]]),
            ], folder: folder, name: id + ".jsonl", modified: 1)
        let library = session.library
        let fork = try await library.fork(sessionID: id, directory: cwd, upToMessageID: a1)
        #expect(fork.path == folder + "/" + fork.sessionID + ".jsonl")
        let mode = try FileManager.default.attributesOfItem(atPath: fork.path)[.posixPermissions] as? Int
        #expect(mode == 0o600)
        let messages = try await library.messages(sessionID: fork.sessionID, directory: cwd)
        #expect(
            messages.map(\.message)
                == (try await library.messages(sessionID: id, directory: cwd)).prefix(2).map(\.message))
        #expect(messages.allSatisfy { $0.sessionID == fork.sessionID && ![u1, a1].contains($0.uuid) })
        #expect(messages[1].message["content"]?[0]?["text"] == "one")
        let info = try await library.sessionInfo(id: fork.sessionID, directory: cwd)
        #expect(info?.customTitle == "first (fork)")
        // The source is untouched.
        #expect(try await library.messages(sessionID: id, directory: cwd).count == 4)
    }

    @Test func renameTagAndDeleteWriteWhatReadersExpect() async throws {
        var session = try OneSession("mutate")
        defer { try? FileManager.default.removeItem(atPath: session.root) }
        let (cwd, folder, id) = (session.cwd, session.folder, session.id)
        try session.fixtures.write(
            [session.builder.user(session.fixtures.uuid(), parent: nil, "prompt")], folder: folder, name: id + ".jsonl",
            modified: 1)
        try FileManager.default.createDirectory(
            atPath: folder + "/" + id + "/subagents", withIntermediateDirectories: true)
        let library = session.library

        try await library.rename(sessionID: id, title: " Ünïcode title ")
        try await library.tag(sessionID: id, tag: "ｂｅｔａ\u{200B}")
        var info = try await library.sessionInfo(id: id)
        #expect(info?.customTitle == "Ünïcode title" && info?.summary == "Ünïcode title" && info?.tag == "beta")
        let lines = try Scenario.rawLines(folder + "/" + id + ".jsonl")
        #expect(
            lines.suffix(2) == [
                #"{"type":"custom-title","customTitle":"Ünïcode title","sessionId":"\#(id)"}"#,
                #"{"type":"tag","tag":"beta","sessionId":"\#(id)"}"#,
            ])
        try await library.tag(sessionID: id, tag: nil)
        info = try await library.sessionInfo(id: id)
        #expect(info?.tag == nil)
        await #expect(throws: CLITranscriptError(.emptyTag, subject: id)) {
            try await library.tag(sessionID: id, tag: "\u{200B} \u{FEFF}")
        }
        await #expect(throws: CLITranscriptError(.emptyTitle, subject: id)) {
            try await library.rename(sessionID: id, title: " \n ")
        }

        try await library.delete(sessionID: id, directory: cwd)
        #expect(!FileManager.default.fileExists(atPath: folder + "/" + id + ".jsonl"))
        #expect(!FileManager.default.fileExists(atPath: folder + "/" + id))
        await #expect(throws: CLITranscriptError(.sessionNotFound, subject: id)) {
            try await library.delete(sessionID: id)
        }
    }

    // MARK: Concurrency

    @Test func manyConcurrentCallsCompleteAndCancellationIsHonoured() async throws {
        let root = try TranscriptFixtures.temporaryRoot("concurrent")
        defer { try? FileManager.default.removeItem(atPath: root) }
        var fixtures = try TranscriptFixtures(root: root)
        let cwd = try fixtures.workingDirectory("p")
        let folder = try fixtures.projectFolder(for: cwd)
        for number in 0..<300 {
            let id = String(format: "aaaaaaaa-0000-4000-8000-%012d", number)
            var builder = EntryBuilder(sessionID: id, cwd: cwd)
            try fixtures.write(
                [builder.user(fixtures.uuid(), parent: nil, .string("prompt \(number)"))], folder: folder,
                name: id + ".jsonl", modified: number)
        }
        let library = ClaudeSessionLibrary(configDirectory: fixtures.configDirectory, environment: [:])
        // More concurrent calls than cooperative threads: file work must not hold them.
        let counts = try await withThrowingTaskGroup(of: Int.self) { group in
            for _ in 0..<32 { group.addTask { try await library.listSessions(directory: cwd).count } }
            return try await group.reduce(into: []) { $0.append($1) }
        }
        #expect(counts == Array(repeating: 300, count: 32))
        let cancelled = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await library.listSessions(directory: cwd)
        }
        await #expect(throws: CancellationError.self) { try await cancelled.value }
    }
}
