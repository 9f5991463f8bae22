import DeviceTree
import Platform

/// Builds a complete guest tree for ad-hoc runs, with libfdt's sequential-write
/// API (the way kvmtool's arm/fdt.c does): enough for Linux and for standard
/// bare-metal test payloads. Each node comes from this module's node writers
/// (`GuestNode`), the ones carving uses.
///
/// ```
/// /  #address-cells = #size-cells = 2, interrupt-parent = <GIC>
/// ├── chosen        bootargs, stdout-path = "/serial@<console>"
/// ├── aliases       serial0
/// ├── memory@<base> reg filled in by `GuestTreeFinalizer` at boot
/// ├── cpus/cpu@N    arm,armv8, enable-method = "psci", reg = MPIDR affinity
/// ├── psci          arm,psci-1.0 / arm,psci-0.2, method = "hvc" (KVM's PSCI)
/// ├── timer         arm,armv8-timer: the board's PPIs and trigger flags
/// │                 (`TimerInterrupts`)
/// ├── pmu           arm,armv8-pmuv3, its PPI (`PMUInterrupt`), when the vCPUs have a PMU
/// ├── interrupt-controller@<GICD>  arm,gic-v3 or arm,cortex-a15-gic at the
/// │   │             board's addresses
/// │   └── its@<base> arm,gic-v3-its, when the board has one and KVM made a vITS
/// ├── serial@<base> ns16550a, the emulated console, its SPI level-high
/// └── pvpanic@<base + 0x800> qemu,pvpanic-mmio (the console's page, ConsolePage)
/// ```
public enum GuestTreeGenerator {
    public static let memoryPlaceholderBase: UInt64 = 0x4000_0000

    /// The tree with `memory` reg left empty, for `GuestTreeFinalizer`.
    public static func generate(_ spec: GuestTreeSpec) throws(DeviceTreeError) -> DeviceTree {
        try generate(spec, facts: nil)
    }

    /// With `facts`, the final tree in one pass: what `GuestTreeFinalizer`
    /// would make of the generated tree (memory banks, bootargs, initrd,
    /// seeds), without a second parse and edit of it at boot. Building and
    /// indexing a tree costs tens of milliseconds in the static binary under
    /// nested emulation, on the path from exec to the guest's first instruction.
    ///
    /// `@export(interface)`: Embedded Swift would otherwise re-emit this
    /// function in each module that calls it, and optimised copies name their
    /// outlined constant arrays alike but number them differently, so the
    /// static link mixed them up (a GICv3 node got GICv2 window sizes;
    /// Scripts/build-static fails on such clashes). With one copy, in this
    /// module, it can be optimised (it was `@_optimize(none)` before).
    @export(interface)
    public static func generate(_ spec: GuestTreeSpec, facts: BootFacts?) throws(DeviceTreeError) -> DeviceTree {
        let w = DeviceTreeWriter()
        let consolePath = GuestNode.consolePath(base: spec.consoleBase)
        let vcpus = spec.cpuAffinities.count
        w.beginNode("")
        w.property("compatible", strings: ["cleave,guest", "linux,dummy-virt"])
        w.property("model", string: "Cleave guest")
        w.property("#address-cells", u32: 2)
        w.property("#size-cells", u32: 2)
        w.property("interrupt-parent", u32: GuestPhandle.gic)

        GuestNode.chosen(bootargs: facts?.bootargs ?? spec.bootargs, stdoutPath: consolePath, initrd: facts?.initrd,
                         rngSeed: facts?.rngSeed, kaslrSeed: facts?.kaslrSeed).write(to: w)
        GuestNode.aliases(serial0: consolePath).write(to: w)
        GuestNode.memory(banks: facts?.ramBanks ?? [(base: memoryPlaceholderBase, size: UInt64(0))]).write(to: w)
        GuestNode.cpus(mpidrs: spec.cpuAffinities).write(to: w)
        GuestNode.psci().write(to: w)
        GuestNode.timer(spec.timer, gic: spec.gic.version, vcpus: vcpus).write(to: w)
        if let pmu = spec.pmu { GuestNode.pmu(pmu, gic: spec.gic.version, vcpus: vcpus).write(to: w) }
        GuestNode.gic(spec.gic, vcpus: vcpus, phandle: GuestPhandle.gic,
                      its: spec.its.map { (base: $0, phandle: GuestPhandle.its) }).write(to: w)
        for node in GuestNode.consolePage(base: spec.consoleBase, intid: spec.consoleINTID) { node.write(to: w) }
        w.endNode()
        return try w.finish()
    }
}
