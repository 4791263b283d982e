import ClaudeCode
import ClaudeCodeSessions
import Foundation
import Testing

@Suite("SessionExporter")
struct ExporterTests {
    /// A hostile CLI transcript in a throwaway config dir.
    func hostile() throws -> (TemporaryFolder, CLITranscriptBuilder, ClaudeSessionLibrary) {
        let folder = try TemporaryFolder("export")
        let cwd = folder.path + "/work"
        try FileManager.default.createDirectory(atPath: cwd, withIntermediateDirectories: true)
        let builder = CLITranscriptBuilder.hostile(configDirectory: folder.path + "/config", cwd: cwd)
        try builder.write()
        return (folder, builder, ClaudeSessionLibrary(configDirectory: folder.path + "/config"))
    }

    @Test func documentFromTheCLITranscript() async throws {
        let (folder, builder, library) = try hostile()
        defer { folder.cleanup() }
        let export = try await SessionExporter.load(sessionID: builder.sessionID, library: library)
        let document = export.document
        #expect(document.origin == .cliTranscript)
        #expect(document.sessionID == builder.sessionID)
        #expect(document.model == "claude-test-1")
        // The three lines of msg_1 are one assistant message: thinking, text, tool call.
        #expect(document.entries.map(\.role) == [.user, .assistant, .user, .user, .assistant])
        #expect(document.entries[1].blocks.map(\.kind) == [.thinking, .text, .toolUse])
        #expect(document.entries[2].isToolResultsOnly)
        #expect(document.entries[0].timestamp == Date(timeIntervalSince1970: 1_759_300_000))
        // Usage counted once per message id.
        #expect(document.usage.outputTokens == 7 + 3)
        #expect(document.usage.inputTokens == 22)
        #expect(document.usage.costUSD == nil)
        #expect(document.firstPrompt == "First prompt " + Payloads.script)
    }

    @Test func jsonLinesAreTheFileByteForByte() async throws {
        let (folder, builder, library) = try hostile()
        defer { folder.cleanup() }
        let export = try await SessionExporter.load(sessionID: builder.sessionID, library: library)
        let file = try Data(contentsOf: URL(fileURLWithPath: builder.path))
        #expect(SessionExporter.render(export, as: .jsonl) == Array(file))
    }

    @Test func jsonIsOneTypedDocumentThatDecodes() async throws {
        let (folder, builder, library) = try hostile()
        defer { folder.cleanup() }
        let export = try await SessionExporter.load(sessionID: builder.sessionID, library: library)
        let bytes = SessionExporter.render(export, as: .json)
        let object = try #require(try JSONSerialization.jsonObject(with: Data(bytes)) as? [String: Any])
        #expect(object["session_id"] as? String == builder.sessionID)
        #expect(object["format_version"] as? Int == 1)
        let entries = try #require(object["entries"] as? [[String: Any]])
        #expect(entries.count == 5)
        #expect((entries[0]["timestamp"] as? String) == "2025-10-01T06:26:40.000Z")
        let decoder = SessionExporter.jsonDecoder()
        let decoded = try decoder.decode(SessionDocument.self, from: Data(bytes))
        #expect(decoded == export.document)
    }

    @Test func markdownHoldsEveryPromptAndFencesToolCalls() async throws {
        let (folder, builder, library) = try hostile()
        defer { folder.cleanup() }
        let export = try await SessionExporter.load(sessionID: builder.sessionID, library: library)
        let markdown = String(decoding: SessionExporter.render(export, as: .markdown), as: UTF8.self)
        #expect(markdown.contains("First prompt " + Payloads.script))
        #expect(markdown.contains("Second prompt with picture"))
        #expect(markdown.contains("```json\n{\n  \"command\": "))
        #expect(markdown.contains("> **Thinking**"))
        #expect(markdown.contains("![image](data:image/png;base64,\(Payloads.pngBase64))"))
    }

