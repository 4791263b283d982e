import CClaudeCodeScan
import Testing

@testable import ClaudeCode

/// The C scanner behind the JSON reader (`CClaudeCodeScan`): every implementation this machine
/// can run (scalar, SSE2, AVX2, AVX-512 or NEON) against plain byte-by-byte references written here, on
/// adversarial inputs (specials at every offset around the 8/16/32/64-byte blocks, backslash
/// runs across windows, multi-byte UTF-8 split at block ends, invalid UTF-8, control bytes,
/// inputs ending anywhere), and the JSON readers' results under each implementation against the
/// scalar one. Serialized: it switches the process-wide implementation (other suites running
/// meanwhile take either path, which give the same results).
@Suite(.serialized) struct JSONScanDifferentialTests {
    /// The implementations this machine can run.
    static let levels: [Int32] = {
        var found: [Int32] = []
        for level: Int32 in [0, 1, 2, 3, 4] {
            let chosen = ccscan_force_implementation(level)
            if chosen == level { found.append(level) }
        }
        _ = ccscan_force_implementation(-1)
        return found
    }()

    // MARK: References

    enum Status: Int {
        case quote = 0, end, control, badEscape, badUnicodeEscape, truncatedEscape
    }

    static func isSpecial(_ byte: UInt8, nonASCII: Bool) -> Bool {
        byte == 0x22 || byte == 0x5C || byte < 0x20 || (nonASCII && byte >= 0x80)
    }

    static func hex4(_ bytes: [UInt8], _ index: Int) -> Int? {
        guard index + 4 <= bytes.count else { return nil }
        var value = 0
        for byte in bytes[index..<index + 4] {
            guard let digit = Int(String(UnicodeScalar(byte)), radix: 16) else { return nil }
            value = value * 16 + digit
        }
        return value
    }

    static let simpleEscapes: [UInt8: UInt8] = [
        0x22: 0x22, 0x5C: 0x5C, 0x2F: 0x2F, 0x62: 0x08, 0x66: 0x0C, 0x6E: 0x0A, 0x72: 0x0D, 0x74: 0x09,
    ]

    /// Decodes (or only checks, when `output` is nil) string content from `start`, byte by byte.
    static func referenceString(_ bytes: [UInt8], from start: Int, decoding: Bool) -> (
        status: Status, position: Int, escaped: Bool, output: [UInt8]
    ) {
        var index = start
        var escaped = false
        var output: [UInt8] = []
        while index < bytes.count {
            let byte = bytes[index]
            if byte == 0x22 { return (.quote, index, escaped, output) }
            if byte < 0x20 { return (.control, index, escaped, output) }
            if byte != 0x5C {
                output.append(byte)
                index += 1
                continue
            }
            escaped = true
            guard index + 1 < bytes.count else { return (.truncatedEscape, index, escaped, output) }
            let escape = bytes[index + 1]
            if let simple = simpleEscapes[escape] {
                output.append(simple)
                index += 2
                continue
            }
            guard escape == UInt8(ascii: "u") else { return (.badEscape, index, escaped, output) }
            guard let unit = hex4(bytes, index + 2) else { return (.badUnicodeEscape, index, escaped, output) }
            index += 6
            var scalar = unit
            if (0xD800...0xDBFF).contains(unit) {
                if decoding, index + 6 <= bytes.count, bytes[index] == 0x5C, bytes[index + 1] == UInt8(ascii: "u"),
                    let low = hex4(bytes, index + 2), (0xDC00...0xDFFF).contains(low)
                {
                    scalar = 0x10000 + ((unit - 0xD800) << 10) + (low - 0xDC00)
                    index += 6
                } else {
                    scalar = 0xFFFD
                }
            } else if (0xDC00...0xDFFF).contains(unit) {
                scalar = 0xFFFD
            }
            output.append(contentsOf: Array(String(UnicodeScalar(UInt32(scalar))!).utf8))
        }
        return (.end, bytes.count, escaped, output)
    }

    static func referenceUTF8(_ bytes: [UInt8]) -> Int32 {
        if bytes.allSatisfy({ $0 < 0x80 }) { return Int32(CCSCAN_ASCII) }
        return String(validating: bytes, as: UTF8.self) == nil ? Int32(CCSCAN_ILL_FORMED) : Int32(CCSCAN_WELL_FORMED)
    }

    // MARK: Inputs

    struct Generator {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func int(_ range: Range<Int>) -> Int { range.lowerBound + Int(next() % UInt64(range.count)) }
    }

