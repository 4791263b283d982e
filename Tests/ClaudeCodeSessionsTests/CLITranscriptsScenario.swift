import ClaudeCode
import ClaudeCodeSessions
import ClaudeCodeTesting
import Foundation
import Testing

/// The synthetic transcripts of the differential test, and the operations run over them.
struct Scenario {
    typealias Operation = CLITranscriptsDifferentialTests.Operation
    typealias T = CLITranscriptsDifferentialTests

    var fixtures: TranscriptFixtures
    let root: String
    var home: String { root + "/home" }

    // Working directories.
    var projectA = ""
    var projectB = ""
    var unicodeProject = ""
    var longProject = ""
    var longAstralEarly = ""
    var longAstralLate = ""
    var repository = ""
    var worktree = ""
    var missingProject = ""

    // Session ids.
    static func id(_ number: Int) -> String { String(format: "aaaaaaaa-0000-4000-8000-%012x", number) }
    let simple = id(1)
    let corrupt = id(2)
    let compacted = id(3)
    let sidechains = id(4)
    let parallel = id(5)
    let withSubagents = id(6)
    let titled = id(7)
    let sidechainFirst = id(8)
    let metadataOnly = id(9)
    let empty = id(10)
    let uppercase = id(11).uppercased()
    let big = id(12)
    let prompts = id(13)
    let commandOnly = id(14)
    let nestedKeys = id(15)
    let unicode = id(16)
    let long = id(17)
    let longEarly = id(18)
    let longLate = id(19)
    let inRepository = id(20)
    let inWorktree = id(21)
    let invalidUTF8 = id(22)
    let lineSeparator = id(23)
    let duplicated = id(24)
    let dangling = id(25)
    let branched = id(26)

    /// Uuids worth cutting forks at.
    var parallelCut = ""
    var branchedCut = ""

    struct ForkCheck {
        var operationIndex: Int
        var directory: String
        var sourceID: String
        var compare: ([JSONValue], [JSONValue]) -> Void
        var compareMessages: ([CLISessionMessage], [CLISessionMessage]) -> Void
    }
    var forkChecks: [ForkCheck] = []

    init(root: String) throws {
        self.root = root
        fixtures = try TranscriptFixtures(root: root)
        try FileManager.default.createDirectory(atPath: root + "/home", withIntermediateDirectories: true)
    }

    // MARK: Building the folders

