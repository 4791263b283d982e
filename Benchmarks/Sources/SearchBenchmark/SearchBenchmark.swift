import BenchmarkSupport
/// The library's side of `claude-sessions search --index`, in one process (no process start),
/// for `scripts/bench/sessions-tool.sh`:
///
///     search-benchmark --config DIR --index PATH --queries 'Q1|Q2|...' [--repeats 5]
///
/// The index is brought up to date once (a full check), then each query runs `repeats` times as
/// the tool runs it: the quick freshness check of
/// `refresh(library:indexingText:fullCheckInterval:)` (a minute), then `search(_:limit:)` with a
/// limit of 20. Prints, as JSON, each query's median wall and CPU time and its hit count.
/// (A program of its own, so that the transcripts benchmark's memory figures do not include
/// SQLite.)
import ClaudeCode
import ClaudeCodeSessions
import ClaudeCodeSessionsSQLite
import Foundation

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

@main
struct SearchBenchmark {
    static func main() async throws {
        let arguments = Array(CommandLine.arguments.dropFirst())
        var options: [String: String] = [:]
        var index = 0
        while index + 1 < arguments.count {
            options[String(arguments[index].drop(while: { $0 == "-" }))] = arguments[index + 1]
            index += 2
        }
        guard let config = options["config"], let path = options["index"], let queries = options["queries"] else {
            FileHandle.standardError.write(
                Data("usage: search-benchmark --config DIR --index PATH --queries 'Q1|Q2|...' [--repeats R]\n".utf8))
            exit(2)
        }
        let repeats = max(1, Int(options["repeats"] ?? "") ?? 5)
        let library = ClaudeSessionLibrary(configDirectory: config)
        let searchIndex = try SQLiteSearchIndex(path: path)
        try await searchIndex.refresh(library: library, indexingText: true)
        let clock = ContinuousClock()
        var results: [String: JSONValue] = [:]
        for text in queries.split(separator: "|").map(String.init) {
            var walls: [Double] = []
            var cpus: [Double] = []
            var count = 0
            for _ in 0..<repeats {
                let start = clock.now
                let cpu = ResourceUsage.processCPUSeconds()
                try await searchIndex.refresh(library: library, indexingText: true, fullCheckInterval: .seconds(60))
                count = try await searchIndex.search(text, limit: 20).count
                let elapsed = (clock.now - start).components
                walls.append(Double(elapsed.seconds) + Double(elapsed.attoseconds) / 1e18)
                cpus.append(ResourceUsage.processCPUSeconds() - cpu)
            }
            results[text] = [
                "seconds": .double(walls.sorted()[walls.count / 2]),
                "cpu_seconds": .double(cpus.sorted()[cpus.count / 2]), "hits": .int(Int64(count)),
            ]
        }
        print(JSONValue.object(results).jsonString)
    }

}
