import ClaudeCode
import ClaudeCodeSessions
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

enum Terminal {
    static func isTerminal(_ descriptor: Int32) -> Bool { isatty(descriptor) == 1 }

    /// Colour only on a terminal, and never when `NO_COLOR` is set (to anything).
    static func colorEnabled(fileDescriptor: Int32) -> Bool {
        ProcessInfo.processInfo.environment["NO_COLOR"] == nil && isTerminal(fileDescriptor)
            && ProcessInfo.processInfo.environment["TERM"] != "dumb"
    }

    struct Style {
        var enabled: Bool
        func wrap(_ code: String, _ text: String) -> String { enabled ? "\u{1B}[\(code)m\(text)\u{1B}[0m" : text }
        func bold(_ text: String) -> String { wrap("1", text) }
        func dim(_ text: String) -> String { wrap("2", text) }
        func cyan(_ text: String) -> String { wrap("36", text) }
        func red(_ text: String) -> String { wrap("31", text) }
        func green(_ text: String) -> String { wrap("32", text) }
        func highlight(_ text: String) -> String { enabled ? wrap("1;33", text) : "[" + text + "]" }
    }

    /// Removes control characters (escape sequences in a transcript must not drive the terminal);
    /// keeps line feeds and tabs.
    static func clean(_ text: String) -> String {
        var out = String.UnicodeScalarView()
        for scalar in text.unicodeScalars {
            let value = scalar.value
            if value == 0x0A || value == 0x09 {
                out.append(scalar)
            } else if value < 0x20 || value == 0x7F || (value >= 0x80 && value < 0xA0) {
                out.append("\u{FFFD}")
            } else {
                out.append(scalar)
            }
        }
        return String(out)
    }

    static func write(_ text: String) { write(Data(text.utf8)) }

    static func write(_ data: Data) { FileHandle.standardOutput.write(data) }

    static func warn(_ message: String) {
        FileHandle.standardError.write(Data("claude-sessions: warning: \(clean(message))\n".utf8))
    }

    /// A table with columns padded to their widest cell.
    static func table(_ rows: [[String]], style: Style, rightAligned: Set<Int>) -> String {
        guard let header = rows.first else { return "" }
        var widths = [Int](repeating: 0, count: header.count)
        for row in rows { for (index, cell) in row.enumerated() { widths[index] = max(widths[index], cell.count) } }
        var out = ""
        for (rowIndex, row) in rows.enumerated() {
            var cells: [String] = []
            for (index, cell) in row.enumerated() {
                let pad = String(repeating: " ", count: widths[index] - cell.count)
                let last = index == row.count - 1
                cells.append(rightAligned.contains(index) ? pad + cell : (last ? cell : cell + pad))
            }
            let line = cells.joined(separator: "  ")
            out += (rowIndex == 0 ? style.bold(line) : line) + "\n"
        }
        return out
    }
}

/// The readable transcript `show` prints.
enum TextRenderer {
    static func render(_ document: SessionDocument, full: Bool, style: Terminal.Style) -> String {
        var out = style.bold(Terminal.clean(document.displayTitle)) + "\n"
        var meta = ["session \(document.sessionID)"]
        if let project = document.projectPath { meta.append(project) }
        if let model = document.model { meta.append(model) }
        if let tag = document.tag { meta.append("tag " + tag) }
        if let started = document.startedAt { meta.append("started " + ExportText.short(started)) }
        meta.append("\(document.messageCount) messages")
        meta.append("\(ExportText.count(document.usage.totalTokens)) tokens")
        if let cost = document.usage.costUSD { meta.append(ExportText.cost(cost)) }
        out += style.dim(Terminal.clean(meta.joined(separator: " · "))) + "\n"
        for entry in document.entries {
            switch entry.role {
            case .turnEnd:
                let line = ExportText.turnLine(entry)
                out += "  " + (entry.isError == true ? style.red(line) : style.dim(line)) + "\n"
                continue
            case .user, .assistant:
                break
            }
            out += "\n"
            let who = entry.isToolResultsOnly ? "Tool results" : (entry.role == .user ? "You" : "Claude")
            let colored = entry.role == .user ? style.green(who) : style.cyan(who)
            out += style.bold(colored) + (entry.timestamp.map { style.dim("  " + ExportText.short($0)) } ?? "") + "\n"
            for block in entry.blocks { out += render(block, full: full, style: style, indent: "") }
        }
        return out
    }

    static func indentLines(_ text: String, _ indent: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { indent + $0 }.joined(separator: "\n") + "\n"
    }

    static func render(_ block: SessionDocument.Block, full: Bool, style: Terminal.Style, indent: String) -> String {
        switch block.kind {
        case .text:
            return indentLines(Terminal.clean(block.text ?? ""), indent)
        case .thinking:
            let text = block.text ?? ""
            if full { return style.dim(indent + "thinking:\n" + indentLines(Terminal.clean(text), indent + "  ")) }
            return style.dim(indent + "▸ thinking (\(text.count) characters)") + "\n"
        case .redactedThinking:
            return style.dim(indent + "▸ thinking (redacted)") + "\n"
        case .toolUse:
            let input = block.input ?? .object([:])
            if full {
                return indent + style.cyan("▸ " + Terminal.clean(block.name ?? "")) + "\n"
                    + indentLines(Terminal.clean(ExportText.prettyJSON(input)), indent + "  ")
            }
            return indent + style.cyan("▸ " + Terminal.clean(block.name ?? "")) + " "
                + style.dim(Terminal.clean(ExportText.oneLine(input, limit: 100))) + "\n"
        case .toolResult:
            let text = ExportText.plainText(block.content ?? [])
            let label = block.isError == true ? style.red("◂ error") : style.dim("◂ result")
            if full {
                return indent + label + "\n" + indentLines(Terminal.clean(text), indent + "  ")
            }
            let lines = text.split(separator: "\n", omittingEmptySubsequences: false).count
            return indent + label + " " + style.dim(Terminal.clean(ExportText.truncate(text, limit: 100)))
                + (lines > 1 ? style.dim(" (\(lines) lines)") : "") + "\n"
        case .image:
            return style.dim(indent + "[image\(block.mediaType.map { " " + Terminal.clean($0) } ?? "")]") + "\n"
        case .other:
            return style.dim(indent + "[\(Terminal.clean(block.type ?? "block"))]") + "\n"
        }
    }
}
