import ClaudeCode
public import ClaudeCodeSessions
import Foundation
import Synchronization

/// The behavioural contracts every `SessionStore` must keep, as named checks you run against
/// your own store.
///
/// The suite covers the 14 contracts of the Python SDK's `run_session_store_conformance` and
/// what that suite misses: `uuid` deduplication, concurrent appends from many tasks, write times
/// that advance, 10 MB and Unicode entries, keys with odd characters, unsafe subpaths refused
/// before anything is written, and summaries that are never stale. Checks of the optional
/// capabilities run when the store is a `SessionCatalog`.
///
/// Each check is reported on its own when you parameterise a Swift Testing test over
/// ``checks``:
///
/// ```swift
/// import ClaudeCodeSessions
/// import ClaudeCodeTesting
/// import Testing
///
/// @Test(arguments: SessionStoreConformance.checks)
/// func conformance(_ check: SessionStoreConformance.Check) async throws {
///     let database = try await TestDatabase.create()          // your fixture
///     defer { database.drop() }
///     try await check.run {
///         // A fresh, empty store each time it is called.
///         try await MyPostgresStore(client: database.client, schema: database.newSchema())
///     }
/// }
/// ```
///
/// A check calls the factory several times (once per contract, each expecting an empty store)
/// and throws a ``Failure`` naming the contract and what differed. It returns
/// ``Outcome/notApplicable(_:)`` when the store lacks a capability the check needs.
///
/// Entries are compared as JSON values (deep equality), as the Python contract requires, so a
/// backend may re-serialise them (PostgreSQL `jsonb` reorders keys). Pass
/// ``Options/requireExactBytes`` to also demand the exact bytes back.
public enum SessionStoreConformance {
    /// Makes a fresh, empty store.
    public typealias MakeStore = @Sendable () async throws -> any SessionStore

    /// What a check concluded.
    public enum Outcome: Sendable, Hashable {
        /// Every assertion held.
        case passed
        /// The store lacks a capability the check needs (the reason says which).
        case notApplicable(String)
    }

    /// How strict the checks are.
    public struct Options: Sendable, Hashable {
        /// Require that `load` returns each entry's exact bytes, not only an equal JSON value.
        public var requireExactBytes: Bool
        /// Tasks in the concurrency checks.
        public var concurrentTasks: Int

        /// Creates options.
        public init(requireExactBytes: Bool = false, concurrentTasks: Int = 32) {
            self.requireExactBytes = requireExactBytes
            self.concurrentTasks = concurrentTasks
        }
    }

    /// One named contract.
    public struct Check: Sendable, CustomStringConvertible {
        /// A short sentence naming the contract.
        public let name: String
        /// Whether the check needs a `SessionCatalog`.
        public let needsCatalog: Bool
        let body: @Sendable (Context) async throws -> Void

        /// The check's name.
        public var description: String { name }

        /// Runs the check against stores made by `makeStore`.
        /// - Parameters:
        ///   - options: How strict to be.
        ///   - makeStore: Makes a fresh, empty store; called once or more.
        /// - Returns: ``Outcome/passed``, or ``Outcome/notApplicable(_:)`` for a store without a needed capability.
        /// - Throws: ``Failure`` when the store breaks the contract, or what the store threw.
        @discardableResult
        public func run(options: Options = Options(), _ makeStore: @escaping MakeStore) async throws -> Outcome {
            let context = Context(check: name, options: options, makeStore: makeStore)
            if needsCatalog {
                let probe = try await makeStore()
                guard probe is any SessionCatalog else {
                    return .notApplicable("the store is not a SessionCatalog")
                }
            }
            try await body(context)
            return .passed
        }
    }

    /// A broken contract: the check, what was expected, and where in the suite.
    public struct Failure: Error, CustomStringConvertible, Sendable {
        /// The check's name.
        public var check: String
        /// What differed.
        public var message: String
        /// The suite's line that failed.
        public var line: Int

        public var description: String { "\(check): \(message) (SessionStoreConformance.swift:\(line))" }
    }

    /// Runs every check; returns each one's outcome or error, by name, in order.
    public static func runAll(
        options: Options = Options(), _ makeStore: @escaping MakeStore
    ) async -> [(name: String, result: Result<Outcome, any Error>)] {
        var results: [(name: String, result: Result<Outcome, any Error>)] = []
        for check in checks {
            do {
                results.append((check.name, .success(try await check.run(options: options, makeStore))))
            } catch {
                results.append((check.name, .failure(error)))
            }
        }
        return results
    }

