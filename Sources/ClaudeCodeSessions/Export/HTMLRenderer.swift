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

    /// Escapes text for HTML content and attribute values (`& < > " '`).
    public static func escape(_ text: String) -> String {
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
    public static func render(_ document: SessionDocument) -> String {
        var out = """
            <!DOCTYPE html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta http-equiv="Content-Security-Policy" content="\(contentSecurityPolicy)">
            <meta name="referrer" content="no-referrer">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <meta name="generator" content="ClaudeCodeSessions SessionExporter">
            <title>\(escape(ExportText.truncate(document.displayTitle, limit: 120)))</title>
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
            let preview = ExportText.truncate(ExportText.plainText(block.content ?? []), limit: 80)
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
