import ClaudeCode

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The first and last 64 KiB of a transcript, which is all that listing reads.
struct LiteFile {
    /// How much of each end is read, as in the CLI and the Python SDK.
    static let windowSize = 65_536

    var head: [UInt8]
    /// The last bytes of the file; the same as `head` when the file fits in one window.
    var tail: [UInt8]
    /// Where `tail` starts in the file.
    var tailOffset: Int
    /// Whether `tail` begins in the middle of a line (its first line is a fragment).
    var tailStartsMidLine: Bool
    var size: Int
    var modifiedMilliseconds: Int
}

/// Reads session metadata from a transcript's head and tail with a JSON-aware scanner.
///
/// The Python SDK searches the raw text for `"key":"`, so a key nested anywhere (a tool
/// input with a `summary` or `cwd` field, say) can be mistaken for the entry's own field.
/// Here a line's fields are its top-level members only. A fast byte search still picks
/// the candidate lines, so only lines that mention a key are scanned.
struct LiteMetadataReader {
    let file: LiteFile
    /// Reads the whole line that the tail's first fragment ends, when it is needed.
    let completeTailFragment: () -> [UInt8]?
    let headWindow: Window
    let tailWindow: Window

    init(file: LiteFile, completeTailFragment: @escaping () -> [UInt8]?) {
        self.file = file
        self.completeTailFragment = completeTailFragment
        headWindow = Window(bytes: file.head, start: 0, end: file.head.count, fragment: 0..<0)
        tailWindow = Self.makeTailWindow(file)
    }

    // MARK: Windows and lines

    /// The part of a buffer whose lines are considered.
    struct Window {
        var bytes: [UInt8]
        /// Start of the first whole line.
        var start: Int
        var end: Int
        /// A fragment of a line before `start` (only in the tail), where keys are not trusted.
        var fragment: Range<Int>
    }

    static func makeTailWindow(_ file: LiteFile) -> Window {
        let bytes = file.tail
        guard file.tailStartsMidLine else { return Window(bytes: bytes, start: 0, end: bytes.count, fragment: 0..<0) }
        let newline = bytes.withUnsafeBytes { raw -> Int in
            guard let base = raw.baseAddress, let hit = memchr(base, 0x0A, raw.count) else { return raw.count }
            return base.distance(to: UnsafeRawPointer(hit))
        }
        let start = min(newline + 1, bytes.count)
        return Window(bytes: bytes, start: start, end: bytes.count, fragment: 0..<newline)
    }

    static func contains(_ needle: [UInt8], in bytes: [UInt8], range: Range<Int>) -> Bool {
        guard !range.isEmpty else { return false }
        return bytes.withUnsafeBytes { raw in
            needle.withUnsafeBytes { needleBytes in
                ByteSearch.find(needleBytes, in: raw.baseAddress! + range.lowerBound, length: range.count) != nil
            }
        }
    }

    static func needle(_ key: String) -> [UInt8] {
        Array("\"\(key)\"".utf8)
    }

    /// The value range of the top-level member `key` of the line, reading members until
    /// the line ends or stops being valid (a line cut by the window keeps its first members).
    static func topLevelRange(_ key: String, bytes: [UInt8], line: Range<Int>) -> Range<Int>? {
        var iterator = JSONObjectScanner(bytes, range: line).makeIterator()
        while let member = iterator.next() {
            if member.key == key { return member.valueRange }
        }
        return nil
    }

    static func topLevelString(_ key: String, bytes: [UInt8], line: Range<Int>) -> String? {
        guard let range = topLevelRange(key, bytes: bytes, line: line) else { return nil }
        return try? JSONObjectScanner(bytes, range: line).string(in: range)
    }

    // MARK: Field searches

