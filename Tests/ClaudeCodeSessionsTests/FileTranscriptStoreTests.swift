import ClaudeCode
import ClaudeCodeTesting
import Foundation
import Testing

@testable import ClaudeCodeSessions

#if canImport(Glibc)
    import Glibc
#endif

enum TranscriptWriter {
    /// `transcript-store-writer`, built next to the test bundle (the test target depends on it).
    static var path: String {
        let executable =
            (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
        var directory = URL(fileURLWithPath: executable).deletingLastPathComponent()
        for _ in 0..<4 {
            let candidate = directory.appendingPathComponent("transcript-store-writer").path
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
            directory = directory.deletingLastPathComponent()
        }
        return directory.appendingPathComponent("transcript-store-writer").path
    }
}

func storeEntry(_ json: String) -> SessionStoreEntry { try! SessionStoreEntry(raw: RawJSON(json)) }

@Suite("FileSessionStore", .timeLimit(.minutes(5)))
struct FileTranscriptStoreTests {
    let key = SessionStoreKey(projectKey: "-Users-Me-proj", sessionID: "9899897f-3c5e-4b7a-9d2e-0f1e2d3c4b5a")

    @Test func layoutNamesAndModes() async throws {
        let folder = TemporaryFolder()
        let root = folder.sub("store/nested")
        let store = FileSessionStore(directory: root)
        let previous = umask(0o022)
        defer { umask(previous) }
        try await store.append([storeEntry(#"{"type":"user","uuid":"u1"}"#)], to: key)
        try await store.append(
            [storeEntry(#"{"type":"user","uuid":"s1"}"#)],
            to: SessionStoreKey(projectKey: key.projectKey, sessionID: key.sessionID, subpath: "subagents/agent-1"))
        let project = root + "/-%55sers-%4De-proj"
        #expect(fileMode(folder.sub("store")) == 0o700)
        #expect(fileMode(root) == 0o700)
        #expect(fileMode(project) == 0o700)
        #expect(fileMode(project + "/\(key.sessionID).jsonl") == 0o600)
        #expect(fileMode(project + "/\(key.sessionID)") == 0o700)
        #expect(fileMode(project + "/\(key.sessionID)/subagents%2Fagent-1.jsonl") == 0o600)
        #expect(fileMode(project + "/.index.jsonl") == 0o600)
        #expect(fileMode(project + "/.lock") == 0o600)
        let line = try String(contentsOfFile: project + "/\(key.sessionID).jsonl", encoding: .utf8)
        #expect(line == #"{"type":"user","uuid":"u1"}"# + "\n")
    }

    @Test func unsafeSubpathIsRefusedBeforeTheFolderExists() async throws {
        let folder = TemporaryFolder()
        let store = FileSessionStore(directory: folder.sub("store"))
        for subpath in ["../../escape", "/etc/passwd", "a/../../b", "x\u{0}y"] {
            await #expect(throws: SessionStoreError.self) {
                try await store.append(
                    [storeEntry(#"{"type":"x"}"#)],
                    to: SessionStoreKey(projectKey: "p", sessionID: "s", subpath: subpath))
            }
        }
        #expect(!FileManager.default.fileExists(atPath: folder.sub("store")))
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.path).isEmpty)
    }

    @Test func entryWithLineBreaksInWhitespaceStaysOneLine() async throws {
        let folder = TemporaryFolder()
        let store = FileSessionStore(directory: folder.sub("store"))
        let entry = storeEntry("{\"type\":\"user\",\r\n\"uuid\":\"u1\",\n\"text\":\"a\\nb\"}")
        // Line breaks in a later entry of the same batch too (each entry is cleaned where it lands).
        let later = storeEntry("{\"type\":\"x\",\n\"uuid\":\"u2\"\r}")
        try await store.append([entry, later, storeEntry(#"{"type":"x","uuid":"u3"}"#)], to: key)
        let loaded = try #require(try await store.load(key))
        #expect(loaded.count == 3)
        #expect(try loaded[0].value() == entry.value())
        #expect(try loaded[1].value() == later.value())
        #expect(loaded.map(\.uuid) == ["u1", "u2", "u3"])
    }

    @Test func tornLastLineIsNotLoadedAndIsCutOffByTheNextAppend() async throws {
        let folder = TemporaryFolder()
        let store = FileSessionStore(directory: folder.sub("store"))
        try await store.append([storeEntry(#"{"type":"user","uuid":"u1"}"#)], to: key)
        let file = folder.sub("store/-%55sers-%4De-proj/\(key.sessionID).jsonl")
        // A writer that died half way through a line.
        let handle = try #require(FileHandle(forWritingAtPath: file))
        handle.seekToEndOfFile()
        handle.write(Data(#"{"type":"user","uuid":"u2","te"#.utf8))
        try handle.close()
        #expect(try await store.load(key)?.map(\.uuid) == ["u1"])
        // A new instance (no cache) cuts the torn bytes off before appending.
        let fresh = FileSessionStore(directory: folder.sub("store"))
        try await fresh.append([storeEntry(#"{"type":"user","uuid":"u2"}"#)], to: key)
        #expect(try await fresh.load(key)?.map(\.uuid) == ["u1", "u2"])
        let text = try String(contentsOfFile: file, encoding: .utf8)
        #expect(text == #"{"type":"user","uuid":"u1"}"# + "\n" + #"{"type":"user","uuid":"u2"}"# + "\n")
        // The instance that cached the file before the tear catches up too.
        try await store.append(
            [storeEntry(#"{"type":"user","uuid":"u2"}"#), storeEntry(#"{"type":"user","uuid":"u3"}"#)], to: key)
        #expect(try await store.load(key)?.map(\.uuid) == ["u1", "u2", "u3"])
    }

    @Test func corruptLineIsReportedWithItsKey() async throws {
        let folder = TemporaryFolder()
        let store = FileSessionStore(directory: folder.sub("store"))
        try await store.append([storeEntry(#"{"type":"user","uuid":"u1"}"#)], to: key)
        let file = folder.sub("store/-%55sers-%4De-proj/\(key.sessionID).jsonl")
        let handle = try #require(FileHandle(forWritingAtPath: file))
        handle.seekToEndOfFile()
        handle.write(Data("not json\n".utf8))
        try handle.close()
        let error = await #expect(throws: SessionStoreError.self) { try await store.load(key) }
        #expect(error?.code == .corruptEntry)
        #expect(error?.key == key)
        #expect(error?.reason?.hasPrefix("line 2 ") == true)
    }

    @Test func summaryCatchesUpEntriesItsIndexMissed() async throws {
        let folder = TemporaryFolder()
        let store = FileSessionStore(directory: folder.sub("store"))
        try await store.append([storeEntry(#"{"type":"user","uuid":"u1","customTitle":"one"}"#)], to: key)
        // A process wrote to the transcript and died before its index record.
        let file = folder.sub("store/-%55sers-%4De-proj/\(key.sessionID).jsonl")
        let handle = try #require(FileHandle(forWritingAtPath: file))
        handle.seekToEndOfFile()
        handle.write(Data((#"{"type":"tag","tag":"important","uuid":"u2"}"# + "\n").utf8))
        try handle.close()
        try await store.append([storeEntry(#"{"type":"user","uuid":"u3","gitBranch":"main"}"#)], to: key)
        let summary = try #require(try await store.listSessionSummaries(projectKey: key.projectKey).first)
        #expect(summary.data["tag"] == "important")
        #expect(summary.data["custom_title"] == "one")
        #expect(summary.data["git_branch"] == "main")
        // The uuid the dead process wrote is known too.
        try await store.append([storeEntry(#"{"type":"tag","tag":"important","uuid":"u2"}"#)], to: key)
        #expect(try await store.load(key)?.count == 3)
    }

    @Test func lostIndexIsRebuiltFromTheTranscriptOnTheNextAppend() async throws {
        let folder = TemporaryFolder()
        let store = FileSessionStore(directory: folder.sub("store"))
        try await store.append([storeEntry(#"{"type":"user","uuid":"u1","customTitle":"kept","cwd":"/w"}"#)], to: key)
        try FileManager.default.removeItem(atPath: folder.sub("store/-%55sers-%4De-proj/.index.jsonl"))
        let fresh = FileSessionStore(directory: folder.sub("store"))
        #expect(try await fresh.listSessions(projectKey: key.projectKey).isEmpty)
        try await fresh.append([storeEntry(#"{"type":"user","uuid":"u2"}"#)], to: key)
        let summary = try #require(try await fresh.listSessionSummaries(projectKey: key.projectKey).first)
        #expect(summary.data["custom_title"] == "kept")
        #expect(summary.data["cwd"] == "/w")
    }

    @Test func indexIsCompactedAndStaysReadableByOtherInstances() async throws {
        let folder = TemporaryFolder()
        let store = FileSessionStore(directory: folder.sub("store"))
        let other = FileSessionStore(directory: folder.sub("store"))
        for round in 0..<400 {
            let target = SessionStoreKey(projectKey: "p", sessionID: "s\(round % 3)")
            try await store.append(
                [storeEntry(#"{"type":"user","uuid":"u\#(round)","customTitle":"t\#(round)"}"#)], to: target)
            if round % 97 == 0 { _ = try await other.listSessions(projectKey: "p") }
        }
        let lines = try String(contentsOfFile: folder.sub("store/p/.index.jsonl"), encoding: .utf8).split(
            separator: "\n")
        #expect(lines.count <= 260)
        let summaries = try await other.listSessionSummaries(projectKey: "p").sorted { $0.sessionID < $1.sessionID }
        #expect(summaries.map(\.sessionID) == ["s0", "s1", "s2"])
        #expect(summaries.map { $0.data["custom_title"] } == ["t399", "t397", "t398"])
    }

    @Test func symbolicLinksInsideTheStoreAreRefused() async throws {
        let folder = TemporaryFolder()
        let store = FileSessionStore(directory: folder.sub("store"))
        try await store.append(
            [storeEntry(#"{"type":"x","uuid":"a"}"#)], to: SessionStoreKey(projectKey: "p", sessionID: "s"))
        try FileManager.default.createDirectory(atPath: folder.sub("elsewhere"), withIntermediateDirectories: true)
        try FileManager.default.createSymbolicLink(
            atPath: folder.sub("store/q"), withDestinationPath: folder.sub("elsewhere"))
        let error = await #expect(throws: SessionStoreError.self) {
            try await store.append([storeEntry(#"{"type":"x"}"#)], to: SessionStoreKey(projectKey: "q", sessionID: "s"))
        }
        #expect(error?.code == .unsafePath)
        #expect(try FileManager.default.contentsOfDirectory(atPath: folder.sub("elsewhere")).isEmpty)
        try FileManager.default.createSymbolicLink(
            atPath: folder.sub("store/p/t.jsonl"), withDestinationPath: folder.sub("elsewhere/t.jsonl"))
        let linked = await #expect(throws: SessionStoreError.self) {
            try await store.append([storeEntry(#"{"type":"x"}"#)], to: SessionStoreKey(projectKey: "p", sessionID: "t"))
        }
        #expect(linked?.code == .unsafePath)
        #expect(!FileManager.default.fileExists(atPath: folder.sub("elsewhere/t.jsonl")))
    }

    @Test func longSubpathIsHashedAndListedBack() async throws {
        let folder = TemporaryFolder()
        let store = FileSessionStore(directory: folder.sub("store"))
        let subpath = "subagents/" + String(repeating: "Wörkflow-", count: 60) + "/agent-1"
        let long = SessionStoreKey(projectKey: "p", sessionID: "s", subpath: subpath)
        try await store.append([storeEntry(#"{"type":"x","uuid":"a"}"#)], to: long)
        #expect(try await store.listSubkeys(projectKey: "p", sessionID: "s") == [subpath])
        #expect(try await store.load(long)?.count == 1)
        let names = try FileManager.default.contentsOfDirectory(atPath: folder.sub("store/p/s"))
        #expect(names.allSatisfy { $0.utf8.count < 255 })
        try await store.delete(long)
        #expect(try await store.listSubkeys(projectKey: "p", sessionID: "s").isEmpty)
        #expect(!FileManager.default.fileExists(atPath: folder.sub("store/p/s")))
    }

    @Test func failedWriteIsTakenBackWhole() async throws {
        let folder = TemporaryFolder()
        let directory = folder.sub("store")
        let store = FileSessionStore(directory: directory)
        try await store.append([storeEntry(#"{"type":"user","uuid":"first"}"#)], to: key)
        // The child caps its file size, so the big batch fails part way through its write.
        let child = try PipedChildProcess(
            TranscriptWriter.path,
            [
                "--dir", directory, "--project", key.projectKey, "--session", key.sessionID, "--count", "50",
                "--text-bytes", "20000", "--fsize-limit", "300000",
            ])
        child.read(until: { $0.last == "done" || $0.last?.hasPrefix("error") == true })
        child.wait()
        // Nothing of the failed batch stayed, and its uuids were not remembered as stored.
        #expect(child.lines == ["failed ioFailure", "loaded 2", "done"])
        #expect(try await store.load(key)?.map(\.uuid) == ["first", "w0-0"])
        let text = try String(
            contentsOfFile: folder.sub("store/-%55sers-%4De-proj/\(key.sessionID).jsonl"), encoding: .utf8)
        #expect(text.split(separator: "\n").count == 2)
        #expect(text.hasSuffix("}\n"))
    }

    @Test func appendsFromSeveralProcessesKeepEveryEntryOnce() async throws {
        let folder = TemporaryFolder()
        let directory = folder.sub("store")
        let writers = 4
        let count = 150
        let children = try (0..<writers).map { writer in
            try PipedChildProcess(
                TranscriptWriter.path,
                [
                    "--dir", directory, "--project", "p", "--session", "s", "--tag", "w\(writer)", "--count",
                    "\(count)",
                    "--batch", "\(writer + 1)", "--shared", "1",
                ])
        }
        // Another process appends to a sibling subkey meanwhile.
        let subWriter = try PipedChildProcess(
            TranscriptWriter.path,
            [
                "--dir", directory, "--project", "p", "--session", "s", "--subpath", "subagents/agent-1", "--tag",
                "sub", "--count", "\(count)",
            ])
        for child in children + [subWriter] {
            child.read(until: { $0.last == "done" || $0.last?.hasPrefix("error") == true })
            child.wait()
            #expect(child.lines.last == "done", "\(child.lines.suffix(2))")
        }
        let store = FileSessionStore(directory: directory)
        let loaded = try #require(try await store.load(SessionStoreKey(projectKey: "p", sessionID: "s")))
        let uuids = loaded.compactMap(\.uuid)
        #expect(uuids.count == Set(uuids).count, "a uuid is stored twice")
        #expect(loaded.count == writers * count + count, "\(loaded.count) entries")
        for writer in 0..<writers {
            let mine = uuids.filter { $0.hasPrefix("w\(writer)-") }.map { Int($0.dropFirst("w\(writer)-".count))! }
            #expect(mine == Array(0..<count), "writer \(writer)'s entries are missing or out of order")
        }
        #expect(Set(uuids.filter { $0.hasPrefix("shared-") }).count == count)
        #expect(
            try await store.load(SessionStoreKey(projectKey: "p", sessionID: "s", subpath: "subagents/agent-1"))?.count
                == count)
        // The summary saw every append: its title is the last line's.
        let summary = try #require(try await store.listSessionSummaries(projectKey: "p").first)
        let lastTitle = try loaded.last { $0.type == "user" }.map { try $0.value()["customTitle"] }
        #expect(summary.data["custom_title"] == lastTitle)
        let listing = try #require(try await store.listSessions(projectKey: "p").first)
        #expect(summary.modifiedMilliseconds == listing.modifiedMilliseconds)
    }

    @Test func killedWritersNeverLeaveTheStoreUnreadable() async throws {
        let folder = TemporaryFolder()
        let directory = folder.sub("store")
        let store = FileSessionStore(directory: directory)
        let target = SessionStoreKey(projectKey: "p", sessionID: "s")
        var generator = SeededGenerator(seed: 5)
        var acknowledged = Set<String>()
        for round in 0..<12 {
            let child = try PipedChildProcess(
                TranscriptWriter.path,
                [
                    "--dir", directory, "--project", "p", "--session", "s", "--tag", "r\(round)", "--count", "100000",
                    "--batch", "\(Int.random(in: 1...6, using: &generator))", "--text-bytes",
                    "\(Int.random(in: 100...4000, using: &generator))",
                ])
            let stopAfter = Int.random(in: 1...60, using: &generator)
            child.read(until: { $0.count >= stopAfter })
            child.kill()
            child.wait()
            for line in child.lines where line.hasPrefix("r\(round) ") {
                let last = Int(line.split(separator: " ")[1])!
                for index in 0...last { acknowledged.insert("r\(round)-\(index)") }
            }
            let loaded = try #require(try await store.load(target), "round \(round)")
            let uuids = loaded.compactMap(\.uuid)
            #expect(uuids.count == Set(uuids).count, "round \(round): duplicate uuids")
            #expect(acknowledged.isSubset(of: Set(uuids)), "round \(round): an acknowledged entry is missing")
        }
        // The next append repairs whatever the last kill left and the summary covers every entry.
        try await store.append([storeEntry(#"{"type":"user","uuid":"final","customTitle":"final"}"#)], to: target)
        let summary = try #require(try await store.listSessionSummaries(projectKey: "p").first)
        #expect(summary.data["custom_title"] == "final")
        let loaded = try #require(try await store.load(target))
        #expect(loaded.last?.uuid == "final")
    }
}
