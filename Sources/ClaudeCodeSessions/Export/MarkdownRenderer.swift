#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Renders a ``SessionDocument`` as Markdown.
enum MarkdownRenderer {
    static func render(_ document: SessionDocument) -> String {
        var out = "# " + oneLine(document.displayTitle) + "\n\n"
        out += "- Session: `\(document.sessionID)`\n"
        if let project = document.projectPath { out += "- Project: " + code(project) + "\n" }
        if let model = document.model { out += "- Model: " + code(model) + "\n" }
        if let tag = document.tag { out += "- Tag: " + code(tag) + "\n" }
        if let started = document.startedAt { out += "- Started: \(ExportText.iso(started))\n" }
        if let last = document.lastActivity { out += "- Last activity: \(ExportText.iso(last))\n" }
        out += "- Messages: \(document.messageCount)\n"
        out += "- Tokens: \(ExportText.count(document.usage.totalTokens))"
        out += " (\(ExportText.count(document.usage.outputTokens)) output)\n"
        if let turns = document.usage.turns { out += "- Turns: \(turns)\n" }
        if let cost = document.usage.costUSD { out += "- Cost: \(ExportText.cost(cost))\n" }
        for entry in document.entries {
            out += "\n"
            let stamp = entry.timestamp.map { " · " + ExportText.iso($0) } ?? ""
            switch entry.role {
            case .user:
                out += entry.isToolResultsOnly ? "### Tool results\(stamp)\n\n" : "## User\(stamp)\n\n"
            case .assistant:
                out += "## Assistant\(stamp)\n\n"
            case .turnEnd:
                out += "*" + ExportText.turnLine(entry) + "*\n"
                continue
            }
            for block in entry.blocks { out += render(block) + "\n" }
        }
        return out
    }

    static func render(_ block: SessionDocument.Block) -> String {
        switch block.kind {
        case .text:
            return (block.text ?? "") + "\n"
        case .thinking:
            let lines = (block.text ?? "").split(separator: "\n", omittingEmptySubsequences: false)
            return "> **Thinking**\n>\n" + lines.map { "> " + $0 }.joined(separator: "\n") + "\n"
        case .redactedThinking:
            return "> *Thinking (redacted)*\n"
        case .toolUse:
            return "**Tool call** " + code(block.name ?? "") + "\n\n"
                + fenced(ExportText.prettyJSON(block.input ?? .object([:])), language: "json")
        case .toolResult:
            let title = block.isError == true ? "**Tool result (error)**" : "**Tool result**"
            var out = title + "\n\n"
            for inner in block.content ?? [] {
                if inner.kind == .text {
                    out += fenced(inner.text ?? "", language: "")
                } else {
                    out += render(inner)
                }
            }
            return out
        case .image:
            if let url = ExportText.imageDataURL(block) { return "![image](\(url))\n" }
            if let url = block.url { return "*Image: " + code(url) + " (not loaded)*\n" }
            return "*Image not shown*\n"
        case .other:
            return "**\(oneLine(block.type ?? "block"))**\n\n"
                + fenced(ExportText.prettyJSON(block.raw ?? .null), language: "json")
        }
    }

    /// A fenced code block whose fence is longer than any backtick run in `text`.
    static func fenced(_ text: String, language: String) -> String {
        var longest = 0
        var run = 0
        for character in text {
            if character == "`" {
                run += 1
                longest = max(longest, run)
            } else {
                run = 0
            }
        }
        let fence = String(repeating: "`", count: max(3, longest + 1))
        return fence + language + "\n" + text + (text.hasSuffix("\n") ? "" : "\n") + fence + "\n"
    }

    /// Inline code whose delimiters are longer than any backtick run inside.
    static func code(_ text: String) -> String {
        let flat = oneLine(text)
        var longest = 0
        var run = 0
        for character in flat {
            run = character == "`" ? run + 1 : 0
            longest = max(longest, run)
        }
        let ticks = String(repeating: "`", count: longest + 1)
        let pad = flat.hasPrefix("`") || flat.hasSuffix("`") ? " " : ""
        return ticks + pad + flat + pad + ticks
    }

    static func oneLine(_ text: String) -> String {
        text.split(whereSeparator: \.isNewline).joined(separator: " ")
    }
}
