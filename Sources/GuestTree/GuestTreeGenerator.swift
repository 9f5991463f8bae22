import DeviceTree
import Platform

/// Builds a complete guest tree for ad-hoc runs, with libfdt's sequential-write
/// API (the way kvmtool's arm/fdt.c does): enough for Linux and for standard
/// bare-metal test payloads.
///
/// ```
/// /  #address-cells = #size-cells = 2, interrupt-parent = <GIC>
/// ├── chosen        bootargs, stdout-path = "/serial@<console>"
/// ├── aliases       serial0
/// ├── memory@<base> reg filled in by `GuestTreeFinalizer` at boot
/// ├── cpus/cpu@N    arm,armv8, enable-method = "psci", reg = MPIDR affinity
/// ├── psci          arm,psci-1.0 / arm,psci-0.2, method = "hvc" (KVM's PSCI)
/// ├── timer         arm,armv8-timer: PPIs 13 14 11 10 (secure, non-secure,
/// │                 virtual, hypervisor physical), level-low
/// ├── intc@<GICD>   arm,gic-v3 or arm,cortex-a15-gic at the board's addresses
/// │   └── its@<base> arm,gic-v3-its, when the board has one and KVM made a vITS
/// ├── serial@<base> ns16550a, the emulated console, its SPI level-high
/// └── pvpanic@<base> qemu,pvpanic-mmio, when the spec has one (in the
///                   console's page, ConsolePage)
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
        let consoleName = "serial@" + String(spec.consoleBase, radix: 16)
        w.beginNode("")
        w.property("compatible", strings: ["cleave,guest", "linux,dummy-virt"])
        w.property("model", string: "Cleave guest")
        w.property("#address-cells", u32: 2)
        w.property("#size-cells", u32: 2)
        w.property("interrupt-parent", u32: GuestPhandle.gic)

        w.beginNode("chosen")
        w.property("bootargs", string: facts?.bootargs ?? spec.bootargs)
        w.property("stdout-path", string: "/" + consoleName)
        if let facts {
            if let initrd = facts.initrd {
                w.property("linux,initrd-start", cells: numberCells(initrd.start, count: 2))
                w.property("linux,initrd-end", cells: numberCells(initrd.end, count: 2))
            }
            w.property("rng-seed", bytes: facts.rngSeed)
            w.property("kaslr-seed", cells: numberCells(facts.kaslrSeed, count: 2))
        }
        w.endNode()

        w.beginNode("aliases")
        w.property("serial0", string: "/" + consoleName)
        w.endNode()

        var memoryReg: [UInt32] = []
        var memoryBase = memoryPlaceholderBase
        if let facts {
            memoryBase = facts.ramBanks.first?.base ?? 0
            for bank in facts.ramBanks { memoryReg += numberCells(bank.base, count: 2) + numberCells(bank.size, count: 2) }
        } else {
            memoryReg = numberCells(memoryPlaceholderBase, count: 2) + numberCells(0, count: 2)
        }
        w.beginNode("memory@" + String(memoryBase, radix: 16))
        w.property("device_type", string: "memory")
        w.property("reg", cells: memoryReg)
        w.endNode()

        w.beginNode("cpus")
        w.property("#address-cells", u32: 1)
        w.property("#size-cells", u32: 0)
        for affinity in spec.cpuAffinities {
            w.beginNode("cpu@" + String(affinity, radix: 16))
            w.property("device_type", string: "cpu")
            w.property("compatible", string: "arm,armv8")
            w.property("enable-method", string: "psci")
            w.property("reg", u32: UInt32(truncatingIfNeeded: affinity))
            w.endNode()
        }
        w.endNode()

        w.beginNode("psci")
        w.property("compatible", strings: ["arm,psci-1.0", "arm,psci-0.2"])
        w.property("method", string: "hvc")
        w.endNode()

        // GICv2 PPI specifiers carry a CPU mask in flags bits 8-15.
        var ppiFlags = GICCells.levelLow
        if case .v2 = spec.gic { ppiFlags = GICCells.v2PPIFlags(ppiFlags, cpus: spec.cpuAffinities.count) }
        w.beginNode("timer")
        w.property("compatible", string: "arm,armv8-timer")
        w.property("always-on")
        w.property("interrupts", cells: [GICCells.ppi, 13, ppiFlags, GICCells.ppi, 14, ppiFlags,
                                         GICCells.ppi, 11, ppiFlags, GICCells.ppi, 10, ppiFlags])
        w.endNode()

        switch spec.gic {
        case .v3(let distributor, let redistributor):
            w.beginNode("intc@" + String(distributor, radix: 16))
            w.property("compatible", string: "arm,gic-v3")
            w.property("reg", cells: numberCells(distributor, count: 2) + numberCells(GICFrames.v3DistributorSize, count: 2)
                       + numberCells(redistributor, count: 2)
                       + numberCells(GICFrames.redistributorStride * UInt64(spec.cpuAffinities.count), count: 2))
            w.property("#redistributor-regions", u32: 1)
        case .v2(let distributor, let cpuInterface):
            w.beginNode("intc@" + String(distributor, radix: 16))
            w.property("compatible", string: "arm,cortex-a15-gic")
            w.property("reg", cells: numberCells(distributor, count: 2) + numberCells(GICFrames.v2DistributorSize, count: 2)
                       + numberCells(cpuInterface, count: 2) + numberCells(GICFrames.v2CPUInterfaceSize, count: 2))
        }
        w.property("interrupt-controller")
        w.property("#interrupt-cells", u32: 3)
        w.property("#address-cells", u32: 2)
        w.property("#size-cells", u32: 2)
        w.property("phandle", u32: GuestPhandle.gic)
        if case .v3 = spec.gic, let its = spec.its {
            w.property("ranges")
            w.beginNode("its@" + String(its, radix: 16))
            w.property("compatible", string: "arm,gic-v3-its")
            w.property("msi-controller")
            w.property("#msi-cells", u32: 1)
            w.property("reg", cells: numberCells(its, count: 2) + numberCells(GICFrames.itsSize, count: 2))
            w.property("phandle", u32: GuestPhandle.its)
            w.endNode()
        }
        w.endNode()

        w.beginNode(consoleName)
        w.property("compatible", string: "ns16550a")
        w.property("reg", cells: numberCells(spec.consoleBase, count: 2) + numberCells(spec.consoleSize, count: 2))
        w.property("interrupts", cells: GICCells.spi(intid: spec.consoleINTID))
        w.property("clock-frequency", u32: ConsolePage.uartClock)
        w.endNode()

        // Documentation/devicetree/bindings/misc/qemu,pvpanic-mmio.yaml: no
        // interrupt, one byte register in a 2-byte window.
        if let pvpanic = spec.pvpanic {
            w.beginNode("pvpanic@" + String(pvpanic, radix: 16))
            w.property("compatible", string: "qemu,pvpanic-mmio")
            w.property("reg", cells: numberCells(pvpanic, count: 2) + numberCells(ConsolePage.pvpanicSize, count: 2))
            w.endNode()
        }

        w.endNode()
        return try w.finish()
    }
}
