import Platform
import Foundation
import Testing
import DeviceTree
import GuestTree
import KVM
import Supervisor

/// The tree `cleave run` generates: what standard payloads look for
/// (docs/kernel-facts.md §17), checked by walking it as a guest would.
@Suite struct GuestTreeGeneratorTests {
    /// The spec `cleave run` builds for a board: its GIC (and ITS) at the
    /// board's addresses, its timer interrupts.
    func spec(board: String, cpus: Int, its: Bool = true) throws -> GuestTreeSpec {
        let tree = try boardTree(board)
        let gic: GIC
        switch try BoardGIC.of(tree, source: board) {
        case .v2(let d, let c): gic = .v2(distributor: d, cpuInterface: c)
        case .v3(let d, let r): gic = .v3(distributor: d, redistributor: r)
        }
        return GuestTreeSpec(cpuAffinities: (0..<cpus).map { UInt64($0) }, gic: gic,
                             consoleBase: TestConsole.base, consoleINTID: TestConsole.intid,
                             bootargs: "console=ttyS0 earlycon quiet", its: its ? BoardITS.base(of: tree) : nil,
                             timer: TimerInterrupts.of(board: tree))
    }

    @Test func boardGICAndITSComeFromTheBoardTree() throws {
        guard case .v3(let d, let r) = try BoardGIC.of(boardTree("qemu-virt-gicv3.dtb"), source: "v3") else {
            Issue.record("qemu-virt-gicv3 is not a GICv3"); return
        }
        #expect(d == 0x0800_0000 && r == 0x080a_0000)
        #expect(BoardITS.base(of: try boardTree("qemu-virt-gicv3.dtb")) == 0x0808_0000)
        guard case .v2(let d2, let c2) = try BoardGIC.of(boardTree("qemu-virt-gicv2.dtb"), source: "v2") else {
            Issue.record("qemu-virt-gicv2 is not a GICv2"); return
        }
        #expect(d2 == 0x0800_0000 && c2 == 0x0801_0000)
        #expect(BoardITS.base(of: try boardTree("qemu-virt-gicv2.dtb")) == nil)
    }

    @Test func chosenStdoutPathResolvesToTheConsole() throws {
        let tree = try GuestTreeGenerator.generate(spec(board: "qemu-virt-gicv3.dtb", cpus: 1))
        #expect(tree.string("/chosen", "bootargs") == "console=ttyS0 earlycon quiet")
        let stdout = try #require(tree.string("/chosen", "stdout-path"))
        let console = try #require(tree.resolve(stdout))
        #expect(tree.isCompatible(console, with: "ns16550a"))
        #expect(tree.resolve("serial0") == console)
        guard case .mmio(let ranges) = try tree.deviceAddress(of: console) else { Issue.record("console has no MMIO"); return }
        // The console page's first half: the pvpanic register is above it.
        #expect(ranges == [PhysicalRange(base: TestConsole.base, size: ConsolePage.uartSize)])
        // Level-high SPI of the console's INTID (SPI number = INTID - 32).
        #expect(tree.property("interrupts", of: console)?.cells == [0, TestConsole.intid - 32, 4])
        #expect(tree.property("clock-frequency", of: console)?.u32 == 1_843_200)
        // The root's interrupt parent is the GIC node.
        let parent = try #require(tree.property("interrupt-parent", of: tree.root)?.u32)
        let gic = try #require(tree.node(phandle: parent))
        #expect(tree.hasProperty("interrupt-controller", of: gic))
    }

