// swift-tools-version: 6.2
import PackageDescription

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "claude-code-swift",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "ClaudeCode", targets: ["ClaudeCode"]),
        .library(name: "ClaudeCodeSessions", targets: ["ClaudeCodeSessions"]),
        .library(name: "ClaudeCodeTesting", targets: ["ClaudeCodeTesting"]),
        .library(name: "ClaudeCodeSessionsSQLite", targets: ["ClaudeCodeSessionsSQLite"]),
        .library(name: "ClaudeCodeSessionsPostgres", targets: ["ClaudeCodeSessionsPostgres"]),
        // The command-line tool; everything else the package builds (examples, test helpers) has no product.
        .executable(name: "claude-sessions", targets: ["ClaudeSessionsTool"]),
    ],
    dependencies: [
        .package(url: "https://github.com/swiftlang/swift-subprocess", from: "1.0.2"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/swhitty/FlyingFox", from: "0.27.1"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/postgres-nio", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        // Optional spans around connect, turns, control requests and callbacks (no-op unless bootstrapped).
        .package(url: "https://github.com/apple/swift-distributed-tracing", from: "1.2.0"),
        // Only the `swift package generate-documentation` command plugin; nothing links it.
        .package(url: "https://github.com/swiftlang/swift-docc-plugin", from: "1.5.0"),
    ],
    targets: [
        // The JSON reader's byte scanning in C: SSE2/AVX2 on x86_64, NEON on arm64, scalar elsewhere
        // (Sources/ClaudeCode/JSON/README.md). Internal to ClaudeCode; no product.
        .target(name: "CClaudeCodeScan"),
        .target(
            name: "ClaudeCode",
            dependencies: [
                "CClaudeCodeScan",
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Tracing", package: "swift-distributed-tracing"),
            ],
            exclude: ["JSON/README.md"]
        ),
        .target(
            name: "ClaudeCodeSessions",
            dependencies: [
                "ClaudeCode",
                "CClaudeCodeScan",
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        // SQLite backend (GRDB): only users of this product build GRDB.
        .target(
            name: "ClaudeCodeSessionsSQLite",
            dependencies: [
                "ClaudeCode",
                "ClaudeCodeSessions",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        // PostgreSQL backend (postgres-nio): only users of this product build SwiftNIO.
        .target(
            name: "ClaudeCodeSessionsPostgres",
            dependencies: [
                "ClaudeCode",
                "ClaudeCodeSessions",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                // Only for ConnectionPoolError (the pool's circuit breaker), which PostgresNIO passes on as is.
                .product(name: "_ConnectionPoolModule", package: "postgres-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .target(
            name: "ClaudeCodeTesting",
            dependencies: [
                "ClaudeCode",
                "ClaudeCodeSessions",
                .product(name: "FlyingFox", package: "FlyingFox"),
                .product(name: "FlyingSocks", package: "FlyingFox"),
                .product(name: "Logging", package: "swift-log"),
            ]
        ),
        .executableTarget(name: "fake-claude", dependencies: [], path: "Sources/FakeClaudeCLI"),
        .executableTarget(
            name: "fake-messages-api", dependencies: ["ClaudeCodeTesting"], path: "Sources/FakeMessagesAPIServer"),
        // Test helper: leaves a one-shot query with `break` in top-level code (ClaudeCodeProcessTests).
        .executableTarget(name: "QueryBreakProbe", dependencies: ["ClaudeCode"]),
        // Test helper: a host with a live CLI that a test kills with SIGKILL (OrphanRealCLITests).
        .executableTarget(name: "OrphanProbe", dependencies: ["ClaudeCode"]),
        // Test helper: appends a long stream of messages to a session (crash and concurrency tests).
        .executableTarget(
            name: "session-crash-writer", dependencies: ["ClaudeCodeSessions"], path: "Sources/SessionCrashWriter"),
        // Test helper: a SessionPersistentClient conversation killed at random moments (RecordingCrashTests).
        .executableTarget(
            name: "RecordingCrashClient", dependencies: ["ClaudeCode", "ClaudeCodeSessions", "ClaudeCodeTesting"]),
        // Test helper: a SessionPersistentClient conversation in a process of its own (resume-anywhere tests).
        .executableTarget(
            name: "PersistentSessionRunner",
            dependencies: [
                "ClaudeCode", "ClaudeCodeSessions", "ClaudeCodeSessionsSQLite", "ClaudeCodeSessionsPostgres",
            ]),
        // Test helper: appends to a SQLite store from another process (multi-process tests).
        .executableTarget(name: "SQLiteStoreWriter", dependencies: ["ClaudeCodeSessions", "ClaudeCodeSessionsSQLite"]),
        // Test helper: appends to a FileSessionStore from another process (multi-process and crash tests).
        .executableTarget(
            name: "transcript-store-writer", dependencies: ["ClaudeCode", "ClaudeCodeSessions"],
            path: "Sources/TranscriptStoreWriter"),
        .target(
            name: "ExampleSupport",
            dependencies: ["ClaudeCode", "ClaudeCodeTesting"],
            path: "Examples/ExampleSupport"
        ),
        // `claude-sessions`: list, show, export, search, rename, tag and delete sessions from the command line.
        .executableTarget(
            name: "ClaudeSessionsTool",
            dependencies: [
                "ClaudeCode", "ClaudeCodeSessions", "ClaudeCodeSessionsSQLite", "ClaudeCodeSessionsPostgres",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
        .executableTarget(
            name: "simple-persist",
            dependencies: ["ClaudeCode", "ClaudeCodeSessions", "ExampleSupport"],
            path: "Examples/simple-persist"
        ),
        .executableTarget(
            name: "multi-turn-conversation",
            dependencies: ["ClaudeCode", "ClaudeCodeSessions", "ExampleSupport"],
            path: "Examples/multi-turn-conversation"
        ),
        .executableTarget(
            name: "permission-callback", dependencies: ["ClaudeCode", "ExampleSupport"],
            path: "Examples/permission-callback"
        ),
        .executableTarget(
            name: "hooks", dependencies: ["ClaudeCode", "ExampleSupport"], path: "Examples/hooks"),
        .executableTarget(
            name: "in-process-tools", dependencies: ["ClaudeCode", "ExampleSupport"],
            path: "Examples/in-process-tools"
        ),
        .testTarget(
            name: "ClaudeCodeTests",
            dependencies: [
                "ClaudeCode", "ClaudeCodeTesting", "CClaudeCodeScan", .product(name: "Logging", package: "swift-log"),
            ],
            // JSONTestSuite: the parsing cases of the JSON conformance test (JSONTestSuiteTests).
            resources: [.copy("Fixtures"), .copy("Resources/JSONTestSuite")]
        ),
        .testTarget(
            name: "ClaudeCodeProcessTests",
            // FakeClaudeCLI, QueryBreakProbe: so `swift test` builds the executables the tests run.
            dependencies: ["ClaudeCode", "ClaudeCodeTesting", "fake-claude", "QueryBreakProbe"]
        ),
        .testTarget(
            name: "RealCLITests",
            dependencies: [
                "ClaudeCode", "ClaudeCodeSessions", "ClaudeCodeTesting", "PersistentSessionRunner",
                "simple-persist",
                "OrphanProbe", .product(name: "InMemoryTracing", package: "swift-distributed-tracing"),
            ]),
        // The exporter, the search and the `claude-sessions` tool (end to end, on real-CLI transcripts).
        .testTarget(
            name: "ClaudeSessionsToolTests",
            dependencies: [
                "ClaudeCode", "ClaudeCodeSessions", "ClaudeCodeSessionsSQLite", "ClaudeCodeTesting",
                "ClaudeSessionsTool",
            ]
        ),
        .testTarget(
            name: "ClaudeCodeSessionsTests",
            dependencies: [
                "ClaudeCodeSessions", "ClaudeCodeTesting", "SessionBackendTestSupport", "session-crash-writer",
                "transcript-store-writer", "RecordingCrashClient", "CClaudeCodeScan",
            ]
        ),
        // Contract checks and client scenarios shared by the database backends' tests.
        .target(
            name: "SessionBackendTestSupport",
            dependencies: ["ClaudeCode", "ClaudeCodeSessions", "ClaudeCodeTesting"],
            path: "Tests/SessionBackendTestSupport"
        ),
        .testTarget(
            name: "ClaudeCodeSessionsSQLiteTests",
            // SQLiteStoreWriter: a second process appending to the same database file.
            dependencies: [
                "ClaudeCode", "ClaudeCodeSessions", "ClaudeCodeSessionsSQLite", "ClaudeCodeTesting",
                "SessionBackendTestSupport", "SQLiteStoreWriter",
                .product(name: "GRDB", package: "GRDB.swift"),
            ]
        ),
        .testTarget(
            name: "ClaudeCodeSessionsPostgresTests",
            dependencies: [
                "ClaudeCode", "ClaudeCodeSessions", "ClaudeCodeSessionsPostgres", "ClaudeCodeTesting",
                "SessionBackendTestSupport",
                .product(name: "PostgresNIO", package: "postgres-nio"),
            ]
        ),
    ]
)

for target in package.targets where target.type != .plugin {
    target.swiftSettings = (target.swiftSettings ?? []) + strict
}