    @Test func htmlEscapesEverythingFromTheTranscript() async throws {
        let (folder, builder, library) = try hostile()
        defer { folder.cleanup() }
        let export = try await SessionExporter.load(sessionID: builder.sessionID, library: library)
        let html = String(decoding: SessionExporter.render(export, as: .html), as: UTF8.self)
        // No markup from the transcript survives.
        #expect(!html.lowercased().contains("<script"))
        #expect(!html.contains("<img src=x"))
        #expect(!html.contains("onerror=\""))
        #expect(!html.contains(Payloads.marker))
        #expect(html.contains(HTMLRenderer.escape(Payloads.script)))
        #expect(html.contains(HTMLRenderer.escape(Payloads.attribute)))
        #expect(html.contains("&lt;/pre&gt;&lt;/details&gt;&lt;/section&gt;&lt;script&gt;"))
        // Every prompt, escaped.
        #expect(html.contains(HTMLRenderer.escape("First prompt " + Payloads.script)))
        #expect(html.contains("Second prompt with picture"))
        // One inline image: the PNG; the SVG and the bad data are not shown.
        let images = html.components(separatedBy: "<img ").count - 1
        #expect(images == 1)
        #expect(html.contains("<img alt=\"image\" src=\"data:image/png;base64,\(Payloads.pngBase64)\">"))
        #expect(!html.contains("image/svg"))
        // Strict policy, folded thinking and tools, both colour schemes, nothing external.
        #expect(
            html.contains("http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; style-src 'sha256-"))
        #expect(html.contains("<details class=\"thinking\"><summary>Thinking</summary>"))
        #expect(html.contains("<details class=\"tool\"><summary>Tool call <code>Bash&quot;&gt;&lt;img"))
        #expect(html.contains("<details class=\"result\"><summary>Tool result"))
        #expect(html.contains("prefers-color-scheme: dark"))
        #expect(!html.contains("http://") && !html.contains("https://"))
        #expect(html.contains("<time datetime=\"2025-10-01T06:26:40.000Z\">"))
    }

    @Test func theStyleHashInThePolicyMatchesTheStyleSheet() throws {
        // A wrong hash would leave the page unstyled: check it against an independent SHA-256.
        let document = SessionDocument(sessionID: "s", origin: .record)
        let html = HTMLRenderer.render(document)
        let policy = try #require(html.range(of: "'sha256-")).upperBound
        let end = try #require(html[policy...].firstIndex(of: "'"))
        let hash = String(html[policy..<end])
        let styleStart = try #require(html.range(of: "<style>")).upperBound
        let styleEnd = try #require(html.range(of: "</style>")).lowerBound
        let style = String(html[styleStart..<styleEnd])
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [
            "python3", "-c",
            "import sys,hashlib,base64;print(base64.b64encode(hashlib.sha256(sys.stdin.buffer.read()).digest()).decode())",
        ]
        let input = Pipe()
        let output = Pipe()
        process.standardInput = input
        process.standardOutput = output
        try process.run()
        input.fileHandleForWriting.write(Data(style.utf8))
        try input.fileHandleForWriting.close()
        let expected = String(decoding: output.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            .trimmingCharacters(in: .whitespacesAndNewlines)
        process.waitUntilExit()
        #expect(hash == expected)
    }

    @Test func recordsGetPerTurnCostFromTheLedger() throws {
        let id = try SessionID("rec-1")
        let start = Date(timeIntervalSince1970: 1_759_300_000)
        func frame(_ direction: ConversationMessage.Direction, _ json: String, _ seconds: Double) -> ConversationMessage
        {
            ConversationMessage(direction: direction, rawJSON: json, timestamp: start.addingTimeInterval(seconds))
        }
        let history = [
            frame(.sent, #"{"type":"control_request","request_id":"r1","request":{"subtype":"initialize"}}"#, 0),
            frame(.received, #"{"type":"system","subtype":"init","model":"claude-test-2","session_id":"rec-1"}"#, 0.5),
            frame(.sent, #"{"type":"user","message":{"role":"user","content":"Hello <b>there</b>"}}"#, 1),
            frame(
                .received,
                #"{"type":"assistant","message":{"id":"m1","role":"assistant","model":"claude-test-2","content":[{"type":"text","text":"Hi!"}],"usage":{"input_tokens":5,"output_tokens":2}}}"#,
                2),
            frame(
                .received,
                #"{"type":"result","subtype":"success","is_error":false,"duration_ms":1500,"duration_api_ms":1000,"num_turns":1,"result":"Hi!","session_id":"rec-1","total_cost_usd":0.0123,"usage":{"input_tokens":5,"output_tokens":2}}"#,
                3),
            frame(.sent, #"{"type":"user","message":{"role":"user","content":"Again"}}"#, 4),
            frame(
                .received,
                #"{"type":"result","subtype":"success","is_error":false,"duration_ms":500,"duration_api_ms":400,"num_turns":1,"result":"ok","session_id":"rec-1","total_cost_usd":0.0200,"usage":{"input_tokens":1,"output_tokens":1}}"#,
                5),
            ConversationMessage(direction: .received, rawJSON: Array("{not json".utf8), timestamp: start),
        ]
        let data = SessionData(
            sessionID: id, startTime: start, lastActivity: start.addingTimeInterval(5), conversationHistory: history,
            workingDirectory: "/work/app")
        let export = SessionExporter.export(record: data)
        let document = export.document
        #expect(document.origin == .record)
        #expect(document.model == "claude-test-2")
        #expect(document.title == "Hello <b>there</b>")
        #expect(document.entries.map(\.role) == [.user, .assistant, .turnEnd, .user, .turnEnd])
        #expect(abs((document.entries[2].turn?.costUSD ?? 0) - 0.0123) < 1e-9)
        // The second turn's own cost, not the process's running total.
        #expect(abs((document.entries[4].turn?.costUSD ?? 0) - 0.0077) < 1e-9)
        #expect(abs((document.usage.costUSD ?? 0) - 0.02) < 1e-9)
        #expect(document.usage.turns == 2)
        #expect(document.skippedLineCount == 1)
        // JSONL: the recorded frames, byte for byte.
        let expected: [UInt8] = history.flatMap { $0.rawJSON + [UInt8(0x0A)] }
        #expect(export.jsonLines == expected)
        let html = String(decoding: SessionExporter.render(export, as: .html), as: UTF8.self)
        #expect(html.contains("Turn: $0.0123"))
        #expect(html.contains("Hello &lt;b&gt;there&lt;/b&gt;"))
        #expect(html.contains("1 unreadable line(s) left out."))
    }

    @Test func storeSessionsExportLikeFiles() async throws {
        let (folder, builder, library) = try hostile()
        defer { folder.cleanup() }
        let store = InMemorySessionStore()
        let key = SessionStoreKey(projectKey: "proj", sessionID: builder.sessionID)
        try await store.append(
            builder.lines.map { try SessionStoreEntry(raw: RawJSON(bytes: Array($0.utf8))) }, to: key)
        let fromStore = try await SessionExporter.load(
            sessionID: builder.sessionID, library: StoreSessionLibrary(store: store, projectKey: "proj"))
        let fromFile = try await SessionExporter.load(sessionID: builder.sessionID, library: library)
        #expect(fromStore.document.origin == .store)
        #expect(fromStore.document.entries == fromFile.document.entries)
        #expect(fromStore.jsonLines == fromFile.jsonLines)
        await #expect(throws: SessionExportError.self) {
            _ = try await SessionExporter.load(
                sessionID: UUID().uuidString.lowercased(),
                library: StoreSessionLibrary(store: store, projectKey: "proj"))
        }
    }
}
