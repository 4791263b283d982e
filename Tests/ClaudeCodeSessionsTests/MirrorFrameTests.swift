import ClaudeCode
import Foundation
import Testing

@testable import ClaudeCodeSessions

/// The mirror's one-pass frame parser agrees with the general readers it replaces.
@Suite struct MirrorFrameTests {
    static let entries = [
        #"{"type":"user","uuid":"u1","message":{"role":"user","content":"hi"},"timestamp":"2024-01-01T00:00:00Z","cwd":"/w"}"#,
        #"{"uuid":"late","n":1,"type":"assistant","message":{"type":"nested","uuid":"nested"}}"#,
        #"{ "type" : "tag" , "tag" : "t1" , "uuid" : "spaced" }"#,
        #"{"ty\u0070e":"escaped-key","\u0075uid":"esc","customTitle":"x"}"#,
        #"{"type":"first","type":"second","uuid":"a","uuid":"b"}"#,
        #"{"type":"user","uuid":"with \"quotes\" and \\ and \u00e9 and é🚀","message":{"role":"user","content":[{"type":"text","text":"<command-name>/init</command-name>"}]}}"#,
        #"{"type":"summary","summary":"s","leafUuid":"x","isSidechain":true,"gitBranch":"main","lastPrompt":"lp","aiTitle":"ai","isMeta":false,"isCompactSummary":true}"#,
        #"{}"#,
    ]

    @Test func entriesMatchTheGeneralReaders() throws {
        let frame =
            #"{"type":"transcript_mirror","filePath":"/p/x/s.jsonl","entries":[\#(Self.entries.joined(separator: " , "))]}"#
        let parsed = try MirrorFrame.parse(Array(frame.utf8)).get()
        #expect(parsed.filePath == "/p/x/s.jsonl")
        #expect(parsed.entries.count == Self.entries.count)
        var scannedData: [String: JSONValue] = [:]
        var plainData: [String: JSONValue] = [:]
        for (entry, text) in zip(parsed.entries, Self.entries) {
            let plain = try SessionStoreEntry(raw: RawJSON(text))
            #expect(entry.raw == plain.raw)
            #expect(entry.type == plain.type, "\(text)")
            #expect(entry.uuid == plain.uuid, "\(text)")
            #expect(entry.summaryFields != nil)
            SessionSummaryFold.foldEntry(entry, into: &scannedData)
            SessionSummaryFold.foldEntry(plain, into: &plainData)
            #expect(scannedData == plainData, "\(text)")
        }
        #expect(scannedData["first_prompt"] == "hi")
        #expect(scannedData["tag"] == "t1")
    }

    @Test func framesAreValidatedStrictlyAtEveryOffset() throws {
        // Escapes, control characters and multi-byte characters at every position of the 8-byte fast path.
        let specials = ["\\\"", "\\\\", "\\n", "\\u00e9", "é", "🚀", "\u{7F}"]
        for length in 0..<20 {
            for special in specials {
                for position in 0...length {
                    var text = String(repeating: "a", count: length)
                    text.insert(contentsOf: special, at: text.index(text.startIndex, offsetBy: position))
                    let line = #"{"type":"x","v":"\#(text)"}"#
                    let frame = #"{"type":"transcript_mirror","filePath":"/f","entries":[\#(line)]}"#
                    let parsed = try MirrorFrame.parse(Array(frame.utf8)).get()
                    #expect(try parsed.entries[0].value() == JSONValue.parse(line))
                }
            }
        }
        // Strings are checked wherever they are: raw control characters, bad escapes, invalid UTF-8.
        for length in [0, 1, 7, 8, 9, 15, 16, 17] {
            for bad in ["\u{01}", "\\x", "\n", "\\u12G4"] {
                let text = String(repeating: "a", count: length) + bad
                let frame = #"{"type":"transcript_mirror","filePath":"/f","entries":[{"type":"x","v":"\#(text)"}]}"#
                if case .success = MirrorFrame.parse(Array(frame.utf8)) {
                    Issue.record("accepted \(text.debugDescription)")
                }
            }
            var bytes = Array(#"{"type":"transcript_mirror","filePath":"/f","entries":[{"type":"x","v":""#.utf8)
            bytes += Array(repeating: UInt8(ascii: "a"), count: length) + [0xC3, 0x28] + Array(#""}]}"#.utf8)
            if case .success = MirrorFrame.parse(bytes) { Issue.record("accepted invalid UTF-8 after \(length) bytes") }
        }
        // The grammar around strings is checked too.
        for bad in [
            #"{"type":"x","uuid":"\uZZZZ"}"#, #"{"ty\u00":"x"}"#, #"{"type":"x","v":"abc"#, #"{"type":"x","v":"a\"}"#,
            #"{"type":"x" "v":1}"#, #"{"type":"x","v":tru}"#, #"{"type":"x","v":[1,]}"#,
        ] {
            let frame = #"{"type":"transcript_mirror","filePath":"/f","entries":[\#(bad)]}"#
            if case .success = MirrorFrame.parse(Array(frame.utf8)) { Issue.record("accepted \(bad)") }
        }
    }
}
