import ClaudeCode

/// Metadata of one session the CLI stored on disk, read from the head and tail of its
/// transcript without parsing the whole file.
///
/// The fields match the Python SDK's `SDKSessionInfo`.
public struct CLISessionInfo: Sendable, Hashable {
    /// The session id (the transcript's file name without `.jsonl`).
    public var sessionID: String
    /// What to show for the session: the custom or AI title, else the last prompt, else
    /// the last `summary` entry, else the first prompt.
    public var summary: String
    /// The transcript's modification time, in milliseconds since 1970.
    public var lastModified: Int
    /// The transcript's size in bytes.
    public var fileSize: Int?
    /// The title set by `rename` (or `/rename`), else the title the CLI generated.
    public var customTitle: String?
    /// The first prompt the user typed, flattened to one line and cut to 200 characters.
    public var firstPrompt: String?
    /// The git branch at the end of the session, else at its start.
    public var gitBranch: String?
    /// The working directory of the session.
    public var cwd: String?
    /// The tag set by `tag`, if any.
    public var tag: String?
    /// When the session started, in milliseconds since 1970, from its first timestamp.
    public var createdAt: Int?

    /// Creates session metadata.
    public init(
        sessionID: String, summary: String, lastModified: Int, fileSize: Int? = nil, customTitle: String? = nil,
        firstPrompt: String? = nil, gitBranch: String? = nil, cwd: String? = nil, tag: String? = nil,
        createdAt: Int? = nil
    ) {
        self.sessionID = sessionID
        self.summary = summary
        self.lastModified = lastModified
        self.fileSize = fileSize
        self.customTitle = customTitle
        self.firstPrompt = firstPrompt
        self.gitBranch = gitBranch
        self.cwd = cwd
        self.tag = tag
        self.createdAt = createdAt
    }
}

/// One user or assistant message of a stored conversation, as rebuilt from the transcript.
///
/// The fields match the Python SDK's `SessionMessage`.
///
/// Messages read from a transcript keep their `message` as JSON text, not as a tree:
/// ``message`` parses it each time it is read (and ``content`` parses only its `content`),
/// so reading a long conversation costs about the transcript's size in memory however many
/// messages it has. Keep the value you get when you read it more than once. The messages of
/// one read share one buffer of the transcript's text, which lives as long as any of them.
public struct CLISessionMessage: Sendable, Hashable {
    /// Whether the user or the assistant wrote the message.
    public enum Kind: String, Sendable, Hashable {
        case user
        case assistant
    }

    /// Whether the user or the assistant wrote the message.
    public var type: Kind
    /// The transcript entry's `uuid`.
    public var uuid: String {
        get { uuidKey.string }
        set { uuidKey = UUIDKey(newValue) }
    }
    /// The `uuid`, packed (128 bits for a canonical UUID) rather than a string per message.
    var uuidKey: UUIDKey
    /// The entry's `sessionId`.
    public var sessionID: String
    /// For subagent messages: the id of the `Agent` tool call that started the subagent.
    public var parentToolUseID: String?
    /// For messages of a nested subagent: the id of the subagent that started it.
    public var parentAgentID: String?
    /// The `message` value, or its text in a transcript buffer.
    var body: Body

    /// The Messages API message (`role`, `content`, …), or `null` when the entry had none.
    ///
    /// A message read from a transcript is parsed from its JSON text on each access.
    public var message: JSONValue {
        get { body.value }
        set { body = .value(newValue) }
    }

    /// The message's `content` (a string or an array of content blocks), or `nil` when the
    /// message is not an object or has no `content`.
    ///
    /// Equal to `message["content"]`, but a message read from a transcript parses only this
    /// member, not the usage, model and other members next to it.
    public var content: JSONValue? {
        switch body {
        case .value(let value):
            return value["content"]
        case .text(let buffer, let range):
            return buffer.member(named: "content", in: range)
        }
    }

    /// Creates a message.
    public init(
        type: Kind, uuid: String, sessionID: String, message: JSONValue, parentToolUseID: String? = nil,
        parentAgentID: String? = nil
    ) {
        self.init(
            type: type, uuid: UUIDKey(uuid), sessionID: sessionID, body: .value(message),
            parentToolUseID: parentToolUseID, parentAgentID: parentAgentID)
    }

    init(
        type: Kind, uuid: UUIDKey, sessionID: String, body: Body, parentToolUseID: String?, parentAgentID: String?
    ) {
        self.type = type
        self.uuidKey = uuid
        self.sessionID = sessionID
        self.body = body
        self.parentToolUseID = parentToolUseID
        self.parentAgentID = parentAgentID
    }

    /// Where the `message` value is: built, or as text in a shared buffer.
    enum Body: Sendable {
        case value(JSONValue)
        /// The JSON text of the value, at `range` in the buffer (checked when the line was read).
        case text(TranscriptBuffer, Range<Int>)

        var value: JSONValue {
            switch self {
            case .value(let value): value
            case .text(let buffer, let range): buffer.value(in: range)
            }
        }
    }

    public static func == (left: Self, right: Self) -> Bool {
        guard left.type == right.type, left.uuidKey == right.uuidKey, left.sessionID == right.sessionID,
            left.parentToolUseID == right.parentToolUseID, left.parentAgentID == right.parentAgentID
        else { return false }
        if case .text(let leftBuffer, let leftRange) = left.body,
            case .text(let rightBuffer, let rightRange) = right.body,
            leftBuffer === rightBuffer, leftRange == rightRange
        {
            return true
        }
        return left.message == right.message
    }

    public func hash(into hasher: inout Hasher) {
        hasher.combine(type)
        hasher.combine(uuidKey)
        hasher.combine(sessionID)
        hasher.combine(parentToolUseID)
        hasher.combine(parentAgentID)
        hasher.combine(message)
    }
}

