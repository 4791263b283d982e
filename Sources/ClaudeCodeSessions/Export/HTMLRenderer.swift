#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Renders a ``SessionDocument`` as one self-contained HTML page.
///
/// Safety: every string from the transcript goes through ``escape(_:)`` (text and attribute
/// values alike, `& < > " '`); images are shown only as `data:` URLs of PNG, JPEG, GIF or WebP
/// whose data is plain base64; the page has no script, and its Content-Security-Policy
/// (`default-src 'none'`, the style sheet allowed by its SHA-256, images from `data:` only)
/// would block one anyway. Nothing is loaded from the network.
public enum HTMLRenderer {
    /// The page's style sheet: light and dark by `prefers-color-scheme`.
    static let styleSheet = """
        :root{color-scheme:light dark;--bg:#fff;--fg:#1d1d1f;--muted:#6e6e73;--user:#eef4ff;--assistant:#f6f6f7;\
        --border:#d2d2d7;--code:#f0f0f2;--error:#b3261e;--accent:#0b57d0}
        @media (prefers-color-scheme: dark){:root{--bg:#17171a;--fg:#e8e8ed;--muted:#a1a1a6;--user:#1c2a40;\
        --assistant:#222226;--border:#3a3a3f;--code:#2a2a2f;--error:#ff8a80;--accent:#8ab4f8}}
        *{box-sizing:border-box}
        body{margin:0;background:var(--bg);color:var(--fg);font:15px/1.5 -apple-system,BlinkMacSystemFont,\
        "Segoe UI",Roboto,Helvetica,Arial,sans-serif}
        main,header{max-width:860px;margin:0 auto;padding:16px}
        h1{font-size:1.4em;margin:0 0 8px;overflow-wrap:anywhere}
        dl.meta{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:0;color:var(--muted);font-size:.9em}
        dl.meta dd{margin:0;overflow-wrap:anywhere}
        .msg{border:1px solid var(--border);border-radius:10px;padding:10px 14px;margin:12px 0}
        .msg.user{background:var(--user)}
        .msg.assistant{background:var(--assistant)}
        .msg.tool-results{background:transparent}
        .who{font-weight:600;font-size:.85em;color:var(--muted);margin-bottom:4px}
        .who time{font-weight:400;margin-left:8px}
        .text{white-space:pre-wrap;overflow-wrap:anywhere}
        pre{background:var(--code);padding:8px;border-radius:6px;overflow:auto;white-space:pre-wrap;\
        overflow-wrap:anywhere;font:13px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;margin:6px 0}
        details{border-left:3px solid var(--border);padding-left:8px;margin:6px 0}
        details.error{border-left-color:var(--error)}
        summary{cursor:pointer;color:var(--muted)}
        summary code{color:var(--accent)}
        .preview{font-family:ui-monospace,Menlo,Consolas,monospace;font-size:.85em;margin-left:6px}
        .turn{font-size:.85em;color:var(--muted);text-align:right;margin:-4px 0 12px}
        .turn.error{color:var(--error)}
        img{max-width:100%;height:auto;border-radius:6px;margin:6px 0;display:block}
        .note{color:var(--muted);font-style:italic}
        """

    /// The Content-Security-Policy: nothing but this page's own style sheet and `data:` images.
    static let contentSecurityPolicy: String = {
        let digest = SHA256.hash(Array(styleSheet.utf8))
        let hash = String(decoding: StoreBase64.encode(digest), as: UTF8.self)
        return "default-src 'none'; style-src 'sha256-\(hash)'; img-src data:; base-uri 'none'; form-action 'none'"
    }()

    /// Escapes text for HTML content and attribute values (`& < > " '`; NUL becomes U+FFFD).
    public static func escape(_ text: String) -> String {
        var out = HTMLOutput<Never>(chunkSize: Int.max) { _ in }
        out.buffer.reserveCapacity(text.utf8.count)
        out.appendEscaped(text)
        return String(decoding: out.buffer, as: UTF8.self)
    }

    /// The page for `document`.
    ///
    /// The same bytes as ``render(_:chunkSize:into:)`` writes, in one string; for a large
    /// session prefer the streaming form, which never holds the whole page.
    public static func render(_ document: SessionDocument) -> String {
        var out = HTMLOutput<Never>(chunkSize: Int.max) { _ in }
        write(document, to: &out)
        return String(decoding: out.buffer, as: UTF8.self)
    }

    /// The page's UTF-8 bytes.
    static func bytes(_ document: SessionDocument) -> [UInt8] {
        var out = HTMLOutput<Never>(chunkSize: Int.max) { _ in }
        write(document, to: &out)
        return out.buffer
    }

