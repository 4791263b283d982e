import Foundation
import Testing

@testable import ClaudeCode

/// One file of JSONTestSuite's `test_parsing` (Resources/JSONTestSuite, MIT): its name says whether a
/// conforming parser must accept it (`y_`), must reject it (`n_`), or may do either (`i_`).
struct JSONSuiteCase: Sendable, CustomTestStringConvertible {
    enum Expectation: Sendable {
        case accept, reject, either
    }

    let name: String

    var expectation: Expectation {
        switch name.prefix(2) {
        case "y_": return .accept
        case "n_": return .reject
        default: return .either
        }
    }

    var testDescription: String { name }

    static let folder: URL? = Bundle.module.url(forResource: "JSONTestSuite", withExtension: nil)?
        .appendingPathComponent("test_parsing")

    /// Every case, by name. Empty when the resources are missing, which ``JSONTestSuiteTests/suiteIsBundled()``
    /// reports.
    static let all: [JSONSuiteCase] = {
        guard let folder, let names = try? FileManager.default.contentsOfDirectory(atPath: folder.path) else {
            return []
        }
        return names.filter { $0.hasSuffix(".json") }.sorted().map(JSONSuiteCase.init(name:))
    }()

    func bytes() throws -> [UInt8] {
        let folder = try #require(Self.folder)
        return try [UInt8](Data(contentsOf: folder.appendingPathComponent(name)))
    }
}

/// Every entry point that reads untrusted JSON bytes.
enum JSONEntryPoint: String, CaseIterable, Sendable {
    /// `JSONValue.parse(_: [UInt8])` and `parse(_: UnsafeRawBufferPointer)` (``JSONValueBuilder``).
    case parse
    /// `JSONValue.validate` and `isValid`, at the parser's depth limit and without one.
    case validate
    /// `JSONTape.parse`, and the tape's view materialized as a `JSONValue`.
    case tape
    /// `JSONReader.readValue()` then `finish()`.
    case readerValue
    /// `JSONReader.skipValue(maximumDepth:)` then `finish()`, at the parser's depth limit and without one.
    case readerSkip
    /// `JSONObjectScanner.value(in:)` over the whole text.
    case scannerValue
    /// `JSONObjectScanner`'s walks of an object's members: `members()`, `forEachMember`, `lookUp`, the iterator.
    case scannerMembers
    /// `Message(line:)`: a stdout line decoded into a message (on the tape).
    case messageLine
    /// The transport's path: `LineFramer` splits the bytes into lines, each decoded as a message.
    case framedLines
}

/// JSONTestSuite's parsing cases through every entry point: `y_` accepted, `n_` rejected with a
/// `JSONParseError`, `i_` either, and none of them crashes, overflows the stack or hangs.
@Suite("JSONTestSuite conformance")
struct JSONTestSuiteTests {
    @Test func suiteIsBundled() {
        let cases = JSONSuiteCase.all
        #expect(cases.filter { $0.expectation == .accept }.count == 95)
        #expect(cases.filter { $0.expectation == .reject }.count == 188)
        #expect(cases.filter { $0.expectation == .either }.count == 35)
    }