    /// Every check, in a stable order.
    public static let checks: [Check] = requiredChecks + catalogChecks + extraChecks

    // MARK: - Context

    /// What a check body gets.
    struct Context: Sendable {
        let check: String
        let options: Options
        let makeStore: MakeStore

        func store() async throws -> any SessionStore { try await makeStore() }

        func catalog() async throws -> any SessionCatalog {
            guard let catalog = try await makeStore() as? any SessionCatalog else {
                throw Failure(
                    check: check, message: "the factory returned a store that is not a SessionCatalog", line: #line)
            }
            return catalog
        }

        func expect(_ condition: Bool, _ message: @autoclosure () -> String, line: Int = #line) throws {
            if !condition { throw Failure(check: check, message: message(), line: line) }
        }

        func fail(_ message: String, line: Int = #line) -> Failure {
            Failure(check: check, message: message, line: line)
        }

        /// Asserts that `loaded` equals `expected`, as JSON values (and bytes, if required).
        func expectEntries(
            _ loaded: [SessionStoreEntry]?, _ expected: [SessionStoreEntry], _ what: String, line: Int = #line
        ) throws {
            guard let loaded else { throw Failure(check: check, message: "\(what): load returned nil", line: line) }
            try expect(
                loaded.count == expected.count,
                "\(what): loaded \(loaded.count) entries, expected \(expected.count)", line: line)
            for (index, (got, want)) in zip(loaded, expected).enumerated() {
                if options.requireExactBytes {
                    try expect(got.raw == want.raw, "\(what): entry \(index) has other bytes", line: line)
                }
                let gotValue = try? got.value()
                let wantValue = try? want.value()
                try expect(
                    gotValue != nil && gotValue == wantValue,
                    "\(what): entry \(index) differs: got \(Self.preview(got)), expected \(Self.preview(want))",
                    line: line)
                try expect(got.type == want.type, "\(what): entry \(index) has type \(got.type)", line: line)
                try expect(got.uuid == want.uuid, "\(what): entry \(index) has uuid \(got.uuid ?? "nil")", line: line)
            }
        }

        static func preview(_ entry: SessionStoreEntry) -> String {
            let text = entry.raw.string
            return text.count > 120 ? String(text.prefix(120)) + "…(\(entry.raw.bytes.count) bytes)" : text
        }

        func expectInvalidKey(_ line: Int = #line, _ body: () async throws -> Void) async throws {
            do {
                try await body()
            } catch let error as SessionStoreError {
                try expect(error.code == .invalidKey, "expected SessionStoreError.invalidKey, got \(error)", line: line)
                return
            }
            throw Failure(check: check, message: "an unsafe key was accepted", line: line)
        }
    }

    // MARK: - Helpers

    static let key = SessionStoreKey(projectKey: "proj", sessionID: "sess")

    /// A test entry: `{"type":"x", …fields}` (or the given type).
    static func entry(_ fields: KeyValuePairs<String, JSONValue>, type: String = "x") -> SessionStoreEntry {
        var object: [String: JSONValue] = ["type": .string(type)]
        for (name, value) in fields { object[name] = value }
        return entry(raw: JSONValue.object(object).serialized())
    }

    static func entry(raw: [UInt8]) -> SessionStoreEntry {
        // Test entries are always valid objects.
        try! SessionStoreEntry(raw: RawJSON(bytes: raw))
    }

    static func entry(_ json: String) -> SessionStoreEntry { entry(raw: Array(json.utf8)) }

    static func sub(_ key: SessionStoreKey, _ subpath: String) -> SessionStoreKey {
        SessionStoreKey(projectKey: key.projectKey, sessionID: key.sessionID, subpath: subpath)
    }

    static func check(
        _ name: String, catalog: Bool = false, _ body: @escaping @Sendable (Context) async throws -> Void
    ) -> Check {
        Check(name: name, needsCatalog: catalog, body: body)
    }

    // MARK: - The Python SDK's required contracts (1–6)

