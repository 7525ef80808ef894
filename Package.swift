// swift-tools-version:6.0
// Magpie: scanner-side MPI acquisition and reconstruction daemon.
// Dependencies point downward: Core <- Physics, MDF, Wire, Reco <- Neural <- Plan <- Calibration, Pipeline <- magpie.
import PackageDescription

let package = Package(
    name: "Magpie",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "magpie", targets: ["magpie"]),
        .library(name: "MagpieMDF", targets: ["MagpieMDF"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-numerics", from: "1.0.0"),
        .package(url: "https://github.com/LebJe/TOMLKit", from: "0.6.0"),
        .package(url: "https://github.com/apple/swift-crypto", from: "3.0.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.16.0"),
        .package(url: "https://github.com/apple/swift-metrics", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-collections", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus", from: "2.4.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle", from: "2.13.0"),
        .package(url: "https://github.com/hummingbird-project/hummingbird", from: "2.28.0"),
        .package(url: "https://github.com/apple/swift-http-types", from: "1.8.0"),
        .package(url: "https://github.com/apple/swift-nio", from: "2.101.0"),
    ],
    targets: [
        // System libraries, found through pkg-config (Debian -dev packages; see scripts/setup.sh).
        .systemLibrary(name: "CHDF5", pkgConfig: "hdf5", providers: [.apt(["libhdf5-dev"])]),
        .systemLibrary(name: "CZeroMQ", pkgConfig: "libzmq", providers: [.apt(["libzmq3-dev"])]),
        .systemLibrary(name: "CFFTW", pkgConfig: "fftw3", providers: [.apt(["libfftw3-dev"])]),
        .systemLibrary(name: "CBLAS", pkgConfig: "openblas", providers: [.apt(["libopenblas-dev", "liblapacke-dev"])]),
        .systemLibrary(name: "CZlib", pkgConfig: "zlib", providers: [.apt(["zlib1g-dev"])]),

        .target(name: "MagpieCore", dependencies: ["CFFTW", "CZlib", .product(name: "Numerics", package: "swift-numerics")]),
        .target(name: "MagpiePhysics", dependencies: ["MagpieCore", "CBLAS"]),
        .target(name: "MagpieMDF", dependencies: ["MagpieCore", "CHDF5"]),
        // CRC-32C with the processor's instruction, for the journal's checksums at stream rate.
        .target(name: "CRC32CHardware"),
        .target(name: "LinuxSystem"),
        .target(name: "MagpieWire", dependencies: ["MagpieCore", "CZeroMQ", "CRC32CHardware", "LinuxSystem"]),
        // Kaczmarz's sweep with one kernel per vector width, chosen at run time.
        .target(name: "KaczmarzSweep"),
        .target(name: "MagpieReco", dependencies: ["MagpieCore", "CFFTW", "CBLAS", "KaczmarzSweep"]),
        // LibTorch (Debian libtorch-dev, which ships no pkg-config file) behind a C API.
        .target(
            name: "TorchBridge",
            cxxSettings: [.unsafeFlags(["-isystem", "/usr/include/torch/csrc/api/include", "-Wno-deprecated-declarations"])],
            linkerSettings: [.linkedLibrary("torch"), .linkedLibrary("torch_cpu"), .linkedLibrary("c10")]
        ),
        .target(name: "MagpieNeural", dependencies: ["MagpieCore", "MagpieReco", "TorchBridge", .product(name: "Crypto", package: "swift-crypto")]),
        // The reconstruction plan: one settings struct per step and what runs it, shared by `magpie reconstruct` and the daemon.
        .target(name: "MagpiePlan", dependencies: ["MagpieCore", "MagpieMDF", "MagpieReco", "MagpieNeural",
                                             .product(name: "TOMLKit", package: "TOMLKit")]),
        // Calibration-time work on system matrices (`magpie upscale-sm`); reads SMs through the plan's MDF bridge.
        .target(name: "MagpieCalibration", dependencies: ["MagpieCore", "MagpieMDF", "MagpieReco", "MagpieNeural", "MagpiePlan"]),
        // The daemon: services (intake, processing, scan writer, console, watchdog) in one ServiceGroup.
        .target(name: "MagpiePipeline", dependencies: ["MagpieCore", "MagpieMDF", "MagpieWire", "MagpieReco", "MagpieNeural", "MagpiePlan",
                                                 .product(name: "TOMLKit", package: "TOMLKit"),
                                                 .product(name: "Logging", package: "swift-log"),
                                                 .product(name: "Metrics", package: "swift-metrics"),
                                                 .product(name: "Prometheus", package: "swift-prometheus"),
                                                 .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                                                 .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                                                 .product(name: "DequeModule", package: "swift-collections"),
                                                 .product(name: "Hummingbird", package: "hummingbird"),
                                                 .product(name: "HummingbirdCore", package: "hummingbird"),
                                                 .product(name: "HTTPTypes", package: "swift-http-types"),
                                                 .product(name: "NIOPosix", package: "swift-nio")]),
        .executableTarget(
            name: "magpie",
            dependencies: [
                "MagpieCore", "MagpiePhysics", "MagpieMDF", "MagpieWire", "MagpieReco", "MagpieNeural", "MagpiePlan", "MagpieCalibration", "MagpiePipeline",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ]
        ),

        // The fuzzing harness (scripts/fuzz.sh): the stream decoder, receiver and journal reader, without LibTorch.
        .executableTarget(name: "magpie-fuzz", dependencies: ["MagpieWire"], path: "Sources/MagpieFuzz"),

        .testTarget(name: "MagpieCoreTests", dependencies: ["MagpieCore"]),
        .testTarget(name: "MagpiePhysicsTests", dependencies: ["MagpiePhysics"]),
        .testTarget(name: "MagpieMDFTests", dependencies: ["MagpieMDF"]),
        .testTarget(name: "MagpieRecoTests", dependencies: ["MagpieReco", "MagpiePhysics"]),
        .testTarget(name: "MagpieWireTests", dependencies: ["MagpieWire"]),
        .testTarget(name: "MagpieNeuralTests", dependencies: ["MagpieNeural", "MagpieReco", "MagpiePhysics", "MagpieCore"]),
        .testTarget(name: "MagpiePlanTests", dependencies: ["MagpiePlan", "MagpieReco", "MagpieMDF", "MagpiePhysics", "MagpieCore",
                                                     .product(name: "TOMLKit", package: "TOMLKit")]),
        .testTarget(name: "MagpieCalibrationTests", dependencies: ["MagpieCalibration", "MagpieMDF", "MagpieCore"]),
        .testTarget(name: "MagpiePipelineTests", dependencies: ["MagpiePipeline", "MagpiePlan", "MagpieMDF", "MagpieWire", "MagpieCore",
                                                         .product(name: "Logging", package: "swift-log"),
                                                         .product(name: "Prometheus", package: "swift-prometheus"),
                                                         .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")]),
    ],
    cxxLanguageStandard: .cxx17
)
