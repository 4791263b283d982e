import ClaudeCode
import ClaudeCodeSessions
import ClaudeCodeSessionsSQLite
import Foundation

/// Test helper: writes to a SQLite session store from its own process.
///
///     SQLiteStoreWriter <database> <project key> <session id> <writer tag> <count> [transcripts|records]
///
/// `transcripts` (the default) appends `count` entries, one transaction each, with `uuid`
/// `<tag>-<n>` and `"n": n`, to the main transcript and, every tenth, to `subagents/agent-<tag>`.
/// `records` appends `count` messages `{"type":"x","w":"<tag>","n":n}` to the record `<session id>`
/// through a `SessionRecordWriter`, with a checkpoint every tenth. Prints `done` and exits 0, or
/// prints the error and exits 1.
@main
struct SQLiteStoreWriter {
    static func main() async {
        let arguments = CommandLine.arguments
        guard arguments.count == 6 || arguments.count == 7, let count = Int(arguments[5]) else {
            FileHandle.standardError.write(
                Data("usage: SQLiteStoreWriter <db> <project> <session> <tag> <count> [transcripts|records]\n".utf8))
            exit(2)
        }
        let (path, project, session, tag) = (arguments[1], arguments[2], arguments[3], arguments[4])
        let mode = arguments.count == 7 ? arguments[6] : "transcripts"
        do {
            let store = try SQLiteSessionStore(path: path)
            if mode == "records" {
                let writer = try await store.openRecord(
                    SessionID(session), startTime: Date(), workingDirectory: "/w", options: [:])
                for n in 0..<count {
                    try await writer.append([
                        ConversationMessage(direction: .received, rawJSON: #"{"type":"x","w":"\#(tag)","n":\#(n)}"#)
                    ])
                    if n % 10 == 9 { try await writer.checkpoint() }
                }
                try await writer.close()
            } else {
                let main = SessionStoreKey(projectKey: project, sessionID: session)
                let sub = SessionStoreKey(projectKey: project, sessionID: session, subpath: "subagents/agent-\(tag)")
                for n in 0..<count {
                    let entry = try SessionStoreEntry(
                        raw: RawJSON(#"{"type":"user","uuid":"\#(tag)-\#(n)","writer":"\#(tag)","n":\#(n)}"#))
                    try await store.append([entry], to: main)
                    if n % 10 == 0 { try await store.append([entry], to: sub) }
                }
            }
            print("done")
        } catch {
            print("error: \(error)")
            exit(1)
        }
    }
}
