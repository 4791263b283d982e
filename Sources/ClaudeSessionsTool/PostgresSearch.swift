import ClaudeCode
import ClaudeCodeSessions
import ClaudeCodeSessionsPostgres
import Foundation

// `search --store postgres://…`: the store's full-text index (PostgresSessionStore.searchSessions)
// instead of loading and scanning every session.

extension SearchCommand {
    /// The PostgreSQL store behind `backend`, when `search` can use its full-text index.
    static func postgresStore(_ backend: any SessionBackend) -> PostgresSessionStore? {
        (backend as? StoreBackend)?.store as? PostgresSessionStore
    }

    /// Every match of the store's full-text search (all pages, or the first `limit`), with the
    /// titles and projects of a listing.
    func postgresSearch(_ text: String, store: PostgresSessionStore, backend: any SessionBackend) async throws
        -> [SessionSearch.Hit]
    {
        let projectKeys = project.map { [ClaudeSessionLibrary.projectFolderName(for: expandTilde($0))] }
        var matches: [PostgresSessionStore.SearchMatch] = []
        var ignored: [String] = []
        let pageSize = min(limit ?? 200, 200)
        do {
            while true {
                let page = try await store.searchSessions(
                    text, projectKeys: projectKeys, limit: pageSize, offset: matches.count)
                ignored = page.ignoredTerms
                matches += page.matches
                if !page.hasMore || (limit.map { matches.count >= $0 } ?? false) { break }
            }
        } catch {
            if error.code == .backendUnavailable {
                throw ToolError(ExitStatus.failure, "cannot reach \(backend.label): \(error); is the server running?")
            }
            throw ToolError(ExitStatus.failure, "cannot search \(backend.label): \(error)")
        }
        if let limit { matches = Array(matches.prefix(limit)) }
        if !ignored.isEmpty {
            Terminal.warn(
                "left out of the search (only words PostgreSQL's text search ignores): "
                    + ignored.joined(separator: ", "))
        }
        guard !matches.isEmpty else { return [] }
        let listing = try await backend.list(project: project.map(expandTilde))
        var byID: [String: ListedSession] = [:]
        for session in listing.sessions { byID[session.id] = session }
        return matches.map { match in
            let session = byID[match.sessionID]
            return SessionSearch.Hit(
                sessionID: match.sessionID, title: session?.title ?? match.sessionID, projectPath: session?.project,
                lastActivity: session?.lastActivity ?? match.lastModified,
                score: (match.score * 1000).rounded() / 1000,
                matchCount: match.snippets.reduce(0) { $0 + $1.parts.filter(\.match).count },
                snippets: match.snippets)
        }
    }
}
