// A test helper for the session store's crash and concurrency tests.
//
//   session-crash-writer --dir DIR --session ID [--own-session ID2] [--tag W]
//                        [--start K] [--count N] [--policy checkpoint|message|never]
//                        [--turn T] [--text-bytes B]
//
// Appends messages K..<K+N (realistic ~1.3 KB assistant frames carrying "writer":W and
// "n":i) to session ID (and, with --own-session, to ID2 too), awaiting each append, and
// prints "W i" on standard output after the append(s) of message i returned — so a test
// that kills this process knows which messages were acknowledged. Every T messages it
// calls checkpoint() (the end of a "turn"). At the end it closes the writers and prints
// "done". Exit status 2 on bad arguments, 3 on a store error.
//
// With --fsize-limit BYTES it simulates a full disk instead: it caps the size of files it
// may write (RLIMIT_FSIZE, so writes fail with EFBIG part-way), enqueues all N messages
// without waiting, checks that flush() fails and the messages are still queued, lifts the
// cap ("space freed"), flushes and closes, and prints
// "failed <pending> events <writeFailed> <writeRecovered>" then "done".
//
// --as-user UID drops root privileges first (setgid/setuid), so permission bits apply.
// --mode retry: enqueue N messages, expect flush() to fail ("failed <pending> events …"),
//   then retry flush() every 20 ms for up to 20 s (the test fixes the permissions
//   meanwhile), close, print "recovered <pending> events …" and "done".
// --mode load: load the session and list the folder; print "loaded <messages> listed <sessions>".

import ClaudeCodeSessions
import Synchronization

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

@main
struct SessionCrashWriter {
    static func main() async {
        var arguments: [String: String] = [:]
        var iterator = CommandLine.arguments.dropFirst().makeIterator()
        while let key = iterator.next() {
            guard key.hasPrefix("--"), let value = iterator.next() else { usage() }
            arguments[String(key.dropFirst(2))] = value
        }
        guard let directory = arguments["dir"], let sessionText = arguments["session"],
            let session = SessionID(rawValue: sessionText)
        else { usage() }
        let ownSession = arguments["own-session"].flatMap(SessionID.init(rawValue:))
        let tag = arguments["tag"] ?? "w0"
        let start = Int(arguments["start"] ?? "0") ?? 0
        let count = Int(arguments["count"] ?? "1000") ?? 1000
        let turn = max(1, Int(arguments["turn"] ?? "8") ?? 8)
        let textBytes = Int(arguments["text-bytes"] ?? "700") ?? 700
        let policy: DurabilityPolicy
        switch arguments["policy"] ?? "checkpoint" {
        case "checkpoint": policy = .checkpoint
        case "message": policy = .everyMessage
        case "never": policy = .never
        default: usage()
        }

        if let user = arguments["as-user"].flatMap(UInt32.init) {
            guard setgroups(0, nil) == 0, setgid(user) == 0, setuid(user) == 0 else {
                emit("error cannot drop privileges\n")
                exit(5)
            }
        }
        switch arguments["mode"] {
        case "retry":
            await retry(directory: directory, session: session, tag: tag, count: count, textBytes: textBytes)
            return
        case "load":
            let store = FileRecordStore(directory: directory)
            do {
                let data = try await store.load(session)
                let listing = try await store.list()
                emit("loaded \(data.conversationHistory.count) listed \(listing.compactMap(\.summary).count)\n")
            } catch {
                emit("error \(error)\n")
                exit(3)
            }
            return
        default:
            break
        }
        if let limit = arguments["fsize-limit"].flatMap(Int.init) {
            await diskFull(
                directory: directory, session: session, tag: tag, count: count, limit: limit, policy: policy,
                textBytes: textBytes)
            return
        }

        let store = FileRecordStore(configuration: .init(directory: directory, durability: policy))
        do {
            let shared = try await store.openSession(session, workingDirectory: "/work/crash-test")
            var own: SessionWriter?
            if let ownSession { own = try await store.openSession(ownSession, workingDirectory: "/work/own") }
            for index in start..<(start + count) {
                let frame = Self.frame(tag: tag, index: index, session: session.rawValue, textBytes: textBytes)
                try await shared.append(ConversationMessage(direction: .received, rawJSON: frame))
                if let own {
                    try await own.append(ConversationMessage(direction: .received, rawJSON: frame))
                }
                emit("\(tag) \(index)\n")
                if (index + 1) % turn == 0 {
                    try await shared.checkpoint()
                    try await own?.checkpoint()
                }
            }
            try await shared.close()
            try await own?.close()
            emit("done\n")
        } catch {
            emit("error \(error)\n")
            exit(3)
        }
    }

