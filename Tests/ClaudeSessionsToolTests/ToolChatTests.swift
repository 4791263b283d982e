import ClaudeCode
import ClaudeCodeTesting
import Foundation
import Testing

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// A tmux server of its own (a unique socket name) running commands in a pane, so a test can type into a real
/// terminal: keys, Ctrl-C (SIGINT from the line discipline) and Ctrl-D (end of input).
struct TmuxPane {
    let socket: String
    let target = "chat"

    static func executable() throws -> String {
        for folder in (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":") {
            let candidate = "\(folder)/tmux"
            if FileManager.default.isExecutableFile(atPath: candidate) { return candidate }
        }
        throw ToolRunFailure(description: "tmux is not installed (apt-get install -y tmux)")
    }

    init() {
        socket = "cs-chat-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
    }

    /// Runs a tmux command and returns what it printed. Spawned and reaped here, with `waitpid`, only the
    /// standard descriptors and no blocked signal: the server a tmux client forks outlives it and must not hold
    /// this process's pipes or inherit its signal mask.
    @discardableResult
    func run(_ arguments: [String]) throws -> String {
        let output = FileManager.default.temporaryDirectory.appendingPathComponent(
            "\(socket)-\(UInt32.random(in: 0...UInt32.max)).out"
        ).path
        defer { try? FileManager.default.removeItem(atPath: output) }
        let argv = [try Self.executable(), "-L", socket] + arguments
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        defer { posix_spawn_file_actions_destroy(&actions) }
        posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0)
        posix_spawn_file_actions_addopen(&actions, 1, output, O_WRONLY | O_CREAT | O_TRUNC, 0o600)
        posix_spawn_file_actions_adddup2(&actions, 1, 2)
        // Nothing else of this process: a tmux client hands its descriptors to the server, which outlives it
        // and would hold this process's pipes (of other tools' runs) open.
        let open = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd")) ?? []
        for descriptor in open.compactMap(Int32.init) where descriptor > 2 {
            posix_spawn_file_actions_addclose(&actions, descriptor)
        }
        // Nor its blocked signals (a thread here blocks SIGCHLD): the server would never reap its panes.
        var attributes = posix_spawnattr_t()
        posix_spawnattr_init(&attributes)
        defer { posix_spawnattr_destroy(&attributes) }
        var noSignals = sigset_t()
        sigemptyset(&noSignals)
        posix_spawnattr_setsigmask(&attributes, &noSignals)
        var allSignals = sigset_t()
        sigfillset(&allSignals)
        posix_spawnattr_setsigdefault(&attributes, &allSignals)
        posix_spawnattr_setflags(&attributes, Int16(POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF))
        var pid: pid_t = 0
        let cArguments = argv.map { strdup($0) } + [nil]
        defer { for argument in cArguments { free(argument) } }
        let spawned = posix_spawn(&pid, argv[0], &actions, &attributes, cArguments, environ)
        guard spawned == 0 else { throw ToolRunFailure(description: "cannot run tmux: error \(spawned)") }
        var status: Int32 = 0
        while waitpid(pid, &status, 0) == -1 && errno == EINTR {}
        let text = (try? String(contentsOfFile: output, encoding: .utf8)) ?? ""
        // WIFEXITED and WEXITSTATUS, by hand (macros).
        guard status & 0x7f == 0, (status >> 8) & 0xff == 0 else {
            throw ToolRunFailure(description: "tmux \(arguments.first ?? "") failed (\(status)): \(text)")
        }
        return text
    }

    /// Starts `command` (a shell command line, which should `exec` the program) in a new window of a wide pane.
    /// The first window of the server is an idle `cat`, so `remain-on-exit` can be set before the program runs:
    /// a pane stays readable, with its exit status, after its program ends.
    func start(_ command: String, window: String) throws {
        if (try? run(["has-session", "-t", target])) == nil {
            try run(["new-session", "-d", "-s", target, "-n", "idle", "-x", "220", "-y", "50", "exec cat"])
            try run(["set-option", "-g", "remain-on-exit", "on"])
        }
        try run(["new-window", "-d", "-t", target, "-n", window, command])
    }

    /// The process id of the window's program.
    func pid(_ window: String) throws -> Int32? {
        Int32(
            try run(["display-message", "-p", "-t", "\(target):\(window)", "#{pane_pid}"]).trimmingCharacters(
                in: .whitespacesAndNewlines))
    }

    /// The exit status of the window's program, once it has ended.
    func exitStatus(_ window: String) throws -> Int32? {
        let fields = try run(["display-message", "-p", "-t", "\(target):\(window)", "#{pane_dead} #{pane_dead_status}"])
            .split(separator: " ")
        guard fields.first == "1", fields.count > 1 else { return nil }
        return Int32(fields[1].trimmingCharacters(in: .whitespacesAndNewlines))
    }

    /// Polls until the window's program has ended (at most `timeout`); returns its exit status.
    ///
    /// tmux sometimes marks a pane dead before it has reaped the program (a zombie, no status yet) and then
    /// waits for another SIGCHLD; sending one to the server makes it collect the status.
    func waitForExit(_ window: String, timeout: Duration = .seconds(30)) async throws -> Int32 {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        while clock.now < deadline {
            if let status = try exitStatus(window) { return status }
            let dead = try run(["display-message", "-p", "-t", "\(target):\(window)", "#{pane_dead} #{pid}"])
                .split(separator: " ")
            if dead.first == "1", dead.count > 1,
                let server = Int32(dead[1].trimmingCharacters(in: .whitespacesAndNewlines))
            {
                signalProcess(server, SIGCHLD)
            }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ToolRunFailure(description: "\(window) did not exit; the pane shows:\n\((try? capture(window)) ?? "")")
    }

    /// The window's text, with its scroll-back, lines joined when the terminal wrapped them.
    func capture(_ window: String) throws -> String {
        try run(["capture-pane", "-p", "-J", "-S", "-500", "-t", "\(target):\(window)"])
    }

    func keys(_ window: String, _ keys: String...) throws {
        try run(["send-keys", "-t", "\(target):\(window)"] + keys)
    }

    /// Polls the pane until `predicate` holds (at most `timeout`); returns the text that satisfied it.
    @discardableResult
    func waitFor(
        _ window: String, timeout: Duration = .seconds(60), _ what: String, _ predicate: (String) -> Bool
    ) async throws -> String {
        let clock = ContinuousClock()
        let deadline = clock.now + timeout
        var text = ""
        while clock.now < deadline {
            text = try capture(window)
            if predicate(text) { return text }
            try await Task.sleep(for: .milliseconds(100))
        }
        throw ToolRunFailure(description: "timed out waiting for \(what); the pane shows:\n\(text)")
    }

    func waitFor(_ window: String, contains needle: String, timeout: Duration = .seconds(60)) async throws -> String {
        try await waitFor(window, timeout: timeout, "'\(needle)'") { $0.contains(needle) }
    }

    /// Stops the server and everything in it, and removes its socket.
    func kill() {
        _ = try? run(["kill-server"])
        let folder = ProcessInfo.processInfo.environment["TMUX_TMPDIR"] ?? "/tmp"
        try? FileManager.default.removeItem(atPath: "\(folder)/tmux-\(getuid())/\(socket)")
    }
}

