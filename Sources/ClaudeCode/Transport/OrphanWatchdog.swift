import Foundation
import Logging
import Subprocess
import Synchronization

#if canImport(System)
    import System
#else
    import SystemPackage
#endif

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

/// Takes a CLI and everything it started down when the host process dies without stopping it: killed with
/// SIGKILL, crashed, or returned from `main` while a client was still connected.
///
/// The watchdog is a second child process, `/bin/sh` running the constant ``script``, started
/// before the CLI. Its stdin is the read end of a pipe whose only write end stays in the host
/// (close-on-exec, so no child inherits it). The protocol on that pipe, one line each:
///
/// 1. the CLI's pid (its session and process group id), written as soon as the CLI is spawned
///    (``arm(processGroup:)``);
/// 2. an empty line once the CLI has exited and been reaped (``standDown()``): the watchdog exits
///    and kills nothing.
///
/// If the host dies first, the kernel closes the write end and the watchdog reads end-of-file: it
/// sends SIGTERM to the CLI and everything it started (on Linux its whole process tree and
/// session, found in `/proc`: MCP servers, Bash tools, which 2.1.331 runs in sessions of their
/// own; elsewhere its process group), waits up to one second (checking every 100 ms whether they
/// are gone), then sends SIGKILL to what is left. Measured with CLI 2.1.331: the CLI needs about
/// 2.15 s to exit on SIGTERM, and SIGKILL of the CLI alone leaves its tools running, hence the
/// tree and the escalation.
///
/// Why this design and not another:
/// - `PR_SET_PDEATHSIG` would need a hook between `fork` and `exec`, which swift-subprocess 1.0.2
///   does not offer (its `PlatformOptions` has no pre-exec action). Even with one, it fires when
///   the *thread* that spawned the child exits, not the process (a cooperative-pool thread can
///   retire at any time), it reaches only the CLI and not its tools, and it does not exist on macOS.
///   A launcher such as `setpriv --pdeathsig` has the same gaps and adds a dependency.
/// - A watchdog forked without `exec` is unsafe in a multithreaded Swift process (only
///   async-signal-safe calls are allowed after `fork`).
/// - A pipe's end-of-file is delivered by the kernel however the host ends, and works the same on
///   Linux and macOS. The shell here sees no secret: its environment is only `PATH`, its arguments
///   are the constant script and a name, and the process group id arrives on stdin.
/// - The watchdog runs in a session of its own, so a terminal's Ctrl-C (SIGINT to the host's
///   foreground process group) does not kill it together with the host.
///
/// Limits: a process that left the CLI's tree and session before the host died (a daemon's double
/// fork) is not reached, nor, on macOS (no `/proc`), one outside the CLI's process group; a host
/// killed in the microseconds between spawning the CLI and writing its group id leaves it running;
/// a `fork` without `exec` in the host keeps the write end open in the forked copy.
final class OrphanWatchdog: Sendable {
    /// The watchdog's program. `$g` (the CLI's pid, its session and process group id) is checked
    /// to be a number above 1 (`kill -TERM -1` would reach every process); `read` of the stand-down
    /// line succeeds only if the host wrote it.
    ///
    /// On Linux it signals the CLI's process tree, not only its process group: CLI 2.1.331 runs
    /// each Bash tool command in a session of its own (`setsid`), which neither the CLI's process
    /// group nor its session reaches. `collect` walks `/proc` for every live process of the CLI's
    /// session and every descendant of one (repeated until nothing is added, and again before each
    /// check, for processes started during the shutdown), each noted as `pid:starttime`; `signal`
    /// signals only a pid whose start time still matches, so a pid reused by another process is
    /// never hit. It succeeds while one of them lives (zombies have exited). The deadline is read
    /// from `/proc/uptime` (centiseconds), so a slow machine does not stretch the grace period.
    /// Only shell builtins run in the scans; `sleep` is the only program started. Without `/proc`
    /// (macOS) the CLI's process group is signalled instead.
    static let script = """
        IFS= read -r g || exit 0
        case $g in '' | *[!0-9]*) exit 0 ;; esac
        [ "$g" -gt 1 ] || exit 0
        IFS= read -r _ && exit 0
        if [ ! -r /proc/self/stat ]; then
            kill -TERM -"$g" 2>/dev/null || exit 0
            i=0
            while [ "$i" -lt 10 ]; do
                sleep 0.1
                kill -0 -"$g" 2>/dev/null || exit 0
                i=$((i + 1))
            done
            kill -KILL -"$g" 2>/dev/null
            exit 0
        fi
        tree=" "
        collect() {
            grown=1
            while [ "$grown" = 1 ]; do
                grown=0
                for f in /proc/[0-9]*/stat; do
                    { IFS= read -r s <"$f"; } 2>/dev/null || continue
                    p=${f#/proc/}
                    p=${p%/stat}
                    set -- ${s##*) }
                    [ "$1" != Z ] || continue
                    case $tree in *" $p:${20} "*) continue ;; esac
                    case $tree in *" $2:"*) ;; *) [ "$4" = "$g" ] || continue ;; esac
                    tree="$tree$p:${20} "
                    grown=1
                done
            done
        }
        signal() {
            sig=$1
            alive=1
            for e in $tree; do
                p=${e%%:*}
                { IFS= read -r s <"/proc/$p/stat"; } 2>/dev/null || continue
                set -- ${s##*) }
                [ "$1" != Z ] && [ "${20}" = "${e#*:}" ] || continue
                alive=0
                [ "$sig" = 0 ] || kill -"$sig" "$p" 2>/dev/null
            done
            return "$alive"
        }
        clock() {
            IFS=' .' read -r s c _ </proc/uptime
            now=$s$c
        }
        collect
        clock
        end=$((now + 100))
        signal TERM || exit 0
        while clock && [ "$now" -lt "$end" ]; do
            sleep 0.1
            collect
            signal 0 || exit 0
        done
        collect
        signal KILL
        collect
        signal KILL
        exit 0
        """

