import ClaudeCode
import Foundation
import Testing

@Suite("JSON parser")
struct JSONParserTests {
    // MARK: Scalars

    @Test(arguments: [
        ("null", JSONValue.null),
        ("true", .bool(true)),
        ("false", .bool(false)),
        ("0", .int(0)),
        ("-0", .int(0)),
        ("42", .int(42)),
        ("-17", .int(-17)),
        ("9223372036854775807", .int(.max)),
        ("-9223372036854775808", .int(.min)),
        ("9223372036854775808", .double(9223372036854775808)),
        ("-9223372036854775809", .double(-9223372036854775809)),
        ("123456789012345678901234567890", .double(123456789012345678901234567890)),
        ("1.0", .double(1.0)),
        ("1.5", .double(1.5)),
        ("-0.0", .double(-0.0)),
        ("1e3", .double(1000)),
        ("1E+3", .double(1000)),
        ("25e-1", .double(2.5)),
        ("0.1", .double(0.1)),
        ("0.30000000000000004", .double(0.30000000000000004)),
        ("2.2250738585072014e-308", .double(2.2250738585072014e-308)),
        ("5e-324", .double(5e-324)),
        ("1.7976931348623157e308", .double(1.7976931348623157e308)),
        ("0.000000000000000000000000000001", .double(1e-30)),
        ("3.141592653589793238462643383279", .double(3.141592653589793)),
        ("\"\"", .string("")),
        ("\"hello\"", .string("hello")),
        (" \t\r\n 7 \n", .int(7)),
    ])
    func scalars(text: String, expected: JSONValue) throws {
        #expect(try JSONValue.parse(text) == expected)
    }

    @Test func doublesMatchSwiftsOwnParser() throws {
        // Many random doubles: our fast path and fallback must agree with Double(String).
        var generator = SystemRandomNumberGenerator()
        for _ in 0..<20_000 {
            let value = Double(bitPattern: generator.next() & 0x7FEF_FFFF_FFFF_FFFF)
            let text = "\(value)"
            #expect(try JSONValue.parse(text).doubleValue == value, "\(text)")
            let short = String(format: "%.6g", value)
            if short.contains("e") || short.contains(".") {
                let parsed = try JSONValue.parse(short)
                #expect(parsed.doubleValue == Double(short), "\(short)")
            }
        }
        for text in [
            "123.456", "9007199254740993", "9007199254740993.0", "0.1e1", "1234567890123456789e-5", "4.35", "1e22",
            "1e23",
        ] {
            #expect(try JSONValue.parse(text).doubleValue == Double(text), "\(text)")
        }
    }

    // MARK: Strings

    @Test func escapes() throws {
        let text = #""a\"b\\c\/d\be\ff\ng\rh\ti\u0041\u00e9\u20AC""#
        #expect(try JSONValue.parse(text) == .string("a\"b\\c/d\u{08}e\u{0C}f\ng\rh\tiAé€"))
    }

    @Test func surrogatePairs() throws {
        #expect(try JSONValue.parse(#""\uD83D\uDE00""#) == .string("😀"))
        #expect(try JSONValue.parse(#""x\ud83d\ude00y""#) == .string("x😀y"))
    }

    @Test func loneSurrogatesBecomeReplacementCharacters() throws {
        #expect(try JSONValue.parse(#""\uD83D""#) == .string("\u{FFFD}"))
        #expect(try JSONValue.parse(#""\uDE00""#) == .string("\u{FFFD}"))
        #expect(try JSONValue.parse(#""a\uD83Db""#) == .string("a\u{FFFD}b"))
        #expect(try JSONValue.parse(#""\uD83D\u0041""#) == .string("\u{FFFD}A"))
        #expect(try JSONValue.parse(#""\uD83D\uD83D\uDE00""#) == .string("\u{FFFD}😀"))
    }

    @Test func rawUnicodeAndSeparators() throws {
        #expect(try JSONValue.parse("\"héllo 日本 😀 \u{2028}\u{2029}\"") == .string("héllo 日本 😀 \u{2028}\u{2029}"))
    }

    @Test func invalidUTF8IsRepaired() throws {
        let bytes: [UInt8] = [0x22, 0x61, 0xFF, 0x62, 0x22]
        #expect(try JSONValue.parse(bytes) == .string("a\u{FFFD}b"))
    }

