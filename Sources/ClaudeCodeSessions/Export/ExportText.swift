import ClaudeCode

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif

/// Text helpers shared by the renderers and the `claude-sessions` tool.
public enum ExportText {
    /// `date` as ISO 8601 in UTC with milliseconds (`2025-01-02T03:04:05.678Z`).
    public static func iso(_ date: Date) -> String {
        // `YYYY-MM-DDTHH:MM:SS.ffffffZ` → milliseconds.
        let text = StoreTimestamp.format(date)
        return String(text.dropLast(4)) + "Z"
    }

    /// `date` as `2025-01-02 03:04 UTC` (for people).
    public static func short(_ date: Date) -> String {
        let text = iso(date)
        guard text.count >= 16 else { return text }
        return String(text.prefix(10)) + " " + String(text.dropFirst(11).prefix(5)) + " UTC"
    }

    /// A cost in US dollars (`$0.0123`), or `—` when unknown.
    public static func cost(_ value: Double?) -> String {
        guard let value else { return "—" }
        if value == 0 { return "$0" }
        if value < 1 { return String(format: "$%.4f", value) }
        return String(format: "$%.2f", value)
    }

    /// A count with thousands separators (`12,345`).
    public static func count(_ value: Int) -> String {
        let digits = String(value.magnitude)
        var result = ""
        for (index, character) in digits.enumerated() {
            if index > 0 && (digits.count - index) % 3 == 0 { result.append(",") }
            result.append(character)
        }
        return value < 0 ? "-" + result : result
    }

    /// A duration in milliseconds as `1.2 s` or `3 min 4 s`.
    public static func duration(milliseconds: Int) -> String {
        if milliseconds < 60_000 { return String(format: "%.1f s", Double(milliseconds) / 1000) }
        let seconds = milliseconds / 1000
        return "\(seconds / 60) min \(seconds % 60) s"
    }

    /// A turn end's figures on one line: cost, tokens, duration.
    public static func turnLine(_ entry: SessionDocument.Entry) -> String {
        guard let turn = entry.turn else { return "Turn ended" }
        var parts = ["Turn\(entry.isError == true ? " (error)" : ""): \(ExportText.cost(turn.costUSD))"]
        parts.append(
            "\(ExportText.count(turn.inputTokens + turn.cacheReadInputTokens + turn.cacheCreationInputTokens)) in / \(ExportText.count(turn.outputTokens)) out tokens"
        )
        if let duration = turn.durationMilliseconds { parts.append(ExportText.duration(milliseconds: duration)) }
        return parts.joined(separator: " · ")
    }

    /// A JSON value pretty-printed with sorted keys and two-space indentation.
    public static func prettyJSON(_ value: JSONValue) -> String {
        var output = ""
        write(value, indent: 0, into: &output)
        return output
    }

    private static func write(_ value: JSONValue, indent: Int, into output: inout String) {
        let pad = String(repeating: "  ", count: indent + 1)
        let closePad = String(repeating: "  ", count: indent)
        switch value {
        case .array(let items):
            if items.isEmpty {
                output += "[]"
                return
            }
            output += "[\n"
            for (index, item) in items.enumerated() {
                output += pad
                write(item, indent: indent + 1, into: &output)
                output += index == items.count - 1 ? "\n" : ",\n"
            }
            output += closePad + "]"
        case .object(let members):
            if members.isEmpty {
                output += "{}"
                return
            }
            output += "{\n"
            let keys = members.keys.sorted()
            for (index, key) in keys.enumerated() {
                output += pad + String(decoding: JSONValue.string(key).serialized(), as: UTF8.self) + ": "
                write(members[key]!, indent: indent + 1, into: &output)
                output += index == keys.count - 1 ? "\n" : ",\n"
            }
            output += closePad + "}"
        default:
            output += String(decoding: value.serialized(), as: UTF8.self)
        }
    }

    /// A JSON value on one line with sorted keys, cut to `limit` characters with `…`.
    public static func oneLine(_ value: JSONValue, limit: Int) -> String {
        truncate(compactJSON(value), limit: limit)
    }

