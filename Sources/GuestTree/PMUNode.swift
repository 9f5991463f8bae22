import DeviceTree
import Platform

/// The overflow interrupt of the guest's PMUv3, a PPI: the board's own.
///
/// KVM gives each vCPU a PMUv3 (Documentation/virt/kvm/devices/vcpu.rst,
/// KVM_ARM_VCPU_PMU_V3_CTRL) whose overflow interrupt the VMM chooses; it
/// must be the same PPI on every vCPU. The guest gets the one its board's
/// kernel runs with (the board tree's PMUv3 node: `arm,armv8-pmuv3` or an
/// ARMv8 core's own compatible, `isPMUv3`), so a carved guest's tree and its
/// vCPUs agree with the board; a board without one gets PPI 7 (INTID 23) in
/// `cleave run`, as QEMU virt and kvmtool use. The guest's node always says
/// `arm,armv8-pmuv3`: KVM's PMU is the architected one.
public struct PMUInterrupt: Equatable {
    /// The board's GIC specifier: <GIC_PPI number flags>.
    public var specifier: [UInt32]

    public init(specifier: [UInt32]) { self.specifier = specifier }

    /// The INTID KVM is given (KVM_ARM_VCPU_PMU_V3_IRQ): PPI n is 16 + n.
    public var intid: UInt32 { 16 + specifier[1] }

    /// The board's PMU: the first enabled PMUv3 node (`isPMUv3`) whose
    /// interrupt is a GIC PPI specifier. A board whose PMU is wired to one
    /// SPI per CPU (ZynqMP) gets `fallback`: the vCPU's PMU is KVM's and its
    /// overflow interrupt a virtual PPI, whatever wires the host's, so PPI 7
    /// serves, unless the board's timer uses it. A PPI split between
    /// clusters (`ppi-partitions`' fourth cell: a big.LITTLE board, rk3399)
    /// gets none: KVM 6.1 backs a vCPU's PMU with one cluster's PMU, and
    /// Cleave does not choose it (KVM_ARM_VCPU_PMU_V3_SET_PMU). nil when the
    /// board has no PMUv3 node. Read as `TimerInterrupts.of(board:)` reads
    /// the timer (the root's children first).
    public static func of(board tree: DeviceTree) -> PMUInterrupt? {
        var spiWired = false
        for nodes in [tree.children(of: tree.root), tree.allNodes] {
            for node in nodes where tree.compatible(of: node).contains(where: isPMUv3) && tree.isEnabled(node) {
                guard let specifiers = TimerInterrupts.gicSpecifiers(tree, node), let first = specifiers.first,
                      first.count >= 3 else { continue }
                if first[0] == GICCells.spi, first.count == 3 || first[3] == 0 { spiWired = true; continue }
                guard first.count == 3 || first[3] == 0, first[0] == GICCells.ppi, first[1] < 16 else { continue }
                return PMUInterrupt(specifier: Array(first[0..<3]))
            }
        }
        guard spiWired else { return nil }
        let timerPPIs = TimerInterrupts.of(board: tree).specifiers.filter { $0.count >= 2 && $0[0] == GICCells.ppi }.map { $0[1] }
        return timerPPIs.contains(fallback.specifier[1]) ? nil : fallback
    }

    /// Whether a compatible names an ARMv8 PMUv3: `arm,armv8-pmuv3`, or the
    /// ARMv8 cores' own names Linux's PMUv3 driver also binds
    /// (drivers/perf/arm_pmuv3.c): `arm,cortex-aNN-pmu` with NN 34 or more (the
    /// ARMv7 cores a5-a17 have their own PMU driver), `arm,cortex-xN-pmu`,
    /// `arm,neoverse-*-pmu`. Real boards mostly use the core's name
    /// (i.MX 8M Mini and AM654 say `arm,cortex-a53-pmu`).
    public static func isPMUv3(_ compatible: String) -> Bool {
        if compatible == "arm,armv8-pmuv3" { return true }
        guard compatible.hasSuffix("-pmu") else { return false }
        if compatible.hasPrefix("arm,neoverse-") || compatible.hasPrefix("arm,cortex-x") { return true }
        let prefix = "arm,cortex-a"
        guard compatible.hasPrefix(prefix) else { return false }
        let digits = compatible.utf8.dropFirst(prefix.utf8.count).dropLast(4)
        guard !digits.isEmpty, digits.count <= 4, digits.allSatisfy({ $0 >= 0x30 && $0 <= 0x39 }) else { return false }
        var number = 0
        for d in digits { number = number * 10 + Int(d - 0x30) }
        return number >= 34
    }

    /// PPI 7 (INTID 23), level-high: QEMU virt's and kvmtool's PMU interrupt.
    public static let fallback = PMUInterrupt(specifier: [GICCells.ppi, 7, GICCells.levelHigh])
}

extension GuestNode {
    /// `/pmu`, arm,armv8-pmuv3 (Documentation/devicetree/bindings/arm/pmu.yaml):
    /// the vCPUs' PMUv3 and its overflow PPI. On a GICv2 the PPI's CPU mask
    /// names the guest's `vcpus` CPUs. `interruptCells` is the guest GIC
    /// node's `#interrupt-cells`.
    public static func pmu(_ interrupt: PMUInterrupt, gic: GICVersion, vcpus: Int, interruptCells: Int = 3) -> GuestNode {
        var pmu = GuestNode("pmu")
        pmu.property("compatible", string: "arm,armv8-pmuv3")
        var specifier = interrupt.specifier
        if gic == .v2 { specifier[2] = GICCells.v2PPIFlags(specifier[2], cpus: vcpus) }
        pmu.property("interrupts", cells: specifier.fitted(to: interruptCells))
        return pmu
    }
}
