// swift-tools-version: 6.2
// The project's benchmarks, in a package of their own so that nobody who depends on the SDK
// sees them (the root package exports only libraries and the `claude-sessions` tool).
//
// - `Benchmarks/<Area>/`: in-process measures run by ordo-one/package-benchmark (wall and CPU
//   time, allocations, peak memory, saved baselines and thresholds), one entry point per area:
//   `swift package --package-path Benchmarks benchmark` (see Benchmarks/README.md).
// - `Sources/<Area>Benchmark/`: the side-by-side comparisons with the Python references, which
//   the `scripts/bench/*.sh` scripts build in release mode and run against the same input,
//   alternating the sides, and which print medians and ratios from one run.
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let sdk: [Target.Dependency] = [
    .product(name: "ClaudeCode", package: "claude-code-swift"),
    .product(name: "ClaudeCodeSessions", package: "claude-code-swift"),
]
let backends: [Target.Dependency] = [
    .product(name: "ClaudeCodeSessionsSQLite", package: "claude-code-swift"),
    .product(name: "ClaudeCodeSessionsPostgres", package: "claude-code-swift"),
]
let support: Target.Dependency = "BenchmarkSupport"
let testing: Target.Dependency = .product(name: "ClaudeCodeTesting", package: "claude-code-swift")
let benchmark: Target.Dependency = .product(name: "Benchmark", package: "benchmark")
let plugin: Target.PluginUsage = .plugin(name: "BenchmarkPlugin", package: "benchmark")

let package = Package(
    name: "claude-code-swift-benchmarks",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "client-benchmark", targets: ["ClientBenchmark"]),
        .executable(name: "records-benchmark", targets: ["RecordsBenchmark"]),
        .executable(name: "transcripts-benchmark", targets: ["TranscriptsBenchmark"]),
        .executable(name: "search-benchmark", targets: ["SearchBenchmark"]),
        .executable(name: "stores-benchmark", targets: ["StoresBenchmark"]),
        .executable(name: "backends-benchmark", targets: ["BackendsBenchmark"]),
    ],
    dependencies: [
        .package(name: "claude-code-swift", path: ".."),
        // The malloc interposer gives the allocation counts; nothing else of it is used.
        .package(url: "https://github.com/ordo-one/benchmark", from: "1.38.1", traits: ["MallocInterposer"]),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
    ],
    targets: [
        // Comparisons with the Python references (scripts/bench/*.sh).
        .executableTarget(name: "ClientBenchmark", dependencies: sdk + [support]),
        .executableTarget(name: "RecordsBenchmark", dependencies: sdk),
        .executableTarget(name: "TranscriptsBenchmark", dependencies: sdk + [support]),
        .executableTarget(
            name: "SearchBenchmark",
            dependencies: sdk + [support, .product(name: "ClaudeCodeSessionsSQLite", package: "claude-code-swift")]),
        .executableTarget(
            name: "StoresBenchmark",
            dependencies: sdk + backends + [support, testing, .product(name: "PostgresNIO", package: "postgres-nio")]),
        .executableTarget(
            name: "BackendsBenchmark",
            dependencies: sdk + backends + [
                .product(name: "GRDB", package: "GRDB.swift"), .product(name: "PostgresNIO", package: "postgres-nio"),
            ]),
        // package-benchmark suites, one per area, and the inputs they share.
        .target(name: "BenchmarkSupport", dependencies: sdk),
        .executableTarget(
            name: "Client", dependencies: sdk + [support, benchmark], path: "Benchmarks/Client", plugins: [plugin]),
        .executableTarget(
            name: "Records", dependencies: sdk + [support, benchmark], path: "Benchmarks/Records", plugins: [plugin]),
        .executableTarget(
            name: "Transcripts", dependencies: sdk + [support, benchmark], path: "Benchmarks/Transcripts",
            plugins: [plugin]),
        .executableTarget(
            name: "Stores", dependencies: sdk + [support, benchmark], path: "Benchmarks/Stores", plugins: [plugin]),
        .executableTarget(
            name: "Mirroring", dependencies: sdk + [support, benchmark], path: "Benchmarks/Mirroring",
            plugins: [plugin]),
        .executableTarget(
            name: "Backends",
            dependencies: sdk + backends + [
                support, benchmark, .product(name: "PostgresNIO", package: "postgres-nio"),
            ],
            path: "Benchmarks/Backends",
            plugins: [plugin]),
    ]
)

for target in package.targets {
    target.swiftSettings = (target.swiftSettings ?? []) + strict
}