    /// Calls `body` for each line of the window that contains `needle`, first to last,
    /// until `body` returns `true`. Returns whether it did.
    @discardableResult
    static func forEachLine(containing needle: [UInt8], in window: Window, _ body: (Range<Int>) -> Bool) -> Bool {
        window.bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress, window.end > window.start else { return false }
            return needle.withUnsafeBytes { needleBytes in
                let anchors = ByteSearch.anchors(needleBytes)
                var searchFrom = window.start
                while searchFrom < window.end {
                    guard
                        let hit = ByteSearch.find(
                            needleBytes, anchors: anchors, in: base + searchFrom, length: window.end - searchFrom)
                    else {
                        return false
                    }
                    let position = searchFrom + hit
                    var lineStart = window.start
                    if let previous = ByteSearch.findLast(0x0A, in: base + searchFrom, length: position - searchFrom) {
                        lineStart = searchFrom + previous + 1
                    } else if searchFrom > window.start {
                        lineStart = searchFrom
                    }
                    var lineEnd = window.end
                    if let next = ByteSearch.findFirst(0x0A, in: base + position, length: window.end - position) {
                        lineEnd = position + next
                    }
                    if body(lineStart..<lineEnd) { return true }
                    searchFrom = lineEnd + 1
                }
                return false
            }
        }
    }

    /// Calls `body` for each line of the window that contains `needle`, last to first,
    /// until `body` returns `true`. Returns whether it did.
    @discardableResult
    static func forEachLineBackwards(containing needle: [UInt8], in window: Window, _ body: (Range<Int>) -> Bool)
        -> Bool
    {
        window.bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress, window.end > window.start else { return false }
            return needle.withUnsafeBytes { needleBytes in
                let anchors = ByteSearch.anchors(needleBytes)
                var end = window.end
                while end > window.start {
                    let start =
                        ByteSearch.findLast(0x0A, in: base + window.start, length: end - window.start)
                        .map { window.start + $0 + 1 } ?? window.start
                    if end - start >= needleBytes.count,
                        ByteSearch.find(needleBytes, anchors: anchors, in: base + start, length: end - start) != nil,
                        body(start..<end)
                    {
                        return true
                    }
                    end = start - 1
                }
                return false
            }
        }
    }

    /// The first top-level string `key` in the window (Python: `_extract_json_string_field`).
    static func firstString(_ key: String, in window: Window) -> String? {
        var found: String?
        forEachLine(containing: needle(key), in: window) { line in
            found = topLevelString(key, bytes: window.bytes, line: line)
            return found != nil
        }
        return found
    }

    /// The last top-level string `key` in the window (Python: `_extract_last_json_string_field`).
    static func lastString(_ key: String, in window: Window) -> String? {
        var found: String?
        forEachLineBackwards(containing: needle(key), in: window) { line in
            found = topLevelString(key, bytes: window.bytes, line: line)
            return found != nil
        }
        return found
    }

    /// The last top-level string `key` in the tail. When no whole line has it but the
    /// fragment at the start of the tail mentions it, that line is read whole and checked.
    func lastStringInTail(_ key: String) -> String? {
        let window = tailWindow
        if let value = Self.lastString(key, in: window) { return value }
        return fragmentString(key)
    }

    func fragmentString(_ key: String) -> String? {
        let window = tailWindow
        guard !window.fragment.isEmpty, Self.contains(Self.needle(key), in: window.bytes, range: window.fragment),
            let line = completeTailFragment()
        else { return nil }
        return Self.topLevelString(key, bytes: line, line: 0..<line.count)
    }

    /// Lines that may hold a `customTitle` or `aiTitle` (one search for both).
    static func titleLines(in window: Window) -> [Range<Int>] {
        var lines: [Range<Int>] = []
        forEachLine(containing: Array(#"Title""#.utf8), in: window) { line in
            lines.append(line)
            return false
        }
        return lines
    }

    // MARK: Session info

    /// Whether the first line is a subagent (sidechain) entry.
    var isSidechain: Bool {
        let head = file.head
        let end = head.withUnsafeBytes { raw -> Int in
            guard let hit = memchr(raw.baseAddress!, 0x0A, raw.count) else { return raw.count }
            return raw.baseAddress!.distance(to: UnsafeRawPointer(hit))
        }
        guard let range = Self.topLevelRange("isSidechain", bytes: head, line: 0..<end) else { return false }
        return (try? JSONObjectScanner(head, range: 0..<end).value(in: range)) == .bool(true)
    }

    /// The title: the last custom title, else the last AI title, tail before head.
    var title: String? {
        func last(_ key: String, _ lines: [Range<Int>], _ window: Window) -> String? {
            for line in lines.reversed() {
                if let value = Self.topLevelString(key, bytes: window.bytes, line: line) { return value }
            }
            return nil
        }
        let tailLines = Self.titleLines(in: tailWindow)
        if let custom = nonEmpty(last("customTitle", tailLines, tailWindow) ?? fragmentString("customTitle")) {
            return custom
        }
        // A file that fits in one window has the same head and tail.
        let headLines = file.tailOffset == 0 ? tailLines : Self.titleLines(in: headWindow)
        return nonEmpty(last("customTitle", headLines, headWindow))
            ?? nonEmpty(last("aiTitle", tailLines, tailWindow) ?? fragmentString("aiTitle"))
            ?? nonEmpty(last("aiTitle", headLines, headWindow))
    }

    /// The first prompt the user typed, by the CLI's rules.
    var firstPrompt: String {
        Self.firstPrompt(in: headWindow)
    }

    static func firstPrompt(in window: Window) -> String {
        var commandFallback = ""
        var result: String?
        forEachLine(containing: needle("user"), in: window) { line in
            result = promptCandidate(line: line, window: window, commandFallback: &commandFallback)
            return result != nil
        }
        return result ?? commandFallback
    }

    /// The prompt of one line, or `nil` (remembering a slash command as the fallback).
    static func promptCandidate(line: Range<Int>, window: Window, commandFallback: inout String) -> String? {
        let scanner = JSONObjectScanner(window.bytes, range: line)
        var type: Range<Int>?
        var message: Range<Int>?
        var isMeta: Range<Int>?
        var isCompactSummary: Range<Int>?
        var iterator = scanner.makeIterator()
        while let member = iterator.next() {
            switch member.key {
            case "type": type = member.valueRange
            case "message": message = member.valueRange
            case "isMeta": isMeta = member.valueRange
            case "isCompactSummary": isCompactSummary = member.valueRange
            default: break
            }
        }
        // Only whole, valid lines count, as with Python's json.loads.
        guard iterator.error == nil, let type, (try? scanner.string(in: type)) == "user" else { return nil }
        if let isMeta, (try? scanner.value(in: isMeta)) == .bool(true) { return nil }
        if let isCompactSummary, (try? scanner.value(in: isCompactSummary)) == .bool(true) { return nil }
        guard let message, let value = try? scanner.value(in: message), case .object(let object) = value else {
            return nil
        }
        var texts: [String] = []
        switch object["content"] {
        case .string(let text):
            texts.append(text)
        case .array(let blocks):
            if blocks.contains(where: { $0["type"] == "tool_result" }) { return nil }
            for block in blocks where block["type"] == "text" {
                if case .string(let text)? = block["text"] { texts.append(text) }
            }
        default:
            break
        }
        for text in texts {
            switch TextRules.firstPromptCandidate(text) {
            case .prompt(let prompt): return prompt
            case .command(let name): if commandFallback.isEmpty { commandFallback = name }
            case .skip: break
            }
        }
        return nil
    }

    /// The session's info, or `nil` for a sidechain transcript or one with nothing to show.
    func sessionInfo(sessionID: String, projectPath: String?) -> CLISessionInfo? {
        if isSidechain { return nil }
        let customTitle = title
        let prompt = nonEmpty(firstPrompt)
        guard
            let summary = customTitle ?? nonEmpty(lastStringInTail("lastPrompt")) ?? nonEmpty(
                lastStringInTail("summary"))
                ?? prompt
        else { return nil }
        let gitBranch =
            nonEmpty(lastStringInTail("gitBranch")) ?? nonEmpty(Self.firstString("gitBranch", in: headWindow))
        let cwd = nonEmpty(Self.firstString("cwd", in: headWindow)) ?? nonEmpty(projectPath)
        let createdAt = Self.firstString("timestamp", in: headWindow).flatMap(TextRules.epochMilliseconds(iso:))
        return CLISessionInfo(
            sessionID: sessionID, summary: summary, lastModified: file.modifiedMilliseconds, fileSize: file.size,
            customTitle: customTitle, firstPrompt: prompt, gitBranch: gitBranch, cwd: cwd, tag: tag,
            createdAt: createdAt)
    }

    /// The tag of the last `tag` entry in the tail; an empty tag means none.
    var tag: String? {
        let window = tailWindow
        var found: String?
        Self.forEachLineBackwards(containing: Self.needle("tag"), in: window) { line in
            guard Self.topLevelString("type", bytes: window.bytes, line: line) == "tag" else { return false }
            found = nonEmpty(Self.topLevelString("tag", bytes: window.bytes, line: line))
            return true
        }
        return found
    }

    /// The title a fork derives: custom title, AI title, else the first prompt.
    var derivedForkTitle: String? {
        title ?? nonEmpty(firstPrompt)
    }
}

