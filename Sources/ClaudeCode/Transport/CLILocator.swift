import Foundation

/// Finds the Claude Code CLI.
///
/// Order: the explicit path, `CLAUDE_CODE_CLI_PATH`, each `PATH` entry, then the usual
/// install locations. The first existing file wins; if it is not executable the error says so.
public enum CLILocator {
    /// The oldest CLI version the SDK is tested with; older ones get a warning.
    public static let minimumVersion = "2.0.0"
    /// The CLI version this SDK release is tested against.
    public static let testedVersion = "2.1.331"

    /// Returns the path of the CLI to run.
    public static func locate(
        explicitPath: String?, environment: [String: String] = ProcessInfo.processInfo.environment,
        currentDirectory: String = FileManager.default.currentDirectoryPath
    ) throws(ClaudeCodeError) -> String {
        var searched: [String] = []
        func check(_ path: String) throws(ClaudeCodeError) -> String? {
            searched.append(path)
            var isDirectory: ObjCBool = false
            guard FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory), !isDirectory.boolValue
            else { return nil }
            guard FileManager.default.isExecutableFile(atPath: path) else {
                throw ClaudeCodeError(
                    .cliNotExecutable,
                    "the Claude Code CLI at \(path) is not executable; fix its permissions (chmod 755) or point cliPath elsewhere",
                    searchedPaths: searched)
            }
            return path
        }
        if let explicitPath {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: explicitPath, isDirectory: &isDirectory), isDirectory.boolValue {
                throw ClaudeCodeError(
                    .cliNotExecutable,
                    "the cliPath option names a directory (\(explicitPath)), not the Claude Code CLI executable; point it at the claude file inside",
                    searchedPaths: [explicitPath])
            }
            if let found = try check(explicitPath) { return found }
            throw notFound(searched, hint: "the cliPath option names a file that does not exist")
        }
        if let fromEnvironment = environment["CLAUDE_CODE_CLI_PATH"], !fromEnvironment.isEmpty {
            var isDirectory: ObjCBool = false
            if FileManager.default.fileExists(atPath: fromEnvironment, isDirectory: &isDirectory), isDirectory.boolValue
            {
                throw ClaudeCodeError(
                    .cliNotExecutable,
                    "CLAUDE_CODE_CLI_PATH names a directory (\(fromEnvironment)), not the Claude Code CLI executable; point it at the claude file inside",
                    searchedPaths: [fromEnvironment])
            }
            if let found = try check(fromEnvironment) { return found }
            throw notFound(searched, hint: "CLAUDE_CODE_CLI_PATH names a file that does not exist")
        }
        for directory in (environment["PATH"] ?? "").split(separator: ":") where !directory.isEmpty {
            if let found = try check("\(directory)/claude") { return found }
        }
        let home = HomeDirectory.path(environment: environment)
        let known = [
            "\(home)/.claude/local/claude", "\(home)/.local/bin/claude", "/usr/local/bin/claude",
            "\(home)/.npm-global/bin/claude", "\(currentDirectory)/node_modules/.bin/claude",
            "\(home)/node_modules/.bin/claude",
        ]
        for path in known {
            if let found = try check(path) { return found }
        }
        throw notFound(searched, hint: nil)
    }

    private static func notFound(_ searched: [String], hint: String?) -> ClaudeCodeError {
        var message = "Claude Code CLI not found"
        if let hint { message += " (\(hint))" }
        message +=
            ". Looked in: \(searched.joined(separator: ", ")). Install it with `npm install -g @anthropic-ai/claude-code`, "
            + "or on Linux without npm run `scripts/setup/install-claude-cli.sh` from this package and set CLAUDE_CODE_CLI_PATH "
            + "to the path it prints, or pass cliPath."
        return ClaudeCodeError(.cliNotFound, message, searchedPaths: searched)
    }

    /// Whether `version` (like `2.1.331`) is older than `minimum`.
    public static func isVersion(_ version: String, olderThan minimum: String) -> Bool {
        func parts(_ text: String) -> [Int] {
            text.split(separator: " ").first.map {
                $0.split(separator: ".").map { Int($0.prefix { $0.isNumber }) ?? 0 }
            }
                ?? []
        }
        let lhs = parts(version)
        let rhs = parts(minimum)
        for index in 0..<max(lhs.count, rhs.count) {
            let left = index < lhs.count ? lhs[index] : 0
            let right = index < rhs.count ? rhs[index] : 0
            if left != right { return left < right }
        }
        return false
    }
}