    /// qemu,pvpanic-mmio.yaml: compatible and a 2-byte reg, no interrupt;
    /// found by name and compatible as Linux's driver and the test guests do.
    @Test func pvpanicNodeInTheConsolePage() throws {
        let tree = try GuestTreeGenerator.generate(spec(board: "qemu-virt-gicv3.dtb", cpus: 1))
        let base = TestConsole.base + ConsolePage.pvpanicOffset
        let node = try #require(tree.lookup(path: "/pvpanic@" + String(base, radix: 16)))
        #expect(tree.isCompatible(node, with: "qemu,pvpanic-mmio"))
        #expect(try tree.deviceAddress(of: node) == .mmio([PhysicalRange(base: base, size: 2)]))
        #expect(!tree.hasProperty("interrupts", of: node))
        // Same page as the console, whose reg ends where the register starts.
        #expect(base & ~0xfff == TestConsole.base)
        let console = try #require(tree.resolve("serial0"))
        #expect(try tree.deviceAddress(of: console) == .mmio([PhysicalRange(base: TestConsole.base, size: base - TestConsole.base)]))
    }

    /// dtc reads the generated tree back without a warning (its checks of
    /// reg's format and of unit addresses against reg; it does not look for
    /// overlapping windows, which pvpanicNodeInTheConsolePage does).
    @Test func dtcFindsNothingToWarnAbout() throws {
        let tree = try GuestTreeGenerator.generate(spec(board: "qemu-virt-gicv3.dtb", cpus: 2))
        let dir = try temporaryDirectory()
        defer { try? FileManager.default.removeItem(at: dir) }
        let path = dir.appendingPathComponent("guest.dtb").path
        try Data(tree.bytes).write(to: URL(fileURLWithPath: path))
        let result = try runTool(dtcPath, ["-I", "dtb", "-O", "dts", "-o", "/dev/null", path])
        #expect(result.status == 0)
        #expect(result.stderr == "", "\(result.stderr)")
    }