    static let requiredChecks: [Check] = [
        check("1. append then load returns the same entries in the same order") { c in
            let store = try await c.store()
            let entries = [entry(["uuid": "b", "n": 1]), entry(["uuid": "a", "n": 2])]
            try await store.append(entries, to: key)
            try c.expectEntries(try await store.load(key), entries, "load")
        },
        check("2. load of a key never written is nil") { c in
            let store = try await c.store()
            try c.expect(
                try await store.load(SessionStoreKey(projectKey: "proj", sessionID: "nope")) == nil,
                "an unknown session loaded non-nil")
            try await store.append([entry(["uuid": "x", "n": 1])], to: key)
            try c.expect(try await store.load(sub(key, "nope")) == nil, "an unwritten subpath loaded non-nil")
            try c.expect(
                try await store.load(SessionStoreKey(projectKey: "other", sessionID: "sess")) == nil,
                "the same session id under another project loaded non-nil")
        },
        check("3. appends keep their call order") { c in
            let store = try await c.store()
            let batches = [
                [entry(["uuid": "z", "n": 1])], [entry(["uuid": "a", "n": 2]), entry(["uuid": "m", "n": 3])],
                [entry(["uuid": "b", "n": 4])],
            ]
            for batch in batches { try await store.append(batch, to: key) }
            try c.expectEntries(try await store.load(key), batches.flatMap { $0 }, "load")
        },
        check("4. append of no entries is a no-op") { c in
            let store = try await c.store()
            try await store.append([entry(["uuid": "a", "n": 1])], to: key)
            try await store.append([], to: key)
            try c.expectEntries(try await store.load(key), [entry(["uuid": "a", "n": 1])], "load")
            let empty = SessionStoreKey(projectKey: "proj", sessionID: "empty")
            try await store.append([], to: empty)
            try c.expect(try await store.load(empty) == nil, "append([]) created a key")
            if let catalog = store as? any SessionCatalog {
                let listed = try await catalog.listSessions(projectKey: "proj").map(\.sessionID)
                try c.expect(!listed.contains("empty"), "append([]) made a session listed")
            }
        },
        check("5. subpath keys are stored apart from the main transcript") { c in
            let store = try await c.store()
            let subkey = sub(key, "subagents/agent-1")
            try await store.append([entry(["uuid": "m", "n": 1])], to: key)
            try await store.append([entry(["uuid": "s", "n": 1])], to: subkey)
            try c.expectEntries(try await store.load(key), [entry(["uuid": "m", "n": 1])], "main")
            try c.expectEntries(try await store.load(subkey), [entry(["uuid": "s", "n": 1])], "subpath")
        },
        check("6. projects are isolated") { c in
            let store = try await c.store()
            let a = SessionStoreKey(projectKey: "A", sessionID: "s1")
            let b = SessionStoreKey(projectKey: "B", sessionID: "s1")
            try await store.append([entry(["from": "A"])], to: a)
            try await store.append([entry(["from": "B"])], to: b)
            try c.expectEntries(try await store.load(a), [entry(["from": "A"])], "project A")
            try c.expectEntries(try await store.load(b), [entry(["from": "B"])], "project B")
            if let catalog = store as? any SessionCatalog {
                try c.expect(
                    try await catalog.listSessions(projectKey: "A").count == 1, "project A lists other than 1 session")
                try c.expect(
                    try await catalog.listSessions(projectKey: "B").count == 1, "project B lists other than 1 session")
            }
        },
    ]

    // MARK: - The Python SDK's optional contracts (7–14)

