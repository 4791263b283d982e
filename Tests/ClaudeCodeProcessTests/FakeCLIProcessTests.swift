import ClaudeCode
import ClaudeCodeTesting
import Foundation
import Synchronization
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// `ClaudeSDKClient` over the real ``SubprocessTransport`` running `fake-claude`: every fault the real CLI
/// cannot show on demand, and the process lifecycle (no CLI or grandchild outlives its client).
@Suite("ClaudeSDKClient over SubprocessTransport with fake-claude", .serialized, .timeLimit(.minutes(3)))
struct FakeCLIProcessTests {

    // MARK: Framing and decoding faults

    @Test("a garbage stdout line arrives as .invalid, then the turn completes")
    func garbageLine() async throws {
        try await ProcessHarness.run { harness in
            let client = harness.client(harness.options("garbage"))
            try await client.connect()
            try await client.query("after garbage")
            let messages = try await readTurn(client)
            await client.disconnect()

            guard case .invalid(let frame) = messages.first, case .malformedJSON = frame.reason else {
                Issue.record("expected .invalid(.malformedJSON) first, got \(messages.map(\.type))")
                return
            }
            #expect(String(decoding: frame.prefix, as: UTF8.self).hasPrefix("this is not JSON"))
            #expect(messages.map(\.type) == ["invalid", "system", "assistant", "result"])
            #expect(messages.compactMap(\.assistantText) == ["echo: after garbage"])
        }
    }

    @Test("a 64 MiB line is delivered whole with the default line limit")
    func hugeLineAccepted() async throws {
        try await ProcessHarness.run { harness in
            let size = 64 * 1024 * 1024
            let client = harness.client(harness.options("huge-line", env: ["FAKE_CLAUDE_HUGE_BYTES": "\(size)"]))
            try await client.connect()
            try await client.query("big")
            let messages = try await readTurn(client)
            await client.disconnect()

            #expect(messages.map(\.type) == ["assistant", "system", "assistant", "result"])
            guard case .assistant(let huge) = messages.first else { return }
            #expect(huge.raw.bytes.count == size - 1)  // the line without its newline
            let text = huge.text
            #expect(text.utf8.count > size - 1024)
            #expect(text.utf8.allSatisfy { $0 == UInt8(ascii: "x") })
            #expect(messages.compactMap(\.assistantText).last == "echo: big")
        }
    }

    @Test("a line over a small maxLineLength is skipped as .invalid(.tooLong) and the session goes on")
    func hugeLineOverLimit() async throws {
        try await ProcessHarness.run { harness in
            let size = 64 * 1024 * 1024
            let limit = 1024 * 1024
            var options = harness.options("huge-line", env: ["FAKE_CLAUDE_HUGE_BYTES": "\(size)"])
            options.maxLineLength = limit
            let client = harness.client(options)
            try await client.connect()
            try await client.query("first")
            let first = try await readTurn(client)

            #expect(first.map(\.type) == ["invalid", "system", "assistant", "result"])
            guard case .invalid(let frame) = first.first else { return }
            #expect(frame.reason == .tooLong(limit: limit))
            #expect(frame.byteCount == size - 1)
            #expect(frame.prefix.count == 200)
            #expect(String(decoding: frame.prefix, as: UTF8.self).hasPrefix("{\"type\":\"assistant\""))
            #expect(first.compactMap(\.assistantText) == ["echo: first"])

            // The session goes on: a second turn skips its huge line the same way.
            try await client.query("second")
            let second = try await readTurn(client)
            #expect(second.map(\.type) == ["invalid", "system", "assistant", "result"])
            #expect(second.compactMap(\.assistantText) == ["echo: second"])
            await client.disconnect()
        }
    }

    @Test("raw U+2028/U+2029 inside a JSON string stay in one message")
    func unicodeSeparators() async throws {
        try await ProcessHarness.run { harness in
            let client = harness.client(harness.options("unicode-separators"))
            try await client.connect()
            try await client.query("unicode")
            let messages = try await readTurn(client)
            await client.disconnect()

            let expected =
                "line\u{2028}separator\u{2029}paragraph | quotes \" and \\ backslash | "
                + "json-ish {\"type\":\"result\"} | BOM\u{FEFF} | emoji 🧪👩‍🔬 | e\u{0301} | "
                + "RTL \u{202E}abc\u{202C} | </script> | tab-free, control-free"
            #expect(messages.map(\.type) == ["system", "assistant", "result"])
            #expect(messages.compactMap(\.assistantText) == [expected])
            guard case .assistant(let assistant) = messages[1] else { return }
            // The separators travel raw on the wire, not as \u escapes.
            let raw = assistant.raw.bytes
            #expect(raw.firstRange(of: [0xE2, 0x80, 0xA8]) != nil)
            #expect(raw.firstRange(of: [0xE2, 0x80, 0xA9]) != nil)
            guard case .result(let result) = messages[2] else { return }
            #expect(result.result == expected)
        }
    }

