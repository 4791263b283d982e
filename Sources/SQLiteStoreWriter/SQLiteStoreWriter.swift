import ClaudeCode
import ClaudeCodeSessions
import ClaudeCodeSessionsSQLite
import Foundation

/// Test helper: appends entries to a SQLite session store from its own process.
///
///     SQLiteStoreWriter <database> <project key> <session id> <writer tag> <count>
///
/// Appends `count` entries, one transaction each, with `uuid` `<tag>-<n>` and `"n": n`, to the main
/// transcript and, every tenth, to `subagents/agent-<tag>`. Prints `done` and exits 0, or prints
/// the error and exits 1.
@main
struct SQLiteStoreWriter {
    static func main() async {
        let arguments = CommandLine.arguments
        guard arguments.count == 6, let count = Int(arguments[5]) else {
            FileHandle.standardError.write(
                Data("usage: SQLiteStoreWriter <db> <project> <session> <tag> <count>\n".utf8))
            exit(2)
        }
        let (path, project, session, tag) = (arguments[1], arguments[2], arguments[3], arguments[4])
        do {
            let store = try SQLiteSessionStore(path: path)
            let main = SessionStoreKey(projectKey: project, sessionID: session)
            let sub = SessionStoreKey(projectKey: project, sessionID: session, subpath: "subagents/agent-\(tag)")
            for n in 0..<count {
                let entry = try SessionStoreEntry(
                    raw: RawJSON(#"{"type":"user","uuid":"\#(tag)-\#(n)","writer":"\#(tag)","n":\#(n)}"#))
                try await store.append([entry], to: main)
                if n % 10 == 0 { try await store.append([entry], to: sub) }
            }
            print("done")
        } catch {
            print("error: \(error)")
            exit(1)
        }
    }
}