    static let catalogChecks: [Check] = [
        check("7. listSessions lists a project's sessions with epoch-millisecond times", catalog: true) { c in
            let store = try await c.catalog()
            try await store.append([entry(["n": 1])], to: SessionStoreKey(projectKey: "proj", sessionID: "a"))
            try await store.append([entry(["n": 1])], to: SessionStoreKey(projectKey: "proj", sessionID: "b"))
            try await store.append([entry(["n": 1])], to: SessionStoreKey(projectKey: "other", sessionID: "c"))
            let sessions = try await store.listSessions(projectKey: "proj")
            try c.expect(
                sessions.map(\.sessionID).sorted() == ["a", "b"], "listed \(sessions.map(\.sessionID).sorted())")
            let now = Int64(Date().timeIntervalSince1970 * 1000)
            for session in sessions {
                try c.expect(
                    session.modifiedMilliseconds > 1_000_000_000_000 && session.modifiedMilliseconds < now + 86_400_000,
                    "mtime \(session.modifiedMilliseconds) is not epoch milliseconds")
            }
            try c.expect(
                try await store.listSessions(projectKey: "never-appended-project").isEmpty,
                "an unknown project lists sessions")
        },
        check("8. listSessions excludes subpaths", catalog: true) { c in
            let store = try await c.catalog()
            let main = SessionStoreKey(projectKey: "proj", sessionID: "main")
            try await store.append([entry(["n": 1])], to: main)
            try await store.append([entry(["n": 1])], to: sub(main, "subagents/agent-1"))
            try await store.append(
                [entry(["n": 1])],
                to: SessionStoreKey(projectKey: "proj", sessionID: "orphan", subpath: "subagents/agent-9"))
            let listed = try await store.listSessions(projectKey: "proj").map(\.sessionID)
            try c.expect(listed == ["main"], "listed \(listed)")
        },
        check("9. delete of a main key makes it load nil", catalog: true) { c in
            let store = try await c.catalog()
            try await store.delete(SessionStoreKey(projectKey: "proj", sessionID: "never-written"))
            try await store.append([entry(["n": 1])], to: key)
            try await store.delete(key)
            try c.expect(try await store.load(key) == nil, "a deleted key loaded non-nil")
            try c.expect(try await store.listSessions(projectKey: "proj").isEmpty, "a deleted session is listed")
            // The key can be written again.
            try await store.append([entry(["uuid": "u1", "n": 2])], to: key)
            try c.expectEntries(try await store.load(key), [entry(["uuid": "u1", "n": 2])], "after re-creation")
        },
        check("10. delete of a main key cascades to its subkeys", catalog: true) { c in
            let store = try await c.catalog()
            let sub1 = sub(key, "subagents/agent-1")
            let sub2 = sub(key, "subagents/agent-2")
            let other = SessionStoreKey(projectKey: "proj", sessionID: "sess2")
            let otherProject = SessionStoreKey(projectKey: "other-proj", sessionID: key.sessionID)
            for target in [key, sub1, sub2, other, otherProject] {
                try await store.append([entry(["n": 1])], to: target)
            }
            try await store.delete(key)
            for gone in [key, sub1, sub2] {
                try c.expect(try await store.load(gone) == nil, "\(gone) survived the delete")
            }
            try c.expect(try await store.load(other)?.count == 1, "another session was touched")
            try c.expect(try await store.load(otherProject)?.count == 1, "another project was touched")
            try c.expect(
                try await store.listSubkeys(projectKey: "proj", sessionID: "sess").isEmpty, "subkeys are still listed")
            let listed = try await store.listSessions(projectKey: "proj").map(\.sessionID)
            try c.expect(!listed.contains("sess"), "the deleted session is listed")
        },
        check("11. delete of a subpath removes only that subkey", catalog: true) { c in
            let store = try await c.catalog()
            let sub1 = sub(key, "subagents/agent-1")
            let sub2 = sub(key, "subagents/agent-2")
            for target in [key, sub1, sub2] { try await store.append([entry(["n": 1])], to: target) }
            try await store.delete(sub1)
            try c.expect(try await store.load(sub1) == nil, "the deleted subkey loads")
            try c.expect(try await store.load(sub2)?.count == 1, "the sibling subkey was touched")
            try c.expect(try await store.load(key)?.count == 1, "the main key was touched")
            let subkeys = try await store.listSubkeys(projectKey: "proj", sessionID: "sess")
            try c.expect(subkeys == ["subagents/agent-2"], "listSubkeys gave \(subkeys)")
        },
        check("12. listSubkeys lists a session's subpaths", catalog: true) { c in
            let store = try await c.catalog()
            try await store.append([entry(["n": 1])], to: key)
            try await store.append([entry(["n": 1])], to: sub(key, "subagents/agent-1"))
            try await store.append([entry(["n": 1])], to: sub(key, "subagents/workflows/run-1/agent-2"))
            try await store.append(
                [entry(["n": 1])],
                to: SessionStoreKey(projectKey: "proj", sessionID: "other-sess", subpath: "subagents/agent-x"))
            let subkeys = try await store.listSubkeys(projectKey: "proj", sessionID: "sess").sorted()
            try c.expect(
                subkeys == ["subagents/agent-1", "subagents/workflows/run-1/agent-2"], "listSubkeys gave \(subkeys)")
        },
        check("13. listSubkeys excludes the main transcript", catalog: true) { c in
            let store = try await c.catalog()
            try await store.append([entry(["n": 1])], to: key)
            try c.expect(
                try await store.listSubkeys(projectKey: "proj", sessionID: "sess").isEmpty,
                "the main key is listed as a subkey")
            try c.expect(
                try await store.listSubkeys(projectKey: "proj", sessionID: "never-appended").isEmpty,
                "an unknown session has subkeys")
        },
        check("14. listSessionSummaries returns the folded summaries", catalog: true) { c in
            let store = try await c.catalog()
            let summaryKey = SessionStoreKey(projectKey: "proj", sessionID: "summ-sess")
            try await store.append(
                [
                    entry(["timestamp": "2024-01-01T00:00:00.000Z", "customTitle": "first"]),
                    entry(["timestamp": "2024-01-01T00:00:01.000Z"]),
                ], to: summaryKey)
            try await store.append(
                [entry(["timestamp": "2024-01-01T00:00:02.000Z", "customTitle": "second"])], to: summaryKey)
            try await store.append(
                [entry(["timestamp": "2024-01-01T00:00:00.000Z"])],
                to: SessionStoreKey(projectKey: "other", sessionID: "elsewhere"))
            let summaries = try await store.listSessionSummaries(projectKey: "proj")
            try c.expect(summaries.map(\.sessionID) == ["summ-sess"], "summaries of \(summaries.map(\.sessionID))")
            let summary = summaries[0]
            try c.expect(
                summary.modifiedMilliseconds > 1_000_000_000_000,
                "summary mtime \(summary.modifiedMilliseconds) is not epoch ms")
            let listed = try await store.listSessions(projectKey: "proj")
            try c.expect(
                summary.modifiedMilliseconds
                    >= (listed.first { $0.sessionID == "summ-sess" }?.modifiedMilliseconds ?? .max),
                "the summary's mtime is older than the listing's (not the same clock?)")
            guard case .object(let data) = summary.data else { throw c.fail("summary data is not an object") }
            try c.expect(
                data["custom_title"] == "second", "custom_title is \(String(describing: data["custom_title"]))")
            try c.expect(
                data["created_at"] == .int(1_704_067_200_000), "created_at is \(String(describing: data["created_at"]))"
            )
            let refolded = SessionSummaryFold.fold(
                summary, key: summaryKey, entries: [entry(["timestamp": "2024-01-01T00:00:03.000Z"])])
            try c.expect(refolded.sessionID == "summ-sess", "the refolded summary changed its session id")
            try c.expect(refolded.modifiedMilliseconds == summary.modifiedMilliseconds, "the fold changed mtime")
            try await store.append(
                [entry(["timestamp": "2024-01-01T00:00:09.000Z", "customTitle": "subagent"])],
                to: sub(summaryKey, "subagents/agent-1"))
            let afterSub = try await store.listSessionSummaries(projectKey: "proj")
            try c.expect(afterSub.first?.data == summary.data, "a subpath append changed the main summary")
            try c.expect(
                try await store.listSessionSummaries(projectKey: "never-appended-project").isEmpty,
                "an unknown project has summaries")
            try await store.delete(summaryKey)
            try c.expect(
                try await store.listSessionSummaries(projectKey: "proj").isEmpty, "a deleted session keeps its summary")
        },
    ]