    @Test func psciAndCPUs() throws {
        let tree = try GuestTreeGenerator.generate(spec(board: "qemu-virt-gicv3.dtb", cpus: 3))
        let psci = try #require(tree.lookup(path: "/psci"))
        #expect(tree.isCompatible(psci, with: "arm,psci-0.2"))
        #expect(tree.string("/psci", "method") == "hvc")
        let cpus = tree.children(of: try #require(tree.lookup(path: "/cpus")))
        #expect(cpus.count == 3)
        for (i, cpu) in cpus.enumerated() {
            #expect(tree.property("reg", of: cpu)?.u32 == UInt32(i))
            #expect(tree.property("enable-method", of: cpu)?.string == "psci")
            #expect(tree.property("device_type", of: cpu)?.string == "cpu")
        }
        #expect(tree.cells("/cpus", "#address-cells") == [1] && tree.cells("/cpus", "#size-cells") == [0])
    }

    @Test func timerPPIsAreTheBoards() throws {
        let tree = try GuestTreeGenerator.generate(spec(board: "qemu-virt-gicv3.dtb", cpus: 2))
        let timer = try #require(tree.lookup(path: "/timer"))
        #expect(tree.isCompatible(timer, with: "arm,armv8-timer"))
        // Secure, non-secure, virtual, hypervisor PPIs 13 14 11 10, level-high (4) as QEMU virt says.
        #expect(tree.property("interrupts", of: timer)?.cells == [1, 13, 4, 1, 14, 4, 1, 11, 4, 1, 10, 4])
        // rk3399 says level-low (8), in 4-cell specifiers: cut to the generated GIC's 3 cells.
        let rk3399 = try GuestTreeGenerator.generate(spec(board: "rk3399-rockpro64.dtb", cpus: 2))
        #expect(rk3399.cells("/timer", "interrupts") == [1, 13, 8, 1, 14, 8, 1, 11, 8, 1, 10, 8])
        #expect(rk3399.gic().flatMap { rk3399.property("#interrupt-cells", of: $0.node)?.u32 } == 3)
    }

    @Test func timerPPIsGICv2CarryTheGuestsCPUMask() throws {
        // The board's flags are 0x304 (level-high, two CPUs); a one-vCPU guest's mask names one.
        let tree = try GuestTreeGenerator.generate(spec(board: "qemu-virt-gicv2.dtb", cpus: 1))
        let flags: UInt32 = 0x1 << 8 | 4
        #expect(tree.cells("/timer", "interrupts") == [1, 13, flags, 1, 14, flags, 1, 11, flags, 1, 10, flags])
    }

    /// A `pmu` node when the vCPUs have a PMU (the spec's `pmu`), on its PPI,
    /// with the guest's CPU mask on a GICv2; none without.
    @Test func pmuNodeOnlyWithAPMU() throws {
        var v3 = try spec(board: "qemu-virt-gicv3.dtb", cpus: 2)
        #expect(try GuestTreeGenerator.generate(v3).lookup(path: "/pmu") == nil)
        v3.pmu = PMUInterrupt.of(board: try boardTree("qemu-virt-gicv3.dtb"))
        let tree = try GuestTreeGenerator.generate(v3)
        let pmu = try #require(tree.lookup(path: "/pmu"))
        #expect(tree.compatible(of: pmu) == ["arm,armv8-pmuv3"])
        #expect(tree.cells("/pmu", "interrupts") == [1, 7, 4])
        var v2 = try spec(board: "qemu-virt-gicv2.dtb", cpus: 1)
        v2.pmu = .fallback
        #expect(try GuestTreeGenerator.generate(v2).cells("/pmu", "interrupts") == [1, 7, 0x104])
    }

    @Test func gicV3NodeWithITS() throws {
        let spec = try spec(board: "qemu-virt-gicv3.dtb", cpus: 2)
        let tree = try GuestTreeGenerator.generate(spec)
        let gic = try #require(tree.gic())
        #expect(gic.version == .v3)
        #expect(tree.isCompatible(gic.node, with: "arm,gic-v3"))
        #expect(gic.regions == [PhysicalRange(base: 0x0800_0000, size: 0x10000),
                                PhysicalRange(base: 0x080a_0000, size: 0x20000 * 2)])
        #expect(tree.property("#interrupt-cells", of: gic.node)?.u32 == 3)
        let its = try #require(tree.children(of: gic.node).first { tree.isCompatible($0, with: "arm,gic-v3-its") })
        #expect(tree.hasProperty("msi-controller", of: its))
        #expect(tree.property("#msi-cells", of: its)?.u32 == 1)
        // Reachable through the GIC's (identity) ranges, as Linux translates it.
        #expect(try tree.deviceAddress(of: its) == .mmio([PhysicalRange(base: 0x0808_0000, size: GICFrames.itsSize)]))
        #expect(BoardITS.base(of: tree) == 0x0808_0000)
    }

    @Test func gicV3WithoutITS() throws {
        let tree = try GuestTreeGenerator.generate(spec(board: "qemu-virt-gicv3.dtb", cpus: 1, its: false))
        let gic = try #require(tree.gic())
        #expect(tree.children(of: gic.node).isEmpty)
        #expect(BoardITS.base(of: tree) == nil)
    }

    @Test func gicV2Node() throws {
        var spec = try spec(board: "qemu-virt-gicv2.dtb", cpus: 1)
        spec.its = 0x0808_0000 // ignored: an ITS needs a GICv3
        let tree = try GuestTreeGenerator.generate(spec)
        let gic = try #require(tree.gic())
        #expect(gic.version == .v2)
        #expect(tree.isCompatible(gic.node, with: "arm,cortex-a15-gic"))
        #expect(gic.regions == [PhysicalRange(base: 0x0800_0000, size: 0x1000), PhysicalRange(base: 0x0801_0000, size: 0x2000)])
        #expect(tree.children(of: gic.node).isEmpty)
    }

    @Test func generatedTreesAreDeterministic() throws {
        let spec = try spec(board: "qemu-virt-gicv3.dtb", cpus: 2)
        #expect(try GuestTreeGenerator.generate(spec).bytes == GuestTreeGenerator.generate(spec).bytes)
    }
}
