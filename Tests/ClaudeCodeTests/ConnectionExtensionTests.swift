import ClaudeCodeTesting
import Synchronization
import Testing

@testable import ClaudeCode

/// A hook that records what the client calls and can hold results and the end back.
final class OptionsBox: Sendable {
    let value = Mutex<ClaudeCodeOptions?>(nil)
}

final class RecordingExtension: ConnectionExtension {
    struct State {
        var calls: [String] = []
        var frames: [String] = []
        var emitter: MessageEmitter?
        var resultRelease: CheckedContinuation<Void, Never>?
        var endRelease: CheckedContinuation<Void, Never>?
    }
    let state = Mutex(State())
    let holdResults: Bool
    let holdEnd: Bool
    let prepareError: ClaudeCodeError?
    let consumedFrameTypes: Set<String>
    let events: AsyncStream<String>
    private let continuation: AsyncStream<String>.Continuation

    init(
        holdResults: Bool = false, holdEnd: Bool = false, prepareError: ClaudeCodeError? = nil,
        consuming consumedFrameTypes: Set<String> = []
    ) {
        self.consumedFrameTypes = consumedFrameTypes
        self.holdResults = holdResults
        self.holdEnd = holdEnd
        self.prepareError = prepareError
        (events, continuation) = AsyncStream.makeStream()
    }

    var calls: [String] { state.withLock { $0.calls } }
    var frames: [String] { state.withLock { $0.frames } }

    private func record(_ call: String) {
        state.withLock { $0.calls.append(call) }
        continuation.yield(call)
    }

    func prepare(_ options: ClaudeCodeOptions) async throws(ClaudeCodeError) -> ClaudeCodeOptions {
        record("prepare")
        if let prepareError { throw prepareError }
        var options = options
        options.model = "rewritten-by-hook"
        return options
    }

    func attach(_ emit: MessageEmitter) {
        state.withLock { $0.emitter = emit }
        record("attach")
    }

    func observe(_ frame: WireFrame) {
        state.withLock { $0.frames.append(frame.type) }
    }

