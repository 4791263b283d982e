import Testing

@testable import ClaudeCode

/// What the transcript reader takes from a tape: each value's text range, raw string bytes,
/// and member and element walks that build no strings.
@Suite struct JSONTapeRangesTests {
    @Test func everyValueKnowsItsText() throws {
        let text = #" {"s":"a\nb","n":-12.5e1,"t":true,"f":false,"z":null,"o":{"k":[1, {"x":2}]},"e":[]} "#
        let bytes = Array(text.utf8)
        var tape = JSONTape()
        try bytes.withUnsafeBufferPointer { buffer in
            try tape.parse(buffer)
            tape.withRoot(of: buffer) { root in
                func text(_ view: JSONTapeView) -> String {
                    String(decoding: bytes[view.textRange], as: UTF8.self)
                }
                #expect(
                    text(root) == #"{"s":"a\nb","n":-12.5e1,"t":true,"f":false,"z":null,"o":{"k":[1, {"x":2}]},"e":[]}"#
                )
                var members: [(String, String)] = []
                root.forEachMemberView { key, value in
                    members.append((String(decoding: key.rawString!.bytes, as: UTF8.self), text(value)))
                }
                #expect(members.map(\.0) == ["s", "n", "t", "f", "z", "o", "e"])
                #expect(
                    members.map(\.1) == [
                        #""a\nb""#, "-12.5e1", "true", "false", "null", #"{"k":[1, {"x":2}]}"#, "[]",
                    ])
                #expect(root["s"]?.rawString?.escaped == true)
                #expect(root["o"]?["k"]?.rawString == nil)
                #expect(root.count == 7)
                #expect(root["o"]?["k"]?.count == 2)
                #expect(root["s"]?.count == 0)
                var elements: [String] = []
                root["o"]?["k"]?.forEachElement { elements.append(text($0)) }
                #expect(elements == ["1", #"{"x":2}"#])
                var none = 0
                root["e"]?.forEachElement { _ in none += 1 }
                root["s"]?.forEachMemberView { _, _ in none += 1 }
                #expect(none == 0)
            }
        }
    }
    /// `parseLine` finds a JSON Lines line's end by parsing it, and must read exactly the lines
    /// that splitting at the newline and parsing would read. Every line start of a text mixing
    /// good lines with CRLF endings, blank and corrupt lines, and values whose whitespace holds a
    /// newline (where carrying on past the newline would parse, and so end at the wrong line).
    @Test func parsingALineInPlaceAgreesWithSplittingItFirst() throws {
        let lines = [
            #"{"type":"user","message":{"content":"a\nb"}}"#, "{\"a\":1}\r", "  {\"a\": [1, 2] }  ", "", "   ",
            "[1,", "2]", "{\"a\":", "1}", "{", #""k":"v"}"#, "[[[", "]]]", "{\"a\":1} x", "{\"a\":1}\r{\"b\":2}",
            "\"text\"", "42", "{\"s\":\"tab\there\"}", "{\"a\":1}{\"b\":2}", "{\"a\"\r:\r1}", "nul", "{\"a\":1}",
        ]
        for ending in ["", "\n"] {
            let bytes = Array((lines.joined(separator: "\n") + ending).utf8)
            var inPlace = JSONTape()
            var split = JSONTape()
            try bytes.withUnsafeBufferPointer { buffer in
                let base = buffer.baseAddress!
                var start = 0
                var read = 0
                while start < bytes.count {
                    let end = bytes[start...].firstIndex(of: 0x0A) ?? bytes.count
                    let line = UnsafeBufferPointer(rebasing: buffer[start..<end])
                    let blank = line.allSatisfy { $0 == 0x20 || $0 == 0x09 || $0 == 0x0D }
                    let splitParses = !blank && (try? split.parse(line)) != nil
                    let found = inPlace.parseLine(base: base, from: start, end: bytes.count)
                    let text = String(decoding: line, as: UTF8.self)
                    if splitParses {
                        #expect(found == end, "\(text)")
                        let expected = split.withRoot(of: line) { $0.jsonValue }
                        #expect(inPlace.withRoot(of: line) { $0.jsonValue } == expected, "\(text)")
                        read += 1
                    } else {
                        #expect(found == nil, "\(text)")
                    }
                    start = end + 1
                }
                #expect(read == 7)
            }
        }
    }
}
