import DeviceTree

/// A CPU of the board, as Linux numbers it.
public struct BoardCPU: Equatable {
    /// Linux logical CPU number: the index among enabled `/cpus/cpu@*` nodes in
    /// tree order (the boot CPU is listed first on the boards Cleave targets).
    public var logical: UInt32
    public var node: Node
    public var path: String
    /// `reg` of the CPU node: its MPIDR affinity bits.
    public var mpidr: UInt64
}

/// What a board offers: its GIC, CPUs, RAM, and every device with what it needs.
/// Built once from a board tree; every query after that is pure lookup.
public struct Board {
    public let tree: DeviceTree
    public let gic: GICDescription?
    public let cpus: [BoardCPU]
    /// `device_type = "memory"` ranges, CPU physical. Empty when the bootloader
    /// fills /memory in (157 of Debian's board trees).
    public let memory: [PhysicalRange]
    /// `/reserved-memory` children with `reg`.
    public let reservedMemory: [(path: String, range: PhysicalRange)]
    public let devices: [DeviceInfo]
    /// Node index -> index into `devices`, -1 for nodes that are not devices.
    let deviceIndex: [Int32]
    /// (INTID, device index) for every SPI an enabled device raises, sorted
    /// by INTID then device: one flat array instead of an array per INTID.
    let spiUsers: [(intid: UInt32, device: Int)]
    /// Enabled devices' MMIO ranges, sorted by base.
    let mmio: [(range: PhysicalRange, device: Int)]
    /// The nodes whose references count as uses (`consumers(of:)`): enabled,
    /// and neither memory nor path tables, in tree order.
    let referencingNodes: [Node]
    /// Whether any node is an IOMMU (`#iommu-cells`).
    public let hasIOMMU: Bool

    public init(_ tree: DeviceTree) {
        self.tree = tree
        gic = tree.gic()
        cpus = Board.findCPUs(tree)
        var memory: [PhysicalRange] = []
        var reserved: [(path: String, range: PhysicalRange)] = []
        var deviceNodes: [(node: Node, enabled: Bool)] = []
        var devices: [DeviceInfo] = []
        var index = [Int32](repeating: -1, count: tree.nodeCount)
        var referencing: [Node] = []
        // Flags in tree order, each from its parent's: parents come first.
        var enabledNodes = [Bool](repeating: true, count: tree.nodeCount)
        var skippedNodes = [Bool](repeating: false, count: tree.nodeCount)
        var inCPUs = [Bool](repeating: false, count: tree.nodeCount)
        var hasIOMMU = false
        let reservedParent = tree.lookup(path: "/reserved-memory")
        // Not devices: path tables, overlay fixups, and a plan embedded by an earlier carve.
        for path in ["/aliases", "/__symbols__", "/__fixups__", "/__local_fixups__", "/chosen/cleave"] {
            if let node = tree.lookup(path: path) { skippedNodes[Int(node.index)] = true }
        }
        if let cpusNode = tree.lookup(path: "/cpus") { inCPUs[Int(cpusNode.index)] = true }

        let deviceType = tree.propertyName("device_type")
        let iommuCells = tree.propertyName("#iommu-cells")
        let compatible = tree.propertyName("compatible")
        enabledNodes[0] = tree.isEnabledItself(tree.root)
        for node in tree.allNodes where node != tree.root {
            let i = Int(node.index)
            let up = Int((tree.parent(of: node) ?? tree.root).index)
            enabledNodes[i] = enabledNodes[up] && tree.isEnabledItself(node)
            skippedNodes[i] = skippedNodes[i] || skippedNodes[up]
            inCPUs[i] = inCPUs[i] || inCPUs[up]
            if tree.property(deviceType, of: node)?.string == "memory",
               case .mmio(let ranges) = (try? tree.deviceAddress(of: node)) ?? .none {
                memory += ranges.filter { $0.size > 0 }
                continue
            }
            if let r = reservedParent, up == Int(r.index),
               case .mmio(let ranges) = (try? tree.deviceAddress(of: node)) ?? .none {
                for range in ranges { reserved.append((tree.path(of: node), range)) }
            }
            let enabled = enabledNodes[i]
            if enabled && tree.hasProperty(iommuCells, of: node) { hasIOMMU = true }
            if skippedNodes[i] { continue }
            if enabled { referencing.append(node) }
            guard tree.hasProperty(compatible, of: node) else { continue }
            if inCPUs[i] { continue }
            if tree.isCompatible(node, with: "operating-points-v2") { continue }
            index[i] = Int32(deviceNodes.count)
            deviceNodes.append((node, enabled))
        }
        let nodes = deviceNodes.map { $0.node }
        let interrupts = tree.interrupts(ofEach: nodes)
        let addresses = tree.deviceAddresses(ofEach: nodes)
        devices.reserveCapacity(deviceNodes.count)
        for (i, (node, enabled)) in deviceNodes.enumerated() {
            devices.append(DeviceInfo(tree: tree, node: node, enabled: enabled, address: addresses[i],
                                      interrupts: interrupts[i], reservedMemoryParent: reservedParent))
        }

        var spiUsers: [(intid: UInt32, device: Int)] = []
        var mmio: [(range: PhysicalRange, device: Int)] = []
        for i in devices.indices where devices[i].enabled {
            for interrupt in devices[i].interrupts {
                if case .gic(let irq) = interrupt, irq.isShared { spiUsers.append((irq.intid, i)) }
            }
            if case .mmio(let ranges) = devices[i].address {
                for range in ranges where range.size > 0 { mmio.append((range, i)) }
            }
        }
        spiUsers.sort { ($0.intid, $0.device) < ($1.intid, $1.device) }
        mmio.sort { $0.range < $1.range }
        self.memory = memory
        self.reservedMemory = reserved
        self.devices = devices
        self.deviceIndex = index
        self.spiUsers = spiUsers
        self.mmio = mmio
        self.referencingNodes = referencing
        self.hasIOMMU = hasIOMMU
    }

