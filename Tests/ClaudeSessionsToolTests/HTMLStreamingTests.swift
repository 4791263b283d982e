import ClaudeCode
import ClaudeCodeSessions
import Foundation
import Testing

/// The HTML export streams: the page comes out in bounded chunks, byte for byte the page the
/// renderer made in one string before it streamed (``LegacyHTMLRenderer``, kept here verbatim
/// as the reference), and the one-line previews read only what they show.
@Suite("HTML export streaming")
struct HTMLStreamingTests {
    /// A document with what is hard to escape, preview or cut: markup, NUL, CRLF, runs of line
    /// breaks, combining marks after line breaks, emoji, regional indicators, long tool results,
    /// nested results, images of every kind, unknown blocks, turn ends.
    static func tricky() -> SessionDocument {
        let long = (0..<400).map { "line \($0) <b>&amp;</b> 'q' \"d\" café 日本語 😀\n" }.joined()
        let combining = "\n\u{301}e\u{301}\n\n\u{301}\u{302}x" + String(repeating: "\u{1F1FA}\n\u{1F1F8}", count: 50)
        let texts = [
            "", "\n", "\n\n\n", "a\r\nb", "\u{0}nul\u{0}", "<script>alert('x')</script>", long, combining,
            String(repeating: "x", count: 79), String(repeating: "x", count: 80), String(repeating: "y", count: 81),
            String(repeating: "ab\n", count: 40), "\r\n\r\n" + String(repeating: "é", count: 90),
            String(repeating: "\u{1F468}\u{200D}\u{1F469}\u{200D}\u{1F467}", count: 100),
        ]
        var entries: [SessionDocument.Entry] = []
        for (index, text) in texts.enumerated() {
            let date = Date(timeIntervalSince1970: 1_759_300_000 + Double(index))
            entries.append(SessionDocument.Entry(role: .user, timestamp: date, blocks: [.text(text)]))
            entries.append(
                SessionDocument.Entry(
                    role: .assistant, timestamp: date, model: "m<\(index)>",
                    blocks: [
                        SessionDocument.Block(kind: .thinking, text: text),
                        SessionDocument.Block(
                            kind: .toolUse, toolUseID: "t\(index)", name: "Bash\"><",
                            input: .object(["command": .string(text), "n": .int(Int64(index))])),
                    ]))
            entries.append(
                SessionDocument.Entry(
                    role: .user,
                    blocks: [
                        SessionDocument.Block(
                            kind: .toolResult, toolUseID: "t\(index)",
                            content: [
                                .text(text), .text(texts[(index + 1) % texts.count]),
                                SessionDocument.Block(kind: .toolResult, content: [.text(text)]),
                                SessionDocument.Block(kind: .toolUse, input: .array([.string(text)])),
                                SessionDocument.Block(kind: .image, mediaType: "image/png", data: "iVBORw0KGgo="),
                            ], isError: index % 2 == 0)
                    ]))
            entries.append(
                SessionDocument.Entry(
                    role: .turnEnd, timestamp: date,
                    turn: SessionDocument.Usage(turns: 1, inputTokens: index, outputTokens: 2, costUSD: 0.01),
                    isError: index % 3 == 0))
        }
        entries.append(
            SessionDocument.Entry(
                role: .assistant,
                blocks: [
                    SessionDocument.Block(kind: .redactedThinking),
                    SessionDocument.Block(kind: .image, mediaType: "image/svg+xml", data: "PHN2Zz4="),
                    SessionDocument.Block(kind: .image, url: "https://example.invalid/a.png?x=\"1\"&y=<2>"),
                    SessionDocument.Block(kind: .image),
                    SessionDocument.Block(kind: .other, raw: .object(["a": .string("<b>")]), type: "x<y>"),
                ]))
        return SessionDocument(
            sessionID: "s-\"<1>", origin: .record, title: "Title <with> & \"quotes\"\n" + long,
            projectPath: "/p/'q'", model: "claude<x>", tag: "t&g",
            startedAt: Date(timeIntervalSince1970: 1_759_300_000),
            lastActivity: Date(timeIntervalSince1970: 1_759_300_100),
            usage: SessionDocument.Usage(turns: 3, inputTokens: 1234, outputTokens: 5678, costUSD: 1.5),
            entries: entries, skippedLineCount: 2)
    }

    @Test func thePageIsByteForByteThePageRenderedInOneString() {
        let document = Self.tricky()
        let page = HTMLRenderer.render(document)
        #expect(page == LegacyHTMLRenderer.render(document))
        let untitled = SessionDocument(sessionID: "s", origin: .cliTranscript)
        #expect(HTMLRenderer.render(untitled) == LegacyHTMLRenderer.render(untitled))
    }

