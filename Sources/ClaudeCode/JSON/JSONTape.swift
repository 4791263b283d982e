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
/// materialize only the parts kept as ``JSONValue`` (``JSONTapeView/jsonValue``). ``JSONValue/parse(_:)`` builds
/// whole values in one pass instead (``JSONValueBuilder``); both move through the text with ``JSONCursor``,
/// so they share one grammar.
///
/// The tape is reusable: ``parse(_:)`` clears it and keeps its capacity.
package struct JSONTape {
    package enum Kind: UInt8 {
        case null, bool, int, double, string, object, array
    }

    /// One value. Containers are followed by their contents (an object by key, value, key, value, …);
    /// `next` is the index just past the whole subtree.
    package struct Node {
        var kind: Kind
        /// `.bool`: its value. `.string`: whether it holds escapes.
        var flag: Bool
        /// `.string`: the content range (without quotes); other kinds: the value's whole text. Offsets from
        /// the parsed buffer's start.
        var start: Int32
        var end: Int32
        var next: Int32
        /// `.object`: members; `.array`: elements.
        var count: Int32
        /// `.int`: the value. `.double`: the bit pattern of the value.
        var integer: Int64
    }

    private(set) var nodes: [Node]

    package init() {
        nodes = []
        nodes.reserveCapacity(256)
    }

    /// Parses `bytes` into the tape, replacing what it held.
    /// - Throws: ``JSONParseError`` at the first problem; the tape's contents are then unspecified.
    package mutating func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONParseError) {
        guard let base = bytes.baseAddress, !bytes.isEmpty else {
            nodes.removeAll(keepingCapacity: true)
            throw JSONParseError(offset: 0, reason: "unexpected end of input")
        }
        var cursor = try parseValue(base: base, from: 0, end: bytes.count)
        try cursor.finish()
    }

    /// Parses the one value at `start` (after whitespace) into the tape, replacing what it held,
    /// and returns the cursor just past it. Offsets, in errors and in the tape, count from `base`,
    /// so read the tape with a buffer that starts at `base`.
    ///
    /// With `stopsAtNewlines`, whitespace holding a newline is an error (see
    /// ``parseLine(base:from:end:)``).
    mutating func parseValue(
        base: UnsafePointer<UInt8>, from start: Int, end: Int, stopsAtNewlines: Bool = false
    ) throws(JSONParseError) -> JSONCursor {
        nodes.removeAll(keepingCapacity: true)
        guard end < Int(Int32.max) else {
            throw JSONParseError(offset: start, reason: "documents of 2 GiB or more are not supported")
        }
        var builder = Builder(
            cursor: JSONCursor(base: base, end: end, position: start), nodes: nodes, stopsAtNewlines: stopsAtNewlines)
        nodes = []
        defer { nodes = builder.nodes }
        try builder.parseValue(depth: 0)
        return builder.cursor
    }

    /// Parses the line of JSON Lines text that starts at `start` (before `end`) into the tape,
    /// replacing what it held, without looking for the line's end first: the value is parsed, then
    /// spaces, tabs and carriage returns, and the line must end there, at a newline or at `end`.
    ///
    /// Returns the index of that newline (or `end`), and the tape then holds the line's value with
    /// offsets from `base + start`. Returns `nil` for anything else: text that is not one JSON
    /// value, content after it, or a value whose whitespace holds a newline (JSON allows it, but it
    /// splits a JSON Lines line; the parse stops there, so it never reads past its line). The
    /// caller then finds the line's end and reads that line as it is.
    package mutating func parseLine(base: UnsafePointer<UInt8>, from start: Int, end: Int) -> Int? {
        guard start < end,
            var cursor = try? parseValue(base: base + start, from: 0, end: end &- start, stopsAtNewlines: true)
        else { return nil }
        while cursor.position < cursor.end {
            switch cursor.base[cursor.position] {
            case JSONByte.space, JSONByte.tab, JSONByte.carriageReturn: cursor.position &+= 1
            case JSONByte.newline: return start &+ cursor.position
            default: return nil
            }
        }
        return end
    }

    /// Calls `body` with a view of the root value. Views are valid only inside `body`.
    package func withRoot<Result>(
        of bytes: UnsafeBufferPointer<UInt8>, _ body: (JSONTapeView) throws -> Result
    ) rethrows -> Result {
        try nodes.withUnsafeBufferPointer { nodes in
            try body(JSONTapeView(nodes: nodes, bytes: bytes, index: 0))
        }
    }

    /// Records the values that ``JSONCursor`` reads.
    private struct Builder {
        var cursor: JSONCursor
        var nodes: [Node]
        /// Whether whitespace holding a newline ends the parse (an error), for
        /// ``JSONTape/parseLine(base:from:end:)``: the parse then never reads past its line.
        var stopsAtNewlines = false

        /// Skips whitespace; compact JSON has none, so the common case is one comparison.
        @inline(__always)
        private mutating func skipWhitespace() throws(JSONParseError) {
            guard cursor.position < cursor.end, JSONByte.isWhitespace(cursor.base[cursor.position]) else { return }
            if stopsAtNewlines {
                while cursor.position < cursor.end, JSONByte.isWhitespace(cursor.base[cursor.position]) {
                    if cursor.base[cursor.position] == JSONByte.newline { throw cursor.error("newline in the value") }
                    cursor.position &+= 1
                }
            } else {
                cursor.skipWhitespace()
            }
        }

        private mutating func append(_ kind: Kind, flag: Bool = false, start: Int = 0, end: Int = 0, integer: Int64 = 0)
        {
            nodes.append(
                Node(
                    kind: kind, flag: flag, start: Int32(truncatingIfNeeded: start),
                    end: Int32(truncatingIfNeeded: end),
                    next: Int32(truncatingIfNeeded: nodes.count + 1), count: 0, integer: integer))
        }

        mutating func parseValue(depth: Int) throws(JSONParseError) {
            try skipWhitespace()
            guard cursor.position < cursor.end else { throw cursor.error("unexpected end of input") }
            switch cursor.base[cursor.position] {
            case JSONByte.openBrace: try parseContainer(object: true, depth: depth + 1)
            case JSONByte.openBracket: try parseContainer(object: false, depth: depth + 1)
            case JSONByte.quote: try parseString()
            case UInt8(ascii: "t"):
                let start = cursor.position
                try cursor.expectLiteral("true")
                append(.bool, flag: true, start: start, end: cursor.position)
            case UInt8(ascii: "f"):
                let start = cursor.position
                try cursor.expectLiteral("false")
                append(.bool, flag: false, start: start, end: cursor.position)
            case UInt8(ascii: "n"):
                let start = cursor.position
                try cursor.expectLiteral("null")
                append(.null, start: start, end: cursor.position)
            case JSONByte.minus, JSONByte.zero...JSONByte.nine:
                let start = cursor.position
                switch try cursor.scanNumber() {
                case .int(let value): append(.int, start: start, end: cursor.position, integer: value)
                case .double(let value):
                    append(.double, start: start, end: cursor.position, integer: Int64(bitPattern: value.bitPattern))
                }
            default:
                throw cursor.error("unexpected character")
            }
        }

        /// An object (key, value, key, value, …) or an array; the cursor is at `{` or `[`.
        private mutating func parseContainer(object: Bool, depth: Int) throws(JSONParseError) {
            guard depth <= JSONValue.maximumParseDepth else {
                throw cursor.error("nesting deeper than \(JSONValue.maximumParseDepth)")
            }
            let node = nodes.count
            append(object ? .object : .array, start: cursor.position)
            let close = object ? JSONByte.closeBrace : JSONByte.closeBracket
            cursor.position &+= 1
            var items: Int32 = 0
            try skipWhitespace()
            if cursor.position < cursor.end, cursor.base[cursor.position] == close {
                cursor.position &+= 1
            } else {
                while true {
                    if object {
                        try skipWhitespace()
                        guard cursor.position < cursor.end, cursor.base[cursor.position] == JSONByte.quote else {
                            throw cursor.error("expected a string key")
                        }
                        try parseString()
                        try skipWhitespace()
                        guard cursor.position < cursor.end, cursor.base[cursor.position] == JSONByte.colon else {
                            throw cursor.error("expected ':' after key")
                        }
                        cursor.position &+= 1
                    }
                    try parseValue(depth: depth)
                    items &+= 1
                    try skipWhitespace()
                    guard cursor.position < cursor.end else {
                        throw cursor.error(
                            object ? "unexpected end of input in object" : "unexpected end of input in array")
                    }
                    let byte = cursor.base[cursor.position]
                    cursor.position &+= 1
                    if byte == JSONByte.comma { continue }
                    if byte == close { break }
                    throw cursor.error(
                        object ? "expected ',' or '}' in object" : "expected ',' or ']' in array",
                        at: cursor.position &- 1)
                }
            }
            nodes[node].count = items
            nodes[node].end = Int32(truncatingIfNeeded: cursor.position)
            nodes[node].next = Int32(truncatingIfNeeded: nodes.count)
        }

        /// A string starting at its opening quote: checked, recorded as a byte range.
        @inline(__always)
        private mutating func parseString() throws(JSONParseError) {
            let start = cursor.position &+ 1
            let escaped = try cursor.scanString(validatingUTF8: false)
            append(.string, flag: escaped, start: start, end: cursor.position &- 1)
        }
    }
}