    /// Renders the page for `document` piece by piece, handing the UTF-8 bytes to `consume` in
    /// order as they are produced, in chunks of at most `chunkSize` bytes (never empty).
    ///
    /// The page is never held whole: at most one chunk is buffered, so an export can go
    /// straight to a file or a pipe. The bytes are those of ``render(_:)``. When `consume`
    /// throws, nothing more is rendered and the error is rethrown.
    ///
    /// - Parameters:
    ///   - document: The session.
    ///   - chunkSize: The most bytes per chunk (at least 1; 64 KiB by default).
    ///   - consume: Called with each chunk; the buffer is valid only during the call.
    public static func render<Failure: Error>(
        _ document: SessionDocument, chunkSize: Int = 1 << 16,
        into consume: (UnsafeRawBufferPointer) throws(Failure) -> Void
    ) throws(Failure) {
        try withoutActuallyEscaping(consume) { (consume) throws(Failure) in
            var out = HTMLOutput<Failure>(chunkSize: max(1, chunkSize), emit: consume)
            write(document, to: &out)
            try out.finish()
        }
    }

    static func write<Failure>(_ document: SessionDocument, to out: inout HTMLOutput<Failure>) {
        out.append(
            """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta http-equiv="Content-Security-Policy" content="\(contentSecurityPolicy)">
            <meta name="referrer" content="no-referrer">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="generator" content="ClaudeCodeSessions SessionExporter">
            <title>
            """)
        out.appendEscaped(ExportText.truncate(document.displayTitle, limit: 120))
        out.append("</title>\n<style>\(styleSheet)</style>\n</head>\n<body>\n<header>\n<h1>")
        out.appendEscaped(document.displayTitle)
        out.append("</h1>\n<dl class=\"meta\">\n")
        func meta(_ name: String, _ value: String?) {
            guard let value, !value.isEmpty else { return }
            out.append("<dt>\(name)</dt><dd>")
            out.appendEscaped(value)
            out.append("</dd>\n")
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
        out.append("</dl>\n</header>\n<main>\n")
        for (index, entry) in document.entries.enumerated() {
            switch entry.role {
            case .turnEnd:
                let error = entry.isError == true ? " error" : ""
                out.append("<div class=\"turn\(error)\">")
                out.appendEscaped(ExportText.turnLine(entry))
                out.append("</div>\n")
                continue
            case .user, .assistant:
                let kind = entry.isToolResultsOnly ? "user tool-results" : entry.role.rawValue
                let who = entry.isToolResultsOnly ? "Tool results" : (entry.role == .user ? "User" : "Assistant")
                out.append("<section class=\"msg \(kind)\" id=\"m\(index)\">\n<div class=\"who\">\(who)")
                if let model = entry.model, entry.role == .assistant {
                    out.append(" <span class=\"model\">")
                    out.appendEscaped(model)
                    out.append("</span>")
                }
                if let date = entry.timestamp {
                    out.append("<time datetime=\"\(ExportText.iso(date))\">")
                    out.appendEscaped(ExportText.short(date))
                    out.append("</time>")
                }
                out.append("</div>\n")
                for block in entry.blocks { write(block, to: &out) }
                out.append("</section>\n")
            }
        }
        if document.skippedLineCount > 0 {
            out.append("<p class=\"note\">\(document.skippedLineCount) unreadable line(s) left out.</p>\n")
        }
        out.append("</main>\n</body>\n</html>\n")
    }

    static func write<Failure>(_ block: SessionDocument.Block, to out: inout HTMLOutput<Failure>) {
        switch block.kind {
        case .text:
            out.append("<div class=\"text\">")
            out.appendEscaped(block.text ?? "")
            out.append("</div>\n")
        case .thinking:
            out.append("<details class=\"thinking\"><summary>Thinking</summary><div class=\"text\">")
            out.appendEscaped(block.text ?? "")
            out.append("</div></details>\n")
        case .redactedThinking:
            out.append("<p class=\"note\">Thinking (redacted)</p>\n")
        case .toolUse:
            let input = block.input ?? .object([:])
            out.append("<details class=\"tool\"><summary>Tool call <code>")
            out.appendEscaped(block.name ?? "")
            out.append("</code><span class=\"preview\">")
            out.appendEscaped(ExportText.oneLine(input, limit: 80))
            out.append("</span></summary><pre>")
            out.appendEscaped(ExportText.prettyJSON(input))
            out.append("</pre></details>\n")
        case .toolResult:
            let error = block.isError == true
            let preview = ExportText.plainTextPreview(block.content ?? [], limit: 80)
            out.append(
                "<details class=\"result\(error ? " error" : "")\"><summary>\(error ? "Tool error" : "Tool result")"
                    + "<span class=\"preview\">")
            out.appendEscaped(preview)
            out.append("</span></summary>\n")
            for inner in block.content ?? [] {
                if inner.kind == .text {
                    out.append("<pre>")
                    out.appendEscaped(inner.text ?? "")
                    out.append("</pre>\n")
                } else {
                    write(inner, to: &out)
                }
            }
            out.append("</details>\n")
        case .image:
            if let url = ExportText.imageDataURL(block) {
                out.append("<img alt=\"image\" src=\"")
                out.appendEscaped(url)
                out.append("\">\n")
            } else if let url = block.url {
                out.append("<p class=\"note\">Image at <code>")
                out.appendEscaped(url)
                out.append("</code> (not loaded)</p>\n")
            } else {
                out.append("<p class=\"note\">Image not shown</p>\n")
            }
        case .other:
            out.append("<details class=\"other\"><summary>")
            out.appendEscaped(block.type ?? "block")
            out.append("</summary><pre>")
            out.appendEscaped(ExportText.prettyJSON(block.raw ?? .null))
            out.append("</pre></details>\n")
        }
    }
}

/// The HTML renderer's output: bytes gathered into one buffer of `chunkSize` bytes, handed to
/// `emit` each time it fills (and at ``finish()``).
///
/// Appending never throws: the first error of `emit` is kept, later output is dropped, and
/// ``finish()`` throws it.
struct HTMLOutput<Failure: Error> {
    var buffer: [UInt8] = []
    let chunkSize: Int
    let emit: (UnsafeRawBufferPointer) throws(Failure) -> Void
    var failure: Failure?