    // MARK: Stalls, crashes and shutdown

    @Test("stall: interrupt() times out with .controlTimeout; disconnect() kills the CLI within the grace periods")
    func stallInterruptAndDisconnect() async throws {
        try await ProcessHarness.run { harness in
            let outbound = Collector<String>()
            let options = harness.options("stall")
            let client = harness.client(options) { frame in
                if frame.direction == .outbound, let type = frame.json?["type"]?.stringValue { outbound.append(type) }
            }
            try await client.connect()
            let pid = try harness.cliPID
            try await client.query("stall please")
            var iterator = client.receiveMessages().makeAsyncIterator()
            #expect(try await iterator.next()?.type == "system")
            #expect(try await iterator.next()?.assistantText == "about to stall")

            let interruptTime = await elapsed {
                let error = await #expect(throws: ClaudeCodeError.self) {
                    try await client.interrupt(timeout: .milliseconds(300))
                }
                #expect(error?.code == .controlTimeout)
            }
            #expect(interruptTime < .seconds(5))
            #expect(!ProcessHarness.isGone(pid), "the stalled CLI should still be running")

            let disconnectTime = await elapsed { await client.disconnect() }
            // stdin EOF is ignored; SIGTERM after shutdownGracePeriod ends it.
            #expect(disconnectTime < options.shutdownGracePeriod + options.terminateGracePeriod + .seconds(2))
            #expect(ProcessHarness.isGone(pid), "disconnect() returned but the CLI (or its zombie) is still there")
            #expect(!client.isConnected)
            // The timed-out request was cancelled in the CLI.
            #expect(outbound.all.contains("control_cancel_request"))
        }
    }

    @Test("ignore-eof: disconnect() escalates to SIGKILL and returns")
    func ignoreEOFEscalatesToSIGKILL() async throws {
        try await ProcessHarness.run { harness in
            let options = harness.options("ignore-eof")
            let client = harness.client(options)
            try await client.connect()
            let pid = try harness.cliPID
            try await client.query("hello")
            #expect(try await readTurn(client).compactMap(\.assistantText) == ["echo: hello"])

            let disconnectTime = await elapsed { await client.disconnect() }
            // It ignores EOF and SIGTERM, so only SIGKILL after both grace periods can end it.
            #expect(disconnectTime >= options.shutdownGracePeriod + options.terminateGracePeriod)
            #expect(disconnectTime < options.shutdownGracePeriod + options.terminateGracePeriod + .seconds(2))
            #expect(ProcessHarness.isGone(pid))
        }
    }

    @Test(
        "exit-mid-turn: the turn fails with .processExited, exit code 3, the stderr tail and the reason in the description"
    )
    func exitMidTurn() async throws {
        try await ProcessHarness.run { harness in
            let client = harness.client(harness.options("exit-mid-turn"))
            try await client.connect()
            let pid = try harness.cliPID
            try await client.query("crash")
            var seen: [Message] = []
            let error = await #expect(throws: ClaudeCodeError.self) {
                for try await message in client.receiveResponse() { seen.append(message) }
            }
            #expect(seen.map(\.type) == ["system", "assistant"])
            #expect(error?.code == .processExited)
            #expect(error?.exitStatus == .exited(3))
            #expect(
                error?.stderrTail?.contains("fatal: simulated crash") == true, "tail: \(error?.stderrTail ?? "nil")")
            // The description carries the CLI's own reason in one line.
            #expect(
                error?.message == "the CLI exited (exit code 3) before finishing the turn: fatal: simulated crash",
                "\(error?.message ?? "nil")")
            #expect(!client.isConnected)
            await client.disconnect()
            #expect(await ProcessHarness.waitUntilGone(pid))
        }
    }

    /// With a delay, the CLI closes stdin (dropping the `initialize` already written) and lingers before it
    /// exits: `connect()` must end at the exit, not wait for `initializeTimeout`.
    @Test(
        "exit-at-start: connect() fails fast with .processExited, the exit code and the stderr tail",
        arguments: [0, 300])
    func exitAtStart(delayMilliseconds: Int) async throws {
        try await ProcessHarness.run { harness in
            let client = harness.client(
                harness.options("exit-at-start", env: ["FAKE_CLAUDE_EXIT_DELAY_MS": "\(delayMilliseconds)"]))
            var caught: ClaudeCodeError?
            let time = await elapsed {
                do { try await client.connect() } catch let error as ClaudeCodeError { caught = error } catch {}
            }
            let error = try #require(caught)
            #expect(time < .milliseconds(delayMilliseconds) + .seconds(3))
            #expect(error.code == .processExited, "got \(error)")
            #expect(error.exitStatus == .exited(1))
            #expect(
                error.stderrTail?.contains("simulated startup failure") == true, "tail: \(error.stderrTail ?? "nil")")
            #expect(!client.isConnected)
            #expect(await ProcessHarness.waitUntilGone(try harness.cliPID))
        }
    }

    @Test(
        "stderr-flood: 8 MiB of stderr is drained (no deadlock), every line reaches the callback, the tail stays ≤ 64 KiB"
    )
    func stderrFlood() async throws {
        try await ProcessHarness.run { harness in
            let total = 8 * 1024 * 1024
            let lines = Collector<Int>()
            let lastLine = Mutex("")
            var options = harness.options("stderr-flood", env: ["FAKE_CLAUDE_STDERR_BYTES": "\(total)"])
            options.stderr = { line in
                lines.append(line.utf8.count)
                lastLine.withLock { $0 = line }
            }
            let client = harness.client(options)
            try await client.connect()
            try await client.query("flood")
            let messages = try await readTurn(client)
            await client.disconnect()

            #expect(messages.compactMap(\.assistantText) == ["echo: flood"])
            let floodLine = "fake-claude stderr flood: lorem ipsum dolor sit amet consectetur adipiscing"
            let lineBytes = floodLine.utf8.count + 1
            // Every byte arrived through the callback: whole lines plus the cut last one.
            #expect(lines.count == (total + lineBytes - 1) / lineBytes)
            #expect(lines.all.reduce(0, +) + total / lineBytes == total)
            #expect(floodLine.hasPrefix(lastLine.withLock { $0 }))
            let tail = try harness.transport.stderrTail
            #expect(tail.utf8.count <= 64 * 1024)
            #expect(tail.utf8.count >= 60 * 1024)
            #expect(tail.contains(floodLine))
        }
    }

    // MARK: What reaches the CLI

    @Test("record-argv: argv is exactly commandLineArguments(); env has the options' env and the SDK's, no CLAUDECODE")
    func recordArgv() async throws {
        try await ProcessHarness.run { harness in
            let argvFile = harness.file("argv.json")
            var options = harness.options(
                "record-argv",
                env: [
                    "FAKE_CLAUDE_ARGV_FILE": argvFile, "FAKE_CLAUDE_RECORD_ENV": "MY_SETTING,CLAUDECODE",
                    "MY_SETTING": "value with spaces, \"quotes\" and\na newline",
                ])
            options.systemPrompt = .text("You are \"careful\".\nSecond line; $HOME `x` * ?")
            options.model = "-model-with-leading-dash"
            options.allowedTools = ["Bash(git status)", "Read"]
            options.addDirectories = ["/tmp/dir with spaces", "--looks-like-a-flag"]
            options.extraArgs = ["debug-to-stderr": nil, "weird": "-x y", "plain": "a b\nc"]
            let expected = try options.commandLineArguments()
            // Tokens a shell would split, glob or take for flags.
            #expect(expected.contains { $0.contains("\n") && $0.contains("\"") })
            #expect(expected.contains("--weird=-x y"))
            #expect(expected.contains("-model-with-leading-dash"))

            // The parent's CLAUDECODE (set when running inside Claude Code) must not reach the CLI.
            let hadCLAUDECODE = getenv("CLAUDECODE") != nil
            if !hadCLAUDECODE { setenv("CLAUDECODE", "1", 1) }
            defer { if !hadCLAUDECODE { unsetenv("CLAUDECODE") } }

            let client = harness.client(options)
            try await client.connect()
            try await client.query("argv")
            _ = try await readTurn(client)
            await client.disconnect()

            let record = try JSONValue.parse(try String(contentsOfFile: argvFile, encoding: .utf8))
            let recordedArgv = record["argv"]?.arrayValue?.compactMap { $0.stringValue }
            let argv = try #require(recordedArgv)
            #expect(argv.first == harness.fakeCLI)
            #expect(Array(argv.dropFirst()) == expected)
            #expect(record["cwd"]?.stringValue == harness.sandbox.workDirectory.path)
            let env = try #require(record["env"]?.objectValue)
            #expect(env["MY_SETTING"] == "value with spaces, \"quotes\" and\na newline")
            #expect(env["FAKE_CLAUDE_SCENARIO"] == "record-argv")
            #expect(env["CLAUDE_CODE_ENTRYPOINT"] == "sdk-swift")
            #expect(env["CLAUDE_AGENT_SDK_VERSION"] != nil)
            #expect(env["CLAUDECODE"] == nil)
            #expect(env["PWD"]?.stringValue == harness.sandbox.workDirectory.path)
            #expect(record["pid"]?.intValue == Int(try harness.cliPID))
        }
    }

    #if os(Linux)
        @Test("the CLI's stdout pipe is enlarged to 1 MiB, so a busy stream is read in large pieces")
        func stdoutPipeIsEnlarged() async throws {
            try await ProcessHarness.run { harness in
                let client = harness.client(harness.options("pipe-size"))
                try await client.connect()
                // The size is read when the turn is played: the reader has been reading since initialize.
                try await client.query("size")
                let answers = try await readTurn(client).compactMap { message -> String? in
                    if case .result(let result) = message { return result.result }
                    return nil
                }
                await client.disconnect()
                #expect(answers == ["echo: stdout_pipe_size=\(1 << 20)"])
            }
        }
    #endif

    // MARK: The transport on its own

    @Test("SubprocessTransport: lines in order, exactly one exit event last; a second start() is refused")
    func transportEventsAndDoubleStart() async throws {
        try await ProcessHarness.run { harness in
            let transport = try harness.transportFactory(harness.options("echo"))
            let events = Collector<TransportEvent>()
            try await transport.start { events.append($0) }
            let second = Collector<TransportEvent>()
            let error = await #expect(throws: ClaudeCodeError.self) { try await transport.start { second.append($0) } }
            #expect(error?.code == .alreadyConnected)

            try await transport.write(
                Array(#"{"type":"control_request","request_id":"r1","request":{"subtype":"initialize"}}"#.utf8) + [0x0A]
            )
            try await transport.write(Array(#"{"type":"user","message":{"role":"user","content":"hi"}}"#.utf8) + [0x0A])
            await transport.endInput()
            await transport.close()

            #expect(second.count == 0)
            var lines: [String] = []
            var exits: [ProcessExitStatus] = []
            for event in events.all {
                switch event {
                case .lines(let batch): lines += batch.map { String(decoding: $0, as: UTF8.self) }
                case .oversizedLine: Issue.record("unexpected oversized line")
                case .exited(let status, _):
                    #expect(exits.isEmpty && lines.count == 4, "the exit must come once, after every line")
                    exits.append(status)
                }
            }
            #expect(exits == [.exited(0)])
            let types = try lines.map { try JSONValue.parse($0)["type"]?.stringValue ?? "" }
            #expect(types == ["control_response", "system", "assistant", "result"])
        }
    }

    @Test("SubprocessTransport: a CLI that ignores EOF and SIGTERM ends with SIGKILL")
    func transportReportsSIGKILL() async throws {
        try await ProcessHarness.run { harness in
            let transport = try harness.transportFactory(harness.options("ignore-eof"))
            let events = Collector<TransportEvent>()
            try await transport.start { events.append($0) }
            await transport.close()
            guard case .exited(let status, _)? = events.all.last else {
                Issue.record("no exit event")
                return
            }
            #expect(status == .signaled(SIGKILL))
        }
    }

    // MARK: Lifecycle: no CLI outlives its owner

    @Test("cancelling the task iterating query(prompt:) mid-stream ends the CLI process")
    func queryCancelledMidStream() async throws {
        try await ProcessHarness.run { harness in
            let (started, startedContinuation) = AsyncStream.makeStream(of: Void.self)
            let stream = query(prompt: "stall", options: harness.options("stall"), transport: harness.transportFactory)
            let consumer = Task {
                var seen: [String] = []
                do {
                    for try await message in stream {
                        seen.append(message.type)
                        if message.type == "assistant" { startedContinuation.yield() }
                    }
                } catch let error as ClaudeCodeError {
                    seen.append("error:\(error.code)")
                } catch {
                    seen.append("error:\(error)")
                }
                return seen
            }
            for await _ in started { break }
            let pid = try harness.cliPID
            #expect(!ProcessHarness.isGone(pid))
            consumer.cancel()
            let seen = await consumer.value
            #expect(seen == ["system", "assistant", "error:cancelled"])
            #expect(
                await ProcessHarness.waitUntilGone(pid, timeout: .seconds(5)), "the CLI outlived the cancelled query")
        }
    }

    @Test("cancelling a query(prompt:) while the CLI has not answered initialize ends the CLI process")
    func queryCancelledDuringConnect() async throws {
        try await ProcessHarness.run { harness in
            let options = harness.options("stall", env: ["FAKE_CLAUDE_STALL_INITIALIZE": "1"])
            let stream = query(prompt: "never sent", options: options, transport: harness.transportFactory)
            let consumer = Task {
                do {
                    for try await _ in stream {}
                    return "finished"
                } catch let error as ClaudeCodeError {
                    return "error:\(error.code)"
                } catch {
                    return "error:\(error)"
                }
            }
            let pid = try await harness.waitForCLIPID()
            #expect(!ProcessHarness.isGone(pid))
            consumer.cancel()
            #expect(await consumer.value == "error:cancelled")
            #expect(
                await ProcessHarness.waitUntilGone(pid, timeout: .seconds(5)), "the CLI outlived the cancelled query")
        }
    }

    @Test("breaking out of a query(prompt:) loop early ends the CLI process")
    func queryLoopBrokenEarly() async throws {
        try await ProcessHarness.run { harness in
            var seen: [String] = []
            for try await message in query(
                prompt: "stall", options: harness.options("stall"), transport: harness.transportFactory)
            {
                seen.append(message.type)
                if message.type == "assistant" { break }
            }
            #expect(seen == ["system", "assistant"])
            let pid = try harness.cliPID
            #expect(
                await ProcessHarness.waitUntilGone(pid, timeout: .seconds(5)), "the CLI outlived the abandoned query")
        }
    }

    @Test("a connected ClaudeSDKClient dropped without disconnect() kills its CLI")
    func droppedClientKillsCLI() async throws {
        try await ProcessHarness.run { harness in
            var client: ClaudeSDKClient? = harness.client(harness.options("stall"))
            try await client?.connect()
            let pid = try harness.cliPID
            #expect(client?.isConnected == true)
            #expect(!ProcessHarness.isGone(pid))
            client = nil
            #expect(await ProcessHarness.waitUntilGone(pid, timeout: .seconds(5)), "the dropped client's CLI lives on")
        }
    }

    @Test(
        "the CLI's own children (its process group) are gone after disconnect()",
        arguments: ["devnull", "inherit"])
    func processGroupIsTornDown(childStdio: String) async throws {
        try await ProcessHarness.run { harness in
            let pidFile = harness.file("child.pid")
            let options = harness.options(
                "spawn-child", env: ["FAKE_CLAUDE_CHILD_PID_FILE": pidFile, "FAKE_CLAUDE_CHILD_STDIO": childStdio])
            let client = harness.client(options)
            try await client.connect()
            let cliPID = try harness.cliPID
            let childPID = try harness.recordedPID(in: pidFile)
            try await client.query("children")
            #expect(try await readTurn(client).compactMap(\.assistantText) == ["echo: children"])
            #expect(!ProcessHarness.isGone(childPID, allowZombie: true), "the grandchild should be running")

            let time = await elapsed { await client.disconnect() }
            #expect(time < options.shutdownGracePeriod + options.terminateGracePeriod + .seconds(2))
            #expect(ProcessHarness.isGone(cliPID))
            #expect(
                await ProcessHarness.waitUntilGone(childPID, allowZombie: true, timeout: .seconds(5)),
                "the CLI's child (sleep 300) survived disconnect()")
        }
    }
}
