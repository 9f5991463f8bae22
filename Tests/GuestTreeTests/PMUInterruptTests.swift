import Testing
import DeviceTree
import GuestTree
import Platform

/// The PMU interrupt a guest gets is its board's PMUv3 PPI, found by the
/// generic or an ARMv8 core's compatible; a PMU KVM cannot mirror (SPIs,
/// ppi-partitions) is no PMU.
@Suite struct PMUInterruptTests {
    @Test func qemuVirtSaysPPI7() throws {
        let v3 = try #require(PMUInterrupt.of(board: try boardTree("qemu-virt-gicv3.dtb")))
        #expect(v3.specifier == [1, 7, 4] && v3.intid == 23)
        let v2 = try #require(PMUInterrupt.of(board: try boardTree("qemu-virt-gicv2.dtb")))
        #expect(v2.specifier[0...1] == [1, 7] && v2.specifier[2] & GICCells.triggerMask == GICCells.levelHigh && v2.intid == 23)
        #expect(PMUInterrupt.fallback.intid == 23)
    }

    /// Real boards name the core: i.MX 8M Mini and AM654 `arm,cortex-a53-pmu`
    /// on PPI 7; ZynqMP wires its PMU to one SPI per CPU: its guests get
    /// KVM's PMU on PPI 7 (a virtual interrupt); rk3399 splits PPI 7 between
    /// its clusters (ppi-partitions, big.LITTLE): none.
    @Test func realBoards() throws {
        #expect(PMUInterrupt.of(board: try boardTree("imx8mm-evk.dtb"))?.specifier == [1, 7, 0xf04])
        #expect(PMUInterrupt.of(board: try boardTree("k3-am654-base-board.dtb"))?.specifier == [1, 7, 4])
        #expect(PMUInterrupt.of(board: try boardTree("zynqmp-zcu102-rev1.0.dtb")) == .fallback)
        #expect(PMUInterrupt.of(board: try boardTree("rk3399-rockpro64.dtb")) == nil)
    }

    @Test(arguments: [
        ("arm,armv8-pmuv3", true), ("arm,cortex-a53-pmu", true), ("arm,cortex-a72-pmu", true),
        ("arm,cortex-a510-pmu", true), ("arm,cortex-x2-pmu", true), ("arm,neoverse-n1-pmu", true),
        ("arm,cortex-a15-pmu", false), ("arm,cortex-a9-pmu", false), ("arm,cortex-a-pmu", false),
        ("arm,cortex-a53", false), ("fsl,imx8mm-ddr-pmu", false), ("arm,armv8-timer", false),
    ])
    func pmuv3Compatibles(_ compatible: String, _ expected: Bool) {
        #expect(PMUInterrupt.isPMUv3(compatible) == expected)
    }

    /// The node: always the generic compatible; on a GICv2 the PPI's CPU mask
    /// names the guest's vCPUs; fitted to the guest GIC's cells.
    @Test func node() throws {
        let v3 = GuestNode.pmu(PMUInterrupt(specifier: [1, 7, 0xf04]), gic: .v3, vcpus: 2)
        #expect(v3.value("compatible") == Array("arm,armv8-pmuv3".utf8) + [0])
        #expect(v3.value("interrupts") == encodeCells([1, 7, 0xf04]))
        #expect(GuestNode.pmu(.fallback, gic: .v2, vcpus: 3).value("interrupts") == encodeCells([1, 7, 0x704]))
        #expect(GuestNode.pmu(.fallback, gic: .v3, vcpus: 1, interruptCells: 4).value("interrupts") == encodeCells([1, 7, 4, 0]))
    }
}
