import Foundation
import Testing
@_exported import TestSupport   // dtc, temporary folders, tool runs for every file of this target
import DeviceTree
@testable import Partitioning

// Inputs come from real tools and real files: DTS text compiled by dtc, the
// board trees in DeviceTrees/ and the plans in Boards/. Nothing here stands in
// for libfdt, dtc or the library under test.


/// Compiles DTS text and opens it.
func dtsTree(_ source: String, symbols: Bool = false) throws -> DeviceTree {
    try DeviceTree(bytes: compileDTS(source, symbols: symbols))
}

/// `dtc -I dtb -O dts` on a blob: exit status, DTS text and stderr (warnings).
func decompile(_ bytes: [UInt8]) throws -> (status: Int32, dts: String, stderr: String) {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = dir.appendingPathComponent("in.dtb")
    try Data(bytes).write(to: input)
    let result = try runTool(dtcPath, ["-I", "dtb", "-O", "dts", input.path])
    return (result.status, String(decoding: result.stdout, as: UTF8.self), result.stderr)
}

// MARK: Repository files

/// The repository root, found from this file's path (Tests/PartitioningTests/Support.swift).
let repositoryRoot: URL = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func repositoryFile(_ relative: String) -> URL { repositoryRoot.appendingPathComponent(relative) }

/// A board tree from DeviceTrees/ (name without `.dtb`).
func realTree(_ name: String) throws -> DeviceTree {
    let data = try Data(contentsOf: repositoryFile("DeviceTrees/\(name).dtb"))
    return try DeviceTree(bytes: [UInt8](data))
}

/// A plan from Boards/<board>/plan.dts, compiled with dtc and parsed; any
/// parse diagnostic fails the calling test.
func realPlan(_ board: String) throws -> Plan {
    let text = try String(contentsOf: repositoryFile("Boards/\(board)/plan.dts"), encoding: .utf8)
    return try parsedPlan(text)
}

