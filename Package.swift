// swift-tools-version:6.2
import PackageDescription

/// Shared by every target: Swift 6 language mode is the tools-version default; strict concurrency is on.
let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
]

let package = Package(
    name: "mtxmon",
    platforms: [.macOS(.v14)],
    products: [
        .executable(name: "mtxmon", targets: ["mtxmon"]),
        .executable(name: "mtxmon-bench", targets: ["mtxmon-bench"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/hummingbird-project/hummingbird-websocket.git", from: "2.8.1"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/apple/swift-http-types.git", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.12.3"..<"5.0.0"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
    ],
    targets: [
        // System libraries: Debian's libhiredis-dev and libsqlite3-dev.
        .systemLibrary(name: "CHiredis", providers: [.apt(["libhiredis-dev"])]),
        .systemLibrary(name: "CCurl", providers: [.apt(["libcurl4-openssl-dev"])]),
        .systemLibrary(name: "CSQLite", providers: [.apt(["libsqlite3-dev"])]),

        // Pure core: domain types and maths, no I/O.
        .target(name: "MTXMonCore", swiftSettings: swiftSettings),

        // The history's interface in mtxmon's terms (servers, paths, connections, times), and an
        // implementation in memory for tests of other modules.
        .target(name: "History", dependencies: ["MTXMonCore"], swiftSettings: swiftSettings),

        // The compact form of stored polls, shared by every store that keeps them: chunks of a path's
        // polls column by column, and single recent rows.
        .target(name: "HistoryChunks", dependencies: ["MTXMonCore", "History"], swiftSettings: swiftSettings),

        // One module per outside system.
        .target(
            name: "MediaMTXClient",
            dependencies: [
                "MTXMonCore",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SnapshotCache",
            dependencies: [
                "MTXMonCore", "CHiredis",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "SQLiteHistory",
            dependencies: [
                "MTXMonCore", "History", "HistoryChunks", "CSQLite",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            resources: [.embedInCode("Migrations")],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "PostgresHistory",
            dependencies: [
                "MTXMonCore", "History", "HistoryChunks",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.embedInCode("Migrations")],
            swiftSettings: swiftSettings
        ),

        // The poll loop: wires the client, the cache and the store behind their protocols.
        .target(
            name: "Collector",
            dependencies: [
                "MTXMonCore", "MediaMTXClient", "SnapshotCache", "History",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // Webhook receivers: each stored event, signed, delivered at least once, in order.
        .target(
            name: "Webhooks",
            dependencies: [
                "MTXMonCore", "History", "CCurl",
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // A MediaMTX stand-in serving both API generations, for tests, benchmarks and trials.
        .target(
            name: "MediaMTXSimulator",
            dependencies: [
                "MTXMonCore",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        .target(
            name: "MTXMonServer",
            dependencies: [
                "MTXMonCore", "SnapshotCache", "History",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWebSocket", package: "hummingbird-websocket"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOWebSocket", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            resources: [.embedInCode("openapi.yaml"), .embedInCode("Dashboard")],
            swiftSettings: swiftSettings
        ),

        // The composition root: settings, logging, and the service shapes the commands run.
        .target(
            name: "MTXMonApp",
            dependencies: [
                "MTXMonCore", "MediaMTXClient", "SnapshotCache", "History", "SQLiteHistory", "PostgresHistory", "Collector",
                "MTXMonServer", "Webhooks",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdCore", package: "hummingbird"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),

        .executableTarget(
            name: "mtxmon",
            dependencies: [
                "MTXMonCore", "MediaMTXClient", "SnapshotCache", "History", "Collector",
                "MediaMTXSimulator", "MTXMonServer", "MTXMonApp", "PostgresHistory",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),

        // Query speed of the HTTP API against bare SQLite on a generated file; see BENCHMARKS.md.
        .executableTarget(
            name: "mtxmon-bench",
            dependencies: [
                "MTXMonCore", "History", "HistoryChunks", "SQLiteHistory", "PostgresHistory", "MTXMonServer", "SnapshotCache", "CSQLite",
                "MediaMTXClient",
                "MediaMTXSimulator",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Benchmarks",
            swiftSettings: swiftSettings
        ),

        .testTarget(name: "MTXMonCoreTests", dependencies: ["MTXMonCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "MediaMTXClientTests",
            dependencies: [
                "MediaMTXClient", "MTXMonCore", "MediaMTXSimulator", "TestSupport",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(name: "SQLiteHistoryTests", dependencies: ["SQLiteHistory", "HistoryChunks", "History", "MTXMonCore", "TestSupport"],
                    swiftSettings: swiftSettings),
        // The same behaviour tests against every implementation of the history.
        .testTarget(name: "HistoryContractTests", dependencies: ["History", "SQLiteHistory", "PostgresHistory", "MTXMonCore", "TestSupport"],
                    swiftSettings: swiftSettings),
        .testTarget(name: "SnapshotCacheTests", dependencies: ["SnapshotCache", "MTXMonCore", "TestSupport"],
                    swiftSettings: swiftSettings),
        .testTarget(
            name: "CollectorTests",
            dependencies: [
                "Collector", "MTXMonCore", "MediaMTXClient", "SnapshotCache", "History", "SQLiteHistory", "MediaMTXSimulator",
                "TestSupport", .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOPosix", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MTXMonServerTests",
            dependencies: [
                "MTXMonServer", "MTXMonCore", "History", "SQLiteHistory", "PostgresHistory", "SnapshotCache", "TestSupport", "Collector",
                "MediaMTXClient",
                "MediaMTXSimulator",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "WebhooksTests",
            dependencies: [
                "Webhooks", "History", "SQLiteHistory", "PostgresHistory", "MTXMonCore", "TestSupport",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HTTPTypes", package: "swift-http-types"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "MTXMonAppTests",
            dependencies: [
                "MTXMonApp", "MediaMTXClient", "SnapshotCache", "History", "SQLiteHistory", "PostgresHistory", "MTXMonCore",
                "TestSupport",
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "NIOFoundationCompat", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Real servers for tests: redis-server on a free port, the simulator on loopback, temp files.
        .target(
            name: "TestSupport",
            dependencies: [
                "MediaMTXSimulator", "MTXMonCore", "CSQLite", "History", "HistoryChunks", "SQLiteHistory",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "HummingbirdWSClient", package: "hummingbird-websocket"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/TestSupport",
            swiftSettings: swiftSettings
        ),
    ]
)
