// swift-tools-version:6.0
//
// Cleave: a static partitioning supervisor for ARM64 boards.
//
// Layers, bottom to top (one target each; library targets stay in the
// Embedded Swift subset so the static boot-time binary can use them):
//   CFDT          libfdt, plus shims for its macros
//   DeviceTree    reading, resolving and editing flattened device trees
//   PartitionRecord  the carve-to-boot record under /chosen/cleave (pure)
//   GuestTree     the nodes of guest trees, written once for every producer
//   Partitioning  plans, device inventory, carving (pure: no syscalls)
//   CGPIO, GPIO   libgpiod and the virtual PL061s that serve a guest's lines
//   cleave        the developer-facing CLI (normal Swift only)
import PackageDescription

let package = Package(
    name: "Cleave",
    products: [
        .executable(name: "cleave", targets: ["cleave"]),
        .library(name: "DeviceTree", targets: ["DeviceTree"]),
        .library(name: "Partitioning", targets: ["Partitioning"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-argument-parser", from: "1.5.0"),
        .package(url: "https://github.com/apple/swift-log", from: "1.6.0"),
    ],
    targets: [
        .systemLibrary(name: "CFDT"),
        .target(name: "DeviceTree", dependencies: ["CFDT"]),
        // Platform facts (GIC frames and interrupt encoding, hugepage sizes, the
        // console page), each with its reason; no dependencies.
        .target(name: "Platform"),
        // The carve-to-boot record (`cleave,partitions-v1` under /chosen/cleave):
        // each record type writes and reads itself. Pure, like Partitioning.
        .target(name: "PartitionRecord", dependencies: ["DeviceTree", "Platform"]),
        // Guest-tree node writers (cpus, memory, psci, timer, GIC and ITS, the
        // console page, chosen, fixed clocks), shared by carving, `cleave run`
        // and boot-time finalisation.
        .target(name: "GuestTree", dependencies: ["DeviceTree", "Platform"]),
        .target(name: "JSON"),
        .target(name: "Partitioning", dependencies: ["DeviceTree", "Platform", "PartitionRecord", "GuestTree", "JSON"]),
        // Boot side (issue 3), Embedded-subset libraries: Linux shims, KVM, guest
        // memory, loading, console, supervision; the static boot-time binary.
        .target(name: "CLinux"),
        .target(name: "Syscalls", dependencies: ["CLinux"]),
        .target(name: "KVM", dependencies: ["CLinux", "Syscalls", "Platform"]),
        .target(name: "GuestMemory", dependencies: ["CLinux", "Syscalls", "KVM", "Platform"]),
        .target(name: "Console", dependencies: ["Syscalls"]),
        .target(name: "Loading"),
        // Issue 12: GPIO lines through libgpiod (a C target: its header, an
        // event read, and for the static binary the glibc symbols libgpiod.a
        // calls), and the virtual PL061 controllers they back.
        .target(name: "CGPIO", linkerSettings: [.linkedLibrary("gpiod")]),
        .target(name: "GPIO", dependencies: ["CGPIO", "CLinux", "Platform", "Syscalls"]),
        // Issue 4: VFIO-platform / UIO / devmem passthrough and host preparation.
        .target(name: "Passthrough", dependencies: ["CLinux", "Syscalls", "KVM", "PartitionRecord"]),
        .target(name: "Supervisor", dependencies: [
            "CLinux", "Syscalls", "KVM", "GuestMemory", "Console", "Loading", "GuestTree", "DeviceTree", "Passthrough", "Platform",
            "PartitionRecord", "GPIO"]),
        // Option parsing of both binaries' run and boot (one parser, so `cleave
        // run` and `cleave-boot run` accept the same text).
        .target(name: "Service", dependencies: ["Supervisor", "PartitionRecord", "Syscalls", "CLinux", "JSON", "Console", "Options"]),
        .target(name: "Options", dependencies: ["Supervisor", "Console", "GuestTree", "DeviceTree", "KVM", "Platform", "PartitionRecord", "Syscalls"]),
        .executableTarget(name: "cleave-boot", dependencies: ["Options", "Supervisor", "Service", "Syscalls", "CLinux"]),
        .executableTarget(
            name: "cleave",
            dependencies: [
                "DeviceTree", "Partitioning", "JSON",
                "Options", "Supervisor", "Service", "Syscalls", "CLinux",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
            ]),
        .executableTarget(name: "cleave-bench", dependencies: ["DeviceTree", "Partitioning"]),
        // Runs real tools (dtc, cleave) for the test targets.
        .target(name: "TestSupport", path: "Tests/TestSupport"),
        .testTarget(name: "DeviceTreeTests", dependencies: ["DeviceTree", "TestSupport"]),
        .testTarget(name: "PartitioningTests", dependencies: ["Partitioning", "JSON", "PartitionRecord", "DeviceTree", "GuestTree", "Platform", "TestSupport"], exclude: ["Golden"]),
        .testTarget(name: "GuestTreeTests", dependencies: ["GuestTree", "DeviceTree", "Platform", "TestSupport"]),
        .testTarget(name: "CorpusTests", dependencies: ["Partitioning", "DeviceTree"]),
        // Runs the built `cleave` executable, which it depends on so SwiftPM builds it first.
        .testTarget(name: "CLITests", dependencies: ["cleave", "TestSupport"]),
        .testTarget(name: "BootTests", dependencies: [
            "Service", "JSON", "GuestTree", "Loading", "Console", "Options", "Supervisor", "GuestMemory", "Partitioning", "PartitionRecord", "DeviceTree",
            "Platform", "GPIO", "Passthrough", "TestSupport"]),
    ],
    swiftLanguageModes: [.v5]
)