    static func findCPUs(_ tree: DeviceTree) -> [BoardCPU] {
        guard let cpusNode = tree.lookup(path: "/cpus") else { return [] }
        var out: [BoardCPU] = []
        for node in tree.children(of: cpusNode) {
            let isCPU = tree.property("device_type", of: node)?.string == "cpu" || tree.baseName(of: node) == "cpu"
            guard isCPU, tree.isEnabledItself(node) || tree.property("status", of: node)?.string == "fail" else { continue }
            guard let entry = ((try? tree.regEntries(of: node)) ?? []).first else { continue }
            out.append(BoardCPU(logical: UInt32(out.count), node: node, path: tree.path(of: node), mpidr: entry.address))
        }
        return out
    }

    /// The device record for a node, if the node is a device.
    public func device(_ node: Node) -> DeviceInfo? {
        let i = deviceIndex[Int(node.index)]
        return i < 0 ? nil : devices[Int(i)]
    }

    /// Resolves a plan's device reference (path, alias, label).
    public func resolve(_ reference: String) -> Node? { tree.resolve(reference) }

    /// Enabled devices other than `node` that raise the same SPI `intid`.
    public func sharers(ofSPI intid: UInt32, except node: Node) -> [DeviceInfo] {
        // The first entry for `intid`, by binary search.
        var low = 0, high = spiUsers.count
        while low < high {
            let mid = (low + high) / 2
            if spiUsers[mid].intid < intid { low = mid + 1 } else { high = mid }
        }
        var out: [DeviceInfo] = []
        while low < spiUsers.count && spiUsers[low].intid == intid {
            let device = devices[spiUsers[low].device]
            if device.node != node { out.append(device) }
            low += 1
        }
        return out
    }

