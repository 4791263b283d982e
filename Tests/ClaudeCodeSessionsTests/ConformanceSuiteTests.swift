import ClaudeCode
import ClaudeCodeSessions
import ClaudeCodeTesting
import Foundation
import Testing

/// The conformance suite catches broken stores: each defect makes its own check fail.
///
/// The limit is a hang guard, not a speed target: in the parallel run these checks (hundreds of
/// task hops each) wait for Swift's cooperative pool beside tests that block it on child processes,
/// and a clean-clone run measured over a minute for one of them.
@Suite("SessionStoreConformance catches defects", .timeLimit(.minutes(5)))
struct ConformanceSuiteTests {
    struct Defect: Sendable, CustomTestStringConvertible {
        var flaw: BrokenStore.Flaw
        var failingCheck: String
        var testDescription: String { "\(flaw) fails “\(failingCheck)”" }
    }

    static let defects: [Defect] = [
        Defect(flaw: .noDedup, failingCheck: "uuid is an idempotency key"),
        Defect(flaw: .noValidation, failingCheck: "unsafe subpaths are refused before anything is written"),
        Defect(flaw: .noCascade, failingCheck: "10. delete of a main key cascades to its subkeys"),
        Defect(flaw: .staleSummaries, failingCheck: "summaries are never stale"),
        Defect(
            flaw: .secondsClock, failingCheck: "7. listSessions lists a project's sessions with epoch-millisecond times"
        ),
        Defect(flaw: .frozenClock, failingCheck: "the write time advances on every append"),
        Defect(
            flaw: .racyAppend,
            failingCheck: "concurrent appends from many tasks keep every entry once, in each task's order"),
        Defect(flaw: .reversedBatches, failingCheck: "3. appends keep their call order"),
        Defect(flaw: .subpathInSummary, failingCheck: "14. listSessionSummaries returns the folded summaries"),
        Defect(flaw: .emptyAppendCreates, failingCheck: "4. append of no entries is a no-op"),
        Defect(flaw: .truncatesLarge, failingCheck: "a 10 MB entry round-trips"),
        Defect(
            flaw: .lowercasesKeys, failingCheck: "keys with odd characters are stored apart and listed back exactly"),
    ]

    @Test(arguments: defects)
    func defectIsCaught(_ defect: Defect) async throws {
        let check = try #require(SessionStoreConformance.checks.first { $0.name == defect.failingCheck })
        await #expect(throws: SessionStoreConformance.Failure.self) {
            try await check.run { BrokenStore(defect.flaw) }
        }
        // The same check passes without the defect, so the failure is the defect's.
        #expect(try await check.run { BrokenStore(nil) } == .passed)
    }

    @Test func reserialisingStorePassesDeepEqualityButNotExactBytes() async throws {
        let check = try #require(SessionStoreConformance.checks.first { $0.name.hasPrefix("1.") })
        #expect(try await check.run { BrokenStore(.reserialises) } == .passed)
        await #expect(throws: SessionStoreConformance.Failure.self) {
            try await check.run(options: .init(requireExactBytes: true)) { BrokenStore(.reserialises) }
        }
    }

    @Test func plainStoreSkipsCatalogChecks() async throws {
        let check = try #require(SessionStoreConformance.checks.first { $0.needsCatalog })
        let outcome = try await check.run { PlainStore() }
        #expect(outcome == .notApplicable("the store is not a SessionCatalog"))
        let results = await SessionStoreConformance.runAll { PlainStore() }
        #expect(results.count == SessionStoreConformance.checks.count)
        for (name, result) in results {
            switch result {
            case .success: break
            case .failure(let error): Issue.record("\(name): \(error)")
            }
        }
    }
}

/// Only `append` and `load`.
actor PlainStore: SessionStore {
    private var store = InMemorySessionStore()
    func append(_ entries: [SessionStoreEntry], to key: SessionStoreKey) async throws(SessionStoreError) {
        try await store.append(entries, to: key)
    }
    func load(_ key: SessionStoreKey) async throws(SessionStoreError) -> [SessionStoreEntry]? {
        try await store.load(key)
    }
}

