#if canImport(Glibc)
import Glibc
#elseif canImport(Musl)
import Musl
#elseif canImport(Darwin)
import Darwin
#endif

/// A validated JSON document as a flat array of nodes that point into the input bytes.
///
/// Parsing builds no dictionaries and no strings: a string is a byte range until someone asks for it, and an
/// object member is found by comparing key bytes. That makes it cheap to read a few fields of a frame and
/// materialize only the parts kept as ``JSONValue`` (``JSONTapeView/jsonValue``). ``JSONValue/parse(_:)`` is
/// this parser plus a full materialization, so both share one grammar.
///
/// The tape is reusable: ``parse(_:)`` clears it and keeps its capacity.
struct JSONTape {
    enum Kind: UInt8 {
        case null, bool, int, double, string, object, array
    }

    /// One value. Containers are followed by their contents (an object by key, value, key, value, …);
    /// `next` is the index just past the whole subtree.
    struct Node {
        var kind: Kind
        /// `.bool`: its value. `.string`: whether it holds escapes.
        var flag: Bool
        /// `.string`: the content range (without quotes). `.double`: the number's text.
        var start: Int32
        var end: Int32
        var next: Int32
        /// `.object`: members; `.array`: elements.
        var count: Int32
        /// `.int`: the value.
        var integer: Int64
    }

    static let maximumDepth = 512

    private(set) var nodes: [Node]

    init() {
        nodes = []
        nodes.reserveCapacity(256)
    }