    /// How long the watchdog waits between SIGTERM and SIGKILL of an orphaned CLI's process group.
    static let orphanGracePeriod = Duration.seconds(1)

    /// The name the watchdog shows in `ps` (`$0` of the script).
    static let processName = "claude-sdk-orphan-watchdog"

    /// The watchdog's pid.
    let processID: pid_t
    private let writeEnd: Mutex<Int32?>
    private let exited: Task<Void, Never>

    private init(processID: pid_t, writeEnd: Int32, exited: Task<Void, Never>) {
        self.processID = processID
        self.writeEnd = Mutex(writeEnd)
        self.exited = exited
    }

    deinit { standDown() }

    /// Starts a watchdog and returns once it runs; `nil` (logged) when it cannot be started, in
    /// which case the CLI runs without one.
    static func start(logger: Logger) async -> OrphanWatchdog? {
        guard let (readEnd, writeEnd) = makePipe() else {
            logger.warning("no orphan watchdog for the CLI: pipe() failed (errno \(errno))")
            return nil
        }
        var platform = PlatformOptions()
        platform.createSession = true
        let spawn = SpawnOutcome()
        let exited = Task.detached {
            do {
                _ = try await Subprocess.run(
                    .path(FilePath("/bin/sh")), arguments: ["-c", script, processName],
                    environment: .custom(["PATH": "/usr/bin:/bin"]), workingDirectory: FilePath("/"),
                    platformOptions: platform,
                    input: .fileDescriptor(FileDescriptor(rawValue: readEnd), closeAfterSpawningProcess: true),
                    output: .discarded, error: .discarded
                ) { execution in
                    spawn.deliver(.success(execution.processIdentifier.value))
                }
            } catch {
                spawn.deliver(.failure(error))
            }
        }
        switch await spawn.value {
        case .success(let pid):
            return OrphanWatchdog(processID: pid, writeEnd: writeEnd, exited: exited)
        case .failure(let error):
            logger.warning("no orphan watchdog for the CLI: /bin/sh could not be started: \(error)")
            close(writeEnd)
            return nil
        }
    }