    @Test func thePageComesOutInBoundedChunks() {
        let document = Self.tricky()
        let expected = Array(LegacyHTMLRenderer.render(document).utf8)
        for size in [1, 7, 1000, 1 << 16] {
            var chunks: [[UInt8]] = []
            HTMLRenderer.render(document, chunkSize: size) { chunks.append(Array($0)) }
            #expect(chunks.allSatisfy { !$0.isEmpty && $0.count <= size })
            #expect(chunks.dropLast().allSatisfy { $0.count == size })
            #expect(chunks.count == (expected.count + size - 1) / size)
            #expect(Array(chunks.joined()) == expected)
        }
        var streamed: [UInt8] = []
        let export = SessionExport(document: document, jsonLines: [])
        SessionExporter.render(export, as: .html, chunkSize: 4096) { streamed += $0 }
        #expect(streamed == SessionExporter.render(export, as: .html))
    }

    struct Stop: Error {}

    @Test func aFailingConsumerStopsTheRendering() {
        var calls = 0
        #expect(throws: Stop.self) {
            try HTMLRenderer.render(Self.tricky(), chunkSize: 100) { (_) throws(Stop) in
                calls += 1
                if calls == 3 { throw Stop() }
            }
        }
        #expect(calls == 3)
    }

    @Test func previewsAreTheOnesCutFromTheWholeText() {
        let document = Self.tricky()
        var pieces: [String] = [document.title ?? ""]
        for entry in document.entries {
            for block in entry.blocks {
                if let text = block.text { pieces.append(text) }
            }
        }
        for text in pieces {
            for limit in [0, 1, 2, 10, 79, 80, 81, 120] {
                #expect(ExportText.truncate(text, limit: limit) == legacyTruncate(text, limit: limit))
            }
        }
        for entry in document.entries {
            for block in entry.blocks where block.kind == .toolResult {
                let content = block.content ?? []
                for limit in [0, 5, 80] {
                    #expect(
                        ExportText.plainTextPreview(content, limit: limit)
                            == legacyTruncate(legacyPlainText(content), limit: limit))
                }
            }
        }
    }

    @Test func theToolWritesThePageItRenders() async throws {
        let folder = try TemporaryFolder("stream")
        defer { folder.cleanup() }
        let cwd = folder.path + "/work"
        try FileManager.default.createDirectory(atPath: cwd, withIntermediateDirectories: true)
        let builder = CLITranscriptBuilder.hostile(configDirectory: folder.path + "/config", cwd: cwd)
        try builder.write()
        let library = ClaudeSessionLibrary(configDirectory: folder.path + "/config")
        let export = try await SessionExporter.load(sessionID: builder.sessionID, library: library)
        let expected = LegacyHTMLRenderer.render(export.document)
        let page = folder.path + "/page.html"
        let toFile = try await runTool([
            "export", builder.sessionID, "--format", "html", "-o", page, "--config-dir", folder.path + "/config",
        ])
        #expect(toFile.status == 0, "\(toFile.stderr)")
        #expect(try String(contentsOfFile: page, encoding: .utf8) == expected)
        let leftovers = try FileManager.default.contentsOfDirectory(atPath: folder.path).filter { $0.hasSuffix(".tmp") }
        #expect(leftovers.isEmpty)
        let toStandardOutput = try await runTool([
            "export", String(builder.sessionID.prefix(8)), "--format", "html", "--config-dir", folder.path + "/config",
        ])
        #expect(toStandardOutput.status == 0, "\(toStandardOutput.stderr)")
        #expect(toStandardOutput.output == expected)
    }
}

/// `ExportText.truncate` as it was: the whole text flattened, then cut.
func legacyTruncate(_ text: String, limit: Int) -> String {
    let flat = text.split(whereSeparator: \.isNewline).joined(separator: " ")
    guard flat.count > limit else { return flat }
    return String(flat.prefix(max(0, limit - 1))) + "…"
}

/// `ExportText.plainText` as it was.
func legacyPlainText(_ blocks: [SessionDocument.Block]) -> String {
    blocks.compactMap { block -> String? in
        switch block.kind {
        case .text, .thinking: return block.text
        case .toolResult: return legacyPlainText(block.content ?? [])
        case .toolUse: return block.input.map(ExportText.compactJSON)
        default: return nil
        }
    }.joined(separator: "\n")
}

/// The HTML renderer as it was before it streamed (one string, scalar by scalar), verbatim but
/// for the names of the helpers above; the style sheet and policy are read from a rendered page.
enum LegacyHTMLRenderer {
    static var styleSheet: String { parts.styleSheet }
    static var contentSecurityPolicy: String { parts.policy }
    static let parts: (styleSheet: String, policy: String) = {
        let page = HTMLRenderer.render(SessionDocument(sessionID: "s", origin: .record))
        func between(_ start: String, _ end: String) -> String {
            let from = page.range(of: start)!.upperBound
            return String(page[from..<page[from...].range(of: end)!.lowerBound])
        }
        return (between("<style>", "</style>"), between("Content-Security-Policy\" content=\"", "\">"))
    }()

