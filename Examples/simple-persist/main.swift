// The seed's `simple_persist.py`: SessionPersistentClient wraps ClaudeSDKClient and saves
// the conversation automatically; then the saved session is inspected.
import ClaudeCode
import ClaudeCodeSessions
import ExampleSupport
import Foundation

let environment = try await ExampleEnvironment.prepare(name: "simple-persist")
environment.banner()
do {
    let client = SessionPersistentClient(options: environment.options, storagePath: environment.storagePath)

    // Same code as with ClaudeSDKClient: persistence is automatic.
    let sessionID = try await client.withConnection { client in
        try await client.query("Hello! Please remember that my favourite number is 42.")
        for try await message in client.receiveResponse() { show(message) }
        return client.currentSessionID
    }
    guard let sessionID else {
        print("The CLI never reported a session id.")
        exit(1)
    }
    print("\nSession saved as: \(sessionID)")
    print("Records: \(environment.storagePath)")
    if let store = client.store as? FileRecordStore { print("Transcripts: \(store.transcriptsDirectory)") }

    // Inspect what was saved.
    let data = try await client.loadSession(sessionID)
    print("Working directory: \(data.workingDirectory)")
    print("Started: \(data.startTime), last activity: \(data.lastActivity)")
    print("Recorded \(data.conversationHistory.count) messages:")
    for record in data.conversationHistory {
        let kind = record.subtype.map { "\(record.type)/\($0)" } ?? record.type
        print("  \(record.direction == .sent ? "->" : "<-") \(kind)")
    }

    print("\nAll saved sessions:")
    for entry in try await client.listSessions() {
        switch entry {
        case .session(let summary):
            let cost = String(format: "$%.4f", summary.ledger.costUSD)
            print(
                "  \(summary.sessionID)  \(summary.title ?? "-")  \(summary.ledger.turns) turn(s), \(cost)"
                    + "  \(summary.messageCount) messages  last active \(summary.lastActivity)")
        case .damaged(let file):
            print("  \(file.fileName)  DAMAGED: \(file.error)")
        }
    }
} catch {
    await environment.cleanup()
    print("simple-persist failed: \(error)")
    exit(1)
}
await environment.cleanup()
