import ClaudeCode

#if canImport(FoundationEssentials)
    import FoundationEssentials
#else
    import Foundation
#endif
#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reads a range of a file line by line through a bounded buffer (about 1 MiB plus the
/// longest line), so the memory it needs does not depend on the file's size.
struct ChunkedLineReader {
    static let chunkSize = 1 << 20
    let fd: Int32
    let end: Int64
    private var buffer: [UInt8] = []
    private var start = 0
    private var scanned = 0
    /// File offset of `buffer[0]`.
    private var bufferOffset: Int64

    init(fd: Int32, from offset: Int64, to end: Int64) {
        self.fd = fd
        self.end = end
        self.bufferOffset = offset
    }

    /// The file offset of the next line.
    var position: Int64 { bufferOffset + Int64(start) }

    /// The next line without its line feed; `terminated` is false for a last line cut short.
    mutating func next() throws(SystemError) -> (line: [UInt8], terminated: Bool)? {
        while true {
            if let newline = buffer[scanned...].firstIndex(of: 0x0A) {
                let line = Array(buffer[start..<newline])
                start = newline + 1
                scanned = start
                return (line, true)
            }
            scanned = buffer.count
            let filePosition = bufferOffset + Int64(buffer.count)
            if filePosition >= end {
                guard start < buffer.count else { return nil }
                let line = Array(buffer[start...])
                start = buffer.count
                scanned = start
                return (line, false)
            }
            if start > 0 {
                buffer.removeFirst(start)
                bufferOffset += Int64(start)
                scanned -= start
                start = 0
            }
            let more = try POSIX.read(
                fd, offset: filePosition, count: Int(min(Int64(Self.chunkSize), end - filePosition)))
            if more.isEmpty {
                // The file is shorter than expected: treat what is left as the end.
                guard start < buffer.count else { return nil }
                let line = Array(buffer[start...])
                start = buffer.count
                scanned = start
                return (line, false)
            }
            buffer.append(contentsOf: more)
        }
    }
}

/// What a fold starts from, captured under the session lock: the journal's identity and the
/// end offset folded up to, the snapshot it folds into (open, so a rename cannot change it), and
/// descriptors the fold owns.
struct FoldStart: Sendable {
    let directory: DirectoryHandle
    /// A duplicate of the journal's descriptor, owned by the fold.
    let journalFD: Int32
    let journalDevice: UInt64
    let journalInode: UInt64
    /// The journal's size when the fold started: records before it are folded, records after
    /// it move to the new journal.
    let end: Int64
    /// The snapshot, open read-only, owned by the fold; -1 when there is none.
    let snapshotFD: Int32
    let snapshotInode: UInt64?
    let snapshotSize: Int64
    let metadata: SessionMetadata
    let sync: Bool

    func closeFiles() {
        POSIX.closeQuietly(journalFD)
        POSIX.closeQuietly(snapshotFD)
    }
}

/// A folded snapshot written to a temporary file, not yet renamed.
struct FoldOutput: Sendable {
    let temporaryName: String
    let messageCount: Int64
    let size: Int64
    let metadata: SessionMetadata
    /// Undecodable journal lines (normally none), for the quarantine file.
    let badLines: [[UInt8]]
}