    /// Parses `bytes` into the tape, replacing what it held.
    /// - Throws: ``JSONParseError`` at the first problem; the tape's contents are then unspecified.
    mutating func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONParseError) {
        nodes.removeAll(keepingCapacity: true)
        guard let base = bytes.baseAddress, !bytes.isEmpty else { throw JSONParseError(offset: 0, reason: "empty input") }
        guard bytes.count < Int(Int32.max) else {
            throw JSONParseError(offset: 0, reason: "documents of 2 GiB or more are not supported")
        }
        var builder = Builder(base: base, count: bytes.count, nodes: nodes)
        nodes = []
        defer { nodes = builder.nodes }
        try builder.parseValue(depth: 0)
        builder.skipWhitespace()
        guard builder.index == builder.count else {
            throw JSONParseError(offset: builder.index, reason: "unexpected characters after the JSON value")
        }
    }

    /// Calls `body` with a view of the root value. Views are valid only inside `body`.
    func withRoot<Result>(
        of bytes: UnsafeBufferPointer<UInt8>, _ body: (JSONTapeView) throws -> Result
    ) rethrows -> Result {
        try nodes.withUnsafeBufferPointer { nodes in
            try body(JSONTapeView(nodes: nodes, bytes: bytes, index: 0))
        }
    }

    private struct Builder {
        let base: UnsafePointer<UInt8>
        let count: Int
        var nodes: [Node]
        var index = 0

        init(base: UnsafePointer<UInt8>, count: Int, nodes: [Node]) {
            self.base = base
            self.count = count
            self.nodes = nodes
        }

        private func error(_ reason: String, at offset: Int? = nil) -> JSONParseError {
            JSONParseError(offset: offset ?? index, reason: reason)
        }

        mutating func skipWhitespace() {
            while index < count {
                switch base[index] {
                case 0x20, 0x0A, 0x0D, 0x09: index &+= 1
                default: return
                }
            }
        }

        private mutating func append(_ kind: Kind, flag: Bool = false, start: Int = 0, end: Int = 0, integer: Int64 = 0) {
            nodes.append(
                Node(
                    kind: kind, flag: flag, start: Int32(truncatingIfNeeded: start), end: Int32(truncatingIfNeeded: end),
                    next: Int32(truncatingIfNeeded: nodes.count + 1), count: 0, integer: integer))
        }

        mutating func parseValue(depth: Int) throws(JSONParseError) {
            skipWhitespace()
            guard index < count else { throw error("unexpected end of input, expected a value") }
            switch base[index] {
            case UInt8(ascii: "{"): try parseObject(depth: depth + 1)
            case UInt8(ascii: "["): try parseArray(depth: depth + 1)
            case UInt8(ascii: "\""): try parseString()
            case UInt8(ascii: "t"):
                try expectLiteral("true")
                append(.bool, flag: true)
            case UInt8(ascii: "f"):
                try expectLiteral("false")
                append(.bool, flag: false)
            case UInt8(ascii: "n"):
                try expectLiteral("null")
                append(.null)
            case UInt8(ascii: "-"), UInt8(ascii: "0")...UInt8(ascii: "9"):
                try parseNumber()
            default:
                throw error("unexpected character, expected a value")
            }
        }

        private mutating func parseObject(depth: Int) throws(JSONParseError) {
            guard depth <= JSONTape.maximumDepth else { throw error("nested deeper than \(JSONTape.maximumDepth) levels") }
            let node = nodes.count
            append(.object)
            index &+= 1  // {
            var members: Int32 = 0
            skipWhitespace()
            if index < count, base[index] == UInt8(ascii: "}") {
                index &+= 1
            } else {
                while true {
                    skipWhitespace()
                    guard index < count, base[index] == UInt8(ascii: "\"") else { throw error("expected a string key") }
                    try parseString()
                    skipWhitespace()
                    guard index < count, base[index] == UInt8(ascii: ":") else { throw error("expected ':' after a key") }
                    index &+= 1
                    try parseValue(depth: depth)
                    members &+= 1
                    skipWhitespace()
                    guard index < count else { throw error("unexpected end of input in an object") }
                    let byte = base[index]
                    if byte == UInt8(ascii: ",") {
                        index &+= 1
                        continue
                    }
                    if byte == UInt8(ascii: "}") {
                        index &+= 1
                        break
                    }
                    throw error("expected ',' or '}' in an object")
                }
            }
            nodes[node].count = members
            nodes[node].next = Int32(truncatingIfNeeded: nodes.count)
        }

        private mutating func parseArray(depth: Int) throws(JSONParseError) {
            guard depth <= JSONTape.maximumDepth else { throw error("nested deeper than \(JSONTape.maximumDepth) levels") }
            let node = nodes.count
            append(.array)
            index &+= 1  // [
            var elements: Int32 = 0
            skipWhitespace()
            if index < count, base[index] == UInt8(ascii: "]") {
                index &+= 1
            } else {
                while true {
                    try parseValue(depth: depth)
                    elements &+= 1
                    skipWhitespace()
                    guard index < count else { throw error("unexpected end of input in an array") }
                    let byte = base[index]
                    if byte == UInt8(ascii: ",") {
                        index &+= 1
                        continue
                    }
                    if byte == UInt8(ascii: "]") {
                        index &+= 1
                        break
                    }
                    throw error("expected ',' or ']' in an array")
                }
            }
            nodes[node].count = elements
            nodes[node].next = Int32(truncatingIfNeeded: nodes.count)
        }

        /// A string starting at its opening quote: validated, recorded as a byte range.
        private mutating func parseString() throws(JSONParseError) {
            let start = index &+ 1
            var cursor = start
            var escaped = false
            while true {
                // Eight bytes at a time while none of them is a quote, a backslash or a control character.
                while cursor &+ 8 <= count {
                    let word = UnsafeRawPointer(base + cursor).loadUnaligned(as: UInt64.self)
                    if Self.hasSpecialByte(word) { break }
                    cursor &+= 8
                }
                guard cursor < count else { throw error("unterminated string", at: cursor) }
                let byte = base[cursor]
                if byte == UInt8(ascii: "\"") { break }
                if byte == UInt8(ascii: "\\") {
                    escaped = true
                    cursor &+= 1
                    guard cursor < count else { throw error("unterminated string", at: cursor) }
                    switch base[cursor] {
                    case UInt8(ascii: "\""), UInt8(ascii: "\\"), UInt8(ascii: "/"), UInt8(ascii: "b"), UInt8(ascii: "f"),
                        UInt8(ascii: "n"), UInt8(ascii: "r"), UInt8(ascii: "t"):
                        cursor &+= 1
                    case UInt8(ascii: "u"):
                        guard cursor &+ 4 < count else { throw error("truncated \\u escape", at: cursor) }
                        for offset in 1...4 where JSONTape.hexValue(base[cursor &+ offset]) == nil {
                            throw error("invalid hex digit in a \\u escape", at: cursor &+ offset)
                        }
                        cursor &+= 5
                    default:
                        throw error("invalid escape sequence", at: cursor)
                    }
                    continue
                }
                if byte < 0x20 { throw error("unescaped control character in a string", at: cursor) }
                cursor &+= 1
            }
            append(.string, flag: escaped, start: start, end: cursor)
            index = cursor &+ 1
        }

        /// Whether any byte of `word` is `"`, `\` or below 0x20 (SWAR).
        @inline(__always)
        private static func hasSpecialByte(_ word: UInt64) -> Bool {
            let ones: UInt64 = 0x0101_0101_0101_0101
            let highs: UInt64 = 0x8080_8080_8080_8080
            let quote = word ^ (ones &* 0x22)
            let backslash = word ^ (ones &* 0x5C)
            let hasQuote = (quote &- ones) & ~quote & highs
            let hasBackslash = (backslash &- ones) & ~backslash & highs
            let hasControl = (word &- ones &* 0x20) & ~word & highs
            return (hasQuote | hasBackslash | hasControl) != 0
        }

        private mutating func parseNumber() throws(JSONParseError) {
            let start = index
            var negative = false
            if base[index] == UInt8(ascii: "-") {
                negative = true
                index &+= 1
            }
            guard index < count, Self.isDigit(base[index]) else { throw error("expected a digit") }
            var magnitude: UInt64 = 0
            var overflow = false
            if base[index] == UInt8(ascii: "0") {
                index &+= 1
                if index < count, Self.isDigit(base[index]) { throw error("leading zeros are not allowed") }
            } else {
                while index < count, Self.isDigit(base[index]) {
                    let (times10, o1) = magnitude.multipliedReportingOverflow(by: 10)
                    let (sum, o2) = times10.addingReportingOverflow(UInt64(base[index] &- UInt8(ascii: "0")))
                    overflow = overflow || o1 || o2
                    magnitude = sum
                    index &+= 1
                }
            }
            var isInteger = true
            if index < count, base[index] == UInt8(ascii: ".") {
                isInteger = false
                index &+= 1
                guard index < count, Self.isDigit(base[index]) else { throw error("expected a digit after '.'") }
                while index < count, Self.isDigit(base[index]) { index &+= 1 }
            }
            if index < count, base[index] == UInt8(ascii: "e") || base[index] == UInt8(ascii: "E") {
                isInteger = false
                index &+= 1
                if index < count, base[index] == UInt8(ascii: "+") || base[index] == UInt8(ascii: "-") { index &+= 1 }
                guard index < count, Self.isDigit(base[index]) else { throw error("expected a digit in the exponent") }
                while index < count, Self.isDigit(base[index]) { index &+= 1 }
            }
            if isInteger, !overflow {
                if !negative, magnitude <= UInt64(Int64.max) {
                    append(.int, integer: Int64(magnitude))
                    return
                }
                if negative, magnitude <= UInt64(Int64.max) &+ 1 {
                    append(.int, integer: magnitude == UInt64(Int64.max) &+ 1 ? .min : -Int64(magnitude))
                    return
                }
            }
            // Checked here so a document with an unrepresentable number is rejected up front.
            guard JSONTape.double(base + start, count: index - start) != nil else {
                throw error("number out of range", at: start)
            }
            append(.double, start: start, end: index)
        }

        private static func isDigit(_ byte: UInt8) -> Bool { byte &- UInt8(ascii: "0") < 10 }

        private mutating func expectLiteral(_ literal: StaticString) throws(JSONParseError) {
            let length = literal.utf8CodeUnitCount
            guard index + length <= count, memcmp(base + index, literal.utf8Start, length) == 0 else {
                throw error("invalid literal")
            }
            index &+= length
        }
    }

    static func hexValue(_ byte: UInt8) -> UInt32? {
        switch byte {
        case UInt8(ascii: "0")...UInt8(ascii: "9"): return UInt32(byte &- UInt8(ascii: "0"))
        case UInt8(ascii: "a")...UInt8(ascii: "f"): return UInt32(byte &- UInt8(ascii: "a") &+ 10)
        case UInt8(ascii: "A")...UInt8(ascii: "F"): return UInt32(byte &- UInt8(ascii: "A") &+ 10)
        default: return nil
        }
    }

    /// The finite value of validated number text, or `nil` when it is out of range.
    static func double(_ start: UnsafePointer<UInt8>, count: Int) -> Double? {
        let text = String(decoding: UnsafeBufferPointer(start: start, count: count), as: UTF8.self)
        guard let value = Double(text), value.isFinite else { return nil }
        return value
    }
}

