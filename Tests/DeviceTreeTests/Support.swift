import CFDT
import Foundation
import Testing
@_exported import TestSupport   // dtc, temporary folders, tool runs for every file of this target
@testable import DeviceTree

// Test inputs come from real tools: DTS text compiled by dtc, or trees built with
// DeviceTreeWriter. Nothing here stands in for libfdt or the library under test.

/// Compiles DTS text and opens it.
func openDTS(_ source: String, symbols: Bool = false) throws -> DeviceTree {
    try DeviceTree(bytes: compileDTS(source, symbols: symbols))
}

/// dtc's sorted DTS rendering of a blob: a canonical form to compare trees built
/// different ways (string-table order and property order do not matter).
func canonicalDTS(_ bytes: [UInt8]) throws -> String {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = dir.appendingPathComponent("in.dtb")
    try Data(bytes).write(to: input)
    return String(decoding: try run(dtcPath, ["-q", "-s", "-I", "dtb", "-O", "dts", input.path]), as: UTF8.self)
}

func canonicalDTS(source: String) throws -> String {
    try canonicalDTS(compileDTS(source))
}

/// The repository root (this file is Tests/DeviceTreeTests/Support.swift).
let repositoryRoot = URL(fileURLWithPath: #filePath)
    .deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

func repositoryFile(_ relative: String) -> [UInt8]? {
    guard let data = FileManager.default.contents(atPath: repositoryRoot.appendingPathComponent(relative).path) else {
        return nil
    }
    return [UInt8](data)
}

extension DeviceTree {
    /// The node at `path`, failing the test when it is missing.
    func node(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> Node {
        try #require(lookup(path: path), "no node \(path)", sourceLocation: sourceLocation)
    }
}

/// Writes `tree` again with DeviceTreeWriter: the reservation map, then every
/// node with its properties in blob order.
func copyThroughWriter(_ tree: DeviceTree, capacity: Int = 4096) throws(DeviceTreeError) -> DeviceTree {
    let writer = DeviceTreeWriter(capacity: capacity)
    tree.withUnsafeBlob { fdt in
        for i in 0..<fdt_num_mem_rsv(fdt) {
            var address: UInt64 = 0, size: UInt64 = 0
            if fdt_get_mem_rsv(fdt, i, &address, &size) == 0 { writer.reserve(address: address, size: size) }
        }
    }
    func emit(_ node: Node) {
        writer.beginNode(tree.name(of: node))
        for (name, value) in tree.properties(of: node) { writer.property(name, bytes: value.bytes) }
        for child in tree.children(of: node) { emit(child) }
        writer.endNode()
    }
    emit(tree.root)
    return try writer.finish()
}

/// A small deterministic PRNG (SplitMix64) so random mutations are reproducible.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9e37_79b9_7f4a_7c15
        var z = state
        z = (z ^ (z >> 30)) &* 0xbf58_476d_1ce4_e5b9
        z = (z ^ (z >> 27)) &* 0x94d0_49bb_1331_11eb
        return z ^ (z >> 31)
    }
}

/// Runs `body` on its own thread; true when it returned within `seconds`. A call
/// that never returns is left spinning on its thread (the test reports it
/// instead of hanging the suite).
func finishes(within seconds: Double, _ body: @escaping @Sendable () -> Void) -> Bool {
    let done = DispatchSemaphore(value: 0)
    let thread = Thread {
        body()
        done.signal()
    }
    thread.stackSize = 8 << 20
    thread.start()
    return done.wait(timeout: .now() + seconds) == .success
}

/// Whether the walk `interruptParent(of: node)` performs (Linux's
/// `of_irq_find_parent`) cycles without reaching a node with `#interrupt-cells`
/// or coming back to `node` itself: the same walk, with a visited set.
func interruptParentChainLoops(_ tree: DeviceTree, from node: Node) -> Bool {
    var seen: Set<Node> = []
    var current: Node? = node
    repeat {
        guard let c = current else { return false }
        if !seen.insert(c).inserted { return true }
        if let handle = tree.property("interrupt-parent", of: c)?.u32 {
            guard let target = tree.node(phandle: handle) else { return false }
            current = target
        } else {
            current = tree.parent(of: c)
        }
        if current == node { return false }
    } while current != nil && !tree.hasProperty("#interrupt-cells", of: current!)
    return false
}