    @Test func hugeStrings() throws {
        let plain = String(repeating: "abcdefghij", count: 1_000_000)
        #expect(try JSONValue.parse("\"\(plain)\"") == .string(plain))
        let escaped = String(repeating: "line\\n\\\"q\\\" \\u00e9", count: 200_000)
        let expected = String(repeating: "line\n\"q\" é", count: 200_000)
        #expect(try JSONValue.parse("\"\(escaped)\"") == .string(expected))
    }

    // MARK: Containers

    @Test func containers() throws {
        let value = try JSONValue.parse(#" { "a" : [1, 2.5, "x", null, true, {"b": []}], "c": {}, "a2": [ ] } "#)
        #expect(value == ["a": [1, 2.5, "x", nil, true, ["b": []]], "c": [:], "a2": []])
    }

    @Test func duplicateKeysLastWins() throws {
        #expect(try JSONValue.parse(#"{"a":1,"a":2}"#) == ["a": 2])
    }

    @Test func deepNestingWithinLimit() throws {
        let depth = JSONValue.maximumParseDepth
        let text = String(repeating: "[", count: depth) + String(repeating: "]", count: depth)
        var value = try JSONValue.parse(text)
        var levels = 1
        while case .array(let elements) = value, let first = elements.first {
            value = first
            levels += 1
        }
        #expect(levels == depth)
    }

    @Test func deepNestingBeyondLimitFails() {
        for opener in ["[", "{\"k\":"] {
            let text = String(repeating: opener, count: 100_000)
            #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
        }
        let exact = String(repeating: "[", count: 513) + String(repeating: "]", count: 513)
        #expect(throws: JSONParseError.self) { try JSONValue.parse(exact) }
    }

    // MARK: Malformed input

    static let malformed = [
        "", " ", "nul", "nulls", "tru", "True", "[", "]", "{", "}", "[1,]", "[,1]", "[1 2]", "{\"a\"}", "{\"a\":}",
        "{\"a\":1,}", "{a:1}", "{'a':1}", "{\"a\" 1}", "01", "-01", "00", "1.", ".5", "-", "+1", "1e", "1e+", "--1",
        "0x10", "Infinity", "NaN", "\"abc", "\"\\x\"", "\"\\u12\"", "\"\\u12G4\"", "\"a\nb\"", "\"\t\"", "1 2",
        "{} x", "[] []", "\u{FEFF}1", "\"\\", "[1", "{\"a\":1", "\"\\uD83D\\u",
    ]

    @Test(arguments: malformed)
    func rejectsMalformed(text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.parse(text) }
    }

