import ClaudeCodeSessions
import Foundation
import Testing

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