    /// A JSON value on one line with sorted keys (stable from run to run).
    public static func compactJSON(_ value: JSONValue) -> String {
        switch value {
        case .array(let items): return "[" + items.map(compactJSON).joined(separator: ",") + "]"
        case .object(let members):
            return "{"
                + members.keys.sorted().map {
                    String(decoding: JSONValue.string($0).serialized(), as: UTF8.self) + ":" + compactJSON(members[$0]!)
                }.joined(separator: ",") + "}"
        default: return String(decoding: value.serialized(), as: UTF8.self)
        }
    }

    /// `text` on one line (line breaks become spaces), cut to `limit` characters with `…`.
    ///
    /// Reads only as much of `text` as the result needs.
    public static func truncate(_ text: String, limit: Int) -> String {
        truncate(pieces: CollectionOfOne(text), limit: limit)
    }

    /// ``truncate(_:limit:)`` of ``plainText(_:)``, without joining the whole text first.
    public static func plainTextPreview(_ blocks: [SessionDocument.Block], limit: Int) -> String {
        truncate(pieces: blocks.lazy.compactMap(plainTextPiece), limit: limit)
    }

    /// ``truncate(_:limit:)`` of `pieces` joined with line feeds, reading the pieces only as far
    /// as the result needs.
    ///
    /// The one-line form is built piece by piece (runs of line breaks become one space, as
    /// `split` and `joined` make them) until it holds `limit + 8` characters of the source. The
    /// prefix built is then a prefix of the whole one-line text at a boundary of the source's
    /// characters, so its first characters are the whole text's (only its last character could
    /// grow with what follows): with at least `limit + 2` characters, the whole text is longer
    /// than `limit` and its first `limit - 1` characters are the prefix's. Otherwise (the text
    /// is short, or the joins merged characters), the whole text is flattened as before.
    static func truncate<Pieces: Sequence<String>>(pieces: Pieces, limit: Int) -> String {
        var flat = ""
        var taken = 0
        var pendingSpace = false
        var first = true
        let wanted = max(0, limit) + 8
        outer: for piece in pieces {
            if !first { pendingSpace = !flat.isEmpty }
            first = false
            for character in piece {
                if character.isNewline {
                    pendingSpace = !flat.isEmpty
                    continue
                }
                if pendingSpace {
                    flat.append(" ")
                    taken += 1
                    pendingSpace = false
                }
                flat.append(character)
                taken += 1
                if taken >= wanted { break outer }
            }
        }
        if taken >= wanted {
            if flat.count >= limit + 2 { return String(flat.prefix(max(0, limit - 1))) + "…" }
            let whole = Array(pieces).joined(separator: "\n").split(whereSeparator: \.isNewline).joined(separator: " ")
            guard whole.count > limit else { return whole }
            return String(whole.prefix(max(0, limit - 1))) + "…"
        }
        guard flat.count > limit else { return flat }
        return String(flat.prefix(max(0, limit - 1))) + "…"
    }

    /// The plain text of blocks (text and tool-result text), for previews and search.
    public static func plainText(_ blocks: [SessionDocument.Block]) -> String {
        blocks.compactMap(plainTextPiece).joined(separator: "\n")
    }

    /// One block's part of ``plainText(_:)``.
    static func plainTextPiece(_ block: SessionDocument.Block) -> String? {
        switch block.kind {
        case .text, .thinking: return block.text
        case .toolResult: return plainText(block.content ?? [])
        case .toolUse: return block.input.map(compactJSON)
        default: return nil
        }
    }

    /// Image media types shown inline (never SVG, which can carry scripts).
    public static let inlineImageTypes: Set<String> = ["image/png", "image/jpeg", "image/gif", "image/webp"]

    /// A `data:` URL for an image block, or `nil` when its type is not an inline image type or its
    /// data is not plain base64.
    public static func imageDataURL(_ block: SessionDocument.Block) -> String? {
        guard block.kind == .image, let type = block.mediaType?.lowercased(), inlineImageTypes.contains(type),
            let data = block.data, !data.isEmpty,
            data.utf8.allSatisfy({ byte in
                (byte >= 0x41 && byte <= 0x5A) || (byte >= 0x61 && byte <= 0x7A) || (byte >= 0x30 && byte <= 0x39)
                    || byte == 0x2B || byte == 0x2F || byte == 0x3D
            })
        else { return nil }
        return "data:\(type);base64,\(data)"
    }
}