    @Test(.timeLimit(.minutes(1)), arguments: JSONSuiteCase.all, JSONEntryPoint.allCases)
    func conformance(_ suiteCase: JSONSuiteCase, _ entryPoint: JSONEntryPoint) throws {
        let bytes = try suiteCase.bytes()
        switch entryPoint {
        case .parse:
            let outcome = Self.outcome { () throws(JSONParseError) in try JSONValue.parse(bytes) }
            check(outcome, suiteCase, bytes)
            let buffered = bytes.withUnsafeBytes { buffer in
                Self.outcome { () throws(JSONParseError) in try JSONValue.parse(buffer) }
            }
            #expect(buffered == outcome, "parse(UnsafeRawBufferPointer) differs from parse([UInt8])")
        case .validate:
            let outcome = Self.outcome { () throws(JSONParseError) in try JSONValue.validate(bytes) }
            check(outcome, suiteCase, bytes)
            #expect(JSONValue.isValid(bytes) == outcome.isAccepted)
            let unlimited = Self.outcome { () throws(JSONParseError) in
                try JSONValue.validate(bytes, maximumDepth: .max)
            }
            check(unlimited, suiteCase, bytes)
            if outcome.isAccepted {
                // Documented: text that validates also parses.
                #expect(Self.outcome { () throws(JSONParseError) in try JSONValue.parse(bytes) }.isAccepted)
            }
        case .tape:
            let outcome = bytes.withUnsafeBufferPointer { buffer in
                Self.outcome { () throws(JSONParseError) -> JSONValue in
                    var tape = JSONTape()
                    try tape.parse(buffer)
                    return tape.withRoot(of: buffer) { $0.jsonValue }
                }
            }
            check(outcome, suiteCase, bytes)
            // The tape and the value builder share one grammar: the same value, or the same error at the same byte.
            let parsed = Self.outcome { () throws(JSONParseError) in try JSONValue.parse(bytes) }
            #expect(outcome == parsed, "the tape and JSONValue.parse disagree")
        case .readerValue:
            let outcome = Self.outcome { () throws(JSONParseError) -> JSONValue in
                var reader = JSONReader(bytes)
                let value = try reader.readValue()
                try reader.finish()
                return value
            }
            check(outcome, suiteCase, bytes)
        case .readerSkip:
            for depth in [JSONValue.maximumParseDepth, .max] {
                let outcome = Self.outcome { () throws(JSONParseError) -> Range<Int> in
                    var reader = JSONReader(bytes)
                    let range = try reader.skipValue(maximumDepth: depth)
                    try reader.finish()
                    return range
                }
                check(outcome, suiteCase, bytes)
            }
        case .scannerValue:
            let scanner = JSONObjectScanner(bytes)
            let outcome = Self.outcome { () throws(JSONParseError) in try scanner.value(in: 0..<bytes.count) }
            check(outcome, suiteCase, bytes)
        case .scannerMembers:
            try checkScannerMembers(suiteCase, bytes)
        case .messageLine:
            let message = Message(line: bytes)
            let outcome = Self.outcome(of: message, bytes)
            check(outcome, suiteCase, bytes)
            // The line's error is the parser's own.
            let parsed = Self.outcome { () throws(JSONParseError) in try JSONValue.parse(bytes) }
            if case .rejected(let lineError) = outcome, case .rejected(let parseError) = parsed {
                #expect(lineError == parseError)
            }
        case .framedLines:
            try checkFramedLines(suiteCase, bytes)
        }
    }

    // MARK: Outcomes

    /// What an entry point did with a text: accepted it (and built this value, if it builds one) or
    /// threw this error.
    enum Outcome: Equatable {
        case accepted(JSONValue?)
        case rejected(JSONParseError)

        var isAccepted: Bool {
            if case .accepted = self { return true }
            return false
        }
    }

    static func outcome(_ body: () throws(JSONParseError) -> JSONValue) -> Outcome {
        do throws(JSONParseError) {
            return .accepted(try body())
        } catch {
            return .rejected(error)
        }
    }

    static func outcome<T>(_ body: () throws(JSONParseError) -> T) -> Outcome {
        do throws(JSONParseError) {
            _ = try body()
            return .accepted(nil)
        } catch {
            return .rejected(error)
        }
    }

    /// A decoded line: only `malformedJSON` is a rejection (a line that is JSON but no object is
    /// accepted JSON). The error comes back as the description the frame carries.
    static func outcome(of message: Message, _ bytes: [UInt8]) -> Outcome {
        guard case .invalid(let frame) = message, case .malformedJSON(let description) = frame.reason else {
            return .accepted(nil)
        }
        // The frame keeps the error's description; find the error it describes.
        var tape = JSONTape()
        let error = bytes.withUnsafeBufferPointer { buffer -> JSONParseError? in
            do throws(JSONParseError) {
                try tape.parse(buffer)
                return nil
            } catch {
                return error
            }
        }
        guard let error, error.description == description else {
            return .rejected(JSONParseError(offset: -1, reason: "unmatched: \(description)"))
        }
        return .rejected(error)
    }

