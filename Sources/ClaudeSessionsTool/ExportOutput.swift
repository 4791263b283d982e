import ClaudeCode
import ClaudeCodeSessions
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

// Writing exports as they render (`export`), and finding a session by its full id without
// listing every session first.

/// Writes `export` to `path` as it renders: into a new file beside it, renamed over `path` once
/// complete (a failed or interrupted export leaves `path` as it was).
func writeExport(_ export: SessionExport, as format: SessionExportFormat, to path: String) throws(ToolError) {
    let failure = ToolError(ExitStatus.failure, "cannot write \(path); check that its folder exists and is writable")
    let url = URL(fileURLWithPath: path)
    let folder = url.deletingLastPathComponent().path
    let temporary = folder + "/." + url.lastPathComponent + ".\(getpid()).\(UInt32.random(in: 0...UInt32.max)).tmp"
    let descriptor = open(temporary, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0o666)
    guard descriptor >= 0 else { throw failure }
    var written = true
    do throws(ToolError) {
        try SessionExporter.render(export, as: format) { (chunk) throws(ToolError) in
            guard writeAll(descriptor, chunk) else { throw failure }
        }
    } catch {
        written = false
    }
    if close(descriptor) != 0 { written = false }
    guard written, rename(temporary, path) == 0 else {
        unlink(temporary)
        throw failure
    }
}

/// Writes `export` to standard output as it renders.
func writeExportToStandardOutput(_ export: SessionExport, as format: SessionExportFormat) throws(ToolError) {
    let failure = ToolError(ExitStatus.failure, "cannot write to standard output")
    try SessionExporter.render(export, as: format) { (chunk) throws(ToolError) in
        guard writeAll(STDOUT_FILENO, chunk) else { throw failure }
    }
    if format == .json, !writeAll(STDOUT_FILENO, [0x0A]) { throw failure }
}

private func writeAll(_ descriptor: Int32, _ bytes: [UInt8]) -> Bool {
    bytes.withUnsafeBytes { writeAll(descriptor, $0) }
}

private func writeAll(_ descriptor: Int32, _ bytes: UnsafeRawBufferPointer) -> Bool {
    guard var address = bytes.baseAddress else { return true }
    var remaining = bytes.count
    while remaining > 0 {
        let count = write(descriptor, address, remaining)
        if count < 0 {
            if errno == EINTR { continue }
            return false
        }
        remaining -= count
        address += count
    }
    return true
}

extension SessionBackend {
    /// The session with exactly this id, found without listing every session; `nil` when the
    /// backend cannot look one up directly (the caller lists instead).
    func lookup(id: String) async -> ListedSession? {
        guard let cli = self as? CLIBackend else { return nil }
        return await cli.lookupSession(id: id)
    }
}

extension CLIBackend {
    func lookupSession(id: String) async -> ListedSession? {
        let wanted = id.lowercased()
        guard wanted.utf8.count == 36, UUID(uuidString: wanted) != nil,
            let info = try? await library.sessionInfo(id: wanted)
        else { return nil }
        return ListedSession(
            id: info.sessionID, title: info.customTitle ?? info.firstPrompt ?? info.summary, project: info.cwd,
            lastActivity: Date(timeIntervalSince1970: Double(info.lastModified) / 1000), tag: info.tag,
            fingerprint: "\(info.lastModified)-\(info.fileSize ?? 0)")
    }
}

/// The sessions named by full ids, each looked up directly; `nil` unless every id is a full id
/// the backend finds that way.
func lookupAll(_ ids: [String], backend: any SessionBackend) async -> [ListedSession]? {
    var sessions: [ListedSession] = []
    for id in ids {
        guard let session = await backend.lookup(id: id) else { return nil }
        if !sessions.contains(where: { $0.id == session.id }) { sessions.append(session) }
    }
    return sessions
}

/// `rename` and `tag` of a record: its title or tag set through the record store.
func setRecordLabel(
    _ store: any SessionRecordStore, session: ListedSession, title: String? = nil, tag: String?? = nil
) async throws(ToolError) {
    guard let id = SessionID(rawValue: session.id) else {
        throw ToolError(ExitStatus.usage, "invalid session id: \(session.id)")
    }
    if let title, title.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
        throw ToolError(ExitStatus.usage, "the title is empty; give a title")
    }
    if let tag, let value = tag, value.trimmingCharacters(in: .whitespacesAndNewlines).isEmpty {
        throw ToolError(ExitStatus.usage, "the tag is empty; give a tag, or --clear")
    }
    do {
        if let title { try await store.setRecordTitle(id, title: title) }
        if let tag { try await store.setRecordTag(id, tag: tag) }
    } catch {
        throw transcriptFailure(error, id: session.id)
    }
}

/// A `list` row's title cell: `[tag] title` when the session has a tag.
func taggedTitle(_ row: ListRow) -> String {
    guard let tag = row.tag, !tag.isEmpty else { return row.title }
    return "[\(tag)] \(row.title)"
}