/// Compiles and parses plan text that is expected to be valid.
func parsedPlan(_ text: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Plan {
    let (plan, diagnostics) = Plan.parse(try dtsTree(text))
    #expect(diagnostics.isEmpty, "plan diagnostics: \(diagnostics)", sourceLocation: sourceLocation)
    return try #require(plan, sourceLocation: sourceLocation)
}

/// Every board tree in DeviceTrees/ with the plan written for it, if any.
struct RealBoard: CustomTestStringConvertible, Sendable {
    var plan: String
    var tree: String
    var testDescription: String { plan }

    static let planned: [RealBoard] = [
        RealBoard(plan: "qemu-virt", tree: "qemu-virt-gicv3"),
        RealBoard(plan: "qemu-virt-gicv2", tree: "qemu-virt-gicv2"),
        RealBoard(plan: "bcm2711-rpi-4-b", tree: "bcm2711-rpi-4-b"),
        RealBoard(plan: "rk3399-rockpro64", tree: "rk3399-rockpro64"),
        RealBoard(plan: "imx8mm-evk", tree: "imx8mm-evk"),
        RealBoard(plan: "zynqmp-zcu102-rev1.0", tree: "zynqmp-zcu102-rev1.0"),
        RealBoard(plan: "sun50i-a64-pine64-plus", tree: "sun50i-a64-pine64-plus"),
        RealBoard(plan: "k3-am654-base-board", tree: "k3-am654-base-board"),
    ]

    static let allTrees: [String] = [
        "qemu-virt-gicv3", "qemu-virt-gicv2", "bcm2711-rpi-4-b", "rk3399-rockpro64", "imx8mm-evk",
        "zynqmp-zcu102-rev1.0", "sun50i-a64-pine64-plus", "k3-am654-base-board", "imx8mq-evk",
        "tegra210-p3450-0000",
    ]

    func load() throws -> (tree: DeviceTree, plan: Plan) { (try realTree(tree), try realPlan(plan)) }
}

// MARK: Carving

/// Carves and requires success (no error diagnostics, a host tree, every guest).
func carveOK(_ tree: DeviceTree, _ plan: Plan, sourceLocation: SourceLocation = #_sourceLocation) throws
    -> (result: CarveResult, host: DeviceTree) {
    let result = carve(board: tree, plan: plan)
    let errors = result.diagnostics.filter { $0.severity == .error }
    #expect(errors.isEmpty, "carve errors:\n\(errors.map { $0.description }.joined(separator: "\n"))",
            sourceLocation: sourceLocation)
    let host = try #require(result.host, "carving produced no host tree", sourceLocation: sourceLocation)
    #expect(result.guests.count == plan.guests.count, sourceLocation: sourceLocation)
    return (result, host)
}

/// Paths of every node, mapped to the node.
func nodesByPath(_ tree: DeviceTree) -> [String: Node] {
    var out: [String: Node] = [:]
    for node in tree.allNodes { out[tree.path(of: node)] = node }
    return out
}

/// Every place `host` differs from `board`: a property added, changed or
/// removed (`property` set), or a node added or removed (`property` nil).
func treeDifferences(board: DeviceTree, host: DeviceTree) -> [(path: String, property: String?, what: String)] {
    var out: [(path: String, property: String?, what: String)] = []
    let boardNodes = nodesByPath(board)
    let hostNodes = nodesByPath(host)
    for node in host.allNodes {
        let path = host.path(of: node)
        guard let old = boardNodes[path] else {
            out.append((path, nil, "node added"))
            continue
        }
        var oldProperties: [String: [UInt8]] = [:]
        for (name, value) in board.properties(of: old) { oldProperties[name] = value.bytes }
        var seen: Set<String> = []
        for (name, value) in host.properties(of: node) {
            seen.insert(name)
            if let before = oldProperties[name] {
                if before != value.bytes { out.append((path, name, "changed")) }
            } else {
                out.append((path, name, "added"))
            }
        }
        for name in oldProperties.keys where !seen.contains(name) { out.append((path, name, "removed")) }
    }
    for (path, _) in boardNodes where hostNodes[path] == nil { out.append((path, nil, "node removed")) }
    return out
}

/// Whether a difference is explained by one of the report's host edits.
func isCovered(_ difference: (path: String, property: String?, what: String), by edits: [HostEdit]) -> Bool {
    for edit in edits {
        if let property = edit.property {
            if edit.path == difference.path && property == difference.property { return true }
        } else if difference.path == edit.path || difference.path.hasPrefix(edit.path + "/") {
            return true
        }
    }
    return false
}

/// The memory reservation block (`/memreserve/` entries) of a blob.
func reservationMap(_ bytes: [UInt8]) -> [(UInt64, UInt64)] {
    func be64(_ at: Int) -> UInt64 {
        var v: UInt64 = 0
        for i in 0..<8 { v = v << 8 | UInt64(bytes[at + i]) }
        return v
    }
    let offset = Int(UInt32(bytes[16]) << 24 | UInt32(bytes[17]) << 16 | UInt32(bytes[18]) << 8 | UInt32(bytes[19]))
    var out: [(UInt64, UInt64)] = []
    var at = offset
    while at + 16 <= bytes.count {
        let address = be64(at), size = be64(at + 8)
        if address == 0 && size == 0 { break }
        out.append((address, size))
        at += 16
    }
    return out
}

/// The header's `boot_cpuid_phys`.
func bootCPUID(_ bytes: [UInt8]) -> UInt32 {
    UInt32(bytes[28]) << 24 | UInt32(bytes[29]) << 16 | UInt32(bytes[30]) << 8 | UInt32(bytes[31])
}

extension DeviceTree {
    /// The string value of a property at a path, if both exist.
    func string(_ path: String, _ property: String) -> String? {
        lookup(path: path).flatMap { self.property(property, of: $0)?.string }
    }

    /// A host tree keeps a device assigned with VFIO/UIO/auto passthrough
    /// present but matched by no host driver (HostTree.swift).
    func isHeldFromHost(_ path: String) -> Bool {
        string(path, "compatible") == "cleave,passthrough" && string(path, "status") != "disabled"
    }
}

/// Splits a command line into tokens.
func tokens(_ commandLine: String) -> [String] {
    commandLine.split(separator: " ").map(String.init)
}

/// The INTIDs of a node's interrupts that reach a GIC (others are left out).
func gicINTIDs(_ tree: DeviceTree, _ node: Node) -> [UInt32] {
    tree.interrupts(of: node).compactMap { (r: ResolvedInterrupt) -> UInt32? in
        if case .gic(let i) = r { return i.intid }
        return nil
    }
}
