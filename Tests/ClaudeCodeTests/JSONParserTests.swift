import Foundation
import Testing

@testable import ClaudeCode

/// `JSONValue.parse`: the grammar, the value model, and agreement with Foundation's parser on real frames.
@Suite struct JSONParserTests {
    private func parse(_ text: String) throws -> JSONValue { try JSONValue.parse(Array(text.utf8)) }

    @Test func scalarsAndContainers() throws {
        #expect(try parse("null") == .null)
        #expect(try parse(" true ") == .bool(true))
        #expect(try parse("false") == .bool(false))
        #expect(try parse("0") == .int(0))
        #expect(try parse("-12") == .int(-12))
        #expect(try parse("9223372036854775807") == .int(.max))
        #expect(try parse("-9223372036854775808") == .int(.min))
        #expect(try parse("9223372036854775808") == .double(9_223_372_036_854_775_808))
        #expect(try parse("1.5") == .double(1.5))
        #expect(try parse("-0.01036") == .double(-0.01036))
        #expect(try parse("1e3") == .double(1000))
        #expect(try parse("2E-2") == .double(0.02))
        #expect(try parse("[]") == .array([]))
        #expect(try parse("{}") == .object([:]))
        #expect(try parse(#" { "a" : [ 1 , { "b" : null } ] , "c" : "d" } "#) == ["a": [1, ["b": nil]], "c": "d"])
        #expect(try parse(#"{"k":1,"k":2}"#) == ["k": 2])
    }

    @Test func stringsAndEscapes() throws {
        #expect(try parse(#""plain""#) == "plain")
        #expect(try parse(#""a\"b\\c\/d\b\f\n\r\t""#) == "a\"b\\c/d\u{08}\u{0C}\n\r\t")
        #expect(try parse(#""\u00e9\u65E5\ud83d\ude80""#) == "é日🚀")
        // Unpaired surrogates become U+FFFD instead of failing the frame.
        #expect(try parse(#""x\ud83dy""#) == "x\u{FFFD}y")
        #expect(try parse(#""x\ude80y""#) == "x\u{FFFD}y")
        // Raw U+2028/U+2029 and other non-ASCII text stay as they are.
        #expect(try parse("\"a\u{2028}b\u{2029}c résumé 🚀\"") == "a\u{2028}b\u{2029}c résumé 🚀")
        // Invalid UTF-8 is repaired, not fatal.
        let invalid: [UInt8] = [0x22, 0x61, 0xFF, 0x62, 0x22]
        #expect(try JSONValue.parse(invalid) == "a\u{FFFD}b")
        // Escapes after a long plain run, and a run after an escape.
        let long = String(repeating: "x", count: 5000)
        #expect(try parse("\"\(long)\\n\(long)\"") == .string(long + "\n" + long))
    }

    @Test(arguments: [
        "", " ", "nul", "tru", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "[1 2]", "01", "-", "1.", "1e", "+1",
        "\"unterminated", "\"bad \\x escape\"", "\"\\u12G4\"", "\"tab\tinside\"", "{} {}", "[", "{\"a\":", "1e999",
        "NaN", "'single'",
    ])
    func rejectsInvalidDocuments(_ text: String) {
        #expect(throws: JSONParseError.self) { try parse(text) }
    }

    @Test func errorsCarryTheOffset() {
        do throws(JSONParseError) {
            _ = try JSONValue.parse(#"{"a": [1, 2,, 3]}"#)
            Issue.record("parsed invalid JSON")
        } catch {
            #expect(error.offset == 12)
            #expect(error.description.hasPrefix("invalid JSON at byte 12"))
        }
    }

    @Test func nestingIsLimited() throws {
        let ok = String(repeating: "[", count: 512) + String(repeating: "]", count: 512)
        #expect(throws: Never.self) { try parse(ok) }
        let deep = String(repeating: "[", count: 513) + String(repeating: "]", count: 513)
        #expect(throws: JSONParseError.self) { try parse(deep) }
    }

    @Test func stringInputMatchesBytes() throws {
        let text = #"{"type":"x","n":[1,2.5,"é"]}"#
        #expect(try JSONValue.parse(text) == (try parse(text)))
    }

    /// Every captured real-CLI frame parses to the same value as Foundation's `JSONDecoder` gives.
    @Test func agreesWithFoundationOnTheCapturedFixtures() throws {
        let folder = try #require(Bundle.module.url(forResource: "Fixtures", withExtension: nil))
        let files = try FileManager.default.contentsOfDirectory(at: folder, includingPropertiesForKeys: nil)
            .filter { $0.pathExtension == "jsonl" }
        #expect(!files.isEmpty)
        var frames = 0
        for file in files {
            for line in try String(contentsOf: file, encoding: .utf8).split(separator: "\n") {
                let ours = try JSONValue.parse(Array(line.utf8))
                let foundation = try JSONDecoder().decode(JSONValue.self, from: Data(line.utf8))
                #expect(Self.same(ours, foundation), "\(file.lastPathComponent): \(line.prefix(80))")
                frames += 1
            }
        }
        #expect(frames > 20)
    }

    /// Equality with numbers compared by value (Foundation may read `1.0` as an integer).
    static func same(_ lhs: JSONValue, _ rhs: JSONValue) -> Bool {
        switch (lhs, rhs) {
        case (.int, _), (.double, _):
            return lhs.doubleValue != nil && lhs.doubleValue == rhs.doubleValue
        case (.array(let left), .array(let right)):
            return left.count == right.count && zip(left, right).allSatisfy { same($0, $1) }
        case (.object(let left), .object(let right)):
            return left.count == right.count && left.allSatisfy { key, value in right[key].map { same(value, $0) } ?? false }
        default:
            return lhs == rhs
        }
    }
}