@inline(__always)
func nonEmpty(_ string: String?) -> String? {
    guard let string, !string.isEmpty else { return nil }
    return string
}

// MARK: - Reading a file's head and tail

/// Reads the tail's cut line at most once, and only when asked.
final class LazyFragment {
    private let load: () -> [UInt8]?
    private var loaded = false
    private var cached: [UInt8]?

    init(_ load: @escaping () -> [UInt8]?) { self.load = load }

    var value: [UInt8]? {
        if !loaded {
            cached = load()
            loaded = true
        }
        return cached
    }
}

enum LiteFileReader {
    /// How far back to look for the start of the line that the tail window cuts.
    static let maximumLineLookBack = 16 << 20

    enum Outcome {
        case info(CLISessionInfo)
        /// Empty, sidechain or nothing to show: skipped silently, as in Python.
        case skipped
        case issue(CLITranscriptIssue)
    }

    /// Reads the head and tail of `path` and extracts its session info.
    static func sessionInfo(path: String, sessionID: String, projectPath: String?) -> Outcome {
        let descriptor: Int32
        do {
            descriptor = try POSIX.openForReading(path)
        } catch {
            return issue(for: error, path: path)
        }
        defer { close(descriptor) }
        var info = stat()
        guard fstat(descriptor, &info) == 0 else {
            return .issue(CLITranscriptIssue(path: path, kind: .unreadable(errno: errno)))
        }
        let status = FileStatus(info)
        if status.isDirectory { return .skipped }
        if !status.isRegularFile { return .issue(CLITranscriptIssue(path: path, kind: .notRegularFile)) }
        let read = { (count: Int, offset: Int) in readArray(descriptor, count: count, offset: offset) }
        guard let sessionInfo = sessionInfo(status: status, sessionID: sessionID, projectPath: projectPath, read: read)
        else { return .skipped }
        return .info(sessionInfo)
    }