/// A value inside a ``JSONTape``, valid only inside ``JSONTape/withRoot(of:_:)``.
struct JSONTapeView {
    let nodes: UnsafeBufferPointer<JSONTape.Node>
    let bytes: UnsafeBufferPointer<UInt8>
    let index: Int

    private var node: JSONTape.Node { nodes[index] }

    private func view(_ index: Int) -> JSONTapeView { JSONTapeView(nodes: nodes, bytes: bytes, index: index) }

    var kind: JSONTape.Kind { node.kind }

    /// The value of `key` when this is an object (the last one, if the key repeats), else `nil`.
    subscript(key: String) -> JSONTapeView? {
        let node = self.node
        guard node.kind == .object, node.count > 0 else { return nil }
        var key = key
        return key.withUTF8 { key -> JSONTapeView? in
            var found: Int?
            var position = index &+ 1
            for _ in 0..<node.count {
                if keyEquals(position, key) { found = position &+ 1 }
                position = Int(nodes[position &+ 1].next)
            }
            return found.map(view)
        }
    }

    private func keyEquals(_ position: Int, _ key: UnsafeBufferPointer<UInt8>) -> Bool {
        let node = nodes[position]
        if node.flag { return string(node) == String(decoding: key, as: UTF8.self) }
        let length = Int(node.end &- node.start)
        guard length == key.count else { return false }
        guard length > 0, let keyBase = key.baseAddress, let base = bytes.baseAddress else { return true }
        return memcmp(base + Int(node.start), keyBase, length) == 0
    }

