// Hooks: Swift functions the CLI calls at points of its lifecycle. This one logs every prompt and
// tool call, blocks dangerous Bash commands before they run, and shows each tool's output.
import ClaudeCode
import ExampleSupport
import Foundation

let environment = try await ExampleEnvironment.prepare(name: "hooks")
environment.banner()
var options = environment.options
options.allowedTools = ["Bash"]
options.hooks[.userPromptSubmit] = [
    HookMatcher { input, _ in
        if case .userPromptSubmit(let prompt) = input.payload { print("  [hook] prompt: \(prompt.prompt)") }
        // Extra context for Claude, added to the prompt.
        return HookOutput(hookSpecificOutput: .userPromptSubmit(additionalContext: "The user prefers short answers."))
    }
]
options.hooks[.preToolUse] = [
    // Only Bash calls, and the CLI waits at most 10 s for the answer.
    HookMatcher(matcher: "Bash", timeout: .seconds(10)) { input, _ in
        guard case .preToolUse(let call) = input.payload else { return HookOutput() }
        let command = call.toolInput["command"]?.stringValue ?? ""
        print("  [hook] Bash wants to run: \(command)")
        if command.contains("rm -rf") || command.contains("sudo ") {
            return HookOutput(
                hookSpecificOutput: .preToolUse(
                    permissionDecision: .deny, permissionDecisionReason: "Dangerous commands are blocked by a hook."))
        }
        return HookOutput()
    }
]
options.hooks[.postToolUse] = [
    HookMatcher { input, _ in
        if case .postToolUse(let call) = input.payload {
            let output = call.toolResponse["stdout"]?.stringValue ?? call.toolResponse.jsonString
            print("  [hook] \(call.toolName) returned: \(output.trimmingCharacters(in: .whitespacesAndNewlines))")
        }
        return HookOutput()
    }
]
options.hooks[.stop] = [
    HookMatcher { _, _ in
        print("  [hook] Claude is done"); return HookOutput()
    }
]

let prompts =
    environment.isOffline
    ? ["use tool Bash: echo hello from a hooked session", "use tool Bash: rm -rf ./everything"]
    : ["Run `echo hello from a hooked session` with Bash.", "Run `rm -rf ./everything` with Bash."]
do {
    try await ClaudeSDKClient.withConnection(options: options) { client in
        for prompt in prompts {
            print("You: \(prompt)")
            try await client.query(prompt)
            for try await message in client.receiveResponse() { show(message) }
        }
    }
} catch {
    await environment.cleanup()
    print("hooks failed: \(error)")
    exit(1)
}
await environment.cleanup()