    @Test func errorCarriesOffsetButNotInput() throws {
        do {
            _ = try JSONValue.parse(#"{"secret":"hunter2", x}"#)
            Issue.record("expected failure")
        } catch {
            #expect(error.offset == 21)
            #expect(!error.description.contains("hunter2"))
            #expect(error.description.contains("21"))
        }
    }

    @Test func parsesFromAllInputKinds() throws {
        let text = #"{"k":[1,"v"]}"#
        let expected: JSONValue = ["k": [1, "v"]]
        #expect(try JSONValue.parse(text) == expected)
        #expect(try JSONValue.parse(Array(text.utf8)) == expected)
        let bytes = Array(text.utf8)
        let fromBuffer = try bytes.withUnsafeBytes { (buffer) throws(JSONParseError) in try JSONValue.parse(buffer) }
        #expect(fromBuffer == expected)
    }

    // MARK: Writer

    @Test func serializesCompactSortedAndEscaped() {
        let value: JSONValue = [
            "b": [1, -2, 2.5, true, false, nil],
            "a": "q\"b\\s\u{01}\n\t\r\u{08}\u{0C}\u{1F}\u{2028}é😀/",
            "é": [:],
            "Z": [],
        ]
        #expect(
            value.jsonString
                == #"{"Z":[],"a":"q\"b\\s\u0001\n\t\r\b\f\u001f"# + "\u{2028}é😀/"
                + #"","b":[1,-2,2.5,true,false,null],"é":{}}"#)
    }

    @Test func serializesNumbers() {
        #expect(JSONValue.int(.min).jsonString == "-9223372036854775808")
        #expect(JSONValue.int(.max).jsonString == "9223372036854775807")
        #expect(JSONValue.int(0).jsonString == "0")
        #expect(JSONValue.double(1).jsonString == "1.0")
        #expect(JSONValue.double(.infinity).jsonString == "null")
        #expect(JSONValue.double(-.infinity).jsonString == "null")
        #expect(JSONValue.double(.nan).jsonString == "null")
        for double in [0.1, -0.0, 1e-5, 1e16, 1e300, 5e-324, 1.7976931348623157e308, 123456.789] {
            let text = JSONValue.double(double).jsonString
            #expect((try? JSONValue.parse(text)) == .double(double), "\(text)")
        }
    }

    @Test func roundTrips() throws {
        let samples: [JSONValue] = [
            ["type": "assistant", "message": ["content": [["type": "text", "text": "Hi \u{0} there\u{7F}"]]], "n": 3],
            [[[[]]], [:], ["": ""], -0.5, "\u{FFFD}"],
            .string(String(repeating: "\"\\\n", count: 1000)),
        ]
        for sample in samples {
            #expect(try JSONValue.parse(sample.serialized()) == sample)
            #expect(try JSONValue.parse(sample.jsonString) == sample)
        }
    }

    @Test func agreesWithFoundationOnAFrame() throws {
        let frame = Self.sampleFrame
        let ours = try JSONValue.parse(frame)
        let theirs = try JSONSerialization.jsonObject(with: Data(frame.utf8))
        let reserialized = try JSONSerialization.jsonObject(with: Data(ours.serialized()))
        #expect((theirs as? NSDictionary) == (reserialized as? NSDictionary))
    }

    // MARK: Object scanner

    @Test func scannerFindsTopLevelKeys() throws {
        let text =
            #" {"type":"assistant","message":{"type":"nested","content":[{"x":"}]\""}]},"n":-1.5e3,"ok":true,"z":null,"e\u0073c":"v\n"} "#
        let scanner = JSONObjectScanner(text)
        #expect(try scanner.string(forKey: "type") == "assistant")
        #expect(try scanner.value(forKey: "n") == .double(-1500))
        #expect(try scanner.value(forKey: "ok") == .bool(true))
        #expect(try scanner.value(forKey: "z") == .null)
        #expect(try scanner.string(forKey: "esc") == "v\n")
        #expect(try scanner.string(forKey: "missing") == nil)
        #expect(try scanner.string(forKey: "n") == nil)
        let message = try #require(try scanner.object(forKey: "message"))
        #expect(try message.string(forKey: "type") == "nested")
        let range = try #require(scanner.rawRange(forKey: "message"))
        #expect(
            try scanner.value(in: range) == JSONValue.parse(String(decoding: Array(text.utf8)[range], as: UTF8.self)))
        #expect(try scanner.members().map(\.key) == ["type", "message", "n", "ok", "z", "esc"])
        #expect(Array(scanner).count == 6)
    }

    @Test func scannerOnASubrange() throws {
        let buffer = Array("{\"a\":1}\n{\"a\":2,\"b\":[1,{}]}\n".utf8)
        let second = JSONObjectScanner(buffer, range: 8..<27)
        #expect(try second.value(forKey: "a") == .int(2))
        #expect(second.rawRange(forKey: "b") == 19..<25)
    }

