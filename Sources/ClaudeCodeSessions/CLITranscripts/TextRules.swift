import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Text rules shared by the transcript readers and mutators. They reproduce the Python
/// SDK's (and so the CLI's) string handling exactly where results must agree.
enum TextRules {
    // MARK: Session ids

    /// Whether `string` is a UUID in the 8-4-4-4-12 hexadecimal form, any case.
    /// Session ids are checked with this before they become part of a path.
    static func isUUID(_ string: String) -> Bool {
        var count = 0
        for byte in string.utf8 {
            switch count {
            case 8, 13, 18, 23:
                if byte != UInt8(ascii: "-") { return false }
            default:
                guard (byte >= 0x30 && byte <= 0x39) || (byte | 0x20 >= 0x61 && byte | 0x20 <= 0x66) else {
                    return false
                }
            }
            count += 1
            if count > 36 { return false }
        }
        return count == 36
    }

    /// A fresh random UUID in lowercase, as the CLI and Python write them.
    static func newUUID() -> String {
        UUID().uuidString.lowercased()
    }

    // MARK: Python whitespace

    /// Python's `str.isspace()` for one scalar.
    static func isPythonWhitespace(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.value {
        case 0x09...0x0D, 0x1C...0x20, 0x85, 0xA0, 0x1680, 0x2000...0x200A, 0x2028, 0x2029, 0x202F, 0x205F, 0x3000:
            return true
        default:
            return false
        }
    }

    /// Python's `str.strip()`.
    static func pythonStrip(_ string: String) -> String {
        let scalars = string.unicodeScalars
        guard let first = scalars.firstIndex(where: { !isPythonWhitespace($0) }) else { return "" }
        let last = scalars.lastIndex(where: { !isPythonWhitespace($0) })!
        return String(scalars[first...last])
    }

    /// Python's `str.rstrip()`.
    static func pythonRightStrip(_ string: Substring.UnicodeScalarView) -> String {
        guard let last = string.lastIndex(where: { !isPythonWhitespace($0) }) else { return "" }
        return String(string[...last])
    }

    // MARK: First prompt

    /// Turns one candidate text of a user message into a first prompt, or says why not.
    enum PromptCandidate {
        case prompt(String)
        case command(String)
        case skip
    }

    /// Applies the CLI's first-prompt rules to one text block: newlines flattened,
    /// whitespace stripped, slash commands remembered as a fallback, generated text
    /// skipped, and the result cut to 200 code points plus an ellipsis.
    static func firstPromptCandidate(_ raw: String) -> PromptCandidate {
        var flattened = Array(raw.utf8)
        for index in flattened.indices where flattened[index] == 0x0A { flattened[index] = 0x20 }
        let result = pythonStrip(String(decoding: flattened, as: UTF8.self))
        if result.isEmpty { return .skip }
        if let command = commandName(in: result) { return .command(command) }
        if isGeneratedPrompt(result) { return .skip }
        let scalars = result.unicodeScalars
        if scalars.count > 200 {
            let cut = scalars.index(scalars.startIndex, offsetBy: 200)
            return .prompt(pythonRightStrip(result.unicodeScalars[..<cut]) + "\u{2026}")
        }
        return .prompt(result)
    }

    /// The text of the first `<command-name>…</command-name>` in `text`.
    static func commandName(in text: String) -> String? {
        let bytes = Array(text.utf8)
        guard let open = find(Array("<command-name>".utf8), in: bytes, from: 0) else { return nil }
        let start = open + "<command-name>".utf8.count
        guard let close = find(Array("</command-name>".utf8), in: bytes, from: start) else { return nil }
        return String(decoding: bytes[start..<close], as: UTF8.self)
    }

    /// The offset of the first `needle` in `bytes` at or after `from`.
    static func find(_ needle: [UInt8], in bytes: [UInt8], from: Int) -> Int? {
        guard from <= bytes.count, !needle.isEmpty else { return nil }
        return bytes.withUnsafeBytes { raw in
            needle.withUnsafeBytes { needleBytes in
                ByteSearch.find(needleBytes, in: raw.baseAddress! + from, length: bytes.count - from).map { $0 + from }
            }
        }
    }

