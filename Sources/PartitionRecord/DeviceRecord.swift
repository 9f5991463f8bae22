import DeviceTree
import Platform

/// One board device a guest is given:
/// /chosen/cleave/<guest>/devices/<label>. Named `mmio`/`intids`, not
/// `reg`/`interrupts`: they describe another node, and dtc would check them
/// against this node's cells.
public struct DeviceRecord: Equatable {
    public struct Interrupt: Equatable {
        /// An SPI's INTID, the same on host and guest.
        public var intid: UInt32
        /// Trigger flags as in the GIC binding (1 edge rising, 2 edge falling,
        /// 4 level high, 8 level low); 0 when the specifier has no flags cell.
        public var flags: UInt32

        public init(intid: UInt32, flags: UInt32) {
            self.intid = intid
            self.flags = flags
        }

        /// Level-sensitive: the line must be resampled after the guest's EOI.
        public var isLevel: Bool { GICCells.isLevel(flags) }
    }

    /// The plan's node name for the device.
    public var label: String
    /// The device's path in the board (and host) tree.
    public var path: String
    /// The device's own compatible list: the host tree's says
    /// "cleave,passthrough" (or the device is disabled there).
    public var compatible: [String]
    /// Physical MMIO windows, in `reg` order (`<base size>`, 2+2 cells).
    public var mmio: [PhysicalRange]
    /// The SPIs of the device and its children (`<INTID flags>` pairs).
    public var interrupts: [Interrupt]
    public var passthrough: PassthroughMethod
    /// How its SPIs reach the guest (`interrupt-method`, written only when
    /// not `auto`, so a plan without `interrupts` records what it did before).
    public var interruptMethod: InterruptMethod
    /// The boot-time side may unbind a host driver bound to the device.
    public var allowUnbind: Bool

    public init(label: String, path: String, compatible: [String], mmio: [PhysicalRange], interrupts: [Interrupt],
                passthrough: PassthroughMethod, interruptMethod: InterruptMethod = .auto, allowUnbind: Bool) {
        self.label = label
        self.path = path
        self.compatible = compatible
        self.mmio = mmio
        self.interrupts = interrupts
        self.passthrough = passthrough
        self.interruptMethod = interruptMethod
        self.allowUnbind = allowUnbind
    }

    func write(into patch: inout DeviceTreePatch, under parent: String) {
        let at = patch.addNode(parent, label)
        patch.set(at, "path", string: path)
        patch.set(at, "device-compatible", strings: compatible)
        var windows: [UInt32] = []
        for r in mmio { windows += numberCells(r.base, count: 2) + numberCells(r.size, count: 2) }
        patch.set(at, "mmio", cells: windows)
        var irqs: [UInt32] = []
        for irq in interrupts { irqs += [irq.intid, irq.flags] }
        patch.set(at, "intids", cells: irqs)
        patch.set(at, "passthrough", string: passthrough.rawValue)
        if interruptMethod != .auto { patch.set(at, "interrupt-method", string: interruptMethod.rawValue) }
        if allowUnbind { patch.set(at, "allow-unbind", bytes: []) }
    }

    static func read(from node: RecordNode) throws(RecordError) -> DeviceRecord {
        let path = try node.string("path")
        let compatible = try node.strings("device-compatible")
        let windows = try node.cells("mmio", group: 4, "<base size> windows")
        var mmio: [PhysicalRange] = []
        for i in stride(from: 0, to: windows.count, by: 4) {
            mmio.append(PhysicalRange(base: RecordNode.u64(windows, i), size: RecordNode.u64(windows, i + 2)))
        }
        let irqs = try node.cells("intids", group: 2, "<INTID flags> pairs")
        var interrupts: [Interrupt] = []
        for i in stride(from: 0, to: irqs.count, by: 2) {
            guard irqs[i] >= GICCells.firstSPI, irqs[i] <= GICCells.lastSPI else {
                throw node.error("intids", "holds \(irqs[i]), not an SPI INTID (\(GICCells.firstSPI)-\(GICCells.lastSPI))")
            }
            interrupts.append(Interrupt(intid: irqs[i], flags: irqs[i + 1]))
        }
        let method = try node.string("passthrough")
        guard let passthrough = PassthroughMethod(rawValue: method) else {
            throw node.error("passthrough", "is \"\(method)\", not \(PassthroughMethod.listed)")
        }
        var interruptMethod = InterruptMethod.auto
        if let text = try node.optionalString("interrupt-method") {
            guard let m = InterruptMethod(rawValue: text) else {
                throw node.error("interrupt-method", "is \"\(text)\", not \(InterruptMethod.listed)")
            }
            if let why = m.conflict(with: passthrough) {
                throw node.error("interrupt-method", "is \"\(text)\" with passthrough \"\(method)\": \(why)")
            }
            interruptMethod = m
        }
        return DeviceRecord(label: node.name, path: path, compatible: compatible, mmio: mmio, interrupts: interrupts,
                            passthrough: passthrough, interruptMethod: interruptMethod, allowUnbind: node.has("allow-unbind"))
    }

    /// The `device-compatible` an earlier carve recorded in `tree` for the
    /// device at `path`: carving a carved host tree again finds
    /// "cleave,passthrough" in the device node itself. Read leniently: any
    /// record that names the device will do.
    public static func compatible(recordedFor path: String, in tree: DeviceTree) -> [String]? {
        guard let partitions = tree.lookup(path: PartitionsRecord.path) else { return nil }
        for guest in tree.children(of: partitions) {
            guard let devices = tree.child(of: guest, named: GuestRecord.devicesNode) else { continue }
            for d in tree.children(of: devices) where tree.property("path", of: d)?.string == path {
                return tree.property("device-compatible", of: d)?.strings
            }
        }
        return nil
    }
}