    /// Enabled devices other than `node` with registers in any 4 KiB page that
    /// `range` touches (stage 2 maps whole pages).
    public func pageSharers(of range: PhysicalRange, except node: Node) -> [(device: DeviceInfo, page: UInt64)] {
        let first = range.base & ~0xfff
        let last = (range.end &- 1) & ~0xfff
        let pages = PhysicalRange(base: first, size: last &- first &+ 0x1000)
        var out: [(device: DeviceInfo, page: UInt64)] = []
        for entry in mmio {
            if entry.range.base >= pages.end { break }
            let other = devices[entry.device]
            guard other.node != node, entry.range.overlaps(pages) else { continue }
            if tree.isDescendant(other.node, of: node) || tree.isDescendant(node, of: other.node) { continue }
            let shared = max(entry.range.base, pages.base) & ~0xfff
            if !out.contains(where: { $0.device.node == other.node }) { out.append((other, shared)) }
        }
        return out
    }

    /// The SPIs a guest owning `device` must get: the device's own, its
    /// children's (an Ethernet PHY's), and those its `interrupt-map` (or a
    /// child's) routes to the GIC. Deduplicated by INTID.
    public func subtreeSPIs(of device: DeviceInfo) -> [GICInterrupt] {
        var out: [GICInterrupt] = []
        func add(_ list: [ResolvedInterrupt]) {
            for case .gic(let irq) in list where irq.isShared && !out.contains(where: { $0.intid == irq.intid }) { out.append(irq) }
        }
        add(device.interrupts)
        var stack = [device.node]
        while let node = stack.popLast() {
            if node != device.node { add(tree.interrupts(of: node)) }
            add(tree.interruptMapTargets(of: node))
            stack += tree.children(of: node)
        }
        return out
    }

    /// Enabled nodes that reference `node` through a phandle property.
    /// Worked out when asked (carving asks for the few assigned devices), by
    /// one scan of the referencing nodes for the node's phandle.
    public func consumers(of node: Node) -> [(consumer: Node, property: String)] {
        var out: [(consumer: Node, property: String)] = []
        for (consumer, dependencies) in tree.references(to: node, among: referencingNodes) where consumer != node {
            for dep in dependencies { out.append((consumer, dep.property)) }
        }
        return out
    }

    /// Devices whose MMIO overlaps `range` (any page).
    /// The lines of GPIO controller `chip` the board's devices use: each
    /// enabled node (but those `skipping` says, e.g. devices given to a guest)
    /// that references the chip in a `gpios` or `*-gpios` property (the line
    /// is the first cell after the phandle, gpio.txt), and the chip's hogs
    /// (`gpio-hog` children, their `gpios`). Line -> who, as text.
    public func gpioLineUsers(of chip: Node, skipping: (Node) -> Bool = { _ in false }) -> [UInt32: String] {
        var users: [UInt32: String] = [:]
        guard let phandle = tree.phandle(of: chip) else { return users }
        let chipWidth = Int(tree.property("#gpio-cells", of: chip)?.u32 ?? 2)
        for node in tree.allNodes where tree.isEnabled(node) && !skipping(node) {
            if tree.parent(of: node) == chip, tree.hasProperty("gpio-hog", of: node) {
                let cells = tree.property("gpios", of: node)?.cells ?? []
                for i in stride(from: 0, to: cells.count, by: max(chipWidth, 1)) { users[cells[i]] = "hog \(tree.path(of: node))" }
                continue
            }
            for (name, value) in tree.properties(of: node) where name == "gpios" || name.hasSuffix("-gpios") {
                let cells = value.cells
                var i = 0
                while i < cells.count {
                    // A 0 phandle is an empty entry; another provider's entry is as wide as its #gpio-cells says.
                    let provider = cells[i] == 0 ? nil : tree.node(phandle: cells[i])
                    let width = provider.map { Int(tree.property("#gpio-cells", of: $0)?.u32 ?? 2) } ?? 0
                    if cells[i] == phandle, i + 1 < cells.count { users[cells[i + 1]] = "\(tree.path(of: node)) \(name)" }
                    i += 1 + width
                }
            }
        }
        return users
    }

    public func devices(overlapping range: PhysicalRange) -> [DeviceInfo] {
        var out: [DeviceInfo] = []
        for entry in mmio where entry.range.overlaps(range) {
            if !out.contains(where: { $0.node == devices[entry.device].node }) { out.append(devices[entry.device]) }
        }
        return out
    }
}