    mutating func build() async throws {
        projectA = try fixtures.workingDirectory("proj-a")
        projectB = try fixtures.workingDirectory("proj-b")
        unicodeProject = try fixtures.workingDirectory("café ünïcode 😀 dir")
        let segment = String(repeating: "segment-abcdefghij", count: 3)
        longProject = try fixtures.workingDirectory((1...5).map { "\(segment)-\($0)" }.joined(separator: "/"))
        longAstralEarly = try fixtures.workingDirectory(
            "😀-early/" + (1...5).map { "\(segment)-\($0)" }.joined(separator: "/"))
        longAstralLate = try fixtures.workingDirectory(
            (1...5).map { "\(segment)-\($0)" }.joined(separator: "/") + "/late-😀")
        missingProject = root + "/work/never-created"
        let folderA = try fixtures.projectFolder(for: projectA)
        let folderB = try fixtures.projectFolder(for: projectB)

        var modified = 0
        func next() -> Int {
            modified += 7
            return modified
        }

        // 1. A plain two-turn session with metadata rows.
        do {
            var b = EntryBuilder(sessionID: simple, cwd: projectA)
            let u1 = fixtures.uuid(), at = fixtures.uuid(), a1 = fixtures.uuid(), s1 = fixtures.uuid()
            let u2 = fixtures.uuid(), a2 = fixtures.uuid(), p1 = fixtures.uuid()
            let lines = [
                b.queueOperation(),
                b.user(u1, parent: nil, "Hello there, please help", extra: [("promptId", "p-1")]),
                b.attachment(at, parent: u1, kind: "skill_listing"),
                b.assistant(a1, parent: at, id: "msg_s1", [["type": "text", "text": "Hi! How can I help?"]]),
                b.progress(p1, parent: a1),
                b.system(s1, parent: a1, subtype: "turn_duration", extra: [("durationMs", 1234)]),
                b.user(u2, parent: s1, "Second question\nwith a newline"),
                b.assistant(a2, parent: u2, id: "msg_s2", [["type": "text", "text": "Answer ✓ 日本"]]),
                b.lastPrompt("Second question with a newline"),
            ]
            try fixtures.write(lines, folder: folderA, name: "\(simple).jsonl", modified: next())
        }

        // 2. Corrupt, truncated, blank and non-object lines.
        do {
            var b = EntryBuilder(sessionID: corrupt, cwd: projectA)
            let u1 = fixtures.uuid(), a1 = fixtures.uuid(), u2 = fixtures.uuid(), a2 = fixtures.uuid()
            let lines = [
                b.user(u1, parent: nil, "Corrupt session prompt"),
                #"{"type":"user","uuid":"#,
                "not json at all",
                "",
                "   ",
                "[1,2,3]",
                b.assistant(a1, parent: u1, id: "msg_c1", [["type": "text", "text": "still here"]]),
                #"{"type":"user","message":{"role":"user","content":"bad \x"},"uuid":"00000000-0000-4000-8000-00000000ffff"}"#,
                b.user(u2, parent: a1, "after the damage"),
                String(b.assistant(a2, parent: u2, id: "msg_c2", [["type": "text", "text": "cut off"]]).prefix(60)),
            ]
            try fixtures.write(
                lines, folder: folderA, name: "\(corrupt).jsonl", modified: next(), trailingNewline: false)
        }

        // 3. A compacted session: the chain starts at the compact summary.
        do {
            var b = EntryBuilder(sessionID: compacted, cwd: projectA)
            let u1 = fixtures.uuid(), a1 = fixtures.uuid(), u2 = fixtures.uuid(), a2 = fixtures.uuid()
            let boundary = fixtures.uuid(), summary = fixtures.uuid(), u3 = fixtures.uuid(), a3 = fixtures.uuid()
            let lines = [
                b.user(u1, parent: nil, "Before compaction one"),
                b.assistant(a1, parent: u1, id: "msg_k1", [["type": "text", "text": "pre 1"]]),
                b.user(u2, parent: a1, "Before compaction two"),
                b.assistant(a2, parent: u2, id: "msg_k2", [["type": "text", "text": "pre 2"]]),
                b.system(
                    boundary, parent: nil, subtype: "compact_boundary", extra: [("logicalParentUuid", .string(a2))]),
                b.user(
                    summary, parent: boundary, "This session is being continued from a previous conversation.",
                    extra: [("isCompactSummary", true)]),
                b.user(u3, parent: summary, "After compaction"),
                b.assistant(a3, parent: u3, id: "msg_k3", [["type": "text", "text": "post"]]),
            ]
            try fixtures.write(lines, folder: folderA, name: "\(compacted).jsonl", modified: next())
        }

        // 4. Sidechains, meta and team entries around the main chain.
        do {
            var b = EntryBuilder(sessionID: sidechains, cwd: projectA)
            let u1 = fixtures.uuid(), a1 = fixtures.uuid(), su1 = fixtures.uuid(), sa1 = fixtures.uuid()
            let r1 = fixtures.uuid(), a2 = fixtures.uuid(), meta = fixtures.uuid(), u4 = fixtures.uuid()
            let a4 = fixtures.uuid(), team = fixtures.uuid()
            let lines = [
                b.user(u1, parent: nil, "Run a task"),
                b.assistant(
                    a1, parent: u1, id: "msg_t1",
                    [["type": "tool_use", "id": "toolu_task", "name": "Task", "input": ["prompt": "sub"]]]),
                b.user(su1, parent: nil, "sub prompt", sidechain: true),
                b.assistant(
                    sa1, parent: su1, id: "msg_side", [["type": "text", "text": "side work"]], sidechain: true),
                b.toolResult(r1, parent: a1, callID: "toolu_task", text: "task done"),
                b.assistant(a2, parent: r1, id: "msg_t2", [["type": "text", "text": "Task finished"]]),
                b.user(meta, parent: a2, "<system-reminder>caveat</system-reminder>", extra: [("isMeta", true)]),
                b.user(u4, parent: meta, "Next real prompt"),
                b.assistant(a4, parent: u4, id: "msg_t4", [["type": "text", "text": "final"]]),
                b.assistant(
                    team, parent: a2, id: "msg_team", [["type": "text", "text": "teammate"]],
                    extra: [("teamName", "red")]),
            ]
            try fixtures.write(lines, folder: folderA, name: "\(sidechains).jsonl", modified: next())
        }

        // 5. Parallel tool calls: the transcript forks and the chain misses results.
        do {
            var b = EntryBuilder(sessionID: parallel, cwd: projectA)
            let u1 = fixtures.uuid(), x1 = fixtures.uuid(), x2 = fixtures.uuid(), x3 = fixtures.uuid()
            let ra = fixtures.uuid(), rb = fixtures.uuid(), y1 = fixtures.uuid(), c1 = fixtures.uuid()
            let rc = fixtures.uuid(), d1 = fixtures.uuid()
            parallelCut = y1
            let lines = [
                b.user(u1, parent: nil, "Read two files"),
                b.assistant(x1, parent: u1, id: "msg_p", [["type": "text", "text": "Reading both."]]),
                b.assistant(
                    x2, parent: x1, id: "msg_p",
                    [["type": "tool_use", "id": "call_a", "name": "Read", "input": ["file_path": "/a"]]]),
                b.assistant(
                    x3, parent: x2, id: "msg_p",
                    [["type": "tool_use", "id": "call_b", "name": "Read", "input": ["file_path": "/b"]]]),
                b.toolResult(
                    ra, parent: x2, callID: "call_a", text: "content a",
                    extra: [("sourceToolAssistantUUID", .string(x2))]),
                b.toolResult(
                    rb, parent: x3, callID: "call_b", text: "content b",
                    extra: [("sourceToolAssistantUUID", .string(x3))]),
                b.assistant(y1, parent: rb, id: "msg_q", [["type": "text", "text": "Both read."]]),
                b.assistant(
                    c1, parent: y1, id: "msg_r",
                    [["type": "tool_use", "id": "call_c", "name": "Bash", "input": ["command": "ls"]]]),
                // A stray: its parent is elsewhere, but it answers the open call of msg_r.
                b.toolResult(
                    rc, parent: u1, callID: "call_c", text: "ls output",
                    extra: [("sourceToolAssistantUUID", .string(c1))]),
                b.assistant(d1, parent: c1, id: "msg_s", [["type": "text", "text": "Listed."]]),
            ]
            try fixtures.write(lines, folder: folderA, name: "\(parallel).jsonl", modified: next())
        }

        // 6. Subagents with metadata sidecars, nested and broken.
        do {
            var b = EntryBuilder(sessionID: withSubagents, cwd: projectA)
            let u1 = fixtures.uuid(), a1 = fixtures.uuid(), r1 = fixtures.uuid(), a2 = fixtures.uuid()
            let lines = [
                b.user(u1, parent: nil, "Delegate this"),
                b.assistant(
                    a1, parent: u1, id: "msg_g1",
                    [["type": "tool_use", "id": "toolu_agent1", "name": "Agent", "input": ["prompt": "go"]]]),
                b.toolResult(r1, parent: a1, callID: "toolu_agent1", text: "agent result"),
                b.assistant(a2, parent: r1, id: "msg_g2", [["type": "text", "text": "Delegated."]]),
            ]
            try fixtures.write(lines, folder: folderA, name: "\(withSubagents).jsonl", modified: next())
            let subagents = folderA + "/\(withSubagents)/subagents"
            let nested = subagents + "/workflows/run-1"
            try FileManager.default.createDirectory(atPath: nested, withIntermediateDirectories: true)
            func agentLines(_ agent: String) -> [String] {
                var s = EntryBuilder(sessionID: withSubagents, cwd: projectA)
                let v1 = fixtures.uuid(), v2 = fixtures.uuid(), v3 = fixtures.uuid(), v4 = fixtures.uuid()
                return [
                    s.user(
                        v1, parent: nil, .string("Agent \(agent) prompt"), extra: [("agentId", .string(agent))],
                        sidechain: true),
                    s.assistant(
                        v2, parent: v1, id: "msg_\(agent)_1", [["type": "text", "text": "working"]],
                        extra: [("agentId", .string(agent))], sidechain: true),
                    s.user(
                        v3, parent: v2, "<meta>", extra: [("agentId", .string(agent)), ("isMeta", true)],
                        sidechain: true),
                    s.assistant(
                        v4, parent: v3, id: "msg_\(agent)_2", [["type": "text", "text": "done"]],
                        extra: [("agentId", .string(agent))], sidechain: true),
                ]
            }
            try fixtures.write(agentLines("a1b2c3"), folder: subagents, name: "agent-a1b2c3.jsonl", modified: next())
            try Data(#"{"agentType":"general-purpose","toolUseId":"toolu_agent1"}"#.utf8).write(
                to: URL(fileURLWithPath: subagents + "/agent-a1b2c3.meta.json"))
            try fixtures.write(agentLines("nested9"), folder: nested, name: "agent-nested9.jsonl", modified: next())
            try Data(#"{"toolUseId":"toolu_inner","parentAgentId":"a1b2c3"}"#.utf8).write(
                to: URL(fileURLWithPath: nested + "/agent-nested9.meta.json"))
            try fixtures.write(agentLines("badmeta"), folder: subagents, name: "agent-badmeta.jsonl", modified: next())
            try Data("not json".utf8).write(to: URL(fileURLWithPath: subagents + "/agent-badmeta.meta.json"))
            try Data("notes".utf8).write(to: URL(fileURLWithPath: subagents + "/notes.txt"))
        }

        // 7. Titles and tags, last one wins; an AI title loses to a custom title.
        do {
            var b = EntryBuilder(sessionID: titled, cwd: projectA, gitBranch: "topic")
            let u1 = fixtures.uuid(), a1 = fixtures.uuid()
            let lines = [
                b.user(u1, parent: nil, "Titled prompt"),
                b.assistant(a1, parent: u1, id: "msg_ti", [["type": "text", "text": "ok"]]),
                b.customTitle("First title"),
                b.aiTitle("AI title"),
                b.customTitle("Final title"),
                b.tag("alpha"),
                b.tag("beta"),
            ]
            try fixtures.write(lines, folder: folderA, name: "\(titled).jsonl", modified: next())
        }

        // 8. A sidechain transcript at top level is hidden.
        do {
            var b = EntryBuilder(sessionID: sidechainFirst, cwd: projectA)
            let u1 = fixtures.uuid(), a1 = fixtures.uuid()
            try fixtures.write(
                [
                    b.user(u1, parent: nil, "side", sidechain: true),
                    b.assistant(a1, parent: u1, id: "m", [["type": "text", "text": "x"]], sidechain: true),
                ],
                folder: folderA, name: "\(sidechainFirst).jsonl", modified: next())
        }

        // 9–11. Nothing to show, an empty file, and names that are not session ids.
        do {
            var b = EntryBuilder(sessionID: metadataOnly, cwd: projectA)
            try fixtures.write(
                [b.queueOperation(), b.queueOperation()], folder: folderA, name: "\(metadataOnly).jsonl",
                modified: next())
            try fixtures.write([], folder: folderA, name: "\(empty).jsonl", modified: next())
            var n = EntryBuilder(sessionID: "notes", cwd: projectA)
            try fixtures.write(
                [n.user(fixtures.uuid(), parent: nil, "not a session")], folder: folderA, name: "notes.jsonl",
                modified: next())
            try fixtures.write(
                [n.user(fixtures.uuid(), parent: nil, "not a session")], folder: folderA, name: "agent-x.jsonl",
                modified: next())
            try fixtures.write(
                [n.user(fixtures.uuid(), parent: nil, "not a session")], folder: folderA, name: "\(simple).json",
                modified: next())
        }

        // 12. An upper-case id is still an id.
        do {
            var b = EntryBuilder(sessionID: uppercase, cwd: projectA)
            try fixtures.write(
                [b.user(fixtures.uuid(), parent: nil, "UPPER CASE ID")], folder: folderA, name: "\(uppercase).jsonl",
                modified: next())
        }

        // 13. A large transcript: the head window cuts a line, the tail window starts
        //     inside one huge last line, and the branch changed near the end.
        do {
            var b = EntryBuilder(sessionID: big, cwd: projectA)
            var lines = [b.aiTitle("AI big title")]
            var parent: String?
            let filler = String(repeating: "lorem ipsum dolor sit amet ", count: 90)
            for turn in 0..<60 {
                let u = fixtures.uuid(), a = fixtures.uuid()
                lines.append(
                    b.user(u, parent: parent, .string(turn == 0 ? "Big first prompt" : "turn \(turn) \(filler)")))
                lines.append(
                    b.assistant(
                        a, parent: u, id: "msg_big\(turn)", [["type": "text", "text": .string(filler)]],
                        branch: turn > 55 ? "feature-x" : "main"))
                parent = a
            }
            lines.append(b.lastPrompt("outside the tail window"))
            let huge = String(repeating: "x", count: 80_000)
            lines.append(
                b.assistant(
                    fixtures.uuid(), parent: parent, id: "msg_huge", [["type": "text", "text": .string(huge)]],
                    branch: "feature-x"))
            try fixtures.write(lines, folder: folderA, name: "\(big).jsonl", modified: next())
        }

        // 14. First-prompt rules: commands, generated text, tool results, meta, truncation.
        do {
            var b = EntryBuilder(sessionID: prompts, cwd: projectA)
            var ids: [String] = []
            for _ in 0..<9 { ids.append(fixtures.uuid()) }
            let long = String(repeating: "word ", count: 40) + String(repeating: "tail ", count: 30)
            let lines = [
                b.user(
                    ids[0], parent: nil, "<command-name>/clear</command-name>\n<command-message>clear</command-message>"
                ),
                b.user(ids[1], parent: ids[0], "<local-command-stdout>cleared</local-command-stdout>"),
                b.user(ids[2], parent: ids[1], "[Request interrupted by user for tool use]"),
                b.user(ids[3], parent: ids[2], "  <ide_opened_file>/x.swift</ide_opened_file>  "),
                b.user(ids[4], parent: ids[3], [["type": "tool_result", "tool_use_id": "t", "content": "r"]]),
                b.user(ids[5], parent: ids[4], "meta prompt", extra: [("isMeta", true)]),
                b.user(
                    ids[6], parent: ids[5],
                    [
                        ["type": "image", "source": ["type": "base64"]], ["type": "text", "text": "   "],
                        ["type": "text", "text": .string("\n" + long)],
                    ]),
                b.assistant(ids[7], parent: ids[6], id: "msg_pr", [["type": "text", "text": "ok"]]),
            ]
            try fixtures.write(lines, folder: folderA, name: "\(prompts).jsonl", modified: next())
            var c = EntryBuilder(sessionID: commandOnly, cwd: projectA)
            try fixtures.write(
                [
                    c.user(fixtures.uuid(), parent: nil, "<command-name>/compact</command-name> args"),
                    c.user(fixtures.uuid(), parent: nil, "<command-name>/second</command-name>"),
                ],
                folder: folderA, name: "\(commandOnly).jsonl", modified: next())
        }

        // 15. Keys nested inside content must not be taken for the entry's own fields.
        do {
            var b = EntryBuilder(sessionID: nestedKeys, cwd: projectA)
            let at = fixtures.uuid(), u1 = fixtures.uuid(), a1 = fixtures.uuid()
            let nested: JSONValue = [
                "customTitle": "Nested title", "summary": "nested summary", "cwd": "/nested/cwd",
                "timestamp": "2001-01-01T00:00:00Z",
            ]
            let lines = [
                jsonLine([
                    ("parentUuid", .null), ("type", "attachment"), ("attachment", ["type": "hook", "payload": nested]),
                    ("uuid", .string(at)), ("timestamp", .string(TranscriptFixtures.timestamp(1))),
                    ("cwd", .string(projectA)), ("sessionId", .string(nestedKeys)),
                ]),
                b.user(u1, parent: at, "The real prompt"),
                b.assistant(
                    a1, parent: u1, id: "msg_n",
                    [["type": "tool_use", "id": "toolu_n", "name": "Configure", "input": nested]]),
            ]
            try fixtures.write(lines, folder: folderA, name: "\(nestedKeys).jsonl", modified: next())
        }

        // 16–19. Unicode and long working directories.
        for (cwd, id, prompt) in [
            (unicodeProject, unicode, "Привет 👋 unicode"), (longProject, long, "long path prompt"),
            (longAstralEarly, longEarly, "emoji early in a long path"),
            (longAstralLate, longLate, "emoji late in a long path"),
        ] {
            let folder = try fixtures.projectFolder(for: cwd)
            var b = EntryBuilder(sessionID: id, cwd: cwd)
            let u1 = fixtures.uuid()
            try fixtures.write(
                [
                    b.user(u1, parent: nil, .string(prompt)),
                    b.assistant(
                        fixtures.uuid(), parent: u1, id: "msg_\(id.suffix(2))", [["type": "text", "text": "ok"]]),
                ],
                folder: folder, name: "\(id).jsonl", modified: next())
        }

        // 20–21. A git repository with a second worktree.
        do {
            repository = try fixtures.workingDirectory("repo")
            try await Self.git(["init", "-q", "-b", "main"], in: repository)
            try await Self.git(
                ["-c", "user.email=t@example.com", "-c", "user.name=t", "commit", "-q", "--allow-empty", "-m", "init"],
                in: repository)
            worktree = root + "/work/repo-wt"
            try await Self.git(["worktree", "add", "-q", worktree, "-b", "feature"], in: repository)
            for (cwd, id) in [(repository, inRepository), (worktree, inWorktree)] {
                let folder = try fixtures.projectFolder(for: cwd)
                var b = EntryBuilder(sessionID: id, cwd: cwd)
                try fixtures.write(
                    [b.user(fixtures.uuid(), parent: nil, .string("prompt in \(cwd.split(separator: "/").last!)"))],
                    folder: folder, name: "\(id).jsonl", modified: next())
            }
        }

        // 22. Invalid UTF-8 inside a message.
        do {
            var b = EntryBuilder(sessionID: invalidUTF8, cwd: projectA)
            let u1 = fixtures.uuid(), a1 = fixtures.uuid()
            var bytes = Array((b.user(u1, parent: nil, "Invalid byte here: MARK") + "\n").utf8)
            let mark = Array("MARK".utf8)
            if let index = (0...(bytes.count - mark.count)).first(where: { Array(bytes[$0..<$0 + mark.count]) == mark })
            {
                bytes.replaceSubrange(index..<index + mark.count, with: [0xFF, 0xFE])
            }
            bytes += Array((b.assistant(a1, parent: u1, id: "msg_u", [["type": "text", "text": "fine"]]) + "\n").utf8)
            let path = folderA + "/\(invalidUTF8).jsonl"
            try Data(bytes).write(to: URL(fileURLWithPath: path))
            try fixtures.setModified(path, next())
        }

        // 23. A raw U+2028 inside a message (the CLI does not escape it).
        do {
            var b = EntryBuilder(sessionID: lineSeparator, cwd: projectA)
            let u1 = fixtures.uuid(), a1 = fixtures.uuid(), u2 = fixtures.uuid(), a2 = fixtures.uuid()
            let lines = [
                b.user(u1, parent: nil, "Separator test"),
                b.assistant(
                    a1, parent: u1, id: "msg_ls1", [["type": "text", "text": "line one\u{2028}line two\u{2029}para"]]),
                b.user(u2, parent: a1, "follow-up"),
                b.assistant(a2, parent: u2, id: "msg_ls2", [["type": "text", "text": "end"]]),
            ]
            try fixtures.write(lines, folder: folderA, name: "\(lineSeparator).jsonl", modified: next())
        }

        // 24. The same session in two projects: the newer copy wins when listing all.
        do {
            var older = EntryBuilder(sessionID: duplicated, cwd: projectA)
            try fixtures.write(
                [older.user(fixtures.uuid(), parent: nil, "older copy")], folder: folderA, name: "\(duplicated).jsonl",
                modified: next())
            var newer = EntryBuilder(sessionID: duplicated, cwd: projectB)
            try fixtures.write(
                [newer.user(fixtures.uuid(), parent: nil, "newer copy")], folder: folderB, name: "\(duplicated).jsonl",
                modified: next() + 1000)
        }

        // 25. A dangling symbolic link named like a session.
        try FileManager.default.createSymbolicLink(
            atPath: folderA + "/\(dangling).jsonl", withDestinationPath: root + "/nowhere.jsonl")

        // 26. An edited prompt: the first branch was abandoned.
        do {
            var b = EntryBuilder(sessionID: branched, cwd: projectA)
            let u1 = fixtures.uuid(), a1 = fixtures.uuid(), old = fixtures.uuid(), oldReply = fixtures.uuid()
            let edited = fixtures.uuid(), reply = fixtures.uuid(), u3 = fixtures.uuid(), a3 = fixtures.uuid()
            branchedCut = reply
            let lines = [
                b.user(u1, parent: nil, "Branch root prompt"),
                b.assistant(a1, parent: u1, id: "msg_b1", [["type": "text", "text": "root reply"]]),
                b.user(old, parent: a1, "Abandoned wording"),
                b.assistant(oldReply, parent: old, id: "msg_b2", [["type": "text", "text": "abandoned reply"]]),
                b.user(edited, parent: a1, "Edited wording"),
                b.assistant(reply, parent: edited, id: "msg_b3", [["type": "text", "text": "edited reply"]]),
                b.user(u3, parent: reply, "Continue"),
                b.assistant(a3, parent: u3, id: "msg_b4", [["type": "text", "text": "continued"]]),
            ]
            try fixtures.write(lines, folder: folderA, name: "\(branched).jsonl", modified: next())
        }
    }