    func check(
        _ outcome: Outcome, _ suiteCase: JSONSuiteCase, _ bytes: [UInt8],
        sourceLocation: SourceLocation = #_sourceLocation
    ) {
        switch (suiteCase.expectation, outcome) {
        case (.accept, .rejected(let error)):
            Issue.record("rejected a valid text: \(error)", sourceLocation: sourceLocation)
        case (.reject, .accepted):
            Issue.record("accepted an invalid text", sourceLocation: sourceLocation)
        case (_, .rejected(let error)):
            #expect(
                (0...bytes.count).contains(error.offset), "error offset \(error.offset) outside the text",
                sourceLocation: sourceLocation)
        default:
            break
        }
    }

    // MARK: The object scanner

    /// The scanner reads objects only: a valid text is walked when it is an object and refused
    /// otherwise; an invalid one is always refused.
    private func checkScannerMembers(_ suiteCase: JSONSuiteCase, _ bytes: [UInt8]) throws {
        let scanner = JSONObjectScanner(bytes)
        let members = Self.outcome { () throws(JSONParseError) in try scanner.members() }
        let isObject = bytes.first { !JSONByte.isWhitespace($0) } == JSONByte.openBrace
        var iterator = scanner.makeIterator()
        var iterated = 0
        while iterator.next() != nil { iterated += 1 }
        #expect(iterator.error == members.error)

        let walked = Self.outcome { () throws(JSONParseError) in
            try scanner.forEachMember(parsing: { _ in true }) { _, _ in }
        }
        #expect(walked.isAccepted == members.isAccepted)

        switch suiteCase.expectation {
        case .accept:
            if isObject {
                check(members, suiteCase, bytes)
                check(walked, suiteCase, bytes)
                // Each member's value parses, and every lookup finds the value the parser keeps.
                let list = try scanner.members()
                #expect(iterated == list.count)
                let parsed = try JSONValue.parse(bytes)
                for member in list {
                    _ = try scanner.value(in: member.valueRange)
                    // The last occurrence of a repeated key wins, as in the parser.
                    #expect(try scanner.value(forKey: member.key) == parsed[member.key])
                }
                let keys = Array(Set(list.map(\.key)))
                let lookup = try scanner.lookUp(JSONObjectScanner.KeyLookup(keys, parse: Set(keys)))
                for (index, key) in keys.enumerated() {
                    #expect(lookup.values[index] == parsed[key])
                    #expect(lookup.ranges[index] == scanner.rawRange(forKey: key))
                }
                #expect(try scanner.value(forKey: "\u{1}absent") == nil)
            } else {
                #expect(!members.isAccepted, "the scanner walked a text that is no object")
            }
        case .reject:
            check(members, suiteCase, bytes)
            check(walked, suiteCase, bytes)
            let lookup = Self.outcome { () throws(JSONParseError) in
                try scanner.lookUp(JSONObjectScanner.KeyLookup(["a", ""], parse: ["a"]))
            }
            check(lookup, suiteCase, bytes)
            let one = Self.outcome { () throws(JSONParseError) in
                _ = try scanner.value(forKey: "a")
            }
            check(one, suiteCase, bytes)
        case .either:
            break
        }
    }

    // MARK: The transport

    /// Bytes through the line framer, whole and one byte at a time, then each line decoded as the session
    /// decodes stdout. A text without a line feed is one line (or none, when empty), accepted or
    /// rejected as a whole; the lines of a text with line feeds are only checked for what the framer
    /// hands over.
    private func checkFramedLines(_ suiteCase: JSONSuiteCase, _ bytes: [UInt8]) throws {
        let expectedLines = bytes.split(separator: 0x0A, omittingEmptySubsequences: false)
            .map { line in line.last == 0x0D ? Array(line.dropLast()) : Array(line) }
            .filter { !$0.isEmpty }
        for chunkSize in [bytes.count, 1] {
            var framer = LineFramer(maxLineLength: 1 << 20)
            var outputs: [LineFramer.Output] = []
            var offset = 0
            while offset < bytes.count {
                let chunk = bytes[offset..<min(offset + chunkSize, bytes.count)]
                chunk.withUnsafeBytes { framer.push($0) { outputs.append($0) } }
                offset += chunkSize
            }
            framer.finish { outputs.append($0) }
            let lines = outputs.compactMap { output -> [UInt8]? in
                if case .line(let line) = output { return line }
                Issue.record("an oversized line under the limit")
                return nil
            }
            #expect(lines == expectedLines, "chunks of \(chunkSize)")
        }
        var tape = JSONTape()
        let messages = expectedLines.map { Message.decode(line: $0, tape: &tape) }
        guard !bytes.contains(0x0A) else { return }
        let outcomes = zip(messages, expectedLines).map { Self.outcome(of: $0, $1) }
        switch suiteCase.expectation {
        case .accept:
            #expect(outcomes.count == 1)
            for outcome in outcomes { check(outcome, suiteCase, bytes) }
        case .reject:
            // An empty text frames to no line at all; anything else is one line, refused.
            #expect(outcomes.count <= 1)
            for outcome in outcomes { check(outcome, suiteCase, bytes) }
        case .either:
            break
        }
    }
}

extension JSONTestSuiteTests.Outcome {
    var error: JSONParseError? {
        if case .rejected(let error) = self { return error }
        return nil
    }
}