/// The processes (other than this one) whose environment holds exactly `HOME=<home>`.
func processes(withHome home: String) -> [Int32] {
    let wanted = Array("HOME=\(home)".utf8)
    var found: [Int32] = []
    for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
        guard let pid = Int32(name), pid != getpid(),
            let data = FileManager.default.contents(atPath: "/proc/\(name)/environ")
        else { continue }
        if data.split(separator: 0).contains(where: { Array($0) == wanted }) { found.append(pid) }
    }
    return found.sorted()
}

/// The children of `parent`, from `/proc/<pid>/stat`.
/// The child processes of `parent`, without the SDK's orphan watchdog (a `/bin/sh` beside each CLI).
func children(of parent: Int32) -> [Int32] {
    var found: [Int32] = []
    for name in (try? FileManager.default.contentsOfDirectory(atPath: "/proc")) ?? [] {
        guard let pid = Int32(name), let data = FileManager.default.contents(atPath: "/proc/\(name)/stat") else {
            continue
        }
        let stat = String(decoding: data, as: UTF8.self)
        guard let close = stat.range(of: ")", options: .backwards) else { continue }
        let fields = stat[close.upperBound...].split(separator: " ")
        guard fields.count > 1, Int32(fields[1]) == parent else { continue }
        let commandLine = FileManager.default.contents(atPath: "/proc/\(name)/cmdline") ?? Data()
        if String(decoding: commandLine, as: UTF8.self).contains("claude-sdk-orphan-watchdog") { continue }
        found.append(pid)
    }
    return found.sorted()
}

func signalProcess(_ pid: Int32, _ signal: Int32) { _ = kill(pid, signal) }

