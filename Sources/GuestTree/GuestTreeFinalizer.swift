import DeviceTree
import Platform

/// What only boot time knows, written into a guest tree (carved or generated)
/// just before the guest starts (Documentation/arch/arm64/booting.rst section 2,
/// "Setup the device tree"; devicetree spec 3.4 /memory, 3.6 /chosen).
public struct BootFacts {
    /// Identity-mapped RAM banks, sorted: one `reg` entry each.
    public var ramBanks: [(base: UInt64, size: UInt64)]
    /// nil keeps the tree's own /chosen/bootargs.
    public var bootargs: String?
    public var initrd: (start: UInt64, end: UInt64)?
    /// The virtual console, when the supervisor serves one: base and INTID.
    public var console: (base: UInt64, intid: UInt32)?
    /// 64 bytes of entropy for rng-seed and 8 for kaslr-seed (getrandom).
    public var rngSeed: [UInt8]
    public var kaslrSeed: UInt64

    public init(ramBanks: [(base: UInt64, size: UInt64)], bootargs: String?, initrd: (start: UInt64, end: UInt64)?,
                console: (base: UInt64, intid: UInt32)?, rngSeed: [UInt8], kaslrSeed: UInt64) {
        self.ramBanks = ramBanks
        self.bootargs = bootargs
        self.initrd = initrd
        self.console = console
        self.rngSeed = rngSeed
        self.kaslrSeed = kaslrSeed
    }
}

public enum GuestTreeFinalizer {
    /// Returns `tree` with: every `device_type = "memory"` node replaced by one
    /// `memory@<base>` with the real base and size; /chosen bootargs,
    /// linux,initrd-start/-end, rng-seed, kaslr-seed; a ns16550a node for the
    /// virtual console (unless one already sits at its address) and
    /// stdout-path pointing at it.
    /// Emitted once, in this module, for the reason `GuestTreeGenerator.generate` gives.
    @export(interface)
    public static func finalize(_ tree: DeviceTree, _ facts: BootFacts) throws(DeviceTreeError) -> DeviceTree {
        let root = tree.root
        let addressCells = Int(tree.property("#address-cells", of: root)?.u32 ?? 2)
        let sizeCells = Int(tree.property("#size-cells", of: root)?.u32 ?? 1)
        guard addressCells == 1 || addressCells == 2, sizeCells == 1 || sizeCells == 2 else {
            throw .badProperty(node: "/", property: "#address-cells", reason: "must be 1 or 2 for a guest tree")
        }
        var memoryNodes: [String] = []
        var consolePath: String? = nil
        for node in tree.children(of: root) {
            if tree.property("device_type", of: node)?.string == "memory" { memoryNodes.append(tree.path(of: node)) }
            if let console = facts.console, tree.isCompatible(node, with: "ns16550a"),
               tree.unitAddress(of: node) == String(console.base, radix: 16) {
                consolePath = tree.path(of: node)
            }
        }

        let editor = try DeviceTreeEditor(tree, extraSpace: 4096)
        for path in memoryNodes { try editor.deleteNode(path) }
        let memory = try editor.addNode("/", "memory@" + String(facts.ramBanks.first?.base ?? 0, radix: 16))
        try editor.setProperty(memory, "device_type", string: "memory")
        var reg: [UInt32] = []
        for bank in facts.ramBanks { reg += numberCells(bank.base, count: addressCells) + numberCells(bank.size, count: sizeCells) }
        try editor.setProperty(memory, "reg", cells: reg)

        let chosen = try editor.addNode("/", "chosen")
        if let bootargs = facts.bootargs { try editor.setProperty(chosen, "bootargs", string: bootargs) }
        if let initrd = facts.initrd {
            try editor.setProperty(chosen, "linux,initrd-start", cells: numberCells(initrd.start, count: 2))
            try editor.setProperty(chosen, "linux,initrd-end", cells: numberCells(initrd.end, count: 2))
        } else {
            try editor.deleteProperty(chosen, "linux,initrd-start")
            try editor.deleteProperty(chosen, "linux,initrd-end")
        }
        try editor.setProperty(chosen, "rng-seed", bytes: facts.rngSeed)
        try editor.setProperty(chosen, "kaslr-seed", cells: numberCells(facts.kaslrSeed, count: 2))

        if let console = facts.console {
            if consolePath == nil {
                let path = try editor.addNode("/", "serial@" + String(console.base, radix: 16))
                try editor.setProperty(path, "compatible", string: "ns16550a")
                try editor.setProperty(path, "reg", cells: numberCells(console.base, count: addressCells)
                                                          + numberCells(ConsolePage.size, count: sizeCells))
                try editor.setProperty(path, "interrupts", cells: GICCells.spi(intid: console.intid))
                try editor.setProperty(path, "clock-frequency", cells: [ConsolePage.uartClock])
                consolePath = path
            }
            try editor.setProperty(chosen, "stdout-path", string: consolePath!)
        }
        return try editor.finish()
    }
}