    /// Pieces of string content, valid and not: escapes, backslash runs, surrogates, UTF-8
    /// sequences (whole, cut short, overlong, surrogate, too large), control bytes.
    static let pieces: [[UInt8]] =
        [
            "a", "b", " ", "\"", "\\", "\\n", "\\\"", "\\\\", "\\\\\\\\", "\\\\\\\"", "\\/", "\\t", "\\b", "\\f", "\\r",
            "\\u00e9", "\\u001b", "\\ud83d\\ude00", "\\ud83d", "\\ude00", "\\ud83dx", "\\uZZZZ", "\\u12", "\\x", "\\a",
            "é", "日", "😀", "\u{7F}",
        ].map { Array($0.utf8) } + [
            [0x01], [0x1F], [0x09], [0x0A], [0xC3], [0xE6, 0x97], [0x80], [0xBF], [0xFF], [0xC0, 0xAF],
            [0xE0, 0x80, 0x80],
            [0xED, 0xA0, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xF0, 0x8F, 0xBF, 0xBF], [0xF5, 0x80, 0x80, 0x80],
        ]

    /// Random soups of pieces and plain runs, with the rate of specials varying per input.
    static func soups(count: Int, seed: UInt64) -> [[UInt8]] {
        var generator = Generator(state: seed)
        var result: [[UInt8]] = []
        for _ in 0..<count {
            let length = generator.int(0..<420)
            let plainOdds = generator.int(1..<40)
            var bytes: [UInt8] = []
            while bytes.count < length {
                if generator.int(0..<plainOdds) != 0 {
                    bytes.append(UInt8(ascii: "a") + UInt8(generator.int(0..<26)))
                } else {
                    bytes += pieces[generator.int(0..<pieces.count)]
                }
            }
            result.append(bytes)
        }
        return result
    }

    /// Each piece at every offset from 0 to 140 of a plain run, followed by more plain text
    /// (or by nothing: the input then ends right after it), then a quote.
    static func placed() -> [[UInt8]] {
        var result: [[UInt8]] = []
        for piece in pieces {
            for offset in 0...140 {
                let prefix = [UInt8](repeating: UInt8(ascii: "x"), count: offset)
                result.append(prefix + piece)
                result.append(prefix + piece + [UInt8](repeating: UInt8(ascii: "y"), count: 70 - offset % 70) + [0x22])
            }
        }
        return result
    }

    /// Runs of backslashes of every length ending at every offset around the 64-byte windows,
    /// followed by a quote, a simple escape, a `\u` escape or a bad one (so that a backslash
    /// carried from one window escapes the next window's first byte, of each kind).
    static func backslashRuns() -> [[UInt8]] {
        var result: [[UInt8]] = []
        for (follower, runs) in [("\"n\"tail\"", 1...6), ("u00e9\"", 1...2), ("t\"", 1...2), ("q\"", 1...2)] {
            for run in runs {
                for offset in 50...140 {
                    var bytes = [UInt8](repeating: UInt8(ascii: "x"), count: offset)
                    bytes += [UInt8](repeating: 0x5C, count: run) + Array(follower.utf8)
                    bytes += [UInt8](repeating: UInt8(ascii: "z"), count: 150)
                    result.append(bytes)
                }
            }
        }
        return result
    }

    static var inputs: [[UInt8]] { placed() + backslashRuns() + soups(count: 4000, seed: 7) }

    // MARK: Tests

    @Test func findsTheSameBytesAsTheReference() {
        for level in Self.levels {
            _ = ccscan_force_implementation(level)
            defer { _ = ccscan_force_implementation(-1) }
            for bytes in Self.inputs {
                bytes.withUnsafeBufferPointer { buffer in
                    guard let base = buffer.baseAddress else { return }
                    for start in Set([0, 1, 7, 15, 31, bytes.count / 2, bytes.count]) where start <= bytes.count {
                        for nonASCII in [false, true] {
                            let expected =
                                bytes[start...].firstIndex { Self.isSpecial($0, nonASCII: nonASCII) } ?? bytes.count
                            let found =
                                nonASCII
                                ? ccscan_find_string_special_or_non_ascii(base, start, bytes.count)
                                : ccscan_find_string_special(base, start, bytes.count)
                            #expect(found == expected, "level \(level), start \(start), \(bytes)")
                        }
                    }
                }
            }
        }
    }