    /// The spawn's outcome, delivered once by the task that runs the watchdog, awaited once.
    private final class SpawnOutcome: Sendable {
        private enum State {
            case empty
            case waiting(CheckedContinuation<Result<pid_t, any Error>, Never>)
            case delivered(Result<pid_t, any Error>)
            case done
        }
        private let state = Mutex(State.empty)

        func deliver(_ result: Result<pid_t, any Error>) {
            let waiter = state.withLock { state -> CheckedContinuation<Result<pid_t, any Error>, Never>? in
                switch state {
                case .empty:
                    state = .delivered(result)
                    return nil
                case .waiting(let continuation):
                    state = .done
                    return continuation
                case .delivered, .done:
                    return nil
                }
            }
            waiter?.resume(returning: result)
        }

        var value: Result<pid_t, any Error> {
            get async {
                await withCheckedContinuation { continuation in
                    let ready = state.withLock { state -> Result<pid_t, any Error>? in
                        if case .delivered(let result) = state {
                            state = .done
                            return result
                        }
                        state = .waiting(continuation)
                        return nil
                    }
                    if let ready { continuation.resume(returning: ready) }
                }
            }
        }
    }

    /// Tells the watchdog which CLI to take down if the host dies. Call once, right after the CLI
    /// was spawned, with its pid (also its session and process group id: it leads a session).
    func arm(processGroup: pid_t) {
        send("\(processGroup)\n")
    }

    /// Tells the watchdog to exit without killing anything (the CLI has exited or never started)
    /// and closes the pipe. Later calls do nothing.
    func standDown() {
        send("\n")
        writeEnd.withLock { descriptor in
            if let fd = descriptor { close(fd) }
            descriptor = nil
        }
    }

    /// Waits until the watchdog has exited and been reaped (after ``standDown()``, at once).
    func waitForExit() async {
        await exited.value
    }

    /// One small write to a pipe nothing else writes to: atomic, and never blocks (the pipe's
    /// buffer holds far more). A failure (the watchdog died) is ignored: there is nothing to undo.
    private func send(_ line: String) {
        writeEnd.withLock { descriptor in
            guard let fd = descriptor else { return }
            let bytes = Array(line.utf8)
            while bytes.withUnsafeBytes({ write(fd, $0.baseAddress!, $0.count) }) < 0 && errno == EINTR {}
        }
    }

    /// A pipe with both ends close-on-exec from the start, so no child spawned concurrently by
    /// another thread inherits the write end (which would keep the watchdog from ever seeing
    /// end-of-file). Linux: `pipe2(O_CLOEXEC)` (looked up at run time: Glibc's Swift module only
    /// declares it under `_GNU_SOURCE`); elsewhere `pipe` then `FD_CLOEXEC`.
    private static func makePipe() -> (read: Int32, write: Int32)? {
        var fds: [Int32] = [-1, -1]
        #if os(Linux)
            if let pipe2 = pipe2Function {
                guard fds.withUnsafeMutableBufferPointer({ pipe2($0.baseAddress!, O_CLOEXEC) }) == 0 else {
                    return nil
                }
                return (fds[0], fds[1])
            }
        #endif
        guard pipe(&fds) == 0 else { return nil }
        for fd in fds { _ = fcntl(fd, F_SETFD, FD_CLOEXEC) }
        return (fds[0], fds[1])
    }

    #if os(Linux)
        private typealias Pipe2 = @convention(c) (UnsafeMutablePointer<Int32>, Int32) -> Int32
        private static let pipe2Function: Pipe2? = {
            guard let symbol = dlsym(UnsafeMutableRawPointer(bitPattern: 0), "pipe2") else { return nil }
            return unsafeBitCast(symbol, to: Pipe2.self)
        }()
    #endif
}