    /// Calls `body` with each member of an object, in document order (repeated keys included).
    func forEachMember(_ body: (String, JSONTapeView) throws -> Void) rethrows {
        let node = self.node
        guard node.kind == .object else { return }
        var position = index &+ 1
        for _ in 0..<node.count {
            try body(string(nodes[position]), view(position &+ 1))
            position = Int(nodes[position &+ 1].next)
        }
    }

    /// The elements, when this is an array.
    var elements: [JSONTapeView]? {
        let node = self.node
        guard node.kind == .array else { return nil }
        var result: [JSONTapeView] = []
        result.reserveCapacity(Int(node.count))
        var position = index &+ 1
        for _ in 0..<node.count {
            result.append(view(position))
            position = Int(nodes[position].next)
        }
        return result
    }

    var stringValue: String? {
        let node = self.node
        return node.kind == .string ? string(node) : nil
    }

    var boolValue: Bool? {
        let node = self.node
        return node.kind == .bool ? node.flag : nil
    }

    var isNull: Bool { node.kind == .null }

    var int64Value: Int64? {
        let node = self.node
        return node.kind == .int ? node.integer : nil
    }

    var doubleValue: Double? {
        let node = self.node
        switch node.kind {
        case .int: return Double(node.integer)
        case .double: return double(node)
        default: return nil
        }
    }

    var intValue: Int? {
        let node = self.node
        switch node.kind {
        case .int: return Int(exactly: node.integer)
        case .double: return double(node).flatMap { Int(exactly: $0) }
        default: return nil
        }
    }

    /// This value and everything in it as a ``JSONValue``.
    var jsonValue: JSONValue {
        let node = self.node
        switch node.kind {
        case .null: return .null
        case .bool: return .bool(node.flag)
        case .int: return .int(node.integer)
        case .double: return .double(double(node) ?? 0)
        case .string: return .string(string(node))
        case .array:
            var array: [JSONValue] = []
            array.reserveCapacity(Int(node.count))
            var position = index &+ 1
            for _ in 0..<node.count {
                array.append(view(position).jsonValue)
                position = Int(nodes[position].next)
            }
            return .array(array)
        case .object:
            var object: [String: JSONValue] = [:]
            object.reserveCapacity(Int(node.count))
            var position = index &+ 1
            for _ in 0..<node.count {
                object[string(nodes[position])] = view(position &+ 1).jsonValue
                position = Int(nodes[position &+ 1].next)
            }
            return .object(object)
        }
    }

