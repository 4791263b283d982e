// The seed's `multi_turn_conversation.py`: two turns, disconnect, resume the same session
// with a new client instance, and two more turns that refer to the first ones.
import ClaudeCode
import ClaudeCodeSessions
import ExampleSupport
import Foundation

func turn(_ client: SessionPersistentClient, _ prompt: String) async throws {
    print("\nYou: \(prompt)")
    try await client.query(prompt)
    for try await message in client.receiveResponse() { show(message) }
}

let environment = try await ExampleEnvironment.prepare(name: "multi-turn")
environment.banner()
do {
    // Phase 1: turns 1-2, saved automatically.
    print("=== Phase 1: a new conversation ===")
    let first = SessionPersistentClient(options: environment.options, storagePath: environment.storagePath)
    try await first.connect()
    try await turn(first, "My name is Ada and I am planning a trip to Lisbon.")
    try await turn(first, "What should I pack for a week there in May?")
    guard let sessionID = first.currentSessionID else {
        print("The CLI never reported a session id.")
        exit(1)
    }
    await first.disconnect()
    print("\nDisconnected. Session \(sessionID) is saved.")

    // Phase 2: a new client instance resumes it (local record + the CLI's --resume).
    print("\n=== Phase 2: resume with a new client ===")
    let second = SessionPersistentClient(options: environment.options, storagePath: environment.storagePath)
    try await second.startOrResumeSession(sessionID)
    try await second.connect()
    try await turn(second, "Remind me: what is my name and where am I going?")
    try await turn(second, "Summarise everything we have discussed so far.")
    let resumedID = second.currentSessionID ?? "?"
    await second.disconnect()
    print(
        "\nSession id before: \(sessionID), after resume: \(resumedID) (\(resumedID == sessionID ? "unchanged" : "CHANGED"))"
    )

    let data = try await second.loadSession(sessionID)
    let prompts = data.conversationHistory.filter { $0.direction == .sent && $0.type == "user" }.count
    let results = data.conversationHistory.filter { $0.type == "result" }.count
    print("Saved record: \(data.conversationHistory.count) messages, \(prompts) prompts, \(results) results.")
} catch {
    await environment.cleanup()
    print("multi-turn-conversation failed: \(error)")
    exit(1)
}
await environment.cleanup()