    @Test func scannerArrayElements() throws {
        let scanner = JSONObjectScanner(#"{"content":[ {"type":"text"}, "x" ,[1,[2]], 3 ],"e":[ ],"n":1}"#)
        let bytes = scanner.bytes
        let content = try #require(scanner.rawRange(forKey: "content"))
        let ranges = try #require(try scanner.arrayElementRanges(in: content))
        #expect(
            ranges.map { String(decoding: bytes[$0], as: UTF8.self) } == [#"{"type":"text"}"#, #""x""#, "[1,[2]]", "3"])
        let empty = try #require(scanner.rawRange(forKey: "e"))
        #expect(try scanner.arrayElementRanges(in: empty) == [])
        let number = try #require(scanner.rawRange(forKey: "n"))
        #expect(try scanner.arrayElementRanges(in: number) == nil)
    }

    @Test func scannerLooksUpSeveralKeysInOnePass() throws {
        let scanner = JSONObjectScanner(
            #"{"type":"user","message":{"content":"hi \u00e9"},"n":1,"type":"assistant","\u0075uid":"x"}"#)
        let lookup = JSONObjectScanner.KeyLookup(["type", "message", "uuid", "missing", ""], parse: ["message"])
        let found = try scanner.lookUp(lookup)
        #expect(try scanner.string(in: #require(found.ranges[0])) == "assistant")
        #expect(found.values[1] == ["content": "hi é"])
        #expect(found.values[0] == nil)
        #expect(try scanner.string(in: #require(found.ranges[2])) == "x")
        #expect(found.ranges[3] == nil && found.ranges[4] == nil)
        // One key, parsed in the same pass: the last one wins, escaped keys match.
        func one(_ key: String) throws -> JSONValue? { try scanner.value(forKey: key) }
        #expect(try one("message") == ["content": "hi é"])
        #expect(try one("type") == "assistant")
        #expect(try one("uuid") == "x")
        #expect(try one("missing") == nil && one("") == nil && one("typ") == nil)
        #expect(throws: JSONParseError.self) {
            try JSONObjectScanner(#"{"message":{"a":01}}"#).value(forKey: "message")
        }
        #expect(throws: JSONParseError.self) {
            try JSONObjectScanner(#"{"message":1,"n":01}"#).value(forKey: "message")
        }
        #expect(throws: JSONParseError.self) { try JSONObjectScanner(#"{"message":{"a":01}}"#).lookUp(lookup) }
        #expect(throws: JSONParseError.self) { try JSONObjectScanner(#"{"type":"x","n":01}"#).lookUp(lookup) }
    }

    @Test func scannerWalksMembersParsingSome() throws {
        var seen: [(String, JSONValue?)] = []
        try JSONObjectScanner(#"{"a":[1,{"b":2}],"b":"s","c":{"d":null}}"#).forEachMember(parsing: { $0 != "b" }) {
            seen.append(($0.key, $1))
        }
        #expect(seen.map(\.0) == ["a", "b", "c"])
        #expect(seen[0].1 == [1, ["b": 2]] && seen[1].1 == nil && seen[2].1 == ["d": nil])
    }

    @Test func scannerDuplicateKeysLastWins() throws {
        #expect(try JSONObjectScanner(#"{"a":1,"a":2}"#).value(forKey: "a") == .int(2))
    }

    @Test(arguments: [
        "", "[]", "{", "{\"a\"", "{\"a\":", "{\"a\":1", "{\"a\":1,}", "{\"a\":[1}", "{\"a\":{]}", "{\"a\":\"x}",
        "{\"a\":1} x", "{\"a\":nul}", "{\"a\":tru}", "{\"a\":\"\u{01}\"}", "{\"a\":1 \"b\":2}",
        "{\"a\":[1 2]}", "{\"a\":{\"b\"}}", "{\"a\":{\"b\":}}", "{\"a\":[1,]}", "{\"a\":{,}}", "{\"a\":01}",
        "{\"a\":1.}", "{\"a\":-}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12\"}", "{\"a\":[truex]}", "{\"a\":[\"x\" \"y\"]}",
        "{\"a\":{\"k\":1,}}", "{\"a\":[[]}", "{\"a\":1e}",
    ])
    func scannerRejectsMalformed(text: String) {
        let scanner = JSONObjectScanner(text)
        #expect(throws: JSONParseError.self) { try scanner.members() }
        #expect(scanner.rawRange(forKey: "zzz") == nil)
    }

    @Test func scannerDeepNestingIsAnErrorNotACrash() {
        let text = "{\"a\":" + String(repeating: "[", count: 100_000) + String(repeating: "]", count: 100_000) + "}"
        #expect(throws: JSONParseError.self) { try JSONObjectScanner(text).members() }
    }

    // MARK: Validation

    @Test func validateAcceptsWhatTheParserAccepts() throws {
        let texts = [
            "null", "true", "false", "0", "-0", "-17", "9223372036854775808", "1.5e-3", "1E+3", #""""#,
            #""\u00e9\n\/""#,
            " \t\r\n 7 \n", #" { "a" : [1, 2.5, "x", null, true, {"b": []}], "c": {}, "a2": [ ] } "#,
            #"{"a":1,"a":2}"#, #"["\ud800 lone", "\udc00"]"#, "\"é 日本 😀 \u{2028} \u{FFFF} \u{10FFFF}\"",
            Self.sampleFrame,
        ]
        for text in texts {
            #expect(throws: Never.self, "\(text)") { try JSONValue.validate(Array(text.utf8)) }
            #expect(JSONValue.isValid(Array(text.utf8)))
            #expect((try? JSONValue.parse(text)) != nil)
        }
    }

    @Test(arguments: malformed)
    func validateRejectsMalformed(text: String) {
        #expect(throws: JSONParseError.self) { try JSONValue.validate(Array(text.utf8)) }
        #expect(!JSONValue.isValid(Array(text.utf8)))
    }

    static let illFormedUTF8: [[UInt8]] = [
        [0xFF], [0x80], [0xC0, 0x80], [0xC1, 0xBF], [0xE0, 0x80, 0x80], [0xED, 0xA0, 0x80],
        [0xF0, 0x80, 0x80, 0x80], [0xF4, 0x90, 0x80, 0x80], [0xF5, 0x80, 0x80, 0x80], [0xE2, 0x82], [0xC3],
        [0xF0, 0x9F, 0x98],
    ]

    @Test(arguments: illFormedUTF8)
    func validateRejectsIllFormedUTF8ThatTheParserRepairs(sequence: [UInt8]) throws {
        let text = Array(#"{"k":"ab"#.utf8) + sequence + Array(#"cd"}"#.utf8)
        #expect(try JSONValue.parse(text)["k"]?.stringValue?.contains("\u{FFFD}") == true)
        do {
            try JSONValue.validate(text)
            Issue.record("expected failure")
        } catch {
            #expect(error.offset == 8)
            #expect(error.reason.contains("UTF-8"))
        }
        #expect(!JSONValue.isStrictSingleLine(parsedText: text))
    }

    @Test func validateAgreesWithParseAndUTF8OnRandomText() {
        // validate = parse's rules + well-formed UTF-8; isStrictSingleLine adds no CR/LF and
        // nothing around the value. Pieces mix long ASCII runs (the eight-byte scans) with
        // multi-byte characters, bad sequences, escapes and breaks (the byte-by-byte paths).
        let pieces: [[UInt8]] = [
            Array("abcdefghijklmnopqrstu".utf8), Array("xy".utf8), Array("é".utf8), Array("日本語".utf8),
            Array("😀".utf8), Array("\u{2028}".utf8), [0xFF], [0xC3], [0xE2, 0x82], [0xED, 0xA0, 0x80],
            [0xF0, 0x9F, 0x98], [0xC0, 0xAF], Array(#"\""#.utf8), Array(#"\\"#.utf8), Array(#"\u00e9"#.utf8),
            Array(#"\u12"#.utf8), Array(#"\q"#.utf8), [0x0A], [0x0D], [0x09], [0x01], Array(#"""#.utf8),
            Array(" ".utf8),
        ]
        var state: UInt64 = 0x9E37_79B9_7F4A_7C15
        func next(_ bound: Int) -> Int {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return Int((z ^ (z >> 31)) % UInt64(bound))
        }
        var valid = 0
        var strict = 0
        for _ in 0..<20_000 {
            var text: [UInt8] = []
            if next(4) == 0 { text.append(0x20) }
            text += Array(#"{"k":[""#.utf8)
            for _ in 0..<next(12) { text += pieces[next(pieces.count)] }
            text += Array(#"",1]}"#.utf8)
            if next(4) == 0 { text.append(0x0D) }
            let reference = (try? JSONValue.parse(text)) != nil && String(validating: text, as: UTF8.self) != nil
            #expect(JSONValue.isValid(text) == reference, "\(text)")
            if reference { valid += 1 }
            if (try? JSONValue.parse(text)) != nil {
                let single = reference && !text.contains(0x0A) && !text.contains(0x0D) && text.first != 0x20
                #expect(JSONValue.isStrictSingleLine(parsedText: text) == single, "\(text)")
                if single { strict += 1 }
            }
        }
        #expect(valid > 1000)
        #expect(strict > 500)
    }

    @Test func validateReportsOffsets() {
        let cases: [(String, Int)] = [
            ("{\"a\":\"x\u{01}\"}", 7), (#"{"a":[1,2,]}"#, 10), (#"[1,{"b":tru}]"#, 11), (#"{"a":1} x"#, 8),
            (#"{"a":1 "b":2}"#, 7), (#"[1}"#, 2), (#"{"a":"\q"}"#, 6), (#"{"a":01}"#, 5),
        ]
        for (text, offset) in cases {
            #expect(throws: JSONParseError.self) { try JSONValue.validate(Array(text.utf8)) }
            do {
                try JSONValue.validate(Array(text.utf8))
            } catch {
                #expect(error.offset == offset, "\(text): \(error)")
            }
        }
    }

    @Test func validateDepth() throws {
        let limit = JSONValue.maximumParseDepth
        let within = String(repeating: "[", count: limit) + String(repeating: "]", count: limit)
        try JSONValue.validate(Array(within.utf8))
        let beyond = "[" + within + "]"
        #expect(throws: JSONParseError.self) { try JSONValue.validate(Array(beyond.utf8)) }
        try JSONValue.validate(Array(beyond.utf8), maximumDepth: limit + 1)
        // Iterative: any depth costs no stack. Objects and arrays alternate past the inline 64 levels.
        let depth = 100_000
        let deep = String(repeating: #"{"k":["#, count: depth) + "1" + String(repeating: "]}", count: depth)
        try JSONValue.validate(Array(deep.utf8), maximumDepth: .max)
        #expect(throws: JSONParseError.self) { try JSONValue.validate(Array(deep.utf8)) }
        // A mismatched bracket deep down is still found.
        let mismatched =
            String(repeating: #"{"k":["#, count: 100) + "1" + String(repeating: "]}", count: 49) + "}}"
            + String(repeating: "]}", count: 50)
        #expect(throws: JSONParseError.self) { try JSONValue.validate(Array(mismatched.utf8), maximumDepth: .max) }
        let unclosed = String(repeating: "[", count: 1000)
        #expect(throws: JSONParseError.self) { try JSONValue.validate(Array(unclosed.utf8), maximumDepth: .max) }
    }

    @Test func strictSingleLine() throws {
        let yes = [
            #"{"a":1}"#, #"{ "a" : [ 1 , 2 ] }"#, "\"é 日本 😀 \u{2028}\"", "null", "[\"\\r\\n\"]", Self.sampleFrame,
        ]
        let no = [" {}", "{} ", "\t1", "1\r", "{\"a\":\r1}", "[1,\n2]"]
        for text in yes {
            _ = try JSONValue.parse(text)
            #expect(JSONValue.isStrictSingleLine(parsedText: Array(text.utf8)), "\(text)")
        }
        for text in no {
            #expect(!JSONValue.isStrictSingleLine(parsedText: Array(text.utf8)), "\(text)")
        }
        #expect(!JSONValue.isStrictSingleLine(parsedText: []))
    }

    // MARK: Reader

    @Test func readerReadsADocument() throws {
        let text =
            #" { "id" : -42, "name":"a\"b\u00e9", "none": null, "tags": [ "x", {"k": [1, 2.5]} , [] ], "obj": {}, "#
            + #""n": 1e3, "skip": {"deep": [true]} } "#
        var reader = JSONReader(Array(text.utf8))
        #expect(reader.peekKind() == .object)
        try reader.beginObject()
        var seen: [String] = []
        while let key = try reader.nextKey() {
            seen.append(key)
            switch key {
            case "id": #expect(try reader.readInteger() == -42)
            case "name": #expect(try reader.readString() == "a\"bé")
            case "none":
                #expect(reader.peekKind() == .null)
                #expect(try reader.readOptionalString() == nil)
            case "tags":
                try reader.beginArray()
                #expect(try reader.nextElement())
                #expect(try reader.readOptionalString() == "x")
                #expect(try reader.nextElement())
                #expect(try reader.readValue() == ["k": [1, 2.5]])
                #expect(try reader.nextElement())
                try reader.beginArray()
                #expect(try reader.nextElement() == false)
                #expect(try reader.nextElement() == false)
            case "obj":
                try reader.beginObject()
                #expect(try reader.nextKey() == nil)
            case "n":
                #expect(reader.peekKind() == .number)
                #expect(try reader.readValue() == .double(1000))
            default:
                let range = try reader.skipValue()
                #expect(String(decoding: reader.bytes[range], as: UTF8.self) == #"{"deep": [true]}"#)
            }
        }
        try reader.finish()
        #expect(seen == ["id", "name", "none", "tags", "obj", "n", "skip"])
        #expect(reader.position == reader.endIndex)
    }

    @Test func readerOnASubrange() throws {
        let buffer = Array("{\"a\":1}\n{\"b\":[1,{}]}\n".utf8)
        var reader = JSONReader(buffer, range: 8..<20)
        try reader.beginObject()
        #expect(try reader.nextKey() == "b")
        #expect(try reader.skipValue() == 13..<19)
        #expect(try reader.nextKey() == nil)
        try reader.finish()
    }

    @Test(arguments: [
        #"{"a":1,}"#, #"{,"a":1}"#, #"{"a" 1}"#, #"{a:1}"#, #"{"a":1 "b":2}"#, #"{"a":[1,]}"#, #"{"a":[1 2]}"#,
        #"{"a":[,1]}"#, #"{"a":"\x"}"#, #"{"a":tru}"#, #"{"a":1} 2"#, #"{"a""#, #"{"a":1"#, #"["#, "",
        #"{"a":1.5}"#, #"{"a":1e2}"#, #"{"a":9223372036854775808}"#, #"{"a":"1"}"#, #"{"a":01}"#,
    ])
    func readerRejectsMalformed(text: String) {
        #expect(throws: JSONParseError.self) {
            var reader = JSONReader(Array(text.utf8))
            try reader.beginObject()
            while let key = try reader.nextKey() {
                if key == "a", reader.peekKind() == .number || reader.peekKind() == .string {
                    _ = try reader.readInteger()
                } else if reader.peekKind() == .array {
                    try reader.beginArray()
                    while try reader.nextElement() { try reader.skipValue() }
                } else {
                    try reader.skipValue()
                }
            }
            try reader.finish()
        }
    }

    @Test func readerChecksStringsStrictly() {
        let text = Array(#"{"a":"x"#.utf8) + [0xFF] + Array(#""}"#.utf8)
        for read in 0..<4 {
            var reader = JSONReader(text)
            #expect(throws: JSONParseError.self) {
                try reader.beginObject()
                _ = try reader.nextKey()
                switch read {
                case 0: _ = try reader.readString()
                case 1: _ = try reader.readOptionalString()
                case 2: _ = try reader.readValue()
                default: try reader.skipValue()
                }
            }
        }
        var keys = JSONReader(Array(#"{""#.utf8) + [0xC0, 0x80] + Array(#"":1}"#.utf8))
        #expect(throws: JSONParseError.self) {
            try keys.beginObject()
            _ = try keys.nextKey()
        }
    }

    @Test func readerWrongKinds() {
        var reader = JSONReader(Array("[1]".utf8))
        #expect(throws: JSONParseError.self) { try reader.beginObject() }
        var other = JSONReader(Array("{}".utf8))
        #expect(throws: JSONParseError.self) { try other.beginArray() }
        var string = JSONReader(Array("12".utf8))
        #expect(throws: JSONParseError.self) { _ = try string.readString() }
        var empty = JSONReader([])
        #expect(empty.peekKind() == nil)
        #expect(throws: JSONParseError.self) { try empty.skipValue() }
        try? empty.finish()
        var deep = JSONReader(Array((String(repeating: "[", count: 600) + String(repeating: "]", count: 600)).utf8))
        #expect(throws: JSONParseError.self) { try deep.skipValue() }
        var deeper = JSONReader(deep.bytes)
        #expect(throws: Never.self) { try deeper.skipValue(maximumDepth: .max) }
    }

    // MARK: Writer pieces

    @Test func writerEscapesLineSeparatorsWhenAsked() throws {
        let text = "a\u{2028}b\u{2029}c’d…\u{2027}\u{202A}e\"\n"
        var plain = JSONWriter()
        plain.writeString(text)
        #expect(String(decoding: plain.bytes, as: UTF8.self) == "\"a\u{2028}b\u{2029}c’d…\u{2027}\u{202A}e\\\"\\n\"")
        var escaping = JSONWriter(escapesLineSeparators: true)
        escaping.writeString(text)
        #expect(String(decoding: escaping.bytes, as: UTF8.self) == "\"a\\u2028b\\u2029c’d…\u{2027}\u{202A}e\\\"\\n\"")
        // Also in long runs (the eight-byte scan), at the ends, and inside values.
        let long = String(repeating: "x", count: 13) + "\u{2028}" + String(repeating: "y", count: 9) + "\u{2029}"
        escaping = JSONWriter(escapesLineSeparators: true)
        escaping.write(["\u{2028}": [.string(long)]])
        #expect(
            String(decoding: escaping.bytes, as: UTF8.self)
                == #"{"\u2028":[""# + String(repeating: "x", count: 13) + #"\u2028"# + String(repeating: "y", count: 9)
                + #"\u2029"]}"#)
        #expect(try JSONValue.parse(escaping.bytes) == ["\u{2028}": [.string(long)]])
    }

    @Test func writerAssemblesDocumentsInAFixedOrder() {
        var writer = JSONWriter(capacity: 64)
        writer.writeRaw("{\"z\":")
        writer.writeInteger(-7)
        writer.writeRaw(",\"a\":")
        writer.writeString("s")
        writer.writeRaw(",\"d\":")
        writer.writeDouble(0.5)
        writer.writeRaw(",\"raw\":")
        writer.writeRaw(Array(#"{"b":1,"a":2}"#.utf8))
        writer.writeRaw(",\"o\":")
        writer.writeObject(["y": 1, "x": [nil, true]])
        writer.writeRaw("}")
        #expect(
            String(decoding: writer.bytes, as: UTF8.self)
                == #"{"z":-7,"a":"s","d":0.5,"raw":{"b":1,"a":2},"o":{"x":[null,true],"y":1}}"#)
        let value: JSONValue = ["b": [1, "x"], "a": [:], "é": 1.5]
        var whole = JSONWriter()
        whole.write(value)
        #expect(whole.bytes == value.serialized())
    }

    @Test func writerCompacts() {
        let text = " {\n  \"a b\" : [ 1 , \"x \\\" y\\\\\" , { } ] ,\t\"c\": \"\\u0020 \" }\r\n"
        var writer = JSONWriter()
        writer.writeCompacting(Array(text.utf8)[...])
        #expect(String(decoding: writer.bytes, as: UTF8.self) == #"{"a b":[1,"x \" y\\",{}],"c":"\u0020 "}"#)
        let buffer = Array("xx[ 1, 2 ]yy".utf8)
        writer = JSONWriter()
        writer.writeCompacting(buffer[2..<10])
        #expect(writer.bytes == Array("[1,2]".utf8))
    }

    static let sampleFrame = #"""
        {"type":"assistant","message":{"id":"msg_01XFDUDYJgAACzvnptvVoYEL","type":"message","role":"assistant","model":"claude-sonnet-4-5-20250929","content":[{"type":"text","text":"I'll read the file and then summarize it for you. The project uses \"Swift 6\" with strict concurrency — let's see.\nFirst, the manifest:"},{"type":"tool_use","id":"toolu_01A09q90qw90lq917835lq9","name":"Read","input":{"file_path":"/home/user/project/Package.swift","offset":0,"limit":2000}}],"stop_reason":"tool_use","stop_sequence":null,"usage":{"input_tokens":2095,"cache_creation_input_tokens":0,"cache_read_input_tokens":13780,"output_tokens":503,"service_tier":"standard"}},"parent_tool_use_id":null,"session_id":"9a1e2b57-21c4-4f2d-8d9b-0f6c1b7a9e11","uuid":"4c9f6a0e-2f3b-4a4e-9d1e-7b8c2d3e4f50","cwd":"/home/user/project","gitBranch":"main","version":"2.0.14","timestamp":"2025-10-01T12:34:56.789Z","isSidechain":false,"userType":"external","parentUuid":"2b7e1f4c-5d6a-4b8c-9e0f-1a2b3c4d5e6f","requestId":"req_011CTeaBCdEfGhIjKlMnOpQr","ratio":0.8125,"flags":[true,false,null],"emoji":"😀 café"}
        """#
}