    func beforeDelivering(_ result: ResultMessage) async -> [Message] {
        if holdResults {
            await withCheckedContinuation { continuation in
                state.withLock { $0.resultRelease = continuation }
                record("holding result")
            }
        }
        record("result released")
        return [Message(line: Array(#"{"type":"system","subtype":"before_result"}"#.utf8))]
    }

    func connectionEnded() async -> [Message] {
        if holdEnd {
            await withCheckedContinuation { continuation in
                state.withLock { $0.endRelease = continuation }
                record("holding end")
            }
        }
        record("ended")
        return [Message(line: Array(#"{"type":"system","subtype":"after_exit"}"#.utf8))]
    }

    func releaseResult() {
        state.withLock { state in
            defer { state.resultRelease = nil }; return state.resultRelease
        }?.resume()
    }
    func releaseEnd() {
        state.withLock { state in
            defer { state.endRelease = nil }; return state.endRelease
        }?.resume()
    }
    func emit(_ json: String) { state.withLock { $0.emitter }?(Message(line: Array(json.utf8))) }

    /// Waits until the hook has recorded `call`.
    func waitFor(_ call: String) async {
        if calls.contains(call) { return }
        for await event in events where event == call { return }
    }
}

@Suite(.timeLimit(.minutes(1))) struct ConnectionExtensionTests {
    static let result =
        #"{"type":"result","subtype":"success","is_error":false,"num_turns":1,"session_id":"s1","duration_ms":1,"duration_api_ms":1,"result":"ok"}"#
    static let assistant =
        #"{"type":"assistant","message":{"content":[{"type":"text","text":"hi"}],"model":"m"},"session_id":"s1"}"#
    static let mirror =
        #"{"type":"transcript_mirror","filePath":"/h/.claude/projects/p/s1.jsonl","entries":[{"type":"user","uuid":"u1"}]}"#

    private func connected(
        _ hook: RecordingExtension, observer: FrameObserver? = nil, handler: ControlRequestHandler? = nil,
        seenOptions: OptionsBox? = nil
    ) async throws -> (ClaudeSDKClient, ScriptedTransport) {
        let transport = ScriptedTransport()
        let client = ClaudeSDKClient(
            transport: { options in
                seenOptions?.value.withLock { $0 = options }
                return transport
            }, observer: observer, controlHandler: handler, connectionExtension: { hook })
        async let connecting: Void = client.connect()
        let initialize = try #require(await transport.nextWritten())
        transport.respond(to: initialize, with: ["commands": []])
        try await connecting
        return (client, transport)
    }

    @Test func sessionMirrorOptionPassesTheFlag() throws {
        var options = ClaudeCodeOptions()
        #expect(!(try options.commandLineArguments()).contains("--session-mirror"))
        options.sessionMirror = true
        let arguments = try options.commandLineArguments()
        #expect(arguments.contains("--session-mirror"))
        #expect(arguments.last == "stream-json")
    }

    @Test func framesAnExtensionConsumesAreNotMessagesButAreObserved() async throws {
        for observer in [true, false] {
            let observed = Mutex<[String]>([])
            let hook = RecordingExtension(consuming: ["transcript_mirror", "x_custom"])
            let frameObserver: FrameObserver = { frame in observed.withLock { $0.append(frame.type) } }
            let (client, transport) = try await connected(hook, observer: observer ? frameObserver : nil)
            try await client.query("go")
            _ = await transport.nextWritten()
            transport.emit(Self.mirror)
            transport.emit(Self.assistant)
            transport.emit(#"{"type":"x_custom","n":1}"#)
            transport.emit(Self.mirror)
            transport.emit(Self.result)
            var types: [String] = []
            for try await message in client.receiveResponse() { types.append(message.type + subtypeSuffix(message)) }
            #expect(types == ["assistant", "system/before_result", "result"])
            if observer {
                #expect(observed.withLock { $0 }.filter { $0 == "transcript_mirror" }.count == 2)
            }
            #expect(hook.frames.filter { $0 == "transcript_mirror" }.count == 2)
            #expect(hook.frames.filter { $0 == "x_custom" }.count == 1)
            await client.disconnect()
        }
    }

    @Test func framesNoExtensionConsumesAreMessages() async throws {
        let transport = ScriptedTransport()
        let client = ClaudeSDKClient(transport: { _ in transport })
        async let connecting: Void = client.connect()
        transport.respond(to: try #require(await transport.nextWritten()), with: [:])
        try await connecting
        try await client.query("go")
        _ = await transport.nextWritten()
        transport.emit(Self.mirror)
        transport.emit(Self.result)
        var types: [String] = []
        for try await message in client.receiveResponse() { types.append(message.type) }
        #expect(types == ["transcript_mirror", "result"])
        await client.disconnect()
    }

    @Test func resultIsHeldUntilTheHookIsDoneWhileTheReaderGoesOn() async throws {
        let hook = RecordingExtension(holdResults: true)
        let (client, transport) = try await connected(hook, handler: { _, _ in ["behavior": "allow"] })
        try await client.query("go")
        _ = await transport.nextWritten()
        transport.emit(Self.assistant)
        transport.emit(Self.result)
        transport.emit(
            #"{"type":"control_request","request_id":"cli-1","request":{"subtype":"can_use_tool","tool_name":"Bash","input":{}}}"#
        )
        await hook.waitFor("holding result")
        // The reader answered a control request that came after the held result.
        let reply = try #require(await transport.nextWritten())
        #expect(reply["response"]?["request_id"] == "cli-1")
        var iterator = client.receiveMessages().makeAsyncIterator()
        #expect(try await iterator.next()?.type == "assistant")
        // The result is queued but held: a reader waits for it, and can be cancelled meanwhile.
        let waiting = Task { () async -> String in
            var iterator = client.receiveMessages().makeAsyncIterator()
            do {
                return "delivered \(try await iterator.next()?.type ?? "nil")"
            } catch {
                return "\((error as? ClaudeCodeError)?.code.description ?? "other")"
            }
        }
        waiting.cancel()
        #expect(await waiting.value == "cancelled")
        hook.releaseResult()
        var types: [String] = []
        for try await message in client.receiveResponse() { types.append(message.type + subtypeSuffix(message)) }
        #expect(types == ["system/before_result", "result"])
        await client.disconnect()
    }

    @Test func connectionEndedRunsLastAndDisconnectWaitsForIt() async throws {
        let hook = RecordingExtension(holdEnd: true)
        let (client, transport) = try await connected(hook)
        #expect(hook.calls == ["prepare", "attach"])
        hook.emit(#"{"type":"system","subtype":"emitted"}"#)
        transport.emit(Self.assistant)
        let stream = client.receiveMessages()
        async let disconnected: Void = client.disconnect()
        await hook.waitFor("holding end")
        #expect(!hook.calls.contains("ended"))
        hook.releaseEnd()
        await disconnected
        #expect(hook.calls.last == "ended")
        _ = transport
        var types: [String] = []
        for try await message in stream { types.append(message.type + subtypeSuffix(message)) }
        #expect(types == ["system/emitted", "assistant", "system/after_exit"])
        // After the end, emitting does nothing.
        hook.emit(#"{"type":"system","subtype":"late"}"#)
    }

    @Test func prepareRewritesTheOptionsTheTransportGets() async throws {
        let hook = RecordingExtension()
        let seen = OptionsBox()
        let (client, _) = try await connected(hook, seenOptions: seen)
        #expect(seen.value.withLock { $0?.model } == "rewritten-by-hook")
        #expect(client.options.model == nil)
        await client.disconnect()
    }

    @Test func failedConnectEndsTheHook() async throws {
        // prepare itself fails.
        let failing = RecordingExtension(prepareError: ClaudeCodeError(.invalidOptions, "no store"))
        let client = ClaudeSDKClient(transport: { _ in ScriptedTransport() }, connectionExtension: { failing })
        await #expect(throws: ClaudeCodeError.self) { try await client.connect() }
        #expect(failing.calls == ["prepare", "ended"])
        // The transport cannot start.
        let hook = RecordingExtension()
        let broken = ClaudeSDKClient(
            transport: { _ in ScriptedTransport(startError: ClaudeCodeError(.launchFailed, "no CLI")) },
            connectionExtension: { hook })
        await #expect(throws: ClaudeCodeError.self) { try await broken.connect() }
        #expect(hook.calls == ["prepare", "attach", "ended"])
        // The transport factory throws.
        let third = RecordingExtension()
        let noTransport = ClaudeSDKClient(
            transport: { _ throws(ClaudeCodeError) in throw ClaudeCodeError(.cliNotFound, "none") },
            connectionExtension: { third })
        await #expect(throws: ClaudeCodeError.self) { try await noTransport.connect() }
        #expect(third.calls == ["prepare", "ended"])
        // The CLI exits during initialize.
        let fourth = RecordingExtension()
        let transport = ScriptedTransport()
        let exiting = ClaudeSDKClient(transport: { _ in transport }, connectionExtension: { fourth })
        let connecting = Task { () async -> ClaudeCodeError? in
            do {
                try await exiting.connect()
                return nil
            } catch {
                return error as? ClaudeCodeError
            }
        }
        _ = await transport.nextWritten()
        transport.exit(.exited(1), stderr: "boom")
        #expect(await connecting.value?.code == .processExited)
        #expect(fourth.calls == ["prepare", "attach", "ended"])
    }
}

/// `"/<subtype>"` for system messages, else "".
func subtypeSuffix(_ message: Message) -> String {
    if case .system(let system) = message { return "/" + system.subtype }
    return ""
}
