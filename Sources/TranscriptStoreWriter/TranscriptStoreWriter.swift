// A test helper for FileSessionStore's multi-process and crash tests.
//
//   transcript-store-writer --dir DIR --project P --session S [--subpath X] [--tag W]
//                           [--start K] [--count N] [--batch B] [--shared 1] [--text-bytes T]
//
// Appends entries K..<K+N, B per append, to the key (P, S, X). Entry i is
// {"type":"user","uuid":"W-i","writer":"W","n":i,"customTitle":"W i","text":"…"}; with --shared 1
// each batch also carries {"type":"x","uuid":"shared-i","n":i} for each of its i, which every
// writer appends (so deduplication across processes is exercised). After each append returns it
// prints "W i" (the batch's last i), so a test that kills it knows what was acknowledged; at the
// end it prints "done". Exit status 2 on bad arguments, 3 on a store error ("error …" on stdout).
//
// With --fsize-limit BYTES it simulates a full disk: it caps the size of files it may write
// (RLIMIT_FSIZE, so writes fail with EFBIG part-way), appends one batch that cannot fit, prints
// "failed <code>", lifts the cap, appends the batch's first entry again, prints "loaded <count>"
// (entries loadable afterwards), then "done".

import ClaudeCode
import ClaudeCodeSessions

#if canImport(Glibc)
    import Glibc
#elseif canImport(Musl)
    import Musl
#elseif canImport(Darwin)
    import Darwin
#endif

@main
struct TranscriptStoreWriter {
    static func main() async {
        var arguments: [String: String] = [:]
        var iterator = CommandLine.arguments.dropFirst().makeIterator()
        while let key = iterator.next() {
            guard key.hasPrefix("--"), let value = iterator.next() else { usage() }
            arguments[String(key.dropFirst(2))] = value
        }
        guard let directory = arguments["dir"], let project = arguments["project"], let session = arguments["session"]
        else {
            usage()
        }
        let key = SessionStoreKey(projectKey: project, sessionID: session, subpath: arguments["subpath"])
        let tag = arguments["tag"] ?? "w0"
        let start = Int(arguments["start"] ?? "0") ?? 0
        let count = Int(arguments["count"] ?? "100") ?? 100
        let batch = max(1, Int(arguments["batch"] ?? "1") ?? 1)
        let shared = arguments["shared"] == "1"
        let text = String(repeating: "x", count: Int(arguments["text-bytes"] ?? "100") ?? 100)
        let store = FileSessionStore(directory: directory)

        func entry(_ index: Int) -> SessionStoreEntry {
            let value: JSONValue = [
                "type": "user", "uuid": .string("\(tag)-\(index)"), "writer": .string(tag), "n": .int(Int64(index)),
                "customTitle": .string("\(tag) \(index)"), "text": .string(text),
            ]
            return try! SessionStoreEntry(raw: RawJSON(bytes: value.serialized()))
        }

        if let limit = arguments["fsize-limit"].flatMap(Int.init) {
            signal(SIGXFSZ, SIG_IGN)
            var capped = rlimit(rlim_cur: rlim_t(limit), rlim_max: rlim_t.max)
            setrlimit(Int32(RLIMIT_FSIZE.rawValue), &capped)
            do {
                try await store.append((start..<(start + count)).map(entry), to: key)
                emit("failed none")
            } catch {
                emit("failed \(error.code)")
            }
            var lifted = rlimit(rlim_cur: rlim_t.max, rlim_max: rlim_t.max)
            setrlimit(Int32(RLIMIT_FSIZE.rawValue), &lifted)
            do {
                // The failed batch's uuids must not count as stored: this one is appended again.
                try await store.append([entry(start)], to: key)
                let loaded = try await store.load(key)
                emit("loaded \(loaded?.count ?? 0)")
            } catch {
                emit("error \(error)")
                exit(3)
            }
            emit("done")
            return
        }

        var index = start
        while index < start + count {
            let upper = min(index + batch, start + count)
            var entries: [SessionStoreEntry] = []
            for i in index..<upper {
                entries.append(entry(i))
                if shared {
                    entries.append(
                        try! SessionStoreEntry(raw: RawJSON(#"{"type":"x","uuid":"shared-\#(i)","n":\#(i)}"#)))
                }
            }
            do {
                try await store.append(entries, to: key)
            } catch {
                emit("error \(error)")
                exit(3)
            }
            emit("\(tag) \(upper - 1)")
            index = upper
        }
        emit("done")
    }

    /// Writes a line to standard output unbuffered, so a kill right after loses nothing printed.
    static func emit(_ text: String) {
        let bytes = Array((text + "\n").utf8)
        var offset = 0
        while offset < bytes.count {
            let written = bytes.withUnsafeBytes { write(1, $0.baseAddress! + offset, $0.count - offset) }
            if written <= 0 { return }
            offset += written
        }
    }

    static func usage() -> Never {
        emit(
            "usage: transcript-store-writer --dir DIR --project P --session S [--subpath X] [--tag W] [--start K] [--count N] [--batch B] [--shared 1]"
        )
        exit(2)
    }
}