    static func escape(_ text: String) -> String {
        var out = ""
        out.reserveCapacity(text.utf8.count)
        for scalar in text.unicodeScalars {
            switch scalar {
            case "&": out += "&amp;"
            case "<": out += "&lt;"
            case ">": out += "&gt;"
            case "\"": out += "&quot;"
            case "'": out += "&#39;"
            case "\u{0}": out += "\u{FFFD}"
            default: out.unicodeScalars.append(scalar)
            }
        }
        return out
    }

    /// The page for `document`.
    static func render(_ document: SessionDocument) -> String {
        var out = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta http-equiv="Content-Security-Policy" content="\(contentSecurityPolicy)">
            <meta name="referrer" content="no-referrer">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="generator" content="ClaudeCodeSessions SessionExporter">
            <title>\(escape(legacyTruncate(document.displayTitle, limit: 120)))</title>
            <style>\(styleSheet)</style>
            </head>
            <body>
            <header>
            <h1>\(escape(document.displayTitle))</h1>
            <dl class="meta">

            """
        func meta(_ name: String, _ value: String?) {
            guard let value, !value.isEmpty else { return }
            out += "<dt>\(name)</dt><dd>\(escape(value))</dd>\n"
        }
        meta("Session", document.sessionID)
        meta("Project", document.projectPath)
        meta("Model", document.model)
        meta("Tag", document.tag)
        meta("Started", document.startedAt.map(ExportText.iso))
        meta("Last activity", document.lastActivity.map(ExportText.iso))
        meta("Messages", String(document.messageCount))
        meta(
            "Tokens",
            "\(ExportText.count(document.usage.totalTokens)) (\(ExportText.count(document.usage.outputTokens)) output)")
        meta("Turns", document.usage.turns.map(String.init))
        meta("Cost", document.usage.costUSD.map(ExportText.cost))
        out += "</dl>\n</header>\n<main>\n"
        for (index, entry) in document.entries.enumerated() {
            switch entry.role {
            case .turnEnd:
                let error = entry.isError == true ? " error" : ""
                out += "<div class=\"turn\(error)\">\(escape(ExportText.turnLine(entry)))</div>\n"
                continue
            case .user, .assistant:
                let kind = entry.isToolResultsOnly ? "user tool-results" : entry.role.rawValue
                let who = entry.isToolResultsOnly ? "Tool results" : (entry.role == .user ? "User" : "Assistant")
                out += "<section class=\"msg \(kind)\" id=\"m\(index)\">\n<div class=\"who\">\(who)"
                if let model = entry.model, entry.role == .assistant {
                    out += " <span class=\"model\">\(escape(model))</span>"
                }
                if let date = entry.timestamp {
                    out += "<time datetime=\"\(ExportText.iso(date))\">\(escape(ExportText.short(date)))</time>"
                }
                out += "</div>\n"
                for block in entry.blocks { out += render(block) }
                out += "</section>\n"
            }
        }
        if document.skippedLineCount > 0 {
            out += "<p class=\"note\">\(document.skippedLineCount) unreadable line(s) left out.</p>\n"
        }
        out += "</main>\n</body>\n</html>\n"
        return out
    }

    static func render(_ block: SessionDocument.Block) -> String {
        switch block.kind {
        case .text:
            return "<div class=\"text\">\(escape(block.text ?? ""))</div>\n"
        case .thinking:
            return "<details class=\"thinking\"><summary>Thinking</summary><div class=\"text\">"
                + escape(block.text ?? "") + "</div></details>\n"
        case .redactedThinking:
            return "<p class=\"note\">Thinking (redacted)</p>\n"
        case .toolUse:
            let input = block.input ?? .object([:])
            return "<details class=\"tool\"><summary>Tool call <code>\(escape(block.name ?? ""))</code>"
                + "<span class=\"preview\">\(escape(ExportText.oneLine(input, limit: 80)))</span></summary>"
                + "<pre>\(escape(ExportText.prettyJSON(input)))</pre></details>\n"
        case .toolResult:
            let error = block.isError == true
            let preview = legacyTruncate(legacyPlainText(block.content ?? []), limit: 80)
            var out =
                "<details class=\"result\(error ? " error" : "")\"><summary>\(error ? "Tool error" : "Tool result")"
                + "<span class=\"preview\">\(escape(preview))</span></summary>\n"
            for inner in block.content ?? [] {
                if inner.kind == .text {
                    out += "<pre>\(escape(inner.text ?? ""))</pre>\n"
                } else {
                    out += render(inner)
                }
            }
            return out + "</details>\n"
        case .image:
            if let url = ExportText.imageDataURL(block) {
                return "<img alt=\"image\" src=\"\(escape(url))\">\n"
            }
            if let url = block.url {
                return "<p class=\"note\">Image at <code>\(escape(url))</code> (not loaded)</p>\n"
            }
            return "<p class=\"note\">Image not shown</p>\n"
        case .other:
            return "<details class=\"other\"><summary>\(escape(block.type ?? "block"))</summary>"
                + "<pre>\(escape(ExportText.prettyJSON(block.raw ?? .null)))</pre></details>\n"
        }
    }
}
