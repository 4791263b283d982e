import ClaudeCode

/// What a frame's bytes are, as far as storage is concerned.
enum RawFrameKind: Sendable, Hashable {
    /// Valid JSON with no leading or trailing whitespace and no CR or LF byte: embedded verbatim.
    case json
    /// Valid UTF-8 that is not embeddable JSON: stored as a JSON string.
    case text
    /// Not valid UTF-8: stored base64-encoded.
    case binary
}

/// The result of inspecting a raw frame once.
struct RawFrameInspection: Sendable {
    var kind: RawFrameKind
    /// Whether the bytes are one valid JSON text (surrounding whitespace allowed).
    var isValid: Bool
    var type: String? = nil
    var subtype: String? = nil
}

enum RawFrameInspector {
    /// Validates `bytes` (strictly, with UTF-8 checking and no depth limit, so every frame
    /// that was ever embedded still is) and extracts the top-level `type` and `subtype`
    /// string members (the last occurrence wins, as in most JSON parsers).
    static func inspect(_ bytes: [UInt8]) -> RawFrameInspection {
        var reader = JSONReader(bytes)
        var type: String?
        var subtype: String?
        let valid: Bool
        do {
            if reader.peekKind() == .object {
                try reader.beginObject()
                while let key = try reader.nextKey() {
                    if key == "type" || key == "subtype", reader.peekKind() == .string {
                        let value = try reader.readString()
                        if key == "type" { type = value } else { subtype = value }
                    } else {
                        try reader.skipValue(maximumDepth: .max)
                    }
                }
            } else {
                try reader.skipValue(maximumDepth: .max)
            }
            try reader.finish()
            valid = true
        } catch {
            valid = false
        }
        guard valid else {
            return RawFrameInspection(kind: isUTF8(bytes) ? .text : .binary, isValid: false)
        }
        return RawFrameInspection(kind: kind(ofValid: bytes), isValid: true, type: type, subtype: subtype)
    }

    /// The storage kind of a frame known to be valid JSON, because the core's parser or
    /// validator accepted it: one pass over the bytes (`JSONValue.isStrictSingleLine`)
    /// instead of a second validation.
    static func kind(ofValid bytes: [UInt8]) -> RawFrameKind {
        if JSONValue.isStrictSingleLine(parsedText: bytes) { return .json }
        return isUTF8(bytes) ? .text : .binary
    }

    static func isUTF8(_ bytes: [UInt8]) -> Bool {
        String(validating: bytes, as: UTF8.self) != nil
    }
}