    /// The session info of a transcript already read whole (`bytes`, with the `fstat` taken
    /// when it was opened): what ``sessionInfo(path:sessionID:projectPath:)`` reads from its
    /// head and tail, taken from the bytes instead of reading them again.
    static func sessionInfo(bytes: [UInt8], status: FileStatus, sessionID: String, projectPath: String?)
        -> CLISessionInfo?
    {
        sessionInfo(status: status, sessionID: sessionID, projectPath: projectPath) { count, offset in
            offset < bytes.count ? Array(bytes[offset..<min(bytes.count, offset + count)]) : []
        }
    }

    /// The session info of a file of `status` whose bytes `read(count, offset)` gives (up to
    /// `count` bytes at `offset`); `nil` when it is empty or has nothing to show.
    static func sessionInfo(
        status: FileStatus, sessionID: String, projectPath: String?, read: @escaping (Int, Int) -> [UInt8]
    ) -> CLISessionInfo? {
        guard let file = windows(status: status, read: read) else { return nil }
        let fragment = LazyFragment { completeFragment(file: file, read: read) }
        let reader = LiteMetadataReader(file: file) { fragment.value }
        return reader.sessionInfo(sessionID: sessionID, projectPath: projectPath)
    }

    static func issue(for failure: SystemError, path: String) -> Outcome {
        if failure.number == ENOENT {
            if let link = POSIX.linkStatus(path), link.isSymbolicLink {
                return .issue(CLITranscriptIssue(path: path, kind: .danglingSymlink))
            }
            return .skipped  // removed while we listed
        }
        if failure.number == EISDIR { return .skipped }
        return .issue(CLITranscriptIssue(path: path, kind: .unreadable(errno: failure.number)))
    }