    static func git(_ arguments: [String], in directory: String) async throws {
        let result = try await ChildProcess.run("/usr/bin/env", ["git"] + arguments, currentDirectory: directory)
        guard result.status == 0 else {
            throw ReferencePython.Failure(description: "git \(arguments) failed: \(result.standardErrorText)")
        }
    }

    static func copyTree(_ source: String, to destination: String) async throws {
        let result = try await ChildProcess.run("/bin/cp", ["-a", source, destination])
        guard result.status == 0 else {
            throw ReferencePython.Failure(description: "cp -a failed: \(result.standardErrorText)")
        }
    }

    static func rawLines(_ path: String) throws -> [String] {
        let text = String(decoding: try Data(contentsOf: URL(fileURLWithPath: path)), as: UTF8.self)
        return text.split(separator: "\n", omittingEmptySubsequences: true).map(String.init)
    }

    static func jsonLines(_ path: String) throws -> [JSONValue] {
        try rawLines(path).map { try JSONValue.parse($0) }
    }

    /// A forked file with its fresh ids replaced by the source ids they stand for, and the
    /// fork's own id and "now" timestamps replaced by placeholders.
    static func normalizedFork(_ path: String) throws -> [JSONValue] {
        let lines = try jsonLines(path)
        var original: [String: String] = [:]
        for line in lines {
            if case .string(let uuid)? = line["uuid"], case .string(let source)? = line["forkedFrom"]?["messageUuid"] {
                original[uuid] = source
            }
        }
        let lastEntry = lines.lastIndex { $0["forkedFrom"] != nil }
        return lines.enumerated().map { index, line in
            guard case .object(var object) = line else { return line }
            for key in ["uuid", "parentUuid", "logicalParentUuid"] {
                if case .string(let value)? = object[key] {
                    object[key] = .string(original[value].map { "orig:" + $0 } ?? "<new>")
                }
            }
            object["sessionId"] = "<fork>"
            if index == lastEntry || object["forkedFrom"] == nil { object["timestamp"] = "<now>" }
            return .object(object)
        }
    }