    static func diskFull(
        directory: String, session: SessionID, tag: String, count: Int, limit: Int, policy: DurabilityPolicy,
        textBytes: Int
    ) async {
        let failures = Counter()
        let recoveries = Counter()
        let store = FileRecordStore(
            configuration: .init(
                directory: directory, durability: policy,
                eventHandler: { event in
                    if event.kind == .writeFailed { failures.increment() }
                    if event.kind == .writeRecovered { recoveries.increment() }
                }))
        do {
            let writer = try await store.openSession(session, workingDirectory: "/work/disk-full")
            signal(SIGXFSZ, SIG_IGN)
            var cap = rlimit(rlim_cur: rlim_t(limit), rlim_max: rlim_t.max)
            setrlimit(Int32(RLIMIT_FSIZE.rawValue), &cap)
            for index in 0..<count {
                let frame = Self.frame(tag: tag, index: index, session: session.rawValue, textBytes: textBytes)
                writer.enqueue(ConversationMessage(direction: .received, rawJSON: frame))
            }
            do {
                try await writer.flush()
                emit("error flush succeeded under the limit\n")
                exit(4)
            } catch {
                emit("failed \(writer.pendingCount) events \(failures.value) \(recoveries.value)\n")
            }
            cap.rlim_cur = rlim_t.max
            setrlimit(Int32(RLIMIT_FSIZE.rawValue), &cap)
            try await writer.flush()
            try await writer.close()
            emit("recovered \(writer.pendingCount) events \(failures.value) \(recoveries.value)\n")
            emit("done\n")
        } catch {
            emit("error \(error)\n")
            exit(3)
        }
    }

    static func retry(directory: String, session: SessionID, tag: String, count: Int, textBytes: Int) async {
        let failures = Counter()
        let recoveries = Counter()
        let store = FileRecordStore(
            configuration: .init(
                directory: directory,
                eventHandler: { event in
                    if event.kind == .writeFailed { failures.increment() }
                    if event.kind == .writeRecovered { recoveries.increment() }
                }))
        let writer = store.makeWriter(for: session, workingDirectory: "/work/retry")
        for index in 0..<count {
            let frame = Self.frame(tag: tag, index: index, session: session.rawValue, textBytes: textBytes)
            writer.enqueue(ConversationMessage(direction: .received, rawJSON: frame))
        }
        var lastError = "none"
        do {
            try await writer.flush()
            emit("error flush succeeded\n")
            exit(4)
        } catch {
            lastError = (error as? SessionStoreError).map { "\($0.code) \($0.systemErrorNumber ?? 0)" } ?? "\(error)"
            emit("failed \(writer.pendingCount) events \(failures.value) \(recoveries.value) \(lastError)\n")
        }
        for _ in 0..<1000 {
            do {
                try await writer.flush()
                try await writer.close()
                emit("recovered \(writer.pendingCount) events \(failures.value) \(recoveries.value)\n")
                emit("done\n")
                return
            } catch {
                try? await Task.sleep(for: .milliseconds(20))
            }
        }
        emit("error never recovered\n")
        exit(3)
    }

    /// A realistic assistant frame of about 1.3 KB.
    static func frame(tag: String, index: Int, session: String, textBytes: Int) -> String {
        let words = "The quick brown fox jumps over the lazy dog while the session store appends journal lines. "
        var text = ""
        while text.utf8.count < textBytes { text += words }
        return
            #"{"type":"assistant","writer":"\#(tag)","n":\#(index),"message":{"id":"msg_\#(tag)_\#(index)","type":"message","role":"assistant","model":"claude-opus-5-5","content":[{"type":"text","text":"\#(text)"}],"stop_reason":null,"stop_sequence":null,"usage":{"input_tokens":2560,"cache_creation_input_tokens":0,"cache_read_input_tokens":18342,"output_tokens":\#(index % 997),"service_tier":"standard"},"context_management":null},"parent_tool_use_id":null,"session_id":"\#(session)","uuid":"a09bfb87-\#(tag)-\#(index)","timestamp":"2026-11-24T15:49:08.873Z","request_id":"req_\#(tag)_\#(index)"}"#
    }

    /// Writes to standard output unbuffered, so a kill right after loses nothing printed.
    static func emit(_ text: String) {
        var bytes = Array(text.utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeMutableBytes { write(1, $0.baseAddress! + offset, $0.count - offset) }
            if written <= 0 { return }
            offset += written
        }
    }

    static func usage() -> Never {
        emit(
            "usage: session-crash-writer --dir DIR --session ID [--own-session ID] [--tag W] [--start K] [--count N] [--policy checkpoint|message|never] [--turn T]\n"
        )
        exit(2)
    }
}

final class Counter: Sendable {
    private let storage = Mutex(0)
    func increment() { storage.withLock { $0 += 1 } }
    var value: Int { storage.withLock { $0 } }
}
