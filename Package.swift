// swift-tools-version:6.1
import PackageDescription

// Layers (DESIGN.md): CStockade / Modules → StockadeProtocol → Stockade → products.
// A layer imports only layers below it.

let strict: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
]

let package = Package(
    name: "Stockade",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "Stockade", targets: ["Stockade"]),
        .library(name: "StockadeProtocol", targets: ["StockadeProtocol"]),
        .executable(name: "stockade", targets: ["StockadeCLI"]),
        .executable(name: "stockade-worker", targets: ["StockadeWorker"]),
        .executable(name: "stockade-fake-worker", targets: ["StockadeFakeWorker"]),
        .executable(name: "stockade-probe", targets: ["StockadeProbe"]),
        .executable(name: "stockade-fuzz", targets: ["StockadeFuzz"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-system", from: "1.8.1"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.1"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.1"),
        .package(url: "https://github.com/swift-server/async-http-client", from: "1.37.0"),
        .package(url: "https://github.com/groue/GRDB.swift", from: "7.10.0"),
        .package(url: "https://github.com/vapor/multipart-kit", from: "4.7.1"),
    ],
    targets: [
        // Layer 1: the C shim and system libraries.
        // _GNU_SOURCE is defined in the .c files only (see include/stockade.h).
        .target(name: "CStockade"),
        .systemLibrary(name: "CSeccomp", path: "Modules/CSeccomp", pkgConfig: "libseccomp",
                       providers: [.apt(["libseccomp-dev"])]),
        .systemLibrary(name: "CCap", path: "Modules/CCap", pkgConfig: "libcap",
                       providers: [.apt(["libcap-dev"])]),

        // Layer 2: the wire protocol shared by host and worker. No dependencies.
        .target(name: "StockadeProtocol", swiftSettings: strict),

        // Layer 3: the engine.
        .target(
            name: "Stockade",
            dependencies: [
                "CStockade", "CSeccomp", "CCap", "StockadeProtocol",
                .product(name: "SystemPackage", package: "swift-system"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),

        // Layer 4: products.
        .executableTarget(
            name: "StockadeWorker",
            dependencies: ["CStockade", "StockadeProtocol"],
            swiftSettings: strict,
            // Runs inside a root that holds only the distro's /usr: no Swift runtime there.
            linkerSettings: [.unsafeFlags(["-static-executable"])]
        ),
        // The security probe: runs inside a sandbox and tries each class of escape (C, fully static,
        // so it needs nothing inside the sandbox).
        .executableTarget(
            name: "StockadeProbe",
            cSettings: [.define("_GNU_SOURCE")],
            linkerSettings: [.unsafeFlags(["-static-stdlib", "-nostartfiles",
                                           "-Xclang-linker", "-static",
                                           "-Xclang-linker", "-Wno-unused-command-line-argument"])]
        ),
        // libFuzzer target for everything that decodes outside bytes (scripts/fuzz); without
        // -DFUZZING it replays a corpus.
        .executableTarget(
            name: "StockadeFuzz",
            dependencies: ["StockadeProtocol"],
            swiftSettings: strict
        ),
        // A deliberately hostile worker for the host's robustness tests.
        .executableTarget(
            name: "StockadeFakeWorker",
            dependencies: ["StockadeProtocol"],
            swiftSettings: strict,
            linkerSettings: [.unsafeFlags(["-static-executable"])]
        ),
        .target(
            name: "StockadeBench",
            dependencies: ["Stockade", "StockadeProtocol"],
            swiftSettings: strict
        ),
        // The daemon: HTTP API, SQLite records, control-plane outbox.
        .target(
            name: "StockadeServer",
            dependencies: [
                "Stockade", "StockadeProtocol", "CStockade",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "MultipartKit", package: "multipart-kit"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
            ],
            swiftSettings: strict
        ),
        .executableTarget(
            name: "StockadeCLI",
            dependencies: [
                "Stockade", "StockadeBench", "StockadeServer",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: strict
        ),

        // Tests mirror the layers.
        .testTarget(
            name: "StockadeProtocolTests",
            dependencies: ["StockadeProtocol"],
            swiftSettings: strict
        ),
        .testTarget(
            name: "StockadeServerTests",
            dependencies: [
                "StockadeServer", "Stockade", "StockadeProtocol",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
            ],
            swiftSettings: strict
        ),
        .testTarget(
            name: "StockadeTests",
            dependencies: ["Stockade", "CStockade", "StockadeProtocol", "StockadeBench"],
            swiftSettings: strict
        ),
    ]
)