func shellQuote(_ text: String) -> String { "'" + text.replacingOccurrences(of: "'", with: "'\\''") + "'" }

@Suite("claude-sessions chat in a terminal", .serialized, .timeLimit(.minutes(5)))
struct ToolChatTests {
    @Test func chatStreamsInterruptsExitsAndResumes() async throws {
        let cli = try CLITestEnvironment.locateRealCLI()
        let tool = try toolBinary()
        _ = try TmuxPane.executable()
        // FAKE:slow streams `tick n ` every 100 ms for a minute: far longer than the test waits.
        let api = FakeMessagesAPI(
            configuration: .init(slowTickInterval: .milliseconds(100), slowTickCount: 600))
        try await api.start()
        let sandbox = try CLITestEnvironment(baseURL: api.baseURL, prefix: "cs-chat")
        let tmux = TmuxPane()
        defer {
            tmux.kill()
            sandbox.cleanup()
        }
        do {
            try await converse(api: api, sandbox: sandbox, tmux: tmux, cli: cli, tool: tool)
            await api.stop()
        } catch {
            await api.stop()
            throw error
        }
    }

    func converse(
        api: FakeMessagesAPI, sandbox: CLITestEnvironment, tmux: TmuxPane, cli: String, tool: String
    ) async throws {
        let home = sandbox.homeDirectory.path
        let records = sandbox.root.appendingPathComponent("records").path
        var environment = sandbox.environment
        environment["CLAUDE_CODE_CLI_PATH"] = cli
        environment["TERM"] = "xterm"
        let env = environment.sorted { $0.key < $1.key }.map { shellQuote("\($0.key)=\($0.value)") }
        func command(_ arguments: [String]) -> String {
            // The pane's process is the tool itself (a shell would take Ctrl-C's SIGINT too).
            let line = (["exec", "env", "-i"] + env + [shellQuote(tool)] + arguments.map(shellQuote))
            return "cd \(shellQuote(sandbox.root.path)) && " + line.joined(separator: " ")
        }
        // The turn has ended once the next prompt follows the whole echo line.
        func reply(_ prompt: String) -> (String) -> Bool {
            { text in
                guard let echo = text.range(of: "echo: \(prompt) | user_turns=") else { return false }
                guard let counts = text[echo.upperBound...].range(of: " | messages=") else { return false }
                return text[counts.upperBound...].contains("\n>")
            }
        }

        // A new conversation, in the sandbox's work directory (--cwd), with a model of our choosing (--model).
        try tmux.start(
            command(["chat", "--records", records, "--cwd", sandbox.workDirectory.path, "--model", "claude-chat-test"]),
            window: "one")
        try await tmux.waitFor("one", contains: "> ")
        try tmux.keys("one", "first prompt alpha", "Enter")
        let first = try await tmux.waitFor("one", "the first reply", reply("first prompt alpha"))
        #expect(first.contains("echo: first prompt alpha | user_turns=1 |"))
        let requests = await api.requests
        #expect(requests.filter(\.isMessages).last?.model == "claude-chat-test")
        let toolPID = try #require(try tmux.pid("one"))
        let cliBefore = children(of: toolPID)
        #expect(cliBefore.count == 1, "the CLI processes: \(cliBefore)")

        // A slow reply streams tick by tick; Ctrl-C interrupts it, and the same CLI process goes on.
        try tmux.keys("one", "slow one FAKE:slow", "Enter")
        try await tmux.waitFor("one", contains: "tick 3 ")
        try tmux.keys("one", "C-c")
        let interrupted = try await tmux.waitFor("one", contains: "(interrupted)")
        #expect(!interrupted.contains("tick 600 "))
        try tmux.keys("one", "after interrupt kiwi", "Enter")
        let second = try await tmux.waitFor("one", "the reply after the interrupt", reply("after interrupt kiwi"))
        // The CLI may fold the interrupted prompt into the next one; the first prompt is always there.
        let turnsPattern = /echo: after interrupt kiwi \| user_turns=(\d+)/
        let turnsMatch = try #require(second.firstMatch(of: turnsPattern))
        let turns = try #require(Int(turnsMatch.1))
        #expect(turns >= 2, "\(second)")
        #expect(children(of: toolPID) == cliBefore)

        // Ctrl-D at the prompt ends the chat: status 0, the session id on stderr, no CLI left.
        try tmux.keys("one", "C-d")
        #expect(try await tmux.waitForExit("one") == 0)
        let ended = try tmux.capture("one")
        #expect(processes(withHome: home).isEmpty)
        let idPattern = /session ([0-9a-f-]{36}); continue it with: claude-sessions chat --resume/
        let idMatch = try #require(ended.firstMatch(of: idPattern))
        let sessionID = String(idMatch.1)

        // It is a record: listed, and resumable by a prefix.
        let listed = try await runTool(["list", "--records", records, "--json"])
        #expect(listed.status == 0, "\(listed.stderr)")
        let rows = try #require(try listed.json() as? [[String: Any]])
        #expect(rows.compactMap { $0["id"] as? String } == [sessionID])
        try tmux.start(command(["chat", "--resume", String(sessionID.prefix(8)), "--records", records]), window: "two")
        try await tmux.waitFor("two", contains: "> ")
        try tmux.keys("two", "resumed mango", "Enter")
        let resumed = try await tmux.waitFor("two", "the resumed reply", reply("resumed mango"))
        // The earlier prompts went with it.
        #expect(resumed.contains("echo: resumed mango | user_turns=\(turns + 1)"), "\(resumed)")
        // Ctrl-C at the prompt ends the chat too.
        try tmux.keys("two", "C-c")
        #expect(try await tmux.waitForExit("two") == 0)
        let ended2 = try tmux.capture("two")
        #expect(ended2.contains("session \(sessionID); continue it with"))
        #expect(processes(withHome: home).isEmpty)
    }