/// A value inside a ``JSONTape``, valid only inside ``JSONTape/withRoot(of:_:)``.
package struct JSONTapeView {
    let nodes: UnsafeBufferPointer<JSONTape.Node>
    let bytes: UnsafeBufferPointer<UInt8>
    let index: Int

    private var node: JSONTape.Node { nodes[index] }

    private func view(_ index: Int) -> JSONTapeView { JSONTapeView(nodes: nodes, bytes: bytes, index: index) }

    package var kind: JSONTape.Kind { node.kind }

    /// The value's JSON text (a string's quotes included), as offsets into the parsed buffer.
    package var textRange: Range<Int> {
        let node = self.node
        return node.kind == .string
            ? Int(node.start &- 1)..<Int(node.end &+ 1) : Int(node.start)..<Int(node.end)
    }

    /// The raw content of a string (between the quotes, escapes not decoded) and whether it
    /// holds escapes; `nil` for other kinds. Valid only inside ``JSONTape/withRoot(of:_:)``.
    package var rawString: (bytes: UnsafeBufferPointer<UInt8>, escaped: Bool)? {
        let node = self.node
        guard node.kind == .string, let base = bytes.baseAddress else { return nil }
        return (UnsafeBufferPointer(start: base + Int(node.start), count: Int(node.end &- node.start)), node.flag)
    }

    /// The number of members of an object or elements of an array, else 0.
    package var count: Int {
        let node = self.node
        return node.kind == .object || node.kind == .array ? Int(node.count) : 0
    }

    /// Calls `body` with each member of an object as views of its key (a string) and value, in
    /// document order (repeated keys included); builds no strings.
    package func forEachMemberView(_ body: (_ key: JSONTapeView, _ value: JSONTapeView) throws -> Void) rethrows {
        let node = self.node
        guard node.kind == .object else { return }
        var position = index &+ 1
        for _ in 0..<node.count {
            try body(view(position), view(position &+ 1))
            position = Int(nodes[position &+ 1].next)
        }
    }

    /// Calls `body` with each element of an array, in order.
    package func forEachElement(_ body: (JSONTapeView) throws -> Void) rethrows {
        let node = self.node
        guard node.kind == .array else { return }
        var position = index &+ 1
        for _ in 0..<node.count {
            try body(view(position))
            position = Int(nodes[position].next)
        }
    }

    /// The value of `key` when this is an object (the last one, if the key repeats), else `nil`.
    package subscript(key: String) -> JSONTapeView? {
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
    package func forEachMember(_ body: (String, JSONTapeView) throws -> Void) rethrows {
        let node = self.node
        guard node.kind == .object else { return }
        var position = index &+ 1
        for _ in 0..<node.count {
            try body(string(nodes[position]), view(position &+ 1))
            position = Int(nodes[position &+ 1].next)
        }
    }

    /// The elements, when this is an array.
    package var elements: [JSONTapeView]? {
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

    package var stringValue: String? {
        let node = self.node
        return node.kind == .string ? string(node) : nil
    }

    package var boolValue: Bool? {
        let node = self.node
        return node.kind == .bool ? node.flag : nil
    }

    package var isNull: Bool { node.kind == .null }

    package var int64Value: Int64? {
        let node = self.node
        return node.kind == .int ? node.integer : nil
    }

    package var doubleValue: Double? {
        let node = self.node
        switch node.kind {
        case .int: return Double(node.integer)
        case .double: return double(node)
        default: return nil
        }
    }

    package var intValue: Int? {
        let node = self.node
        switch node.kind {
        case .int: return Int(exactly: node.integer)
        case .double: return double(node).flatMap { Int(exactly: $0) }
        default: return nil
        }
    }

    /// This value and everything in it as a ``JSONValue``.
    package var jsonValue: JSONValue {
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
        Double(bitPattern: UInt64(bitPattern: node.integer))
    }

    /// The text of a string node; escapes are decoded, invalid UTF-8 and lone surrogates become U+FFFD.
    private func string(_ node: JSONTape.Node) -> String {
        guard let base = bytes.baseAddress else { return "" }
        return jsonDecodeString(base + Int(node.start), count: Int(node.end &- node.start), escaped: node.flag)
    }
}
