import DeviceTree
import Platform

/// The architected timer's interrupts a guest tree gives: the board's own.
///
/// KVM raises a guest's virtual and physical timers on INTIDs 27 and 30 unless
/// the VMM sets others (Documentation/virt/kvm/devices/vcpu.rst,
/// KVM_ARM_VCPU_TIMER_IRQ_*), the PPIs 11 and 14 boards use too; what boards
/// write differently is the trigger: QEMU virt says level-high, rk3399,
/// i.MX 8M and sc7280 level-low, and GICv2 boards add a CPU mask. The GIC
/// itself only tells level from edge; Linux's arch_timer reads the flags and
/// wants a level. The guest gets the specifiers its board's own kernel runs
/// with, on carved and generated trees alike.
public struct TimerInterrupts: Equatable {
    /// GIC specifiers in arm,arch_timer.yaml's order: secure physical,
    /// non-secure physical, virtual, hypervisor physical (and hypervisor
    /// virtual when the board lists it), each as the board's GIC encodes it.
    public var specifiers: [[UInt32]]

    public init(specifiers: [[UInt32]]) { self.specifiers = specifiers }

    /// The board's timer: the first enabled `arm,armv8-timer` node with at
    /// least four interrupts, all of them GIC specifiers (arm,arch_timer.yaml:
    /// the timer's PPIs go straight to the GIC); `fallback` when the board
    /// has none. The cells are read as they are, in the GIC's
    /// `#interrupt-cells`, rather than through the general resolver
    /// (`DeviceTree.interrupts(of:)`, interrupt maps and all), which the
    /// static boot binary would carry for this one call; over Debian's 577
    /// board trees both find the same specifiers.
    @export(interface)
    public static func of(board tree: DeviceTree) -> TimerInterrupts {
        // The root's children first, where boards put the node (sc7280's is
        // node 959 of 997 in tree order); Marvell's AP806 nests it in a bus.
        for nodes in [tree.children(of: tree.root), tree.allNodes] {
            for node in nodes where tree.isCompatible(node, with: "arm,armv8-timer") && tree.isEnabled(node) {
                if let specifiers = gicSpecifiers(tree, node), specifiers.count >= 4 { return TimerInterrupts(specifiers: specifiers) }
            }
        }
        return fallback
    }

    /// `node`'s interrupt specifiers when each one is for a GIC: from
    /// `interrupts-extended` (<phandle cells...> entries; it wins over
    /// `interrupts`, as in Linux's of_irq_parse_one) or from `interrupts` in
    /// the interrupt parent's `#interrupt-cells`.
    static func gicSpecifiers(_ tree: DeviceTree, _ node: Node) -> [[UInt32]]? {
        func width(_ gic: Node) -> Int? {
            guard tree.isGIC(gic), let cells = tree.property("#interrupt-cells", of: gic)?.u32, cells >= 3 else { return nil }
            return Int(cells)
        }
        var specifiers: [[UInt32]] = []
        if let extended = tree.property("interrupts-extended", of: node) {
            var at = 0
            while at < extended.cellCount {
                guard let gic = tree.node(phandle: extended.cell(at)), let n = width(gic),
                      at + 1 + n <= extended.cellCount else { return nil }
                specifiers.append((at + 1..<at + 1 + n).map { extended.cell($0) })
                at += 1 + n
            }
            return specifiers
        }
        guard let gic = tree.interruptParent(of: node), let n = width(gic),
              let value = tree.property("interrupts", of: node), value.count == value.cellCount * 4,
              value.cellCount % n == 0 else { return nil }
        var at = 0
        while at < value.cellCount {
            specifiers.append((at..<at + n).map { value.cell($0) })
            at += n
        }
        return specifiers
    }

    /// For a board without a usable timer node: PPIs 13, 14, 11, 10 (INTIDs
    /// 29, 30, 27, 26, the Server Base System Architecture's numbers, which
    /// KVM uses by default), level-high as QEMU virt describes the same
    /// lines: the GIC only knows level or edge, and KVM drives the timer's
    /// PPI as a level.
    public static let fallback = TimerInterrupts(specifiers: [
        [GICCells.ppi, 13, GICCells.levelHigh], [GICCells.ppi, 14, GICCells.levelHigh],
        [GICCells.ppi, 11, GICCells.levelHigh], [GICCells.ppi, 10, GICCells.levelHigh],
    ])
}

extension GuestNode {
    /// `/timer`, arm,armv8-timer (timer/arm,arch_timer.yaml), always on. On a
    /// GICv2 each PPI's CPU mask names the guest's `vcpus` CPUs (a GICv2 PPI
    /// specifier carries one; the board's names the board's CPUs).
    /// `interruptCells` is the guest GIC node's `#interrupt-cells`.
    public static func timer(_ interrupts: TimerInterrupts, gic: GICVersion, vcpus: Int,
                             interruptCells: Int = 3) -> GuestNode {
        var timer = GuestNode("timer")
        timer.property("compatible", string: "arm,armv8-timer")
        var cells: [UInt32] = []
        for var specifier in interrupts.specifiers {
            if gic == .v2 && specifier.count >= 3 { specifier[2] = GICCells.v2PPIFlags(specifier[2], cpus: vcpus) }
            cells += specifier.fitted(to: interruptCells)
        }
        timer.property("interrupts", cells: cells)
        timer.property("always-on")
        return timer
    }
}
