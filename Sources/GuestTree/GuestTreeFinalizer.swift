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
    /// linux,initrd-start/-end, rng-seed, kaslr-seed; the virtual console's
    /// page (16550 and pvpanic nodes) unless a ns16550a already sits at its
    /// address, and stdout-path pointing at the console. The nodes are this
    /// module's writers' (`GuestNode`), the ones carving and `cleave run` use.
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
        // The console page's nodes, when the tree has no console there.
        var consolePage: [GuestNode] = []
        if let console = facts.console, consolePath == nil {
            let gicCells = tree.gic().flatMap { tree.property("#interrupt-cells", of: $0.node)?.u32 } ?? 3
            consolePage = GuestNode.consolePage(base: console.base, intid: console.intid, interruptCells: Int(gicCells),
                                                addressCells: addressCells, sizeCells: sizeCells)
            consolePath = GuestNode.consolePath(base: console.base)
        }

        let editor = try DeviceTreeEditor(tree, extraSpace: 4096)
        for path in memoryNodes { try editor.deleteNode(path) }
        try GuestNode.memory(banks: facts.ramBanks, addressCells: addressCells, sizeCells: sizeCells).add(to: editor)
        // Properties a carved tree has (bootargs, stdout-path) are replaced in
        // place; nil ones are left as the tree says.
        let chosen = try GuestNode.chosen(bootargs: facts.bootargs, stdoutPath: facts.console == nil ? nil : consolePath,
                                          initrd: facts.initrd, rngSeed: facts.rngSeed, kaslrSeed: facts.kaslrSeed)
                                  .add(to: editor)
        if facts.initrd == nil {
            // A tree finalised before (a reset, a test) keeps no initrd of that boot.
            try editor.deleteProperty(chosen, "linux,initrd-start")
            try editor.deleteProperty(chosen, "linux,initrd-end")
        }
        try GuestNode.add(consolePage, to: editor)
        return try editor.finish()
    }
}