/// A simple catalog with one optional defect.
actor BrokenStore: SessionCatalog {
    enum Flaw: Sendable {
        case noDedup, noValidation, noCascade, staleSummaries, secondsClock, frozenClock, racyAppend, reversedBatches
        case subpathInSummary, emptyAppendCreates, truncatesLarge, lowercasesKeys, reserialises
    }

    let flaw: Flaw?
    private var entries: [SessionStoreKey: [SessionStoreEntry]] = [:]
    private var modified: [SessionStoreKey: Int64] = [:]
    private var summaries: [SessionStoreKey: SessionStoreSummary] = [:]
    private var clock: Int64 = 1_700_000_000_000

    init(_ flaw: Flaw?) { self.flaw = flaw }

    private func normalized(_ key: SessionStoreKey) -> SessionStoreKey {
        guard flaw == .lowercasesKeys else { return key }
        return SessionStoreKey(
            projectKey: key.projectKey.lowercased(), sessionID: key.sessionID.lowercased(), subpath: key.subpath)
    }

    func append(_ batch: [SessionStoreEntry], to key: SessionStoreKey) async throws(SessionStoreError) {
        if flaw != .noValidation { try key.validate() }
        let key = normalized(key)
        if batch.isEmpty && flaw != .emptyAppendCreates { return }
        var batch = flaw == .reversedBatches ? batch.reversed() : batch
        if flaw == .truncatesLarge {
            batch = batch.map {
                $0.raw.bytes.count > 1 << 20
                    ? try! SessionStoreEntry(raw: RawJSON(#"{"type":"user","uuid":"big"}"#)) : $0
            }
        }
        if flaw == .reserialises {
            batch = batch.map { try! SessionStoreEntry(raw: RawJSON(bytes: [0x20] + (try! $0.value().serialized()))) }
        }
        var current = entries[key] ?? []
        if flaw == .racyAppend { await Task.yield() }
        var seen = Set(current.compactMap(\.uuid))
        for entry in batch {
            if flaw != .noDedup, let uuid = entry.uuid, !seen.insert(uuid).inserted { continue }
            current.append(entry)
        }
        if flaw == .racyAppend { await Task.yield() }
        entries[key] = current
        clock += 1
        let now = flaw == .secondsClock ? clock / 1000 : flaw == .frozenClock ? 1_700_000_000_000 : clock
        modified[key] = now
        if key.subpath == nil || flaw == .subpathInSummary {
            let main = key.mainKey
            if flaw == .staleSummaries, summaries[main] != nil { return }
            var summary = SessionSummaryFold.fold(summaries[main], key: main, entries: batch)
            summary.modifiedMilliseconds = now
            summaries[main] = summary
        }
    }

    func load(_ key: SessionStoreKey) throws(SessionStoreError) -> [SessionStoreEntry]? {
        if flaw != .noValidation { try key.validate() }
        return entries[normalized(key)]
    }

    func listSessions(projectKey: String) -> [SessionStoreListing] {
        let projectKey = flaw == .lowercasesKeys ? projectKey.lowercased() : projectKey
        return entries.keys.filter { $0.projectKey == projectKey && $0.subpath == nil }
            .map { SessionStoreListing(sessionID: $0.sessionID, modifiedMilliseconds: modified[$0] ?? 0) }
    }

    func listSessionSummaries(projectKey: String) -> [SessionStoreSummary] {
        summaries.filter { $0.key.projectKey == projectKey }.map(\.value)
    }

    func delete(_ key: SessionStoreKey) {
        let key = normalized(key)
        entries[key] = nil
        guard key.subpath == nil else { return }
        summaries[key] = nil
        if flaw != .noCascade {
            for other in entries.keys where other.mainKey == key { entries[other] = nil }
        }
    }

    func listSubkeys(projectKey: String, sessionID: String) -> [String] {
        entries.keys.filter { $0.projectKey == projectKey && $0.sessionID == sessionID }.compactMap(\.subpath).sorted()
    }
}