    // MARK: - Beyond the Python suite

    static let extraChecks: [Check] = [
        check("uuid is an idempotency key") { c in
            let store = try await c.store()
            let a = entry(["uuid": "a", "n": 1])
            let b = entry(["uuid": "b", "n": 2])
            let c1 = entry(["uuid": "c", "n": 3])
            let plain = entry(["n": 4])
            try await store.append([a, b], to: key)
            // A retried batch that overlaps the previous one, with a duplicate inside the batch.
            try await store.append([b, c1, c1, plain], to: key)
            try await store.append([a, b, c1], to: key)
            // Entries without uuid are never deduplicated.
            try await store.append([plain], to: key)
            try c.expectEntries(try await store.load(key), [a, b, c1, plain, plain], "load")
            // The same uuid under another key is another entry.
            try await store.append([a], to: sub(key, "subagents/agent-1"))
            try c.expectEntries(try await store.load(sub(key, "subagents/agent-1")), [a], "subkey")
            let otherProject = SessionStoreKey(projectKey: "other", sessionID: "sess")
            try await store.append([a], to: otherProject)
            try c.expectEntries(try await store.load(otherProject), [a], "other project")
        },
        check("a batch made only of duplicates changes nothing", catalog: true) { c in
            let store = try await c.catalog()
            let a = entry(["uuid": "a", "customTitle": "one"])
            try await store.append([a], to: key)
            let before = try await store.listSessions(projectKey: "proj")
            let summaryBefore = try await store.listSessionSummaries(projectKey: "proj")
            try await store.append([a, a], to: key)
            try c.expectEntries(try await store.load(key), [a], "load")
            let summaryAfter = try await store.listSessionSummaries(projectKey: "proj")
            try c.expect(summaryAfter.map(\.data) == summaryBefore.map(\.data), "a duplicate changed the summary")
            try c.expect(
                try await store.listSessions(projectKey: "proj").map(\.sessionID) == before.map(\.sessionID),
                "a duplicate changed the listing")
        },
        check("concurrent appends from many tasks keep every entry once, in each task's order") { c in
            let store = try await c.store()
            let tasks = c.options.concurrentTasks
            let perTask = 12
            let keys = [key, sub(key, "subagents/agent-1"), SessionStoreKey(projectKey: "proj", sessionID: "sess2")]
            try await withThrowingTaskGroup(of: Void.self) { group in
                for task in 0..<tasks {
                    group.addTask {
                        let target = keys[task % keys.count]
                        for index in 0..<perTask {
                            var batch = [
                                entry([
                                    "uuid": .string("t\(task)-\(index)"), "task": .int(Int64(task)),
                                    "i": .int(Int64(index)),
                                ])
                            ]
                            if index % 3 == 0 {
                                // Every third batch also carries a plain entry and a retry of the previous one.
                                batch.append(
                                    entry(["task": .int(Int64(task)), "i": .int(Int64(index)), "plain": true]))
                                if index > 0 {
                                    batch.append(
                                        entry([
                                            "uuid": .string("t\(task)-\(index - 1)"), "task": .int(Int64(task)),
                                            "i": .int(Int64(index - 1)),
                                        ]))
                                }
                            }
                            try await store.append(batch, to: target)
                        }
                    }
                }
                try await group.waitForAll()
            }
            for (offset, target) in keys.enumerated() {
                let loaded = try await store.load(target) ?? []
                var seen: Set<String> = []
                var lastIndex: [Int: Int] = [:]
                var plain = 0
                for item in loaded {
                    let value = try item.value()
                    guard let task = value["task"]?.intValue, let index = value["i"]?.intValue else {
                        throw c.fail("\(target): an entry lost its fields")
                    }
                    try c.expect(task % keys.count == offset, "\(target): holds an entry of another key")
                    if value["plain"] != nil {
                        plain += 1
                        continue
                    }
                    let uuid = item.uuid ?? ""
                    try c.expect(seen.insert(uuid).inserted, "\(target): uuid \(uuid) is stored twice")
                    try c.expect(index > lastIndex[task, default: -1], "\(target): task \(task) entries out of order")
                    lastIndex[task] = index
                }
                let writers = (0..<tasks).count(where: { $0 % keys.count == offset })
                try c.expect(
                    seen.count == writers * perTask,
                    "\(target): \(seen.count) uuids stored, expected \(writers * perTask)")
                try c.expect(
                    plain == writers * ((perTask + 2) / 3),
                    "\(target): \(plain) plain entries, expected \(writers * ((perTask + 2) / 3))")
            }
            if let catalog = store as? any SessionCatalog {
                let listed = try await catalog.listSessions(projectKey: "proj").map(\.sessionID).sorted()
                try c.expect(listed == ["sess", "sess2"], "listed \(listed)")
                let summaries = try await catalog.listSessionSummaries(projectKey: "proj").map(\.sessionID).sorted()
                try c.expect(summaries == ["sess", "sess2"], "summaries of \(summaries)")
            }
        },
        check("the write time advances on every append", catalog: true) { c in
            let store = try await c.catalog()
            var previous: Int64 = 0
            for round in 0..<20 {
                try await store.append([entry(["uuid": .string("u\(round)")])], to: key)
                let listed = try await store.listSessions(projectKey: "proj")
                guard let mtime = listed.first(where: { $0.sessionID == "sess" })?.modifiedMilliseconds else {
                    throw c.fail("the session is not listed")
                }
                try c.expect(mtime > previous, "append \(round): mtime \(mtime) did not advance past \(previous)")
                let summary = try await store.listSessionSummaries(projectKey: "proj").first { $0.sessionID == "sess" }
                try c.expect(
                    (summary?.modifiedMilliseconds ?? 0) >= mtime,
                    "append \(round): the summary is older than the listing")
                previous = mtime
            }
        },
        check("a 10 MB entry round-trips") { c in
            let store = try await c.store()
            let chunk = "0123456789abcdef\\n\\\"quoted\\\" é 🚀 "
            let text = String(repeating: chunk, count: (10 << 20) / chunk.utf8.count + 1)
            let big = entry(
                raw: Array(#"{"type":"user","uuid":"big","message":{"role":"user","content":""#.utf8) + Array(text.utf8)
                    + Array(#""}}"#.utf8))
            let small = entry(["uuid": "after"])
            try await store.append([big, small], to: key)
            let loaded = try await store.load(key)
            try c.expectEntries(loaded, [big, small], "load")
            try c.expect(loaded?.first?.raw.bytes.count ?? 0 >= 10 << 20, "the big entry shrank")
        },
        check("Unicode entries round-trip") { c in
            let store = try await c.store()
            let samples = [
                #"{"type":"user","uuid":"u1","text":"héllo wörld — 日本語 🚀👩‍👩‍👧"}"#,
                #"{"type":"user","uuid":"u2","text":"line\u2028separator\u2029and raw: \#u{2028}\#u{2029}"}"#,
                #"{"type":"user","uuid":"u3","text":"escapes \" \\ \/ \b \f \n \r \t \u0000 \u001f \ud83d\ude80"}"#,
                #"{"type":"user","uuid":"u4","text":"e\u0301 vs \#u{00E9} vs e\#u{0301}","n":-1.5e-7,"big":12345678901234567}"#,
                #"{"type":"ünïcødé-type","uuid":"ü-🚀","nested":{"a":[1,{"b":null}],"ключ":"значение"}}"#,
            ].map(entry)
            try await store.append(samples, to: key)
            try c.expectEntries(try await store.load(key), samples, "load")
            // Dedup works on non-ASCII uuids too.
            try await store.append([samples[4]], to: key)
            try c.expect(try await store.load(key)?.count == samples.count, "a non-ASCII uuid was stored twice")
        },
        check("keys with odd characters are stored apart and listed back exactly", catalog: false) { c in
            let store = try await c.store()
            let projects = [
                "-Users-Foo-my-proj", "-users-foo-my-proj", "tenant:ü/🚀", "a/b", "..", ".", "%2F", "CON", "with space",
                "e\u{0301}", String(repeating: "Ab", count: 300), "x\ny\tz",
            ]
            let sessions = [
                "sess", "Sess", "a.b", "../x", "uuid with spaces", "%00", String(repeating: "é", count: 200),
            ]
            var written: [SessionStoreKey: SessionStoreEntry] = [:]
            var counter = 0
            for project in projects {
                for session in sessions {
                    counter += 1
                    let target = SessionStoreKey(projectKey: project, sessionID: session)
                    let item = entry(["uuid": .string("e\(counter)"), "n": .int(Int64(counter))])
                    try await store.append([item], to: target)
                    written[target] = item
                }
            }
            let odd = SessionStoreKey(
                projectKey: "tenant:ü/🚀", sessionID: "sess", subpath: "subagents/wörk flows/ag%ent-1")
            let oddEntry = entry(["uuid": "odd"])
            try await store.append([oddEntry], to: odd)
            for (target, item) in written {
                try c.expectEntries(try await store.load(target), [item], "\(target)")
            }
            try c.expectEntries(try await store.load(odd), [oddEntry], "odd subpath")
            if let catalog = store as? any SessionCatalog {
                for project in projects {
                    let listed = try await catalog.listSessions(projectKey: project).map(\.sessionID).sorted()
                    try c.expect(listed == sessions.sorted(), "project \(project.debugDescription) lists \(listed)")
                }
                let subkeys = try await catalog.listSubkeys(projectKey: "tenant:ü/🚀", sessionID: "sess")
                try c.expect(subkeys == ["subagents/wörk flows/ag%ent-1"], "listSubkeys gave \(subkeys)")
            }
        },
        check("unsafe subpaths are refused before anything is written") { c in
            let store = try await c.store()
            let unsafe = [
                "", "/abs/agent-1", "../agent-1", "subagents/../../x", "subagents/./agent", "a//b", "trailing/",
                ".", "..", "nul\u{0}byte", "C:agent", "c:/x", "back\\slash", "\\server\\share",
            ]
            for subpath in unsafe {
                try await c.expectInvalidKey {
                    try await store.append([entry(["n": 1])], to: sub(key, subpath))
                }
            }
            for badKey in [
                SessionStoreKey(projectKey: "", sessionID: "s"), SessionStoreKey(projectKey: "p", sessionID: ""),
                SessionStoreKey(projectKey: "p\u{0}", sessionID: "s"),
                SessionStoreKey(projectKey: "p", sessionID: "s\u{0}"),
            ] {
                try await c.expectInvalidKey {
                    try await store.append([entry(["n": 1])], to: badKey)
                }
            }
            try c.expect(try await store.load(key) == nil, "a refused append created the main key")
            if let catalog = store as? any SessionCatalog {
                try c.expect(
                    try await catalog.listSessions(projectKey: "proj").isEmpty, "a refused append listed a session")
                try c.expect(
                    try await catalog.listSubkeys(projectKey: "proj", sessionID: "sess").isEmpty,
                    "a refused append left a subkey")
                try c.expect(
                    try await catalog.listSessionSummaries(projectKey: "proj").isEmpty,
                    "a refused append left a summary")
            }
        },
        check("summaries are never stale", catalog: true) { c in
            let store = try await c.catalog()
            let sessionKeys = (0..<8).map { SessionStoreKey(projectKey: "proj", sessionID: "s\($0)") }
            // Interleave appends to several sessions with listings; every listing must agree with the last append.
            for round in 0..<6 {
                for (index, target) in sessionKeys.enumerated() where (index + round) % 2 == 0 {
                    var batch = [
                        entry([
                            "uuid": .string("\(target.sessionID)-\(round)"), "customTitle": .string("title \(round)"),
                        ])
                    ]
                    if round == index % 2 {
                        batch.insert(
                            entry(
                                [
                                    "uuid": .string("\(target.sessionID)-p"), "timestamp": "2024-05-01T10:00:00Z",
                                    "cwd": "/work",
                                    "message": ["role": "user", "content": .string("prompt of \(target.sessionID)")],
                                ], type: "user"), at: 0)
                    }
                    if round == 3 { batch.append(entry(["tag": .string("t\(index)")], type: "tag")) }
                    if round == 5 && index % 4 == 1 { batch.append(entry(["tag": ""], type: "tag")) }
                    try await store.append(batch, to: target)
                    let summaries = try await store.listSessionSummaries(projectKey: "proj")
                    let listing = try await store.listSessions(projectKey: "proj")
                    try c.expect(
                        Set(summaries.map(\.sessionID)) == Set(listing.map(\.sessionID)),
                        "summaries and listing disagree on which sessions exist")
                    guard let summary = summaries.first(where: { $0.sessionID == target.sessionID }),
                        let listed = listing.first(where: { $0.sessionID == target.sessionID })
                    else {
                        throw c.fail("\(target.sessionID) has no summary or listing after its append")
                    }
                    try c.expect(
                        summary.modifiedMilliseconds >= listed.modifiedMilliseconds,
                        "round \(round): \(target.sessionID)'s summary is stale")
                    try c.expect(
                        summary.data["custom_title"] == .string("title \(round)"),
                        "round \(round): \(target.sessionID)'s title is \(String(describing: summary.data["custom_title"]))"
                    )
                }
            }
            let summaries = try await store.listSessionSummaries(projectKey: "proj")
            try c.expect(
                summaries.count == sessionKeys.count, "\(summaries.count) summaries for \(sessionKeys.count) sessions")
            for summary in summaries {
                let index = Int(summary.sessionID.dropFirst())!
                try c.expect(
                    summary.data["first_prompt"] == .string("prompt of s\(index)"),
                    "\(summary.sessionID): first_prompt is \(String(describing: summary.data["first_prompt"]))")
                try c.expect(
                    summary.data["cwd"] == "/work",
                    "\(summary.sessionID): cwd is \(String(describing: summary.data["cwd"]))")
                let tagged = index % 2 == 1 && index % 4 != 1
                let expectedTag: JSONValue? = tagged ? .string("t\(index)") : nil
                try c.expect(
                    summary.data["tag"] == expectedTag,
                    "\(summary.sessionID): tag is \(String(describing: summary.data["tag"]))")
            }
            // A store made afresh over the same data (for persistent stores) sees the same summaries.
        },
        check("entries keep their type and uuid") { c in
            let store = try await c.store()
            let entries = [
                entry(#"{"uuid":"late-type","n":1,"type":"assistant"}"#),
                entry(#"{"type":"summary","summary":"no uuid here"}"#),
                entry(#"{ "type" : "user" , "uuid" : "spaced" }"#),
            ]
            try await store.append(entries, to: key)
            let loaded = try await store.load(key) ?? []
            try c.expect(loaded.map(\.type) == ["assistant", "summary", "user"], "types \(loaded.map(\.type))")
            try c.expect(loaded.map(\.uuid) == ["late-type", nil, "spaced"], "uuids \(loaded.map(\.uuid))")
        },
    ]
}
