import Foundation
import Testing

@testable import ClaudeCode

/// `JSONValue.parse` builds values in one pass (`JSONValueBuilder`); the reader's tape records
/// ranges and materializes later. Both must accept and refuse the same texts, at the same byte,
/// and decode every string alike — long strings included, which take the checked-copy path.
@Suite struct JSONValueBuilderTests {
    /// A piece of string content: its JSON text and the text it decodes to.
    private struct Piece {
        var encoded: [UInt8]
        var decoded: String
    }

    private static let pieces: [Piece] = [
        Piece(encoded: Array("a".utf8), decoded: "a"),
        Piece(encoded: Array("plain words ".utf8), decoded: "plain words "),
        Piece(encoded: Array("0123456789abcdef".utf8), decoded: "0123456789abcdef"),
        Piece(encoded: Array(#"\n"#.utf8), decoded: "\n"),
        Piece(encoded: Array(#"\""#.utf8), decoded: "\""),
        Piece(encoded: Array(#"\\"#.utf8), decoded: "\\"),
        Piece(encoded: Array(#"\/"#.utf8), decoded: "/"),
        Piece(encoded: Array(#"\t\r\b\f"#.utf8), decoded: "\t\r\u{08}\u{0C}"),
        Piece(encoded: Array(#"\u00e9"#.utf8), decoded: "é"),
        Piece(encoded: Array(#"\u0041"#.utf8), decoded: "A"),
        Piece(encoded: Array(#"\u65E5"#.utf8), decoded: "日"),
        Piece(encoded: Array(#"\ud83d\ude80"#.utf8), decoded: "🚀"),
        Piece(encoded: Array(#"\ud83dx"#.utf8), decoded: "\u{FFFD}x"),
        Piece(encoded: Array(#"\udc00"#.utf8), decoded: "\u{FFFD}"),
        Piece(encoded: Array("é".utf8), decoded: "é"),
        Piece(encoded: Array("日本語".utf8), decoded: "日本語"),
        Piece(encoded: Array("😀".utf8), decoded: "😀"),
        Piece(encoded: Array("\u{2028}".utf8), decoded: "\u{2028}"),
        Piece(encoded: [0xFF], decoded: "\u{FFFD}"),
        Piece(encoded: [0xC0], decoded: "\u{FFFD}"),
        Piece(encoded: [0xED, 0xA0, 0x80], decoded: "\u{FFFD}\u{FFFD}\u{FFFD}"),
    ]

    /// Deterministic pseudo-random numbers (SplitMix64).
    private struct Random {
        var state: UInt64
        mutating func next(_ bound: Int) -> Int {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(bound))
        }
    }

    /// The tape's materialization of `bytes`, or its error.
    private func viaTape(_ bytes: [UInt8]) -> Result<JSONValue, JSONParseError> {
        bytes.withUnsafeBufferPointer { buffer in
            var tape = JSONTape()
            do throws(JSONParseError) {
                try tape.parse(buffer)
                return .success(tape.withRoot(of: buffer) { $0.jsonValue })
            } catch {
                return .failure(error)
            }
        }
    }

    private func viaBuilder(_ bytes: [UInt8]) -> Result<JSONValue, JSONParseError> {
        Result { () throws(JSONParseError) -> JSONValue in try JSONValue.parse(bytes) }
    }

    @Test func stringsOfEveryLengthDecodeAsTheirPieces() throws {
        var random = Random(state: 7)
        var pureASCII = 0
        var nonASCII = 0
        for round in 0..<3_000 {
            var encoded: [UInt8] = [0x22]
            var expected = ""
            // Lengths from a few bytes to a few kilobytes, across the 64-byte threshold and the
            // eight-byte words.
            let count = round % 3 == 0 ? random.next(400) : random.next(12)
            for _ in 0..<count {
                let piece = Self.pieces[random.next(Self.pieces.count)]
                encoded += piece.encoded
                expected += piece.decoded
            }
            encoded.append(0x22)
            let value = try JSONValue.parse(encoded)
            guard case .string(let decoded) = value else {
                Issue.record("not a string: \(value)")
                continue
            }
            #expect(Array(decoded.utf8) == Array(expected.utf8), "round \(round)")
            // A wrong ASCII flag on the copied string would show in the character view.
            #expect(decoded.count == expected.count)
            #expect(Array(decoded.utf16) == Array(expected.utf16))
            #expect(Array(decoded.unicodeScalars) == Array(expected.unicodeScalars))
            #expect(decoded == expected)
            #expect(viaTape(encoded) == .success(value), "round \(round)")
            if decoded.utf8.allSatisfy({ $0 < 0x80 }) { pureASCII += 1 } else { nonASCII += 1 }
        }
        #expect(pureASCII > 100 && nonASCII > 100)
    }

    @Test func longStringsKeepTheirTextAndASCIIFlag() throws {
        let ascii = String(repeating: "abcdefgh", count: 40)
        let value = try JSONValue.parse(Array("\"\(ascii)\"".utf8))
        #expect(value == .string(ascii))
        // A string the builder marks ASCII must behave as one: compare, count, slice.
        #expect(value.stringValue?.count == 320)
        #expect(value.stringValue?.hasPrefix("abcdefghabc") == true)
        let escaped = String(repeating: #"ab\"cd\\ef\n"#, count: 20)
        let expected = String(repeating: "ab\"cd\\ef\n", count: 20)
        #expect(try JSONValue.parse(Array("\"\(escaped)\"".utf8)) == .string(expected))
        let mixed = String(repeating: "résumé 日本 🚀 ", count: 20)
        let parsedMixed = try JSONValue.parse(Array("\"\(mixed)\"".utf8))
        #expect(parsedMixed == .string(mixed))
        #expect(parsedMixed.stringValue.map { Array($0.utf16) } == Array(mixed.utf16))
        #expect(try JSONValue.parse(Array("\"\(mixed)\\u00e9\"".utf8)) == .string(mixed + "é"))
        var invalid = Array(String(repeating: "x", count: 100).utf8)
        invalid.insert(0xFF, at: 70)
        let repaired = try JSONValue.parse([0x22] + invalid + [0x22])
        #expect(repaired == .string(String(repeating: "x", count: 70) + "\u{FFFD}" + String(repeating: "x", count: 30)))
        let invalidEscaped = try JSONValue.parse([0x22] + invalid + Array(#"\n"#.utf8) + [0x22])
        #expect(invalidEscaped == .string(repaired.stringValue! + "\n"))
    }

    /// Valid documents, then the same documents with a byte inserted, removed or changed: the
    /// builder and the tape agree on the value, or on the error's offset and reason.
    @Test func agreesWithTheTapeOnMutatedDocuments() throws {
        let documents: [String] = [
            #"{"type":"assistant","message":{"id":"msg_1","content":[{"type":"text","text":"hé\n\"llo\" 🚀"}],"usage":{"input_tokens":12,"ratio":-1.5e3}},"ok":true,"none":null}"#,
            #"[1,-0,0.5,1e10,"\u00e9\ud83d\ude80",[],{},[[[]]],{"a":{"b":[false]}}]"#,
            "\"" + String(repeating: #"tool output \"line\"\n\tindented résumé "#, count: 6) + "\"",
            #"  {"k" : "v" , "k" : [ 1 , 2 ] }  "#,
        ]
        let alphabet: [UInt8] = Array(#"{}[]:,"\ -0123456789.eE+tfnul"#.utf8) + [0x01, 0x0A, 0x80, 0xC3, 0xFF]
        var random = Random(state: 99)
        var failures = 0
        for document in documents {
            let bytes = Array(document.utf8)
            #expect(viaBuilder(bytes) == viaTape(bytes))
            for _ in 0..<1_500 {
                var mutated = bytes
                let index = random.next(mutated.count)
                switch random.next(3) {
                case 0: mutated.insert(alphabet[random.next(alphabet.count)], at: index)
                case 1: mutated.remove(at: index)
                default: mutated[index] = alphabet[random.next(alphabet.count)]
                }
                let built = viaBuilder(mutated)
                #expect(built == viaTape(mutated), "\(String(decoding: mutated, as: UTF8.self))")
                if case .failure = built { failures += 1 }
            }
        }
        // Most mutations break the document; the comparison covered both outcomes.
        #expect(failures > 1_000 && failures < 6_000)
    }
}