    /// Text the CLI generates itself and never shows as a prompt.
    static func isGeneratedPrompt(_ text: String) -> Bool {
        // Code-point (here: byte) prefixes, as Python's re.match sees them.
        let utf8 = text.utf8
        for prefix in ["<local-command-stdout>", "<session-start-hook>", "<tick>", "<goal>"]
        where utf8.starts(with: prefix.utf8) {
            return true
        }
        let interrupted = "[Request interrupted by user"
        if utf8.starts(with: interrupted.utf8) {
            let rest = text.utf8.dropFirst(interrupted.utf8.count)
            // `[^\]]*\]`: the first `]` after the prefix closes it.
            if rest.contains(UInt8(ascii: "]")) { return true }
        }
        // `\s*<tag>[\s\S]*</tag>\s*$` on text that is already stripped.
        for tag in ["ide_opened_file", "ide_selection"] {
            let open = "<\(tag)>"
            let close = "</\(tag)>"
            if utf8.starts(with: open.utf8), utf8.reversed().starts(with: close.utf8.reversed()),
                utf8.count >= open.utf8.count + close.utf8.count
            {
                return true
            }
        }
        return false
    }

    // MARK: Tags

    /// The CLI's tag sanitization: NFKC, then drop format, private-use and unassigned
    /// characters and the zero-width, bidirectional and BOM ranges, repeated until stable
    /// (at most 10 passes).
    ///
    /// "Unassigned" follows the Unicode version of the Swift runtime, which may be newer
    /// than the Python interpreter's.
    static func sanitizeTag(_ value: String) -> String {
        var current = value
        for _ in 0..<10 {
            let previous = current
            let normalized = current.precomposedStringWithCompatibilityMapping
            var scalars = String.UnicodeScalarView()
            for scalar in normalized.unicodeScalars where !isStrippedFromTags(scalar) {
                scalars.append(scalar)
            }
            current = String(scalars)
            if current == previous, Array(current.unicodeScalars) == Array(previous.unicodeScalars) { break }
        }
        return current
    }

    static func isStrippedFromTags(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar.properties.generalCategory {
        case .format, .privateUse, .unassigned:
            return true
        default:
            break
        }
        switch scalar.value {
        case 0x200B...0x200F, 0x202A...0x202E, 0x2066...0x2069, 0xFEFF, 0xE000...0xF8FF:
            return true
        default:
            return false
        }
    }

    // MARK: Paths

    /// NFC form, as the CLI and the Python SDK normalize paths.
    static func nfc(_ string: String) -> String {
        string.precomposedStringWithCanonicalMapping
    }

    // MARK: Timestamps