/// Calls every read API of `tree` on every node, as a consumer walking an
/// untrusted blob would; returns a count so the work cannot be optimised away.
/// Skips `GICInterrupt.intid`/`description` when `safeIntid` is false (they trap
/// on hostile specifiers; see the disabled overflow test).
///
/// Interrupt resolution runs on every tree, reference loops included
/// (`interruptParent(of:)` stops on them: InterruptTests.interruptParentLoopTerminates).
@discardableResult
func exerciseEveryAPI(_ tree: DeviceTree, includeIntid: Bool = false) -> Int {
    var work = tree.nodeCount + tree.size + Int(tree.maxPhandle & 0xff)
    _ = tree.gic().map { work &+= $0.regions.count + ($0.cpuInterface == nil ? 0 : 1) }
    for node in tree.allNodes {
        let path = tree.path(of: node)
        work &+= path.utf8.count + tree.depth(of: node) + tree.baseName(of: node).utf8.count
        work &+= tree.unitAddress(of: node)?.utf8.count ?? 0
        work &+= tree.children(of: node).count
        if let parent = tree.parent(of: node) { work &+= tree.isDescendant(node, of: parent) ? 1 : 0 }
        work &+= tree.lookup(path: path) == nil ? 0 : 1
        work &+= tree.resolve(path) == nil ? 0 : 1
        work &+= tree.labels(of: node).count + tree.aliases(of: node).count
        work &+= tree.compatible(of: node).count + (tree.isCompatible(node, with: "simple-bus") ? 1 : 0)
        work &+= tree.isEnabled(node) ? 1 : 0
        work &+= tree.isEnabledItself(node) ? 1 : 0
        work &+= tree.disabledAncestor(of: node) == nil ? 0 : 1
        work &+= Int(tree.phandle(of: node) ?? 0) & 1
        work &+= Int(tree.structOffset(of: node)) & 1
        work &+= tree.addressCells(of: node) &+ tree.sizeCells(of: node)
        for (name, value) in tree.properties(of: node) {
            work &+= name.utf8.count + value.count + value.cellCount + value.bytes.count + value.cells.count
            work &+= value.string?.utf8.count ?? 0
            work &+= value.strings?.count ?? 0
            work &+= Int(value.u32 ?? 0) & 1 + Int(truncatingIfNeeded: value.u64 ?? 0) & 1
            work &+= value.contains(string: "okay") ? 1 : 0
            work &+= value.containsString(where: { $0.hasPrefix("arm,") }) ? 1 : 0
            work &+= tree.hasProperty(name, of: node) ? 1 : 0
            if let handle = value.u32, let target = tree.node(phandle: handle) { work &+= Int(target.index) & 1 }
        }
        if let entries = try? tree.regEntries(of: node) { work &+= entries.count }
        switch try? tree.deviceAddress(of: node) {
        case .mmio(let ranges)?:
            for r in ranges { work &+= Int(r.end & 1) + (r.overlaps(r) ? 1 : 0) + r.description.utf8.count }
        case .notCPUAddressable(let bus, let reason)?: work &+= bus.utf8.count + reason.utf8.count
        case .none?, nil: break
        }
        work &+= tree.isGIC(node) ? 1 : 0
        work &+= tree.gicVersion(of: node)?.description.utf8.count ?? 0
        work &+= tree.interruptParent(of: node) == nil ? 0 : 1
        for interrupt in tree.interrupts(of: node) {
            switch interrupt {
            case .gic(let gic):
                work &+= Int(gic.number & 1) + gic.specifier.count + gic.trigger.description.utf8.count
                work &+= gic.isShared ? 1 : 0
                work &+= gic.trigger.isLevel ? 1 : 0
                work &+= gic.kind.name.utf8.count
                if includeIntid { work &+= Int(gic.intid & 1) + gic.description.utf8.count }
            case .otherController(let path, let specifier): work &+= path.utf8.count + specifier.count
            case .unresolved(let reason): work &+= reason.utf8.count
            }
        }
        let (dependencies, problems) = tree.dependencies(of: node)
        for d in dependencies { work &+= d.kind.description.utf8.count + d.arguments.count + d.entry + Int(d.provider.index) }
        work &+= problems.count
    }
    return work
}