    // MARK: Operations

    func readOperations() -> [Operation] {
        // The nested-keys session differs on purpose (asserted below), so listings skip it.
        let skip: Set<String> = [nestedKeys]
        let longProject = longProject, long = long, longLate = longLate
        var operations: [Operation] = [
            T.ignoring(skip, T.list()),
            T.ignoring(skip, T.list(limit: 3)),
            T.ignoring(skip, T.list(limit: 4, offset: 2)),
            T.list(offset: 100),
            T.ignoring(skip, T.list(limit: 0, offset: 1)),
            T.ignoring(skip, T.list(directory: projectA)),
            T.ignoring(skip, T.list(directory: projectA, limit: 5, offset: 5)),
            T.list(directory: projectB),
            T.list(directory: missingProject),
            T.list(directory: repository),
            T.list(directory: repository, includeWorktrees: false),
            T.list(directory: worktree, limit: 1),
            T.list(directory: longProject),
            T.sometimesDiffering(
                T.list(directory: longAstralLate),
                because: """
                    Python hashes code points, misses the CLI's folder for this path and falls back to the first \
                    folder (in directory order) sharing its first 200 characters, which may belong to another \
                    project; our UTF-16 hash names the right folder
                    """,
                { python, ours in
                    let pythonRight = python == ours
                    let pythonWrong =
                        python["ok"]?[0]?["session_id"] == .string(long)
                        && python["ok"]?[0]?["cwd"] == .string(longProject)
                    return (pythonRight || pythonWrong) && ours["ok"]?.arrayValue?.count == 1
                        && ours["ok"]?[0]?["session_id"] == .string(longLate)
                }),
            T.sanitize(projectA), T.sanitize("/Users/foo/my proj.v2"), T.sanitize(longProject),
            T.sanitize("/tmp/" + String(repeating: "é", count: 250)),
            T.differing(
                T.sanitize(unicodeProject),
                because:
                    "the CLI replaces each UTF-16 unit, so 😀 becomes two dashes; Python iterates code points and writes one",
                { python, ours in
                    (ours["ok"]?.stringValue?.count ?? 0) == (python["ok"]?.stringValue?.count ?? 0) + 1
                }),
            T.differing(
                T.sanitize(longAstralLate),
                because:
                    "for paths over 200 characters the CLI hashes UTF-16 units; Python hashes code points, so the suffix differs",
                { python, ours in
                    guard let a = python["ok"]?.stringValue, let b = ours["ok"]?.stringValue else { return false }
                    return a.prefix(200) == b.prefix(200) && a != b
                }),
        ]
        let directoryFiltered: [(String, String)] = [
            (simple, projectA), (corrupt, projectA), (compacted, projectA), (sidechains, projectA),
            (parallel, projectA),
            (withSubagents, projectA), (titled, projectA), (sidechainFirst, projectA), (metadataOnly, projectA),
            (empty, projectA), (uppercase, projectA), (big, projectA), (prompts, projectA), (commandOnly, projectA),
            (lineSeparator, projectA), (branched, projectA), (long, longProject),
            (inRepository, repository), (inWorktree, worktree), (inWorktree, repository), (dangling, projectA),
        ]
        for (id, directory) in directoryFiltered {
            operations.append(T.info(id, directory: directory))
            operations.append(T.messages(id, directory: directory))
        }
        for id in [simple, compacted, parallel, big, unicode, titled] {
            operations.append(T.info(id, directory: nil))
            operations.append(T.messages(id, directory: nil))
        }
        operations += [
            T.messages(simple, directory: projectA, limit: 2),
            T.messages(simple, directory: projectA, limit: 2, offset: 1),
            T.messages(simple, directory: projectA, offset: 3),
            T.messages(simple, directory: projectA, limit: 0, offset: 1),
            T.messages(parallel, directory: projectA, limit: 3, offset: 2),
            T.messages(big, directory: projectA, limit: 5, offset: 50),
            T.info("not-a-uuid", directory: projectA),
            T.messages("not-a-uuid", directory: projectA),
            T.messages("../../etc/passwd", directory: nil),
            T.info(Scenario.id(0xdead), directory: projectA),
            T.subagents(withSubagents, directory: projectA),
            T.subagents(withSubagents, directory: nil),
            T.subagents(simple, directory: projectA),
            T.subagents("not-a-uuid", directory: nil),
            T.subagentMessages(withSubagents, agent: "a1b2c3", directory: projectA),
            T.subagentMessages(withSubagents, agent: "nested9", directory: projectA),
            T.subagentMessages(withSubagents, agent: "badmeta", directory: nil),
            T.subagentMessages(withSubagents, agent: "a1b2c3", directory: projectA, limit: 1, offset: 1),
            T.subagentMessages(withSubagents, agent: "missing", directory: projectA),
            T.subagentMessages(withSubagents, agent: "", directory: projectA),
        ]

        // Deliberate differences.
        let projectA = projectA
        operations += [
            T.differing(
                T.info(nestedKeys, directory: projectA),
                because: """
                    Python's substring search takes a "customTitle" nested in a tool input for the title \
                    and a nested "cwd" and "timestamp" for the session's own; we read top-level fields only
                    """,
                { python, ours in
                    python["ok"]?["custom_title"] == "Nested title" && python["ok"]?["cwd"] == "/nested/cwd"
                        && ours["ok"]?["custom_title"] == .null && ours["ok"]?["summary"] == "The real prompt"
                        && ours["ok"]?["cwd"] == .string(projectA)
                        && python["ok"]?["created_at"] != ours["ok"]?["created_at"]
                }),
            T.differing(
                T.messages(invalidUTF8, directory: projectA),
                because:
                    "Python decodes the whole file strictly and raises on one bad byte; we replace it with U+FFFD and read the rest",
                { python, ours in
                    python["error"]?["type"] == "UnicodeDecodeError" && ours["ok"]?.arrayValue?.count == 2
                }),
            T.info(invalidUTF8, directory: projectA),
            T.differing(
                T.info(unicode, directory: unicodeProject),
                because: "Python looks for the folder under its code-point sanitization and misses the CLI's folder",
                { python, ours in python["ok"] == .null && ours["ok"]?["summary"] == "Привет 👋 unicode" }),
            T.differing(
                T.list(directory: unicodeProject),
                because: "Python looks for the folder under its code-point sanitization and misses the CLI's folder",
                { python, ours in python["ok"] == [] && ours["ok"]?.arrayValue?.count == 1 }),
            T.sometimesDiffering(
                T.info(longLate, directory: longAstralLate),
                because: "Python's prefix fallback may pick another project's folder (see the listing above)",
                { python, ours in
                    (python["ok"] == .null || python == ours) && ours["ok"]?["session_id"] == .string(longLate)
                }),
            T.sometimesDiffering(
                T.messages(longLate, directory: longAstralLate),
                because: "Python's prefix fallback may pick another project's folder (see the listing above)",
                { python, ours in (python["ok"] == [] || python == ours) && ours["ok"]?.arrayValue?.count == 2 }),
            T.differing(
                T.messages(longEarly, directory: longAstralEarly),
                because:
                    "with 😀 in the first 200 characters Python's folder prefix is one dash short, so even its prefix fallback misses",
                { python, ours in python["ok"] == [] && ours["ok"]?.arrayValue?.count == 2 }),
        ]
        return operations
    }