    /// Milliseconds since the epoch for an ISO 8601 timestamp, computed like Python's
    /// `int(datetime.fromisoformat(ts).timestamp() * 1000)`, or `nil` when it does not parse.
    ///
    /// Accepts `YYYY-MM-DD` or `YYYYMMDD`, optionally followed by any one separator and
    /// `HH[:MM[:SS[.fraction]]]` (or `HHMMSS`), and a `Z` or `±HH[:MM]` offset. Without an
    /// offset the time is local, as in Python.
    static func epochMilliseconds(iso text: String) -> Int? {
        let bytes = Array(text.utf8)
        var index = 0
        func digits(_ count: Int) -> Int? {
            guard index + count <= bytes.count else { return nil }
            var value = 0
            for offset in 0..<count {
                let digit = Int(bytes[index + offset]) - 48
                guard digit >= 0, digit <= 9 else { return nil }
                value = value * 10 + digit
            }
            index += count
            return value
        }
        func consume(_ ascii: Character) -> Bool {
            if index < bytes.count, bytes[index] == ascii.asciiValue! {
                index += 1
                return true
            }
            return false
        }
        guard let year = digits(4) else { return nil }
        let extendedDate = consume("-")
        guard let month = digits(2) else { return nil }
        if extendedDate { guard consume("-") else { return nil } }
        guard let day = digits(2) else { return nil }
        var hour = 0
        var minute = 0
        var second = 0
        var microsecond = 0
        var offsetSeconds: Int?
        if index < bytes.count {
            // Any single character separates date and time.
            let separatorLength = utf8SequenceLength(bytes[index])
            index += separatorLength
            guard let parsedHour = digits(2) else { return nil }
            hour = parsedHour
            let extendedTime = consume(":")
            if let parsedMinute = digits(2) {
                minute = parsedMinute
                var hasSecond = false
                if extendedTime {
                    if consume(":") {
                        guard let parsedSecond = digits(2) else { return nil }
                        second = parsedSecond
                        hasSecond = true
                    }
                } else if let parsedSecond = digits(2) {
                    second = parsedSecond
                    hasSecond = true
                }
                if hasSecond, consume(".") || consume(",") {
                    var fractionDigits = 0
                    var value = 0
                    while index < bytes.count, bytes[index] >= 48, bytes[index] <= 57 {
                        if fractionDigits < 6 {
                            value = value * 10 + Int(bytes[index] - 48)
                        }
                        fractionDigits += 1
                        index += 1
                    }
                    guard fractionDigits > 0 else { return nil }
                    for _ in min(fractionDigits, 6)..<6 { value *= 10 }
                    microsecond = value
                }
            } else if extendedTime {
                return nil
            }
            if index < bytes.count {
                if consume("Z") {
                    offsetSeconds = 0
                } else if bytes[index] == UInt8(ascii: "+") || bytes[index] == UInt8(ascii: "-") {
                    let sign = bytes[index] == UInt8(ascii: "-") ? -1 : 1
                    index += 1
                    guard let offsetHours = digits(2) else { return nil }
                    var offsetMinutes = 0
                    if index < bytes.count {
                        let extendedOffset = consume(":")
                        guard let parsed = digits(2) else { return nil }
                        offsetMinutes = parsed
                        if extendedOffset, consume(":") {
                            guard digits(2) != nil else { return nil }
                        }
                    }
                    guard offsetHours < 24, offsetMinutes < 60 else { return nil }
                    offsetSeconds = sign * (offsetHours * 3600 + offsetMinutes * 60)
                }
                guard index == bytes.count else { return nil }
            }
        }
        guard (1...12).contains(month), day >= 1, day <= daysInMonth(year: year, month: month), year >= 1,
            hour < 24, minute < 60, second < 60
        else { return nil }
        var components = tm()
        components.tm_year = Int32(year - 1900)
        components.tm_mon = Int32(month - 1)
        components.tm_mday = Int32(day)
        components.tm_hour = Int32(hour)
        components.tm_min = Int32(minute)
        components.tm_sec = Int32(second)
        if let offsetSeconds {
            let utc = Int(timegm(&components)) - offsetSeconds
            let micros = Int64(utc) * 1_000_000 + Int64(microsecond)
            let seconds = Double(micros) / 1e6
            return Int((seconds * 1000).rounded(.towardZero))
        }
        components.tm_isdst = -1
        let local = Int(mktime(&components))
        let seconds = Double(local) + Double(microsecond) / 1e6
        return Int((seconds * 1000).rounded(.towardZero))
    }

    static func daysInMonth(year: Int, month: Int) -> Int {
        switch month {
        case 2: return (year % 4 == 0 && (year % 100 != 0 || year % 400 == 0)) ? 29 : 28
        case 4, 6, 9, 11: return 30
        default: return 31
        }
    }

    static func utf8SequenceLength(_ lead: UInt8) -> Int {
        switch lead {
        case 0xF0...: return 4
        case 0xE0...: return 3
        case 0xC0...: return 2
        default: return 1
        }
    }

    /// The current time as the CLI writes it: `2026-11-24T16:05:15.966Z`.
    static func isoNow() -> String {
        var now = timespec()
        clock_gettime(CLOCK_REALTIME, &now)
        var seconds = time_t(now.tv_sec)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        let millis = Int(now.tv_nsec) / 1_000_000
        func pad(_ value: Int32, _ width: Int) -> String {
            let text = String(value)
            return String(repeating: "0", count: max(0, width - text.count)) + text
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(millis), 3))Z"
    }
}