    @Test func skipsAndUnescapesAsTheReference() {
        for level in Self.levels {
            _ = ccscan_force_implementation(level)
            defer { _ = ccscan_force_implementation(-1) }
            for bytes in Self.inputs {
                bytes.withUnsafeBufferPointer { buffer in
                    guard let base = buffer.baseAddress else { return }
                    for start in Set([0, 3, 17, 33, bytes.count / 3, bytes.count]) where start <= bytes.count {
                        let checked = Self.referenceString(bytes, from: start, decoding: false)
                        var position = -1
                        var escaped: Int32 = 0
                        let status = ccscan_skip_string(base, start, bytes.count, &position, &escaped)
                        #expect(Int(status) == checked.status.rawValue, "level \(level), start \(start), \(bytes)")
                        #expect(position == checked.position, "level \(level), start \(start), \(bytes)")
                        if checked.status == .quote {
                            #expect((escaped != 0) == checked.escaped, "level \(level), start \(start), \(bytes)")
                        }

                        let decoded = Self.referenceString(bytes, from: start, decoding: true)
                        // Exactly the capacity the contract asks for, after a prefix already written.
                        let prefix = 5
                        var output = [UInt8](repeating: 0xAA, count: prefix + bytes.count - start)
                        var written = prefix
                        position = -1
                        let unescaped = output.withUnsafeMutableBufferPointer { out in
                            ccscan_unescape(base, start, bytes.count, out.baseAddress!, &written, &position)
                        }
                        #expect(Int(unescaped) == decoded.status.rawValue, "level \(level), start \(start), \(bytes)")
                        #expect(position == decoded.position, "level \(level), start \(start), \(bytes)")
                        #expect(
                            Array(output[prefix..<written]) == decoded.output,
                            "level \(level), start \(start), \(bytes)")
                    }
                }
            }
        }
    }

    @Test func checksUTF8AsTheStandardLibrary() {
        var cases = Self.inputs
        // Every piece cut at the very end of inputs of every length around the 16/32-byte blocks.
        for piece in Self.pieces {
            for length in 0...70 {
                let full = [UInt8](repeating: UInt8(ascii: "a"), count: length) + piece
                for cut in 0..<piece.count { cases.append(Array(full.dropLast(cut))) }
            }
        }
        for level in Self.levels {
            _ = ccscan_force_implementation(level)
            defer { _ = ccscan_force_implementation(-1) }
            for bytes in cases {
                let found = bytes.withUnsafeBufferPointer { ccscan_check_utf8($0.baseAddress, $0.count) }
                #expect(found == Self.referenceUTF8(bytes), "level \(level), \(bytes)")
            }
        }
    }

    /// What a reader made of one document: its value, or its error.
    static func outcome(_ read: () throws(JSONParseError) -> JSONValue) -> Result<JSONValue, JSONParseError> {
        do throws(JSONParseError) {
            return .success(try read())
        } catch {
            return .failure(error)
        }
    }

    @Test func jsonReadersAgreeUnderEveryImplementation() {
        var documents: [[UInt8]] = []
        for soup in Self.soups(count: 1500, seed: 11) + Self.backslashRuns() {
            documents.append(Array(#"{"k":""#.utf8) + soup + Array(#"","n":[1,"\u00e9"]}"#.utf8))
            documents.append([0x5B, 0x22] + soup + [0x22, 0x5D])
        }
        func results() -> [[Result<JSONValue, JSONParseError>]] {
            documents.map { document in
                let parsed = Self.outcome { () throws(JSONParseError) in try JSONValue.parse(document) }
                let taped = Self.outcome { () throws(JSONParseError) in
                    var tape = JSONTape()
                    return try document.withUnsafeBufferPointer { buffer throws(JSONParseError) in
                        try tape.parse(buffer)
                        return tape.withRoot(of: buffer) { $0.jsonValue }
                    }
                }
                let scanned = Self.outcome { () throws(JSONParseError) in
                    guard document.first == 0x7B else { return .null }
                    return try JSONObjectScanner(document).value(forKey: "k") ?? .null
                }
                return [parsed, taped, scanned]
            }
        }
        _ = ccscan_force_implementation(0)
        let scalar = results()
        for level in Self.levels where level != 0 {
            _ = ccscan_force_implementation(level)
            let simd = results()
            for index in documents.indices {
                #expect(simd[index] == scalar[index], "level \(level), \(documents[index])")
            }
        }
        _ = ccscan_force_implementation(-1)
        // The documents exercise both outcomes.
        let successes = scalar.filter { if case .success = $0[0] { true } else { false } }.count
        #expect(successes > 0 && successes < scalar.count)
    }

    @Test func longStringsRoundTrip() throws {
        // Texts long enough for the 64-byte windows, with escapes every few bytes and at window ends.
        var generator = Generator(state: 3)
        for level in Self.levels {
            _ = ccscan_force_implementation(level)
            defer { _ = ccscan_force_implementation(-1) }
            for _ in 0..<300 {
                var text = ""
                let length = generator.int(0..<600)
                let words = ["plain", "\"q\"", "back\\slash", "tab\t", "line\n", "é", "日本", "😀", "\u{1B}[0m", "/"]
                while text.utf8.count < length { text += words[generator.int(0..<words.count)] + " " }
                let serialized = JSONValue.array([.string(text)]).serialized()
                #expect(try JSONValue.parse(serialized) == .array([.string(text)]), "level \(level)")
                var tape = JSONTape()
                let viaTape = try serialized.withUnsafeBufferPointer { buffer in
                    try tape.parse(buffer)
                    return tape.withRoot(of: buffer) { $0.jsonValue }
                }
                #expect(viaTape == .array([.string(text)]), "level \(level)")
            }
        }
    }
}