    /// The windows of a file of `status` whose bytes `read` gives, or `nil` when it is empty or
    /// unreadable.
    static func windows(status: FileStatus, read: (Int, Int) -> [UInt8]) -> LiteFile? {
        let window = LiteFile.windowSize
        // Like Python, read a whole window even when fstat says the file is shorter.
        let head = read(window, 0)
        guard !head.isEmpty else { return nil }
        let size = Int(status.size)
        let tailOffset = max(0, size - window)
        if tailOffset == 0 {
            return LiteFile(
                head: head, tail: head, tailOffset: 0, tailStartsMidLine: false, size: size,
                modifiedMilliseconds: status.modifiedMilliseconds)
        }
        // One byte more, before the window, says whether the window starts a line.
        let before = read(1, tailOffset - 1)
        let tail = read(window, tailOffset)
        guard !tail.isEmpty else { return nil }
        let startsMidLine = before.first != 0x0A
        return LiteFile(
            head: head, tail: tail, tailOffset: tailOffset, tailStartsMidLine: startsMidLine, size: size,
            modifiedMilliseconds: status.modifiedMilliseconds)
    }

    /// Up to `count` bytes at `offset`, without zero-filling first.
    static func readArray(_ descriptor: Int32, count: Int, offset: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            var total = 0
            while total < count {
                let result = pread(descriptor, buffer.baseAddress! + total, count - total, off_t(offset + total))
                if result < 0 {
                    if errno == EINTR { continue }
                    break
                }
                if result == 0 { break }
                total += result
            }
            initialized = total
        }
    }

    /// The whole line whose end is the fragment at the start of the tail window, from the
    /// file's bytes as `read(count, offset)` gives them.
    static func completeFragment(file: LiteFile, read: (Int, Int) -> [UInt8]) -> [UInt8]? {
        let fragmentEnd = file.tail.firstIndex(of: 0x0A) ?? file.tail.count
        var lineStart = 0
        var searchEnd = file.tailOffset
        while searchEnd > 0 {
            if file.tailOffset - searchEnd > maximumLineLookBack { return nil }
            let chunkStart = max(0, searchEnd - LiteFile.windowSize)
            let chunk = read(searchEnd - chunkStart, chunkStart)
            guard chunk.count == searchEnd - chunkStart else { return nil }
            if let newline = chunk.lastIndex(of: 0x0A) {
                lineStart = chunkStart + newline + 1
                break
            }
            searchEnd = chunkStart
        }
        let before = file.tailOffset - lineStart
        var line = before > 0 ? read(before, lineStart) : []
        guard line.count == before else { return nil }
        line.append(contentsOf: file.tail[0..<fragmentEnd])
        return line
    }
}
