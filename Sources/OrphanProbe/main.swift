// Test helper: a host process with a live CLI, for the orphan tests (OrphanRealCLITests), which
// kill it with SIGKILL or let it return from `main` and check that the CLI and its tools go too.
//
//   orphan-probe reaper <cli> <cwd> <marker-dir> <idle|bash> <block|return>
//   orphan-probe host   <cli> <cwd> <marker-dir> <idle|bash> <block|return>
//
// `reaper` (Linux) becomes a child subreaper (PR_SET_CHILD_SUBREAPER), starts `host` with the
// same arguments, prints `host <pid>`, and then reaps every process that is orphaned below it
// (the host's CLI, the watchdog, the tools) until none is left, so a test leaves no zombie behind
// even where PID 1 does not reap. It exits when it has no child left.
//
// `host` connects a ClaudeSDKClient to the CLI (the environment comes from this process: the test
// passes the sandbox's) and prints `cli <pid>`. With `bash`, it then asks for a Bash tool call that
// writes the tool shell's pid to <marker-dir>/tool.pid and a `sleep`'s pid to <marker-dir>/sleep.pid
// and waits; the host prints `ready` once both files hold their pid. With `idle`, `ready` follows `cli` at
// once. Then `block` sleeps until killed, `return` returns from `main` without disconnecting.
import ClaudeCode
import Foundation
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

func say(_ line: String) {
    let bytes = Array((line + "\n").utf8)
    bytes.withUnsafeBytes { raw in
        var offset = 0
        while offset < raw.count {
            let written = write(1, raw.baseAddress! + offset, raw.count - offset)
            if written <= 0 { if errno == EINTR { continue } else { return } }
            offset += written
        }
    }
}

let arguments = Array(CommandLine.arguments.dropFirst())
guard arguments.count == 6, ["reaper", "host"].contains(arguments[0]),
    ["idle", "bash"].contains(arguments[4]), ["block", "return"].contains(arguments[5])
else {
    say("usage: orphan-probe <reaper|host> <cli> <cwd> <marker-dir> <idle|bash> <block|return>")
    exit(2)
}

if arguments[0] == "reaper" {
    #if os(Linux)
        // prctl(PR_SET_CHILD_SUBREAPER, 1); Glibc's Swift module does not declare prctl.
        typealias Prctl = @convention(c) (Int32, UInt, UInt, UInt, UInt) -> Int32
        if let symbol = dlsym(nil, "prctl") {
            _ = unsafeBitCast(symbol, to: Prctl.self)(36, 1, 0, 0, 0)
        }
    #endif
    let executable =
        (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0]
    let argv: [UnsafeMutablePointer<CChar>?] =
        ([executable, "host"] + arguments.dropFirst()).map { strdup($0) } + [nil]
    var pid: pid_t = 0
    let result = posix_spawn(&pid, executable, nil, nil, argv, environ)
    guard result == 0 else {
        say("error spawn \(result)")
        exit(3)
    }
    say("host \(pid)")
    // Reap the host and everything orphaned below this process, until nothing is left.
    var status: Int32 = 0
    while true {
        let reaped = waitpid(-1, &status, 0)
        if reaped < 0 && errno == ECHILD { break }
    }
    exit(0)
}

let cli = arguments[1]
let cwd = arguments[2]
let markers = arguments[3]
let bash = arguments[4] == "bash"

var options = ClaudeCodeOptions()
options.cliPath = cli
options.cwd = cwd
options.allowedTools = ["Bash"]
let transports = Mutex<[SubprocessTransport]>([])
let factory: TransportFactory = { options throws(ClaudeCodeError) in
    let transport = try SubprocessTransport(options: options)
    transports.withLock { $0.append(transport) }
    return transport
}
let client = ClaudeSDKClient(options: options, transport: factory)
do {
    try await client.connect()
} catch {
    say("error \(error)")
    exit(3)
}
guard let pid = transports.withLock({ $0.last?.processID }) else {
    say("error no pid")
    exit(3)
}
say("cli \(pid)")
if bash {
    try await client.query(
        "use tool Bash: echo $$ > \(markers)/tool.pid; sleep 300 & echo $! > \(markers)/sleep.pid; wait")
    // Drain the turn in the background, so the CLI is never blocked writing to its stdout.
    Task {
        for try await _ in client.receiveResponse() {}
    }
    // Until the file holds the pid: the shell creates it (`>`) before `echo` writes to it.
    func written(_ name: String) -> Bool {
        let text = (try? String(contentsOfFile: "\(markers)/\(name)", encoding: .utf8)) ?? ""
        return text.hasSuffix("\n") && pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines)) != nil
    }
    let deadline = ContinuousClock.now + .seconds(60)
    while !(written("tool.pid") && written("sleep.pid")) && ContinuousClock.now < deadline {
        try await Task.sleep(for: .milliseconds(20))
    }
}
say("ready")
if arguments[5] == "block" {
    while true { try await Task.sleep(for: .seconds(3600)) }
}
// `return`: leave `main` with the client still connected.
