import ClaudeCode
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

extension SessionStoreKey {
    /// The key of a CLI transcript file, as the Python SDK's `file_path_to_session_key` maps it.
    ///
    /// - `<projects>/<project>/<session>.jsonl` gives the main key of `<session>` in `<project>`;
    /// - `<projects>/<project>/<session>/<a>/…/<name>.jsonl` gives the subpath `<a>/…/<name>`
    ///   (always `/`-joined, without `.jsonl`), e.g. `subagents/agent-1`.
    ///
    /// - Parameters:
    ///   - transcriptPath: An absolute transcript path, as in a `transcript_mirror` frame's `filePath`.
    ///   - projectsDirectory: The CLI's `projects` folder (`$CLAUDE_CONFIG_DIR/projects` or `~/.claude/projects`).
    /// - Returns: `nil` when the path is not inside `projectsDirectory` or has another shape.
    public init?(transcriptPath: String, projectsDirectory: String) {
        let file = TranscriptPaths.lexicallyNormalized(transcriptPath)
        var parts: [Substring]?
        for root in [projectsDirectory, TranscriptPaths.realPath(projectsDirectory)] {
            let base = TranscriptPaths.lexicallyNormalized(root)
            let prefix = base == "/" ? "/" : base + "/"
            if file.hasPrefix(prefix) {
                parts = file.dropFirst(prefix.count).split(separator: "/", omittingEmptySubsequences: false)
                break
            }
        }
        guard let parts, parts.count >= 2, !parts.contains(where: \.isEmpty) else { return nil }
        let project = String(parts[0])
        if parts.count == 2 {
            guard parts[1].hasSuffix(".jsonl") else { return nil }
            self.init(projectKey: project, sessionID: String(parts[1].dropLast(6)))
            return
        }
        guard parts.count >= 4 else { return nil }
        var subpath = parts[2...].map(String.init)
        if subpath[subpath.count - 1].hasSuffix(".jsonl") { subpath[subpath.count - 1].removeLast(6) }
        self.init(projectKey: project, sessionID: String(parts[1]), subpath: subpath.joined(separator: "/"))
    }
}

/// Where the CLI keeps its files, seen from the SDK.
enum TranscriptPaths {
    /// The CLI's configuration folder for the environment it runs with: `CLAUDE_CONFIG_DIR`, else `$HOME/.claude`.
    static func configDirectory(environment: [String: String]) -> String {
        if let configured = environment["CLAUDE_CONFIG_DIR"], !configured.isEmpty { return configured }
        return HomeDirectory.path(".claude", environment: environment)
    }

    /// The `projects` folder the CLI started with `options` writes to.
    static func projectsDirectory(for options: ClaudeCodeOptions) -> String {
        configDirectory(environment: options.processEnvironment()) + "/projects"
    }

    static func realPath(_ path: String) -> String {
        guard let resolved = realpath(path, nil) else { return path }
        defer { free(resolved) }
        return String(cString: resolved)
    }

    /// Removes `.` and empty segments and applies `..` without touching the file system.
    static func lexicallyNormalized(_ path: String) -> String {
        var stack: [Substring] = []
        for part in path.split(separator: "/", omittingEmptySubsequences: true) {
            switch part {
            case ".": continue
            case "..": if !stack.isEmpty { stack.removeLast() }
            default: stack.append(part)
            }
        }
        return (path.hasPrefix("/") ? "/" : "") + stack.joined(separator: "/")
    }
}
