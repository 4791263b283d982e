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
}
