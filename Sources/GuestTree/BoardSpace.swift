import DeviceTree
import Platform

/// What of a board's physical address space and SPI numbers its tree says
/// is taken, read straight from the tree: `cleave run` places the console
/// page with it by the rule carving uses (ConsolePage.base and .spi), without
/// the carve's device inventory (which the static boot binary does not link).
///
/// It counts what Partitioning's `Board` counts for `Layout.consoleBase` and
/// `Layout.consoleSPI`: every `device_type = "memory"` node's `reg`, every
/// /reserved-memory child's, and every device's (a node with `compatible`,
/// enabled or not, outside /cpus, path tables, overlay fixups and an embedded
/// /chosen/cleave; not an operating-points table) windows and SPIs. A test
/// checks both give the same placement on every board tree in the repository.
public struct BoardSpace {
    public var occupied: [(base: UInt64, size: UInt64)] = []
    /// SPI numbers (INTID - 32) of the board's devices.
    public var usedSPIs: [UInt32] = []

    @export(interface)
    public init(_ tree: DeviceTree) {
        var skipped = [Bool](repeating: false, count: tree.nodeCount)
        var inCPUs = [Bool](repeating: false, count: tree.nodeCount)
        for path in ["/aliases", "/__symbols__", "/__fixups__", "/__local_fixups__", "/chosen/cleave"] {
            if let node = tree.lookup(path: path) { skipped[Int(node.index)] = true }
        }
        if let cpus = tree.lookup(path: "/cpus") { inCPUs[Int(cpus.index)] = true }
        let reservedParent = tree.lookup(path: "/reserved-memory")
        var devices: [Node] = []
        for node in tree.allNodes where node != tree.root {
            let i = Int(node.index)
            let up = Int((tree.parent(of: node) ?? tree.root).index)
            skipped[i] = skipped[i] || skipped[up]
            inCPUs[i] = inCPUs[i] || inCPUs[up]
            if tree.property("device_type", of: node)?.string == "memory",
               case .mmio(let ranges) = (try? tree.deviceAddress(of: node)) ?? .none {
                for range in ranges where range.size > 0 { occupied.append((range.base, range.size)) }
                continue
            }
            if let r = reservedParent, tree.parent(of: node) == r,
               case .mmio(let ranges) = (try? tree.deviceAddress(of: node)) ?? .none {
                for range in ranges { occupied.append((range.base, range.size)) }
            }
            guard !skipped[i], !inCPUs[i], tree.hasProperty("compatible", of: node),
                  !tree.isCompatible(node, with: "operating-points-v2") else { continue }
            devices.append(node)
        }
        for address in tree.deviceAddresses(ofEach: devices) {
            if case .success(.mmio(let ranges)) = address { for range in ranges { occupied.append((range.base, range.size)) } }
        }
        for interrupts in tree.interrupts(ofEach: devices) {
            for case .gic(let irq) in interrupts where irq.kind == .spi { usedSPIs.append(irq.number) }
        }
    }

    /// The console page's base for a guest of this board, nil when no page is free.
    public var consoleBase: UInt64? { ConsolePage.base(avoiding: occupied) }
    /// The console's SPI number, nil when the board uses every one.
    public var consoleSPI: UInt32? { ConsolePage.spi(avoiding: usedSPIs) }
}