    mutating func mutationOperations() -> [Operation] {
        let operations = mutationOperationList()
        return operations.map { operation in
            ["get_session_info", "list_sessions"].contains(operation.name) ? T.afterMutation(operation) : operation
        }
    }

    mutating func mutationOperationList() -> [Operation] {
        var operations: [Operation] = [
            T.rename(simple, "  Renamed ✓ title \n", directory: projectA),
            T.tag(simple, "\u{200B}my\u{FF54}ag\u{202E}\u{E000} ", directory: projectA),
            T.info(simple, directory: projectA),
            T.tag(titled, nil, directory: nil),
            T.info(titled, directory: projectA),
            T.tag(simple, " \u{200D}\u{FEFF} ", directory: projectA),
            T.rename(simple, "   ", directory: projectA),
            T.rename("not-a-uuid", "x", directory: projectA),
            T.rename(Scenario.id(0xbeef), "x", directory: projectA),
            T.tag(Scenario.id(0xbeef), "x", directory: nil),
            T.rename(empty, "x", directory: projectA),
            T.rename(long, "Long path title", directory: longProject),
            T.info(long, directory: longProject),
            T.delete(corrupt, directory: projectA),
            T.delete(corrupt, directory: projectA),
            T.delete(withSubagents, directory: nil),
            T.subagents(withSubagents, directory: projectA),
            T.delete("not-a-uuid", directory: nil),
            T.ignoring([nestedKeys], T.list(directory: projectA)),
            T.fork(simple, directory: projectA, upTo: Scenario.id(0xfeed)),
            T.fork(simple, directory: projectA, upTo: "bad-id"),
            T.fork(metadataOnly, directory: projectA),
            T.fork(empty, directory: projectA),
        ]
        func addFork(
            _ operation: Operation, source: String, directory: String, expectedMessages: Int? = nil,
            compare: (([JSONValue], [JSONValue]) -> Void)? = nil
        ) {
            forkChecks.append(
                ForkCheck(
                    operationIndex: operations.count, directory: directory, sourceID: source,
                    compare: compare ?? { theirs, mine in
                        #expect(theirs.count == mine.count, "fork of \(source): \(theirs.count) vs \(mine.count) lines")
                        for (index, pair) in zip(theirs, mine).enumerated() {
                            if let difference = firstDifference(pair.0, pair.1) {
                                Issue.record("fork of \(source), line \(index): \(difference)")
                            }
                        }
                    },
                    compareMessages: { source, forked in
                        let expected = expectedMessages.map { Array(source.prefix($0)) } ?? source
                        #expect(
                            forked.map(\.message) == expected.map(\.message), "our reader sees the fork's conversation")
                        #expect(forked.map(\.type) == expected.map(\.type))
                    }))
            operations.append(operation)
        }
        addFork(T.fork(simple, directory: projectA), source: simple, directory: projectA)
        addFork(T.fork(titled, directory: projectA, title: "  Custom fork  "), source: titled, directory: projectA)
        addFork(T.fork(compacted, directory: projectA), source: compacted, directory: projectA)
        addFork(
            T.fork(parallel, directory: projectA, upTo: parallelCut), source: parallel, directory: projectA,
            expectedMessages: 7)
        addFork(T.fork(parallel, directory: projectA), source: parallel, directory: projectA)
        // Deliberate: the derived title. Python takes the nested "customTitle" of a tool input.
        addFork(
            T.fork(nestedKeys, directory: nil), source: nestedKeys, directory: projectA,
            compare: { theirs, mine in
                #expect(theirs.count == mine.count)
                #expect(theirs.last?["customTitle"] == "Nested title (fork)")
                #expect(mine.last?["customTitle"] == "The real prompt (fork)")
                for (index, pair) in zip(theirs.dropLast(), mine.dropLast()).enumerated() {
                    if let difference = firstDifference(pair.0, pair.1) {
                        Issue.record("nested-keys fork line \(index): \(difference)")
                    }
                }
            })
        // Deliberate: chain order. Python copies the abandoned branch too.
        let abandoned = ["Abandoned wording", "abandoned reply"]
        addFork(
            T.fork(branched, directory: projectA), source: branched, directory: projectA,
            compare: { theirs, mine in
                let texts: ([JSONValue]) -> [String] = { lines in
                    lines.compactMap { line in
                        if case .string(let text)? = line["message"]?["content"] { return text }
                        return line["message"]?["content"]?[0]?["text"]?.stringValue
                    }
                }
                #expect(abandoned.allSatisfy(texts(theirs).contains), "Python keeps the abandoned branch")
                #expect(!abandoned.contains(where: texts(mine).contains), "we fork the conversation only")
                #expect(theirs.count == mine.count + 2)
                let kept = theirs.filter { line in !abandoned.contains(where: texts([line]).contains) }
                for (index, pair) in zip(kept, mine).enumerated() {
                    if let difference = firstDifference(pair.0, pair.1) {
                        Issue.record("branched fork line \(index): \(difference)")
                    }
                }
            })
        addFork(
            T.fork(branched, directory: projectA, upTo: branchedCut), source: branched, directory: projectA,
            expectedMessages: 4,
            compare: { theirs, mine in
                #expect(
                    theirs.count == mine.count + 2,
                    "Python's cut in file order keeps the abandoned branch before the cut")
            })
        // Deliberate: Python's splitlines() cuts lines at U+2028 and loses that message.
        addFork(
            T.fork(lineSeparator, directory: projectA), source: lineSeparator, directory: projectA,
            compare: { theirs, mine in
                #expect(mine.count == 5, "4 entries and the title")
                #expect(theirs.count == 4, "Python dropped the message with U+2028")
                #expect(mine[1]["message"]?["content"]?[0]?["text"] == "line one\u{2028}line two\u{2029}para")
                #expect(theirs[1]["parentUuid"] == .null, "and its child lost its parent")
            })
        return operations
    }
}
