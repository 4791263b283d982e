import ClaudeCode
import Foundation
import Testing

@testable import ClaudeCodeSessions

/// `ClaudeSDKClient` and `SessionPersistentClient` offer the same calls: the control calls are
/// written once (`ClaudeControlling`), and the rest of their public methods match except for a
/// short, explained list.
@Suite struct ClientParityTests {
    /// Calls only one of the two clients has, and why.
    static let onlySDKClient: Set<String> = []
    static let onlyPersistentClient: Set<String> = [
        // Persistence: the record store's own calls.
        "startOrResumeSession", "listSessions", "loadSession", "deleteSession", "flush", "persistenceEvents",
    ]

    private func publicFunctions(_ relativePath: String) throws -> Set<String> {
        let root = URL(fileURLWithPath: #filePath)
            .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
        let text = try String(contentsOf: root.appendingPathComponent(relativePath), encoding: .utf8)
        let pattern = try NSRegularExpression(pattern: #"public (?:static )?func ([A-Za-z0-9_]+)"#)
        let range = NSRange(text.startIndex..., in: text)
        return Set(
            pattern.matches(in: text, range: range).compactMap { match in
                Range(match.range(at: 1), in: text).map { String(text[$0]) }
            })
    }

    @Test func bothClientsOfferTheSameCalls() throws {
        let sdk = try publicFunctions("Sources/ClaudeCode/Client/ClaudeSDKClient.swift")
        let persistent = try publicFunctions("Sources/ClaudeCodeSessions/Records/SessionPersistentClient.swift")
        #expect(sdk.count > 5)
        #expect(sdk.subtracting(persistent).subtracting(Self.onlySDKClient).sorted() == [])
        #expect(persistent.subtracting(sdk).subtracting(Self.onlyPersistentClient).sorted() == [])
    }

    @Test func controlCallsAreWrittenOnceInClaudeControlling() throws {
        // A control call is a method that sends a request; on the clients only the raw request may.
        for path in [
            "Sources/ClaudeCode/Client/ClaudeSDKClient.swift",
            "Sources/ClaudeCodeSessions/Records/SessionPersistentClient.swift",
        ] {
            let root = URL(fileURLWithPath: #filePath)
                .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            let text = try String(contentsOf: root.appendingPathComponent(path), encoding: .utf8)
            let code = text.split(separator: "\n").filter { !$0.trimmingCharacters(in: .whitespaces).hasPrefix("//") }
                .joined(separator: "\n")
            let calls = code.components(separatedBy: "sendControlRequest(").count - 1
            // The declaration itself, and (persistent client) its forwarding call.
            #expect(calls <= 2, "\(path) sends control requests outside ClaudeControlling")
        }
        let controlling = try publicFunctions("Sources/ClaudeCode/Client/ClaudeControlling.swift")
        for call in ["interrupt", "setModel", "setPermissionMode", "mcpServerStatus", "getContextUsage", "rewindFiles"]
        {
            #expect(controlling.contains(call))
        }
    }

    /// Compiles only while both clients conform.
    @Test func bothClientsConform() {
        func control(_ client: some ClaudeControlling) -> Bool { client.serverInfo == nil }
        #expect(control(ClaudeSDKClient()))
        #expect(control(SessionPersistentClient(storagePath: FileManager.default.temporaryDirectory.path)))
    }
}