    private func double(_ node: JSONTape.Node) -> Double? {
        guard let base = bytes.baseAddress else { return nil }
        return JSONTape.double(base + Int(node.start), count: Int(node.end &- node.start))
    }

    /// The text of a string node; escapes are decoded, invalid UTF-8 and lone surrogates become U+FFFD.
    private func string(_ node: JSONTape.Node) -> String {
        guard let base = bytes.baseAddress else { return "" }
        let start = base + Int(node.start)
        let length = Int(node.end &- node.start)
        guard node.flag else { return String(decoding: UnsafeBufferPointer(start: start, count: length), as: UTF8.self) }
        // Decoded text is never longer than its escaped form.
        return String(unsafeUninitializedCapacity: length) { output in
            Self.unescape(start, length, into: output)
        }
    }

    /// Decodes a validated escaped string into `output` (at least `length` bytes); returns the bytes written.
    private static func unescape(
        _ input: UnsafePointer<UInt8>, _ length: Int, into output: UnsafeMutableBufferPointer<UInt8>
    ) -> Int {
        var read = 0
        var written = 0
        func put(_ byte: UInt8) {
            output[written] = byte
            written &+= 1
        }
        func hex4(_ at: Int) -> UInt32 {
            var value: UInt32 = 0
            for offset in 0..<4 { value = value << 4 | (JSONTape.hexValue(input[at &+ offset]) ?? 0) }
            return value
        }
        guard let outputBase = output.baseAddress else { return 0 }
        while read < length {
            // Copy the run up to the next backslash in one go.
            let run = memchr(input + read, Int32(UInt8(ascii: "\\")), length &- read)
                .map { UnsafeRawPointer($0) - UnsafeRawPointer(input + read) } ?? (length &- read)
            if run > 0 {
                (outputBase + written).update(from: input + read, count: run)
                written &+= run
                read &+= run
                continue
            }
            let escape = input[read &+ 1]
            read &+= 2
            switch escape {
            case UInt8(ascii: "b"): put(0x08)
            case UInt8(ascii: "f"): put(0x0C)
            case UInt8(ascii: "n"): put(0x0A)
            case UInt8(ascii: "r"): put(0x0D)
            case UInt8(ascii: "t"): put(0x09)
            case UInt8(ascii: "u"):
                var scalar = hex4(read)
                read &+= 4
                if (0xD800...0xDBFF).contains(scalar) {
                    if read &+ 6 <= length, input[read] == UInt8(ascii: "\\"), input[read &+ 1] == UInt8(ascii: "u"),
                        case let low = hex4(read &+ 2), (0xDC00...0xDFFF).contains(low)
                    {
                        scalar = 0x10000 &+ ((scalar &- 0xD800) << 10) &+ (low &- 0xDC00)
                        read &+= 6
                    } else {
                        scalar = 0xFFFD
                    }
                } else if (0xDC00...0xDFFF).contains(scalar) {
                    scalar = 0xFFFD
                }
                switch scalar {
                case 0..<0x80:
                    put(UInt8(scalar))
                case 0x80..<0x800:
                    put(UInt8(0xC0 | scalar >> 6))
                    put(UInt8(0x80 | scalar & 0x3F))
                case 0x800..<0x10000:
                    put(UInt8(0xE0 | scalar >> 12))
                    put(UInt8(0x80 | scalar >> 6 & 0x3F))
                    put(UInt8(0x80 | scalar & 0x3F))
                default:
                    put(UInt8(0xF0 | scalar >> 18))
                    put(UInt8(0x80 | scalar >> 12 & 0x3F))
                    put(UInt8(0x80 | scalar >> 6 & 0x3F))
                    put(UInt8(0x80 | scalar & 0x3F))
                }
            default:
                put(escape)  // " \ /
            }
        }
        return written
    }
}
