import ClaudeCode
import ClaudeCodeSessions
import Foundation

/// Named contract checks for a ``SessionCatalog`` backend, each run on a fresh store.
///
/// The Python SDK's 14 contracts (python-sdk.md §4.10) plus what it leaves out: uuid
/// deduplication, concurrent appends, advancing mtimes, 10 MB and Unicode entries, odd keys,
/// refused keys, byte-exact entries, and summaries that are never stale.
public struct TranscriptStoreContract: Sendable, CustomStringConvertible {
    public let name: String
    public let run: @Sendable (any SessionCatalog) async throws -> Void

    public var description: String { name }

    init(_ name: String, _ run: @escaping @Sendable (any SessionCatalog) async throws -> Void) {
        self.name = name
        self.run = run
    }

    static func raws(_ entries: [SessionStoreEntry]?) -> [[UInt8]]? { entries?.map(\.raw.bytes) }

    public static let all: [TranscriptStoreContract] = [
        .init("append then load returns the same bytes in order") { store in
            let key = SessionStoreKey(projectKey: uniqueName("p"), sessionID: uniqueName("s"))
            // Odd spacing, key order and number spellings must survive: entries are stored byte for byte.
            let batch = [
                entry(#"{"type":"user","uuid":"u1","message":{"content":"hi"}}"#),
                entry(#"{ "uuid" : "u2", "type":"assistant", "n": 1.50e3, "z":null }"#),
                entry(#"{"type":"x"}"#),
            ]
            try await store.append(batch, to: key)
            let loaded = try await store.load(key)
            try await checkEqual(raws(loaded), raws(batch), "load after append")
            try await checkEqual(loaded?.map(\.type), ["user", "assistant", "x"], "types")
            try await checkEqual(loaded?.map(\.uuid), ["u1", "u2", nil], "uuids")
        },
        .init("load of a never-written key is nil, also for an unwritten subpath") { store in
            let key = SessionStoreKey(projectKey: uniqueName("p"), sessionID: uniqueName("s"))
            try await check(try await store.load(key) == nil, "unknown main key")
            try await store.append([entry(type: "user")], to: key)
            let sub = SessionStoreKey(
                projectKey: key.projectKey, sessionID: key.sessionID, subpath: "subagents/agent-1")
            try await check(try await store.load(sub) == nil, "unwritten subpath of an existing session")
            let other = SessionStoreKey(projectKey: key.projectKey, sessionID: uniqueName("s"))
            try await check(try await store.load(other) == nil, "other session of the same project")
        },
        .init("appends load back concatenated in call order") { store in
            let key = SessionStoreKey(projectKey: uniqueName("p"), sessionID: uniqueName("s"))
            try await store.append([entry(type: "a", #""n":1"#), entry(type: "a", #""n":2"#)], to: key)
            try await store.append([entry(type: "b", #""n":3"#)], to: key)
            try await store.append([entry(type: "c", #""n":4"#), entry(type: "c", #""n":5"#)], to: key)
            let loaded = try await store.load(key) ?? []
            try await checkEqual(try loaded.map { try $0.value()["n"]?.intValue }, [1, 2, 3, 4, 5], "order")
        },
        .init("append of nothing is a no-op") { store in
            let key = SessionStoreKey(projectKey: uniqueName("p"), sessionID: uniqueName("s"))
            try await store.append([], to: key)
            try await check(try await store.load(key) == nil, "an empty append creates nothing")
            try await checkEqual(try await store.listSessions(projectKey: key.projectKey), [], "nothing listed")
            try await store.append([entry(type: "user")], to: key)
            let before = try await store.listSessions(projectKey: key.projectKey)
            try await store.append([], to: key)
            try await checkEqual(try await store.load(key)?.count, 1, "unchanged")
            try await checkEqual(try await store.listSessions(projectKey: key.projectKey), before, "mtime unchanged")
        },
        .init("main and subpath transcripts are independent") { store in
            let main = SessionStoreKey(projectKey: uniqueName("p"), sessionID: uniqueName("s"))
            let sub = SessionStoreKey(
                projectKey: main.projectKey, sessionID: main.sessionID, subpath: "subagents/agent-1")
            try await store.append([entry(type: "main")], to: main)
            try await store.append([entry(type: "sub"), entry(type: "sub")], to: sub)
            try await checkEqual(try await store.load(main)?.map(\.type), ["main"], "main")
            try await checkEqual(try await store.load(sub)?.map(\.type), ["sub", "sub"], "sub")
        },
        .init("the same session id in two projects stays separate") { store in
            let id = uniqueName("s")
            let a = SessionStoreKey(projectKey: uniqueName("A"), sessionID: id)
            let b = SessionStoreKey(projectKey: uniqueName("B"), sessionID: id)
            try await store.append([entry(type: "a", uuid: "same")], to: a)
            try await store.append([entry(type: "b", uuid: "same")], to: b)
            try await checkEqual(try await store.load(a)?.map(\.type), ["a"], "project A")
            try await checkEqual(try await store.load(b)?.map(\.type), ["b"], "project B")
            try await checkEqual(
                try await store.listSessions(projectKey: a.projectKey).map(\.sessionID), [id], "A lists one")
            try await checkEqual(
                try await store.listSessions(projectKey: b.projectKey).map(\.sessionID), [id], "B lists one")
        },
        .init("listSessions lists the project's sessions with epoch-ms mtimes, [] for an unknown project") { store in
            let project = uniqueName("p")
            let ids = (0..<3).map { _ in uniqueName("s") }
            for id in ids {
                try await store.append([entry(type: "user")], to: SessionStoreKey(projectKey: project, sessionID: id))
            }
            try await store.append(
                [entry(type: "user")], to: SessionStoreKey(projectKey: uniqueName("other"), sessionID: uniqueName("s")))
            let listed = try await store.listSessions(projectKey: project)
            try await checkEqual(Set(listed.map(\.sessionID)), Set(ids), "ids")
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            for listing in listed {
                try await check(
                    listing.modifiedMilliseconds > 1_000_000_000_000, "mtime in ms: \(listing.modifiedMilliseconds)")
                try await check(
                    abs(listing.modifiedMilliseconds - now) < 600_000, "mtime near now: \(listing.modifiedMilliseconds)"
                )
            }
            try await checkEqual(try await store.listSessions(projectKey: uniqueName("unknown")), [], "unknown project")
        },
        .init("listSessions excludes subpaths") { store in
            let main = SessionStoreKey(projectKey: uniqueName("p"), sessionID: uniqueName("s"))
            try await store.append([entry(type: "user")], to: main)
            try await store.append(
                [entry(type: "user")],
                to: SessionStoreKey(
                    projectKey: main.projectKey, sessionID: main.sessionID, subpath: "subagents/agent-1"))
            try await checkEqual(
                try await store.listSessions(projectKey: main.projectKey).map(\.sessionID), [main.sessionID],
                "main only")
        },
        .init("summaries: per project, same clock as listings, subpaths ignored, gone after delete") { store in
            let key = SessionStoreKey(projectKey: uniqueName("p"), sessionID: uniqueName("s"))
            try await store.append(
                [entry(type: "user", uuid: "u1", #""cwd":"/w","timestamp":"2025-01-02T03:04:05.678Z""#)], to: key)
            try await store.append(
                [entry(type: "user")], to: SessionStoreKey(projectKey: uniqueName("other"), sessionID: uniqueName("s")))
            var summaries = try await store.listSessionSummaries(projectKey: key.projectKey)
            try await checkEqual(summaries.map(\.sessionID), [key.sessionID], "project's only")
            let summary = summaries[0]
            try await check(summary.modifiedMilliseconds > 1_000_000_000_000, "ms")
            let listed = try await store.listSessions(projectKey: key.projectKey)[0]
            try await check(summary.modifiedMilliseconds >= listed.modifiedMilliseconds, "summary mtime ≥ listed mtime")
            try await check(summary.data.objectValue != nil, "data is an object")
            try await checkEqual(summary.data["cwd"], "/w", "cwd folded")
            try await checkEqual(summary.data["created_at"], .int(1_735_787_045_678), "created_at folded")
            // A subpath append leaves the summary alone.
            try await store.append(
                [entry(type: "user", #""customTitle":"from a subagent""#)],
                to: SessionStoreKey(projectKey: key.projectKey, sessionID: key.sessionID, subpath: "subagents/agent-1"))
            summaries = try await store.listSessionSummaries(projectKey: key.projectKey)
            try await checkEqual(summaries, [summary], "unchanged by a subpath append")
            try await checkEqual(
                try await store.listSessionSummaries(projectKey: uniqueName("unknown")), [], "unknown project")
            try await store.delete(key)
            try await checkEqual(try await store.listSessionSummaries(projectKey: key.projectKey), [], "deleted")
        },
        .init("summaries are folded incrementally and never stale") { store in
            let key = SessionStoreKey(projectKey: uniqueName("p"), sessionID: uniqueName("s"))
            let lines = [
                #"{"type":"user","uuid":"1","isSidechain":false,"timestamp":"2025-03-01T10:00:00Z","cwd":"/repo","message":{"content":[{"type":"text","text":"  Fix the\nbug  "}]}}"#,
                #"{"type":"assistant","uuid":"2","gitBranch":"main"}"#,
                #"{"type":"custom-title","customTitle":"First title"}"#,
                #"{"type":"tag","tag":"urgent"}"#,
                #"{"type":"user","uuid":"3","message":{"content":"second prompt"},"lastPrompt":"second prompt"}"#,
                #"{"type":"custom-title","customTitle":"Second title"}"#,
                #"{"type":"tag","tag":""}"#,
                #"{"type":"summary","summary":"a hint","gitBranch":"feature"}"#,
            ]
            var previousTime: Int64 = 0
            for (index, line) in lines.enumerated() {
                try await store.append([entry(line)], to: key)
                let summary = try await store.listSessionSummaries(projectKey: key.projectKey)[0]
                let listed = try await store.listSessions(projectKey: key.projectKey)[0]
                try await checkEqual(
                    summary.modifiedMilliseconds, listed.modifiedMilliseconds, "stamped with the append (\(index))")
                try await check(summary.modifiedMilliseconds > previousTime, "summary time advances (\(index))")
                previousTime = summary.modifiedMilliseconds
                if index == 3 { try await checkEqual(summary.data["tag"], "urgent", "tag set") }
            }
            let data = try await store.listSessionSummaries(projectKey: key.projectKey)[0].data
            try await checkEqual(data["first_prompt"], "Fix the bug", "first prompt, trimmed, locked")
            try await checkEqual(data["first_prompt_locked"], true, "locked")
            try await checkEqual(data["custom_title"], "Second title", "last title wins")
            try await checkEqual(data["last_prompt"], "second prompt", "last prompt")
            try await checkEqual(data["git_branch"], "feature", "last branch wins")
            try await checkEqual(data["summary_hint"], "a hint", "summary hint")
            try await checkEqual(data["is_sidechain"], false, "not a sidechain")
            try await checkEqual(data["cwd"], "/repo", "cwd")
            try await check(data["tag"] == nil, "an empty tag clears it")
            // A re-sent entry (same uuid) does not fold again.
            try await store.append([entry(#"{"type":"user","uuid":"2","gitBranch":"replayed"}"#)], to: key)
            try await checkEqual(
                try await store.listSessionSummaries(projectKey: key.projectKey)[0].data["git_branch"], "feature",
                "duplicate not folded")
        },
        .init("deleting a main key makes load nil; deleting an unknown key does not throw") { store in
            let key = SessionStoreKey(projectKey: uniqueName("p"), sessionID: uniqueName("s"))
            try await store.append([entry(type: "user")], to: key)
            try await store.delete(key)
            try await check(try await store.load(key) == nil, "deleted")
            try await store.delete(SessionStoreKey(projectKey: uniqueName("p"), sessionID: uniqueName("s")))
            try await store.delete(
                SessionStoreKey(projectKey: key.projectKey, sessionID: key.sessionID, subpath: "subagents/none"))
            // Written again after a delete: a new transcript.
            try await store.append([entry(type: "again")], to: key)
            try await checkEqual(try await store.load(key)?.map(\.type), ["again"], "rewritten")
        },
        .init("deleting a main key cascades to its subkeys and summary only") { store in
            let project = uniqueName("p")
            let main = SessionStoreKey(projectKey: project, sessionID: uniqueName("s"))
            let subs = ["subagents/agent-1", "subagents/agent-2"].map {
                SessionStoreKey(projectKey: project, sessionID: main.sessionID, subpath: $0)
            }
            let otherSession = SessionStoreKey(projectKey: project, sessionID: uniqueName("s"))
            let otherProject = SessionStoreKey(projectKey: uniqueName("p"), sessionID: main.sessionID)
            for key in [main] + subs + [otherSession, otherProject] {
                try await store.append([entry(type: "user")], to: key)
            }
            try await store.delete(main)
            for key in [main] + subs { try await check(try await store.load(key) == nil, "\(key) deleted") }
            try await checkEqual(
                try await store.listSubkeys(projectKey: project, sessionID: main.sessionID), [], "no subkeys")
            try await checkEqual(
                try await store.listSessions(projectKey: project).map(\.sessionID), [otherSession.sessionID], "listing")
            try await checkEqual(
                try await store.listSessionSummaries(projectKey: project).map(\.sessionID), [otherSession.sessionID],
                "summaries")
            try await check(try await store.load(otherSession) != nil, "other session survives")
            try await check(try await store.load(otherProject) != nil, "other project survives")
        },
        .init("deleting a subpath removes only that subkey") { store in
            let main = SessionStoreKey(projectKey: uniqueName("p"), sessionID: uniqueName("s"))
            let one = SessionStoreKey(
                projectKey: main.projectKey, sessionID: main.sessionID, subpath: "subagents/agent-1")
            let two = SessionStoreKey(
                projectKey: main.projectKey, sessionID: main.sessionID, subpath: "subagents/agent-2")
            for key in [main, one, two] { try await store.append([entry(type: "user")], to: key) }
            try await store.delete(one)
            try await check(try await store.load(one) == nil, "deleted")
            try await check(try await store.load(two) != nil, "sibling survives")
            try await check(try await store.load(main) != nil, "main survives")
            try await checkEqual(
                try await store.listSubkeys(projectKey: main.projectKey, sessionID: main.sessionID),
                ["subagents/agent-2"], "subkeys")
            try await checkEqual(
                try await store.listSessionSummaries(projectKey: main.projectKey).count, 1, "summary survives")
        },
        .init("listSubkeys lists this session's subpaths only, never the main key") { store in
            let project = uniqueName("p")
            let id = uniqueName("s")
            let paths = ["subagents/agent-b", "subagents/agent-a", "subagents/deep/nested/agent-c"]
            try await store.append([entry(type: "user")], to: SessionStoreKey(projectKey: project, sessionID: id))
            for path in paths {
                try await store.append(
                    [entry(type: "user")], to: SessionStoreKey(projectKey: project, sessionID: id, subpath: path))
            }
            try await store.append(
                [entry(type: "user")],
                to: SessionStoreKey(projectKey: project, sessionID: uniqueName("s"), subpath: "subagents/agent-other"))
            try await checkEqual(
                try await store.listSubkeys(projectKey: project, sessionID: id), paths.sorted(), "subkeys")
            try await checkEqual(
                try await store.listSubkeys(projectKey: project, sessionID: uniqueName("s")), [], "unknown session")
        },
        .init("uuid is an idempotency key per transcript; entries without uuid are never deduplicated") { store in
            let key = SessionStoreKey(projectKey: uniqueName("p"), sessionID: uniqueName("s"))
            try await store.append([entry(type: "a", uuid: "u1"), entry(type: "b", uuid: "u2")], to: key)
            // A retried batch, duplicates inside one batch, and entries without uuid.
            try await store.append(
                [entry(type: "a2", uuid: "u1"), entry(type: "c", uuid: "u3"), entry(type: "c2", uuid: "u3")], to: key)
            try await store.append([entry(type: "n"), entry(type: "n")], to: key)
            try await store.append([entry(type: "n")], to: key)
            try await checkEqual(
                try await store.load(key)?.map(\.type), ["a", "b", "c", "n", "n", "n"], "deduplicated")
            let sub = SessionStoreKey(
                projectKey: key.projectKey, sessionID: key.sessionID, subpath: "subagents/agent-1")
            try await store.append([entry(type: "sub", uuid: "u1")], to: sub)
            try await checkEqual(try await store.load(sub)?.map(\.type), ["sub"], "dedup is per key")
        },
        .init("mtime advances with every append that stores something") { store in
            let key = SessionStoreKey(projectKey: uniqueName("p"), sessionID: uniqueName("s"))
            var last: Int64 = 0
            for index in 0..<20 {
                try await store.append([entry(type: "user", uuid: "u\(index)")], to: key)
                let mtime = try await store.listSessions(projectKey: key.projectKey)[0].modifiedMilliseconds
                try await check(mtime > last, "append \(index): \(mtime) after \(last)")
                last = mtime
            }
        },
        .init("10 MB and Unicode entries round-trip byte for byte") { store in
            let key = SessionStoreKey(projectKey: uniqueName("p"), sessionID: uniqueName("s"))
            let big = String(repeating: "0123456789abcdef", count: 10 * 1024 * 1024 / 16)
            let unicode = #"{"type":"user","text":"héllo 世界 🎉🇫🇷 \u0000 \\ \" \u2028\u2029 — ‮ rtl","raw":" U+2028 "}"#
            let entries = [
                entry(#"{"type":"big","data":"\#(big)"}"#), entry(unicode), entry(#"{"type":"ünïcödé-tÿpe"}"#),
            ]
            try await store.append(entries, to: key)
            let loaded = try await store.load(key)
            try await checkEqual(loaded?.count, 3, "count")
            try await check(loaded?[0].raw.bytes == entries[0].raw.bytes, "10 MB entry intact")
            try await checkEqual(loaded?[1].raw.bytes, entries[1].raw.bytes, "Unicode entry intact")
            try await checkEqual(loaded?[2].type, "ünïcödé-tÿpe", "Unicode type")
            // NUL and '%' inside a type or uuid (escaped in the JSON): stored, loaded, and still an idempotency key.
            let odd = [
                entry(#"{"type":"a\u0000b","uuid":"u\u0000x"}"#), entry(#"{"type":"t","uuid":"u%00x"}"#),
                entry(#"{"type":"t","uuid":"u\u0000x"}"#), entry(#"{"type":"t","uuid":"u\u0000y"}"#),
            ]
            try await store.append(odd, to: key)
            try await store.append([odd[0]], to: key)
            let all = try await store.load(key) ?? []
            try await checkEqual(all.count, 6, "NUL and '%' uuids are distinct and deduplicated")
            try await checkEqual(
                all.suffix(3).map(\.raw.bytes), [odd[0], odd[1], odd[3]].map(\.raw.bytes), "odd entries intact")
            try await checkEqual(all.suffix(3).map(\.uuid), ["u\u{0}x", "u%00x", "u\u{0}y"], "uuids")
            try await checkEqual(all[3].type, "a\u{0}b", "type with NUL")
        },
        .init("keys with odd characters work and stay apart") { store in
            let projects = [
                "-home-user-my project", "/abs/path/like", "C:\\Users\\x", "tenant'; DROP TABLE claude_transcripts; --",
                "ünïcödé 世界 🎉", "%_*?[]", String(repeating: "p", count: 1000), "a/b", "a",
            ]
            let sessions = [
                "s", "s/with/slash", "S", "with space", "quote\"'", "🎉", String(repeating: "s", count: 500),
            ]
            for (p, project) in projects.enumerated() {
                for (s, session) in sessions.enumerated() {
                    try await store.append(
                        [entry(type: "user", #""p":\#(p),"s":\#(s)"#)],
                        to: SessionStoreKey(projectKey: project, sessionID: session))
                }
            }
            try await store.append(
                [entry(type: "sub")],
                to: SessionStoreKey(projectKey: "a", sessionID: "s", subpath: "subagents/ü b/agent 1"))
            for (p, project) in projects.enumerated() {
                try await checkEqual(
                    Set(try await store.listSessions(projectKey: project).map(\.sessionID)), Set(sessions),
                    "sessions of \(p)")
                for (s, session) in sessions.enumerated() {
                    let loaded = try await store.load(SessionStoreKey(projectKey: project, sessionID: session))
                    try await checkEqual(
                        loaded?.map(\.raw.string), [#"{"type":"user","p":\#(p),"s":\#(s)}"#], "entry of \(p)/\(s)")
                }
            }
            try await checkEqual(
                try await store.listSubkeys(projectKey: "a", sessionID: "s"), ["subagents/ü b/agent 1"], "odd subpath")
            try await checkEqual(
                try await store.listSubkeys(projectKey: "a/b", sessionID: "s"), [], "no prefix confusion")
        },
        .init("unsafe keys are refused before anything is written") { store in
            let project = uniqueName("p")
            let bad: [SessionStoreKey] = [
                SessionStoreKey(projectKey: "", sessionID: "s"),
                SessionStoreKey(projectKey: project, sessionID: ""),
                SessionStoreKey(projectKey: project + "\u{0}", sessionID: "s"),
                SessionStoreKey(projectKey: project, sessionID: "s\u{0}x"),
                SessionStoreKey(projectKey: project, sessionID: "s", subpath: ""),
                SessionStoreKey(projectKey: project, sessionID: "s", subpath: "/etc/passwd"),
                SessionStoreKey(projectKey: project, sessionID: "s", subpath: "subagents/../../x"),
                SessionStoreKey(projectKey: project, sessionID: "s", subpath: ".."),
                SessionStoreKey(projectKey: project, sessionID: "s", subpath: "./a"),
                SessionStoreKey(projectKey: project, sessionID: "s", subpath: "a//b"),
                SessionStoreKey(projectKey: project, sessionID: "s", subpath: "a/"),
                SessionStoreKey(projectKey: project, sessionID: "s", subpath: "a\\b"),
                SessionStoreKey(projectKey: project, sessionID: "s", subpath: "a\u{0}b"),
            ]
            for key in bad {
                try await checkThrows(.invalidKey, "append to a bad key") {
                    try await store.append([entry(type: "user")], to: key)
                }
                try await checkThrows(.invalidKey, "load of a bad key") { try await store.load(key) }
                try await checkThrows(.invalidKey, "delete of a bad key") { try await store.delete(key) }
            }
            try await checkEqual(try await store.listSessions(projectKey: project), [], "nothing written")
            try await checkEqual(
                try await store.listSubkeys(projectKey: project, sessionID: "s"), [], "no subkeys written")
        },
        .init("concurrent appends from many tasks lose, duplicate and reorder nothing") { store in
            let key = SessionStoreKey(projectKey: uniqueName("p"), sessionID: uniqueName("s"))
            let tasks = 32
            let perTask = 20
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<tasks {
                    group.addTask {
                        for n in 0..<perTask {
                            // Every writer also re-sends its previous entry, as a retrying mirror would.
                            var batch = [entry(type: "user", uuid: "t\(task)-\(n)", #""t":\#(task),"n":\#(n)"#)]
                            if n > 0 {
                                batch.insert(
                                    entry(type: "user", uuid: "t\(task)-\(n - 1)", #""t":\#(task),"n":\#(n - 1)"#),
                                    at: 0)
                            }
                            try await store.append(batch, to: key)
                            // Other keys at the same time.
                            try await store.append(
                                [entry(type: "side")],
                                to: SessionStoreKey(
                                    projectKey: key.projectKey, sessionID: key.sessionID,
                                    subpath: "subagents/agent-\(task)"))
                        }
                    }
                }
                try await group.waitForAll()
            }
            let loaded = try await store.load(key) ?? []
            try await checkEqual(loaded.count, tasks * perTask, "every entry once")
            try await checkEqual(Set(loaded.compactMap(\.uuid)).count, tasks * perTask, "no duplicates")
            var next = [Int](repeating: 0, count: tasks)
            for item in loaded {
                guard case .object(let object) = try item.value(), let t = object["t"]?.intValue,
                    let n = object["n"]?.intValue
                else {
                    throw ContractFailure("unexpected entry")
                }
                try await checkEqual(n, next[t], "writer \(t)'s order")
                next[t] = n + 1
            }
            try await checkEqual(
                try await store.listSubkeys(projectKey: key.projectKey, sessionID: key.sessionID).count, tasks,
                "subkeys")
            let summary = try await store.listSessionSummaries(projectKey: key.projectKey)
            try await checkEqual(summary.count, 1, "one summary")
        },
    ]
}