    @Test func chatFromAPipeAnswersEveryLineThenExitsAtEndOfInput() async throws {
        let cli = try CLITestEnvironment.locateRealCLI()
        let api = FakeMessagesAPI()
        try await api.start()
        let sandbox = try CLITestEnvironment(baseURL: api.baseURL, prefix: "cs-chat-pipe")
        defer { sandbox.cleanup() }
        var environment = sandbox.environment
        environment["CLAUDE_CODE_CLI_PATH"] = cli
        let records = sandbox.root.appendingPathComponent("records").path
        let run: ToolRun
        do {
            // Both lines (and the end of input) arrive before the first reply: they wait their turn.
            run = try await runTool(
                ["chat", "--records", records, "--cwd", sandbox.workDirectory.path], environment: environment,
                input: "pipe one\n\npipe two\n")
            await api.stop()
        } catch {
            await api.stop()
            throw error
        }
        #expect(run.status == 0, "\(run.stderr)")
        #expect(!run.output.contains("> "))  // no prompt without a terminal
        #expect(run.output.contains("echo: pipe one | user_turns=1 |"))
        #expect(run.output.contains("echo: pipe two | user_turns=2 |"))
        let idMatch = try #require(run.stderr.firstMatch(of: /^session ([0-9a-f-]{36}); continue it with/))
        let listed = try #require(
            try await runTool(["list", "--records", records, "--json"]).json() as? [[String: Any]])
        #expect(listed.compactMap { $0["id"] as? String } == [String(idMatch.1)])
        #expect(processes(withHome: sandbox.homeDirectory.path).isEmpty)
    }

    @Test func chatWithAnUnknownResumeIDFailsWithoutStartingTheCLI() async throws {
        let folder = try TemporaryFolder("chat-unknown")
        defer { folder.cleanup() }
        let run = try await runTool(["chat", "--resume", "feedface", "--records", folder.path + "/records"])
        #expect(run.status == 1, "\(run.stderr)")
        #expect(run.stderr.hasPrefix("claude-sessions: error: no session matches 'feedface'"))
        #expect(run.stderr.split(separator: "\n").count == 1)
    }
}

@Suite("claude-sessions shell completions")
struct ToolCompletionTests {
    @Test func bashCompletionNamesEverySubcommand() async throws {
        let run = try await runTool(["--generate-completion-script", "bash"])
        #expect(run.status == 0, "\(run.stderr)")
        // A completion function per subcommand, and the subcommands offered after the tool's name.
        let names = ["list", "show", "export", "search", "rename", "tag", "delete", "stats", "prune", "import", "chat"]
        for name in names {
            #expect(run.output.contains("_claude-sessions_\(name)() {"), "no \(name) in the bash completion script")
        }
        let offered = try #require(run.output.firstMatch(of: /compgen -W '([a-z ]+)' -- "\$\{cur\}"/))
        #expect(Set(offered.1.split(separator: " ").map(String.init)).isSuperset(of: names))
        // The chat command's options are completed too.
        #expect(run.output.contains("--resume"))
        let help = try await runTool(["--help"])
        #expect(help.output.contains("--generate-completion-script bash|zsh|fish"))
    }
}
