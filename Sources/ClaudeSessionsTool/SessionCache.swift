import ClaudeCode
import ClaudeCodeSessions
import ClaudeCodeSessionsSQLite
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The cache `list` keeps of the CLI's sessions' summaries (message counts, tokens, cost), so a
/// listing reads only the sessions whose files changed: one SQLite file per configuration
/// directory under `$XDG_CACHE_HOME/claude-sessions` (else `~/.cache/claude-sessions`), folder
/// 0700 and file 0600. Safe to delete; `--no-cache` bypasses it; a damaged file is rebuilt.
enum SummaryCache {
    static func directory(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let xdg = environment["XDG_CACHE_HOME"], xdg.hasPrefix("/") { return xdg + "/claude-sessions" }
        return HomeDirectory.path(".cache", environment: environment) + "/claude-sessions"
    }

    static func path(for configDirectory: String, environment: [String: String] = ProcessInfo.processInfo.environment)
        -> String
    {
        var hash: UInt64 = 0xcbf2_9ce4_8422_2325
        for byte in configDirectory.utf8 {
            hash ^= UInt64(byte)
            hash &*= 0x100_0000_01b3
        }
        return directory(environment: environment) + "/sessions-" + String(hash, radix: 16) + ".sqlite"
    }

    /// Opens (creating the folder 0700) the cache of `library`'s sessions; `nil` when it cannot be.
    static func open(for library: ClaudeSessionLibrary) -> SQLiteSearchIndex? {
        let file = path(for: library.configDirectory)
        let folder = (file as NSString).deletingLastPathComponent
        do {
            try FileManager.default.createDirectory(
                atPath: folder, withIntermediateDirectories: true, attributes: [.posixPermissions: 0o700])
        } catch {
            return nil
        }
        return try? SQLiteSearchIndex(path: file, discardingUnreadable: true)
    }

    /// Deletes a cache file (and SQLite's side files).
    static func discard(_ path: String) {
        for suffix in ["", "-journal", "-wal", "-shm"] { unlink(path + suffix) }
    }
}