    init(chunkSize: Int, emit: @escaping (UnsafeRawBufferPointer) throws(Failure) -> Void) {
        self.chunkSize = chunkSize
        self.emit = emit
        if chunkSize < Int.max { buffer.reserveCapacity(chunkSize) }
    }

    /// Appends `text` as is.
    mutating func append(_ text: String) {
        if text.utf8.withContiguousStorageIfAvailable({ append(bytes: $0) }) != nil { return }
        var copy = text
        copy.withUTF8 { append(bytes: $0) }
    }

    /// Appends `text` with `& < > " '` as character references and NUL as U+FFFD.
    ///
    /// Byte by byte on the UTF-8: those characters are ASCII, and no byte of a multi-byte
    /// sequence is below 0x80.
    mutating func appendEscaped(_ text: String) {
        if text.utf8.withContiguousStorageIfAvailable({ appendEscaped(bytes: $0) }) != nil { return }
        var copy = text
        copy.withUTF8 { appendEscaped(bytes: $0) }
    }

    private mutating func appendEscaped(bytes: UnsafeBufferPointer<UInt8>) {
        var start = 0
        for index in 0..<bytes.count {
            let replacement: StaticString
            switch bytes[index] {
            case 0x26: replacement = "&amp;"
            case 0x3C: replacement = "&lt;"
            case 0x3E: replacement = "&gt;"
            case 0x22: replacement = "&quot;"
            case 0x27: replacement = "&#39;"
            case 0x00: replacement = "\u{FFFD}"
            default: continue
            }
            if start < index { append(bytes: UnsafeBufferPointer(rebasing: bytes[start..<index])) }
            replacement.withUTF8Buffer { append(bytes: $0) }
            start = index + 1
        }
        if start < bytes.count { append(bytes: UnsafeBufferPointer(rebasing: bytes[start...])) }
    }

    private mutating func append(bytes: UnsafeBufferPointer<UInt8>) {
        guard failure == nil else { return }
        var rest = bytes
        while !rest.isEmpty {
            let room = chunkSize - buffer.count
            if rest.count <= room {
                buffer.append(contentsOf: rest)
                if buffer.count == chunkSize { flush() }
                return
            }
            buffer.append(contentsOf: UnsafeBufferPointer(rebasing: rest[..<room]))
            rest = UnsafeBufferPointer(rebasing: rest[room...])
            flush()
            if failure != nil { return }
        }
    }

    private mutating func flush() {
        guard !buffer.isEmpty, failure == nil else { return }
        let emit = self.emit
        let result = buffer.withUnsafeBytes { bytes -> Result<Void, Failure> in
            do throws(Failure) {
                try emit(bytes)
                return .success(())
            } catch {
                return .failure(error)
            }
        }
        if case .failure(let error) = result { failure = error }
        buffer.removeAll(keepingCapacity: true)
    }

    /// Hands on what is buffered; throws the first error of `emit`.
    mutating func finish() throws(Failure) {
        flush()
        if let failure { throw failure }
    }
}