/// Folds a journal into a snapshot by streaming: the old snapshot's `conversation_history`
/// entries are copied as bytes, line by line, and the journal's records re-encoded one at a
/// time, so memory stays bounded (about 3 MiB plus the longest frame) whatever the session's
/// size. No session lock is held: the inputs are immutable (the snapshot is only ever replaced
/// by rename and is held open; the journal is append-only below `end`).
enum StreamingFold {
    private static let historyOpen = Array(#"  "conversation_history": ["#.utf8)
    private static let historyEmpty = Array(#"  "conversation_history": []"#.utf8)
    private static let entryIndent = Array("    {".utf8)
    private static let flushThreshold = 1 << 20

    /// Writes the folded snapshot to a temporary file (and `fsync`s it when `start.sync`).
    ///
    /// - Returns: `nil` when the snapshot is not in the layout this store writes (a file of the
    ///   Python original, or one reformatted by hand): the caller then folds in memory.
    /// - Throws: ``SessionStoreError`` for I/O failures, a damaged snapshot or a journal of
    ///   another session or a newer format. The temporary file is removed.
    static func write(_ start: FoldStart, id: SessionID, root: StoreRoot) throws(SessionStoreError) -> FoldOutput? {
        guard start.snapshotFD >= 0 else { return nil }
        let snapshotPath = root.filePath(id.snapshotFileName)
        let journalPath = root.filePath(id.journalFileName)
        func ioFailure(_ error: SystemError, _ path: String) -> SessionStoreError {
            SessionStoreError(.ioFailure, path: path, sessionID: id, systemErrorNumber: error.number)
        }
        // 1. The snapshot's summary fields, up to its history.
        var snapshot = ChunkedLineReader(fd: start.snapshotFD, from: 0, to: start.snapshotSize)
        var header: [UInt8] = []
        var emptyHistory = false
        do throws(SystemError) {
            guard let first = try snapshot.next(), first.line == Array("{".utf8) else { return nil }
            header = first.line
            while true {
                guard let next = try snapshot.next(), next.terminated else { return nil }
                header.append(0x0A)
                header.append(contentsOf: next.line)
                if next.line == historyOpen { break }
                if next.line == historyEmpty {
                    emptyHistory = true
                    break
                }
                if header.count > 16 << 20 { return nil }
            }
        } catch {
            throw ioFailure(error, snapshotPath)
        }
        header.append(contentsOf: Array((emptyHistory ? "\n}" : "]\n}").utf8))
        let (base, declaredCount) = try SessionFileCodec.decodeSnapshot(
            header, expectedID: id, path: snapshotPath, headerOnly: true)
        guard base.schemaVersion == SessionData.currentSchemaVersion, let snapshotCount = declaredCount else {
            return nil
        }

        // 2. First pass over the journal: how many records are new, the metadata, the bad lines.
        var expected = snapshotCount
        var lastActivity = base.lastActivity
        var workingDirectory = base.workingDirectory
        var options = base.options
        var title = base.title
        var tag = base.tag
        var badLines: [[UInt8]] = []
        do {
            var journal = ChunkedLineReader(fd: start.journalFD, from: 0, to: start.end)
            while let (line, terminated) = try journal.next() {
                if line.isEmpty { continue }
                guard terminated else {
                    badLines.append(line)
                    continue
                }
                switch SessionFileCodec.decodeLine(line, range: 0..<line.count) {
                case .header(let version, let sessionID, _):
                    if version > SessionFileCodec.journalFormatVersion {
                        throw SessionStoreError(
                            .schemaTooNew, path: journalPath, sessionID: id,
                            reason: "journal format \(version) is newer than \(SessionFileCodec.journalFormatVersion)")
                    }
                    if sessionID != id.rawValue {
                        throw SessionStoreError(
                            .damagedFile, path: journalPath, sessionID: id,
                            reason: "journal header names another session")
                    }
                case .line(.message(let seq, let message)):
                    if seq < expected { continue }
                    expected += 1
                    if message.timestamp > lastActivity { lastActivity = message.timestamp }
                case .line(.meta(let update, let timestamp)):
                    if let directory = update.workingDirectory { workingDirectory = directory }
                    if let newOptions = update.options { options = newOptions }
                    if let newTitle = update.title { title = newTitle }
                    if let newTag = update.tag { tag = newTag }
                    if update.isActivity, timestamp > lastActivity { lastActivity = timestamp }
                case nil:
                    badLines.append(line)
                }
            }
        } catch let error as SystemError {
            throw ioFailure(error, journalPath)
        } catch {
            throw error as! SessionStoreError
        }
        let messageCount = expected

        // 3. The new snapshot: summary, the old entries as bytes, then the journal's records.
        let temporary = "." + id.snapshotFileName + ".tmp-" + POSIX.randomSuffix()
        let fd: Int32
        do {
            fd = try POSIX.openAt(
                start.directory.fd, temporary, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW)
            try POSIX.setMode(fd, POSIX.fileMode)
        } catch {
            throw ioFailure(error, root.filePath(temporary))
        }
        var finished = false
        defer {
            POSIX.closeQuietly(fd)
            if !finished { _ = try? POSIX.unlink(start.directory.fd, temporary) }
        }
        var size: Int64 = 0
        var writer = SessionFileCodec.writer(capacity: flushThreshold + 64 * 1024)
        func flush(_ force: Bool) throws(SessionStoreError) {
            guard force || writer.bytes.count >= flushThreshold else { return }
            do { try POSIX.writeAll(fd, writer.bytes) } catch { throw ioFailure(error, snapshotPath) }
            size += Int64(writer.bytes.count)
            writer = SessionFileCodec.writer(capacity: flushThreshold + 64 * 1024)
        }
        writer.writeRaw("{\n  \"schema_version\": ")
        writer.writeInteger(Int64(SessionData.currentSchemaVersion))
        writer.writeRaw(",\n  \"session_id\": ")
        writer.writeString(id.rawValue)
        writer.writeRaw(",\n  \"start_time\": ")
        writer.writeString(StoreTimestamp.format(base.startTime))
        writer.writeRaw(",\n  \"last_activity\": ")
        writer.writeString(StoreTimestamp.format(lastActivity))
        writer.writeRaw(",\n  \"working_directory\": ")
        writer.writeString(workingDirectory)
        writer.writeRaw(",\n  \"options\": ")
        writer.writeObject(options)
        SessionFileCodec.appendLabels(title: title, tag: tag, to: &writer)
        writer.writeRaw(",\n  \"message_count\": ")
        writer.writeInteger(messageCount)
        writer.writeRaw(",\n  \"conversation_history\": [")
        var written: Int64 = 0
        if !emptyHistory {
            var closed = false
            do {
                while let (line, terminated) = try snapshot.next() {
                    if line == Array("  ]".utf8) {
                        closed = true
                        break
                    }
                    guard terminated, line.count > entryIndent.count + 1, line.starts(with: entryIndent) else {
                        throw SessionStoreError(
                            .damagedFile, path: snapshotPath, sessionID: id,
                            reason: "unexpected line in conversation_history at byte \(snapshot.position)")
                    }
                    var entryEnd = line.count
                    if line[entryEnd - 1] == UInt8(ascii: ",") { entryEnd -= 1 }
                    writer.writeRaw(written == 0 ? "\n    " : ",\n    ")
                    writer.writeRaw(Array(line[4..<entryEnd]))
                    written += 1
                    try flush(false)
                }
            } catch let error as SystemError {
                throw ioFailure(error, snapshotPath)
            } catch {
                throw error as! SessionStoreError
            }
            guard closed else {
                throw SessionStoreError(
                    .damagedFile, path: snapshotPath, sessionID: id, reason: "conversation_history is not closed")
            }
        }
        guard written == snapshotCount else {
            throw SessionStoreError(
                .damagedFile, path: snapshotPath, sessionID: id,
                reason: "message_count does not match conversation_history")
        }
        expected = snapshotCount
        do {
            var journal = ChunkedLineReader(fd: start.journalFD, from: 0, to: start.end)
            while let (line, terminated) = try journal.next() {
                guard terminated, !line.isEmpty else { continue }
                guard
                    case .line(.message(let seq, let message)) = SessionFileCodec.decodeLine(
                        line, range: 0..<line.count)
                else { continue }
                if seq < expected { continue }
                expected += 1
                writer.writeRaw(written == 0 ? "\n    {" : ",\n    {")
                SessionFileCodec.appendEntryBody(message, to: &writer)
                written += 1
                try flush(false)
            }
        } catch let error as SystemError {
            throw ioFailure(error, journalPath)
        } catch {
            throw error as! SessionStoreError
        }
        writer.writeRaw(written == 0 ? "]\n}\n" : "\n  ]\n}\n")
        try flush(true)
        if start.sync {
            do { try POSIX.sync(fd) } catch { throw ioFailure(error, snapshotPath) }
        }
        finished = true
        return FoldOutput(
            temporaryName: temporary, messageCount: messageCount, size: size,
            metadata: SessionMetadata(
                startTime: base.startTime, workingDirectory: workingDirectory, options: options),
            badLines: badLines)
    }

    /// Writes the next journal to a temporary file: its header, then the records appended to the
    /// old journal since the fold started (`start.end` up to its current end), `fsync`ed when
    /// `start.sync`. Returns its name, its open descriptor (`O_APPEND`), and the old journal's
    /// offset copied through.
    static func writeNextJournal(_ start: FoldStart, baseSeq: Int64, id: SessionID, root: StoreRoot)
        throws(SessionStoreError) -> (name: String, fd: Int32, copiedThrough: Int64)
    {
        let temporary = "." + id.journalFileName + ".tmp-" + POSIX.randomSuffix()
        let fd: Int32
        do {
            fd = try POSIX.openAt(
                start.directory.fd, temporary, O_RDWR | O_APPEND | O_CREAT | O_EXCL | O_NOFOLLOW)
        } catch {
            throw SessionStoreError(
                .ioFailure, path: root.filePath(temporary), sessionID: id, systemErrorNumber: error.number)
        }
        do throws(SystemError) {
            try POSIX.setMode(fd, POSIX.fileMode)
            try POSIX.writeAll(fd, SessionFileCodec.journalHeader(sessionID: id, baseSeq: baseSeq, created: Date()))
            let through = try copy(from: start.journalFD, start.end, into: fd)
            if start.sync { try POSIX.syncData(fd) }
            return (temporary, fd, through)
        } catch {
            POSIX.closeQuietly(fd)
            _ = try? POSIX.unlink(start.directory.fd, temporary)
            throw SessionStoreError(
                .ioFailure, path: root.filePath(id.journalFileName), sessionID: id, systemErrorNumber: error.number)
        }
    }

    /// Copies `source` from `offset` to its current end into `destination`, in bounded chunks.
    /// Returns the offset copied through.
    static func copy(from source: Int32, _ offset: Int64, into destination: Int32) throws(SystemError) -> Int64 {
        var position = offset
        while true {
            let bytes = try POSIX.read(source, offset: position, count: ChunkedLineReader.chunkSize)
            if bytes.isEmpty { return position }
            try POSIX.writeAll(destination, bytes)
            position += Int64(bytes.count)
        }
    }
}
