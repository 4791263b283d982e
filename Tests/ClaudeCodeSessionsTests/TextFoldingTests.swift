import CClaudeCodeScan
import Foundation
import Testing

@testable import ClaudeCodeSessions

/// The search's matching (`TextFolding`): case- and diacritic-insensitive, one scalar at a time,
/// on bytes; where Foundation's grapheme-wise `range(of:options:)` is well defined (precomposed
/// text), both find the same occurrences.
@Suite("TextFolding")
struct TextFoldingTests {
    /// The occurrences of `term` in `text`, as substrings.
    static func find(_ term: String, in text: String) -> [String] {
        var matcher = TextFolding.Matcher()
        matcher.load(text)
        let utf8 = Array(text.utf8)
        return matcher.offsets(of: TextFolding.fold(term)).map { String(decoding: utf8[$0], as: UTF8.self) }
    }

    @Test func caseAndDiacriticsFoldAndMatchesDoNotOverlap() {
        #expect(Self.find("login", in: "Login LOGIN log-in logins") == ["Login", "LOGIN", "login"])
        #expect(Self.find("aa", in: "aaaaa") == ["aa", "aa"])
        #expect(Self.find("cafe", in: "Café, CAFÉ and cafe") == ["Café", "CAFÉ", "cafe"])
        #expect(Self.find("café", in: "a cafe") == ["cafe"])
        #expect(Self.find("naive", in: "naïve") == ["naïve"])
        #expect(Self.find("日本", in: "日本語 and 日本") == ["日本", "日本"])
        #expect(Self.find("😀", in: "emoji 😀!") == ["😀"])
        #expect(Self.find("x", in: "").isEmpty)
        #expect(Self.find("", in: "text").isEmpty)
        #expect(Self.find("longer than the text", in: "short").isEmpty)
    }

    /// Counting ASCII terms in ASCII text without a folded copy (SSE2, AVX2 and the scalar loop)
    /// gives the matcher's counts; text with any non-ASCII byte is left to the matcher.
    @Test func countingInASCIITextAgreesWithTheMatcherOnEveryImplementation() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("aAbBzZ-_[@` \n0".utf8)
        var cases: [(text: [UInt8], terms: [[UInt8]])] = []
        for round in 0..<3000 {
            let size = round < 200 ? round : Int.random(in: 0...300, using: &generator)
            var text = (0..<size).map { _ in alphabet.randomElement(using: &generator)! }
            let term = TextFolding.fold(
                String(
                    decoding: (0..<Int.random(in: 1...6, using: &generator)).map { _ in
                        alphabet.randomElement(using: &generator)!
                    }, as: UTF8.self))
            // Runs of the term in either case, for overlapping candidates.
            if round % 3 == 0, !term.isEmpty {
                let copies = Int.random(in: 1...40, using: &generator)
                let at = Int.random(in: 0...text.count, using: &generator)
                let run = (0..<copies).flatMap { copy in
                    copy % 2 == 0 ? term : Array(String(decoding: term, as: UTF8.self).uppercased().utf8)
                }
                text.insert(contentsOf: run, at: at)
            }
            cases.append((text, [term, TextFolding.fold("ab"), TextFolding.fold("A")]))
        }
        let levels = [0, 1, 2, 4].filter { ccscan_force_implementation(Int32($0)) == Int32($0) }
        defer { _ = ccscan_force_implementation(-1) }
        #expect(levels.contains(0))
        for level in levels {
            _ = ccscan_force_implementation(Int32(level))
            for (text, terms) in cases {
                var matcher = TextFolding.Matcher()
                matcher.load(String(decoding: text, as: UTF8.self))
                var counts = [Int](repeating: -1, count: terms.count)
                let done = text.withUnsafeBytes { TextFolding.Matcher.countInASCII(terms, in: $0, into: &counts) }
                #expect(done, "ASCII text is counted without folding")
                #expect(counts == terms.map { matcher.count(of: $0) }, "level \(level): \(text) \(terms)")
            }
            // One non-ASCII byte anywhere (early, late, in the last partial block) hands over.
            for position in [0, 17, 40, 99] {
                var text = Array(repeating: UInt8(ascii: "a"), count: 100)
                text[position] = 0xC3
                var counts = [0]
                #expect(!text.withUnsafeBytes { TextFolding.Matcher.countInASCII([[0x61]], in: $0, into: &counts) })
            }
        }
    }

    /// The byte helpers of the folding and the matching (`ccscan_lower_ascii`, `ccscan_find`,
    /// `ccscan_find_anchored` and `ByteSearch.find` on it) against plain loops, on every implementation, at every alignment of the last block.
    @Test func lowercasingAndFindingAgreeWithPlainLoopsOnEveryImplementation() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("aAzZ@[`{09 ".utf8) + [0x80, 0xC3, 0xFF]
        let levels = [0, 1, 2, 4].filter { ccscan_force_implementation(Int32($0)) == Int32($0) }
        defer { _ = ccscan_force_implementation(-1) }
        for level in levels {
            _ = ccscan_force_implementation(Int32(level))
            for round in 0..<3000 {
                let size = round < 130 ? round : Int.random(in: 0...200, using: &generator)
                let text = (0..<size).map { _ in
                    // Mostly ASCII, so that runs are long enough for the vector loops.
                    Int.random(in: 0..<20, using: &generator) == 0
                        ? alphabet.randomElement(using: &generator)!
                        : alphabet[Int.random(in: 0..<11, using: &generator)]
                }
                // Lowercasing up to the first non-ASCII byte, never writing past `count`.
                var out = [UInt8](repeating: 0xEE, count: size + 1)
                let copied = out.withUnsafeMutableBufferPointer { ccscan_lower_ascii(text, size, $0.baseAddress!) }
                let ascii = text.firstIndex { $0 >= 0x80 } ?? size
                #expect(copied == ascii, "level \(level)")
                #expect(Array(out[0..<ascii]) == text[0..<ascii].map { $0 >= 65 && $0 <= 90 ? $0 | 0x20 : $0 })
                #expect(out[size] == 0xEE, "nothing written past the end")
                // Finding a needle taken from the text (or not in it): the first occurrence.
                let length = Int.random(in: 1...5, using: &generator)
                var needle = (0..<length).map { _ in alphabet.randomElement(using: &generator)! }
                if size >= length, Bool.random(using: &generator) {
                    let at = Int.random(in: 0...(size - length), using: &generator)
                    needle = Array(text[at..<at + length])
                }
                let expected =
                    size < length ? -1 : (0...(size - length)).first { Array(text[$0..<$0 + length]) == needle } ?? -1
                #expect(ccscan_find(text, size, needle, length) == expected, "level \(level): \(text) \(needle)")
                // The same with any two anchor bytes, and with ByteSearch's own choice of them.
                let first = Int.random(in: 0..<length, using: &generator)
                let second = Int.random(in: first..<length, using: &generator)
                #expect(
                    ccscan_find_anchored(text, size, needle, length, first, second) == expected,
                    "level \(level), anchors \(first) \(second): \(text) \(needle)")
                let found = needle.withUnsafeBytes { pattern in
                    text.withUnsafeBytes {
                        ByteSearch.find(pattern, in: $0.baseAddress ?? pattern.baseAddress!, length: size)
                    }
                }
                #expect(found == (expected < 0 ? nil : expected), "ByteSearch, level \(level): \(text) \(needle)")
            }
        }
    }

    @Test func aDecomposedAccentBelongsToTheMatch() {
        // "e" + COMBINING ACUTE ACCENT: the accent folds to nothing and is kept inside the match.
        let text = "cafe\u{301} ok"
        #expect(Self.find("cafe", in: text) == ["cafe\u{301}"])
        #expect(Self.find("café", in: text) == ["cafe\u{301}"])
    }

    @Test func matchesStartAndEndOnWholeScalars() {
        // A scalar folding to several bytes is matched whole or not at all.
        let folded = TextFolding.fold("ß")
        if folded.count > 1 {
            #expect(Self.find("s", in: "ß").isEmpty)
            #expect(Self.find(String(decoding: folded, as: UTF8.self), in: "Straße").count == 1)
        }
        // Accents differ, letters match (diacritic-insensitive).
        #expect(Self.find("\u{E9}", in: "\u{E8}") == ["\u{E8}"])
    }

    /// Random text of ASCII and precomposed Latin letters: every term is found exactly where
    /// Foundation finds it.
    @Test func agreesWithFoundationOnPrecomposedText() {
        var generator = SystemRandomNumberGenerator()
        let alphabet = Array("abcABC éÉèàÀüÜçñ-_.").map(String.init)
        let options: String.CompareOptions = [.caseInsensitive, .diacriticInsensitive]
        for _ in 0..<400 {
            let text = (0..<Int.random(in: 0...60, using: &generator)).map { _ in
                alphabet.randomElement(using: &generator)!
            }.joined()
            let term = (0..<Int.random(in: 1...3, using: &generator)).map { _ in
                alphabet.randomElement(using: &generator)!
            }.joined()
            var expected: [String] = []
            var start = text.startIndex
            while start < text.endIndex,
                let range = text.range(of: term, options: options, range: start..<text.endIndex)
            {
                expected.append(String(text[range]))
                start = range.upperBound
            }
            #expect(Self.find(term, in: text) == expected, "term \(term) in \(text)")
        }
    }
}
