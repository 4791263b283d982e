// A permission callback: this process decides each tool call the CLI's own rules do not settle.
// Read-only commands run, deletions are refused (Claude sees why), and `touch` is redirected
// into a scratch folder by rewriting the tool's input.
import ClaudeCode
import ExampleSupport
import Foundation

let environment = try await ExampleEnvironment.prepare(name: "permission-callback")
environment.banner()
var options = environment.options
options.canUseTool = { toolName, input, context in
    print("  [permission] \(toolName) wants \(input.jsonString)")
    if let reason = context.decisionReason { print("  [permission] the CLI asks because: \(reason)") }
    guard toolName == "Bash", let command = input["command"]?.stringValue else {
        return .allow()
    }
    if command.contains("rm ") {
        return .deny(message: "Deleting files is not allowed in this session.")
    }
    if command.hasPrefix("touch "), var rewritten = input.objectValue {
        // Keep new files in a scratch folder.
        let name = URL(fileURLWithPath: String(command.dropFirst("touch ".count))).lastPathComponent
        rewritten["command"] = .string("mkdir -p scratch && touch scratch/\(name)")
        print("  [permission] rewritten to: mkdir -p scratch && touch scratch/\(name)")
        return .allow(updatedInput: .object(rewritten))
    }
    return .allow()
}
// Give up on a prompt that nobody answers, rather than holding the turn forever.
options.canUseToolTimeout = .seconds(60)

let prompts =
    environment.isOffline
    ? ["use tool Bash: touch notes.txt", "use tool Bash: rm -rf notes.txt"]
    : ["Create an empty file named notes.txt with touch.", "Now delete notes.txt with rm."]
do {
    try await ClaudeSDKClient.withConnection(options: options) { client in
        for prompt in prompts {
            print("You: \(prompt)")
            try await client.query(prompt)
            for try await message in client.receiveResponse() {
                show(message)
                if case .result(let result) = message, !result.permissionDenials.isEmpty {
                    print("  denied this turn: \(result.permissionDenials.compactMap { $0["tool_name"]?.stringValue })")
                }
            }
        }
    }
} catch {
    await environment.cleanup()
    print("permission-callback failed: \(error)")
    exit(1)
}
await environment.cleanup()
