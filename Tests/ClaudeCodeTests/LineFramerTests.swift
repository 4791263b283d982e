import Testing

@testable import ClaudeCode

@Suite struct LineFramerTests {
    private func frame(_ chunks: [[UInt8]], limit: Int = 1024) -> [LineFramer.Output] {
        var framer = LineFramer(maxLineLength: limit)
        var out: [LineFramer.Output] = []
        for chunk in chunks { chunk.withUnsafeBytes { framer.push($0) { out.append($0) } } }
        framer.finish { out.append($0) }
        return out
    }

    private func lines(_ outputs: [LineFramer.Output]) -> [String] {
        outputs.map {
            switch $0 {
            case .line(let bytes): return String(decoding: bytes, as: UTF8.self)
            case .oversized(let count, _): return "<oversized \(count)>"
            }
        }
    }

    @Test func splitsOnNewlineOnlyKeepingUnicodeSeparators() {
        let text = "{\"a\":\"x\u{2028}y\u{2029}z\u{0085}w\u{000C}\"}\n{\"b\":1}\n"
        #expect(lines(frame([Array(text.utf8)])) == ["{\"a\":\"x\u{2028}y\u{2029}z\u{0085}w\u{000C}\"}", "{\"b\":1}"])
    }

    @Test func joinsLinesAcrossChunkBoundaries() {
        let text = Array("{\"key\":\"value\"}\n{\"second\":true}\n".utf8)
        for split in 1..<text.count {
            let result = lines(frame([Array(text[..<split]), Array(text[split...])]))
            #expect(result == ["{\"key\":\"value\"}", "{\"second\":true}"], "split at \(split)")
        }
    }

    @Test func emitsUnterminatedTailAtEnd() {
        #expect(lines(frame([Array("{\"a\":1}\n{\"b\":".utf8)])) == ["{\"a\":1}", "{\"b\":"])
    }

    @Test func skipsEmptyLinesAndStripsCarriageReturn() {
        #expect(lines(frame([Array("\n\n{\"a\":1}\r\n\n".utf8)])) == ["{\"a\":1}"])
    }

    @Test func overLongLineIsReportedWithPrefixAndFollowingLinesSurvive() {
        let long = String(repeating: "x", count: 5000)
        let outputs = frame(
            [Array("{\"ok\":1}\n\"".utf8), Array(long.utf8), Array("\"\n{\"after\":2}\n".utf8)], limit: 1000)
        #expect(lines(outputs) == ["{\"ok\":1}", "<oversized 5002>", "{\"after\":2}"])
        if case .oversized(_, let prefix) = outputs[1] {
            #expect(prefix.count == 200)
            #expect(prefix.first == UInt8(ascii: "\""))
        } else {
            Issue.record("expected an oversized output")
        }
    }

    @Test func lineExactlyAtLimitIsKept() {
        let line = String(repeating: "y", count: 100)
        #expect(lines(frame([Array((line + "\n").utf8)], limit: 100)) == [line])
        #expect(lines(frame([Array((line + "y\n").utf8)], limit: 100)) == ["<oversized 101>"])
    }
}
