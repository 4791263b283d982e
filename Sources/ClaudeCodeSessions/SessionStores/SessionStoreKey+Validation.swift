extension SessionStoreKey {
    /// The longest project key, session id or subpath a key may have, in UTF-8 bytes.
    public static let maximumComponentLength = 1024

    /// The key of the main transcript of this key's session (the key itself when it has no subpath).
    public var mainKey: SessionStoreKey { SessionStoreKey(projectKey: projectKey, sessionID: sessionID) }

    /// Whether this is a main transcript (no ``subpath``).
    public var isMain: Bool { subpath == nil }

    /// Checks that the key can be stored safely by any backend.
    ///
    /// Rules:
    /// - ``projectKey`` and ``sessionID`` are non-empty, hold no NUL and are at most
    ///   ``maximumComponentLength`` bytes;
    /// - ``subpath``, when present, is a relative, `/`-separated path such as
    ///   `subagents/agent-1`: not empty, not starting with `/`, no drive prefix (`C:`), no empty,
    ///   `.` or `..` segment, no NUL and no backslash.
    ///
    /// Stores call it before writing anything, so an unsafe subpath never reaches a file system
    /// or a database.
    /// - Throws: ``SessionStoreError`` with ``SessionStoreError/Code/invalidKey``; its
    ///   ``SessionStoreError/reason`` names the rule (never the key's text).
    public func validate() throws(SessionStoreError) {
        if let reason = Self.componentFailure(projectKey, name: "project key") {
            throw SessionStoreError(.invalidKey, reason: reason)
        }
        if let reason = Self.componentFailure(sessionID, name: "session id") {
            throw SessionStoreError(.invalidKey, reason: reason)
        }
        if let subpath, let reason = Self.subpathFailure(subpath) {
            throw SessionStoreError(.invalidKey, reason: reason)
        }
    }

    /// Whether `subpath` is a safe sub-transcript path (see ``validate()``).
    public static func isSafeSubpath(_ subpath: String) -> Bool {
        subpathFailure(subpath) == nil
    }

    static func componentFailure(_ value: String, name: String) -> String? {
        if value.isEmpty { return "the \(name) is empty" }
        if value.utf8.count > maximumComponentLength { return "the \(name) is too long" }
        if value.utf8.contains(0) { return "the \(name) contains NUL" }
        return nil
    }

    static func subpathFailure(_ subpath: String) -> String? {
        let bytes = Array(subpath.utf8)
        if bytes.isEmpty { return "the subpath is empty" }
        if bytes.count > maximumComponentLength { return "the subpath is too long" }
        if bytes.contains(0) { return "the subpath contains NUL" }
        if bytes.contains(UInt8(ascii: "\\")) { return "the subpath contains a backslash" }
        if bytes[0] == UInt8(ascii: "/") { return "the subpath is absolute" }
        if bytes.count >= 2, bytes[1] == UInt8(ascii: ":"),
            (UInt8(ascii: "A")...UInt8(ascii: "Z")).contains(bytes[0] & 0xDF)
        {
            return "the subpath has a drive prefix"
        }
        for segment in bytes.split(separator: UInt8(ascii: "/"), omittingEmptySubsequences: false) {
            if segment.isEmpty { return "the subpath has an empty segment" }
            if segment.elementsEqual([UInt8(ascii: ".")])
                || segment.elementsEqual([UInt8(ascii: "."), UInt8(ascii: ".")])
            {
                return "the subpath has a '.' or '..' segment"
            }
        }
        return nil
    }
}
