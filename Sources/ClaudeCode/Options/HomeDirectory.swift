import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// The one rule every default path of the package starts from.
///
/// `$HOME` when it is set and not empty, else the home folder the password database gives this
/// user, else `/`. Foundation's `NSHomeDirectory()` ignores `$HOME` on Linux, so a process
/// started with `HOME=/some/folder` would write the CLI's files under that folder and the
/// SDK's under the password database's: every default of the package (the session records,
/// the transcript store, the CLI's config folder, the places the CLI is looked for) uses this
/// instead.
public enum HomeDirectory {
    /// The home folder for `environment`, without a trailing `/` (except for `/` itself).
    public static func path(environment: [String: String] = ProcessInfo.processInfo.environment) -> String {
        if let home = environment["HOME"], !home.isEmpty { return trimmed(home) }
        if let entry = getpwuid(getuid()), let directory = entry.pointee.pw_dir {
            let home = String(cString: directory)
            if !home.isEmpty { return trimmed(home) }
        }
        return "/"
    }

    /// `relative` (for example `.claude_sdk/sessions`) inside the home folder for `environment`.
    public static func path(
        _ relative: String, environment: [String: String] = ProcessInfo.processInfo.environment
    ) -> String {
        let home = path(environment: environment)
        return (home == "/" ? "" : home) + "/" + relative
    }

    private static func trimmed(_ path: String) -> String {
        var path = Substring(path)
        while path.count > 1, path.hasSuffix("/") { path = path.dropLast() }
        return String(path)
    }
}
