import ClaudeCode
import ClaudeCodeSessions
import Foundation

/// `StoreSessionLibrary`'s mutations on an id the store does not have: each throws
/// `CLITranscriptError.sessionNotFound` (as `ClaudeSessionLibrary` does on disk), writes nothing,
/// and the listing stays as it was; the same calls on a known session still work.
public func checkMutationsOfUnknownSessions(_ store: any SessionStore) async throws {
    let projectKey = uniqueName("p")
    let library = StoreSessionLibrary(store: store, projectKey: projectKey)
    let known = UUID().uuidString.lowercased()
    try await store.append(
        [
            entry(
                type: "user", uuid: UUID().uuidString.lowercased(),
                #""sessionId":"\#(known)","timestamp":"2024-01-01T00:00:00Z","message":{"role":"user","content":"hello"}"#
            )
        ], to: SessionStoreKey(projectKey: projectKey, sessionID: known))
    let catalog = store as? any SessionCatalog
    if catalog != nil {
        try await checkEqual(try await library.listSessions().map(\.sessionID), [known], "the known session is listed")
    }

    let unknown = UUID().uuidString.lowercased()
    let calls: [(String, @Sendable () async throws -> Void)] = [
        ("rename", { try await library.rename(sessionID: unknown, title: "phantom") }),
        ("tag", { try await library.tag(sessionID: unknown, tag: "phantom") }),
        ("clear tag", { try await library.tag(sessionID: unknown, tag: nil) }),
        ("delete", { try await library.delete(sessionID: unknown) }),
    ]
    for (name, call) in calls {
        do {
            try await call()
            throw ContractFailure("\(name) of an unknown session did not throw")
        } catch let error as CLITranscriptError {
            try await check(error.code == .sessionNotFound, "\(name): threw \(error), expected sessionNotFound")
            try await check(error.subject == unknown, "\(name): the error names the session")
        }
    }
    let unknownKey = SessionStoreKey(projectKey: projectKey, sessionID: unknown)
    try await check(try await store.load(unknownKey) == nil, "no transcript was created for the unknown session")
    if let catalog {
        try await checkEqual(try await library.listSessions().map(\.sessionID), [known], "no phantom session is listed")
        try await checkEqual(
            try await catalog.listSessions(projectKey: projectKey).map(\.sessionID), [known],
            "the catalog lists no phantom key")
    }

    // The known session: the same calls work.
    try await library.rename(sessionID: known, title: "Known")
    try await library.tag(sessionID: known, tag: "kept")
    let info = try await library.sessionInfo(id: known)
    try await checkEqual(info?.customTitle, "Known", "the known session is renamed")
    try await checkEqual(info?.tag, "kept", "the known session is tagged")
    if catalog != nil {
        try await library.delete(sessionID: known)
        try await checkEqual(try await library.listSessions().map(\.sessionID), [], "the known session is deleted")
        do {
            try await library.delete(sessionID: known)
            throw ContractFailure("deleting a session twice did not throw")
        } catch let error as CLITranscriptError {
            try await check(error.code == .sessionNotFound, "a second delete: threw \(error)")
        }
    }
}