/// The text of one transcript read, shared by the messages it returned (immutable).
final class TranscriptBuffer: Sendable {
    let bytes: [UInt8]

    init(_ bytes: [UInt8]) { self.bytes = bytes }

    /// The JSON value in `range`, or `null` when it cannot be parsed (the reader checked it already).
    func value(in range: Range<Int>) -> JSONValue {
        guard !range.isEmpty, range.upperBound <= bytes.count else { return .null }
        return bytes.withUnsafeBytes { raw in
            (try? JSONValue.parse(UnsafeRawBufferPointer(rebasing: raw[range]))) ?? .null
        }
    }

    /// The value of the member named `key` (the last one, as in a parsed object), when `range`
    /// holds an object that has it.
    func member(named key: String, in range: Range<Int>) -> JSONValue? {
        guard !range.isEmpty, range.upperBound <= bytes.count, bytes[range.lowerBound] == 0x7B else { return nil }
        return (try? JSONObjectScanner(bytes, range: range).value(forKey: key)) ?? nil
    }
}

/// Something that went wrong with one file or line while reading transcripts. Problems
/// are reported, never fatal: the rest of the data is still returned.
public struct CLITranscriptIssue: Sendable, Hashable, CustomStringConvertible {
    /// What kind of problem it was.
    public enum Kind: Sendable, Hashable {
        /// The file or folder exists but could not be read; `errno` says why.
        case unreadable(errno: Int32)
        /// A symbolic link points to nothing.
        case danglingSymlink
        /// The path is a FIFO, socket or device rather than a file.
        case notRegularFile
        /// Lines that are not complete JSON objects were skipped.
        case corruptLines(count: Int)
    }

    /// The file or folder concerned.
    public var path: String
    /// What went wrong.
    public var kind: Kind

    /// Creates an issue.
    public init(path: String, kind: Kind) {
        self.path = path
        self.kind = kind
    }

    public var description: String {
        switch kind {
        case .unreadable(let code): "\(path): unreadable (errno \(code))"
        case .danglingSymlink: "\(path): dangling symbolic link"
        case .notRegularFile: "\(path): not a regular file"
        case .corruptLines(let count): "\(path): \(count) corrupt line(s) skipped"
        }
    }
}

/// The result of ``ClaudeSessionLibrary/scanSessions(directory:limit:offset:includeWorktrees:)``:
/// the sessions plus the files that could not be read.
public struct CLISessionScan: Sendable, Hashable {
    /// The sessions, newest first.
    public var sessions: [CLISessionInfo]
    /// Files and folders that could not be read.
    public var issues: [CLITranscriptIssue]

    /// Creates a scan result.
    public init(sessions: [CLISessionInfo], issues: [CLITranscriptIssue]) {
        self.sessions = sessions
        self.issues = issues
    }
}

/// The result of ``ClaudeSessionLibrary/transcript(sessionID:directory:limit:offset:)``:
/// a page of messages plus what the reader had to skip.
public struct CLISessionTranscript: Sendable, Hashable {
    /// The requested page of messages, oldest first.
    public var messages: [CLISessionMessage]
    /// How many messages the whole conversation has, before paging.
    public var totalMessageCount: Int
    /// The transcript file that was read, or `nil` when the session was not found.
    public var path: String?
    /// Lines that were not complete JSON objects and were skipped (for example a line
    /// cut short by a crash).
    public var corruptLineCount: Int

    /// Creates a transcript page.
    public init(messages: [CLISessionMessage], totalMessageCount: Int, path: String?, corruptLineCount: Int) {
        self.messages = messages
        self.totalMessageCount = totalMessageCount
        self.path = path
        self.corruptLineCount = corruptLineCount
    }
}

/// The result of ``ClaudeSessionLibrary/fork(sessionID:directory:upToMessageID:title:)``.
public struct CLIForkResult: Sendable, Hashable {
    /// The new session's id.
    public var sessionID: String
    /// The new transcript file.
    public var path: String

    /// Creates a fork result.
    public init(sessionID: String, path: String) {
        self.sessionID = sessionID
        self.path = path
    }
}

/// Why a transcript operation failed.
///
/// The description names the operation's subject (a session id, a path) but never
/// transcript content.
public struct CLITranscriptError: Error, Sendable, Hashable, CustomStringConvertible {
    /// The kind of failure.
    public enum Code: Sendable, Hashable {
        /// The session id is not a UUID.
        case invalidSessionID
        /// The message id given as a cut point is not a UUID.
        case invalidMessageID
        /// The title is empty after trimming whitespace.
        case emptyTitle
        /// The tag is empty after sanitizing and trimming.
        case emptyTag
        /// No non-empty transcript for the session was found.
        case sessionNotFound
        /// The cut point is not a message of the session.
        case messageNotFound
        /// The session has no messages that can be forked.
        case nothingToFork
        /// A system call failed.
        case fileSystem(errno: Int32)
    }

    /// The kind of failure.
    public var code: Code
    /// The session, message or path concerned.
    public var subject: String

    /// Creates an error.
    public init(_ code: Code, subject: String) {
        self.code = code
        self.subject = subject
    }

    public var description: String {
        switch code {
        case .invalidSessionID: "invalid session id: \(subject)"
        case .invalidMessageID: "invalid message id: \(subject)"
        case .emptyTitle: "the title is empty"
        case .emptyTag: "the tag is empty (use nil to clear it)"
        case .sessionNotFound: "session \(subject) not found"
        case .messageNotFound: "message \(subject) not found in the session"
        case .nothingToFork: "session \(subject) has no messages to fork"
        case .fileSystem(let code): "\(subject): \(String(cString: strerror(code)))"
        }
    }
}

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif
