import Testing
import DeviceTree
import GuestTree
import Platform

/// Each node writer's properties, read back from a tree the sequential writer
/// made (as carving and `cleave run` emit them), and the editor's emission of
/// the same value (as boot-time finalisation does).
@Suite struct NodeWriterTests {
    /// A tree of `nodes` under a root with 2 address and 2 size cells.
    func written(_ nodes: [GuestNode]) throws -> DeviceTree {
        let w = DeviceTreeWriter()
        w.beginNode("")
        w.property("#address-cells", u32: 2)
        w.property("#size-cells", u32: 2)
        for node in nodes { node.write(to: w) }
        w.endNode()
        return try w.finish()
    }

    func names(_ node: GuestNode) -> [String] { node.properties.map(\.name) }

    @Test func cpusOnePerVCPU() throws {
        let node = GuestNode.cpus(mpidrs: [0, 1, 0x100])
        #expect(names(node) == ["#address-cells", "#size-cells"])
        let tree = try written([node])
        #expect(tree.cells("/cpus", "#address-cells") == [1] && tree.cells("/cpus", "#size-cells") == [0])
        let cpus = tree.children(of: try #require(tree.lookup(path: "/cpus")))
        #expect(cpus.map { tree.name(of: $0) } == ["cpu@0", "cpu@1", "cpu@100"])
        #expect(cpus.map { tree.property("reg", of: $0)?.u32 } == [0, 1, 0x100])
        for cpu in cpus {
            #expect(tree.properties(of: cpu).map(\.name) == ["device_type", "compatible", "reg", "enable-method"])
            #expect(tree.property("device_type", of: cpu)?.string == "cpu")
            #expect(tree.isCompatible(cpu, with: "arm,armv8"))
            #expect(tree.property("enable-method", of: cpu)?.string == "psci")
        }
    }

    @Test func psciThroughHVC() throws {
        let tree = try written([GuestNode.psci()])
        let psci = try #require(tree.lookup(path: "/psci"))
        #expect(tree.compatible(of: psci) == ["arm,psci-1.0", "arm,psci-0.2"])
        #expect(tree.string("/psci", "method") == "hvc")
    }

    @Test func memoryOneRegEntryPerBank() throws {
        let node = GuestNode.memory(banks: [(0x4000_0000, 0x20_0000), (0x1_0000_0000, 0x40_0000)])
        #expect(node.name == "memory@40000000")
        #expect(names(node) == ["device_type", "reg"])
        let tree = try written([node])
        #expect(tree.string("/memory@40000000", "device_type") == "memory")
        #expect(tree.cells("/memory@40000000", "reg") == [0, 0x4000_0000, 0, 0x20_0000, 1, 0, 0, 0x40_0000])
        // One-cell widths, and no bank: base 0.
        #expect(GuestNode.memory(banks: [(0x8000_0000, 0x100_0000)], addressCells: 1, sizeCells: 1).value("reg")
                == encodeCells([0x8000_0000, 0x100_0000]))
        #expect(GuestNode.memory(banks: []).name == "memory@0")
    }

    @Test func chosenWritesWhatItIsGiven() throws {
        let full = GuestNode.chosen(bootargs: "console=ttyS0", stdoutPath: "/serial@9fff000", initrd: (0x4800_0000, 0x4810_0000),
                                    rngSeed: [1, 2, 3], kaslrSeed: 0x0123_4567_89ab_cdef)
        #expect(names(full) == ["bootargs", "stdout-path", "linux,initrd-start", "linux,initrd-end", "rng-seed", "kaslr-seed"])
        let tree = try written([full])
        #expect(tree.string("/chosen", "bootargs") == "console=ttyS0")
        #expect(tree.string("/chosen", "stdout-path") == "/serial@9fff000")
        #expect(tree.cells("/chosen", "linux,initrd-start") == [0, 0x4800_0000])
        #expect(tree.cells("/chosen", "linux,initrd-end") == [0, 0x4810_0000])
        #expect(tree.lookup(path: "/chosen").flatMap { tree.property("rng-seed", of: $0)?.bytes } == [1, 2, 3])
        #expect(tree.cells("/chosen", "kaslr-seed") == [0x0123_4567, 0x89ab_cdef])
        // nil leaves a property out (finalisation keeps the carved tree's).
        #expect(names(GuestNode.chosen(bootargs: nil, stdoutPath: nil)).isEmpty)
        #expect(names(GuestNode.chosen(bootargs: "", stdoutPath: "/serial@0")) == ["bootargs", "stdout-path"])
    }

    @Test func aliasesNameTheConsole() throws {
        let tree = try written([GuestNode.aliases(serial0: "/serial@fffff000")])
        #expect(tree.string("/aliases", "serial0") == "/serial@fffff000")
    }

    /// The page as the supervisor serves it (ConsolePage): the 16550 in its
    /// first half, the pvpanic register at +0x800, windows that do not overlap.
    @Test func consolePageDescribesBothDevices() throws {
        let nodes = GuestNode.consolePage(base: 0xffff_f000, intid: 40)
        #expect(nodes.map(\.name) == ["serial@fffff000", "pvpanic@fffff800"])
        #expect(GuestNode.consolePath(base: 0xffff_f000) == "/" + nodes[0].name)
        let tree = try written(nodes)
        let uart = try #require(tree.lookup(path: "/serial@fffff000"))
        #expect(tree.properties(of: uart).map(\.name) == ["compatible", "reg", "interrupts", "clock-frequency"])
        #expect(tree.isCompatible(uart, with: "ns16550a"))
        #expect(try tree.deviceAddress(of: uart) == .mmio([PhysicalRange(base: 0xffff_f000, size: ConsolePage.uartSize)]))
        #expect(tree.cells("/serial@fffff000", "interrupts") == [GICCells.spi, 8, GICCells.levelHigh])
        #expect(tree.property("clock-frequency", of: uart)?.u32 == ConsolePage.uartClock)
        let pvpanic = try #require(tree.lookup(path: "/pvpanic@fffff800"))
        #expect(tree.isCompatible(pvpanic, with: "qemu,pvpanic-mmio"))
        #expect(try tree.deviceAddress(of: pvpanic) == .mmio([PhysicalRange(base: 0xffff_f800, size: ConsolePage.pvpanicSize)]))
        #expect(!tree.hasProperty("interrupts", of: pvpanic))
        // A 4-cell GIC (rk3399's GICv3) gets a zero PPI-partition cell; 1-cell roots 1-cell reg.
        let wide = GuestNode.consolePage(base: 0x1c09_0000, intid: 33, interruptCells: 4, addressCells: 1, sizeCells: 1)
        #expect(wide[0].value("interrupts") == encodeCells([0, 1, 4, 0]))
        #expect(wide[0].value("reg") == encodeCells([0x1c09_0000, 0x800]))
        #expect(wide[1].value("reg") == encodeCells([0x1c09_0800, 2]))
    }

    @Test func gicV3Defaults() throws {
        let node = GuestNode.gic(.v3(distributor: 0x0800_0000, redistributor: 0x080a_0000), vcpus: 3, phandle: 1)
        #expect(node.name == "interrupt-controller@8000000")
        #expect(names(node) == ["compatible", "reg", "#interrupt-cells", "#address-cells", "#size-cells",
                                "interrupt-controller", "phandle"])
        #expect(node.children.isEmpty)
        let tree = try written([node])
        let gic = try #require(tree.gic())
        #expect(gic.version == .v3 && tree.compatible(of: gic.node) == ["arm,gic-v3"])
        #expect(gic.regions == [PhysicalRange(base: 0x0800_0000, size: GICFrames.v3DistributorSize),
                                PhysicalRange(base: 0x080a_0000, size: 3 * GICFrames.redistributorStride)])
        #expect(tree.property("#interrupt-cells", of: gic.node)?.u32 == 3)
        #expect(tree.property("phandle", of: gic.node)?.u32 == 1)
    }

    @Test func gicV3WithITS() throws {
        let node = GuestNode.gic(.v3(distributor: 0x0800_0000, redistributor: 0x080a_0000), vcpus: 1, phandle: 1,
                                 its: (base: 0x0808_0000, phandle: 3))
        #expect(names(node).last == "ranges")
        let tree = try written([node])
        let gic = try #require(tree.gic())
        let its = try #require(tree.lookup(path: "/interrupt-controller@8000000/its@8080000"))
        #expect(tree.isCompatible(its, with: "arm,gic-v3-its") && tree.hasProperty("msi-controller", of: its))
        #expect(tree.property("#msi-cells", of: its)?.u32 == 1 && tree.property("phandle", of: its)?.u32 == 3)
        #expect(try tree.deviceAddress(of: its) == .mmio([PhysicalRange(base: 0x0808_0000, size: GICFrames.itsSize)]))
        #expect(tree.parent(of: its) == gic.node)
        // A GICv2 has no ITS.
        #expect(GuestNode.gic(.v2(distributor: 0x0800_0000, cpuInterface: 0x0801_0000), vcpus: 1, phandle: 1,
                              its: (base: 0x0808_0000, phandle: 3)).children.isEmpty)
    }

    /// What carving passes from a board's GICv2 node: its compatible, its
    /// distributor window and cells; the CPU interface is 8 KiB whatever the
    /// board says.
    @Test func gicV2FromTheBoard() throws {
        let node = GuestNode.gic(.v2(distributor: 0xff84_1000, cpuInterface: 0xff84_2000), vcpus: 2, phandle: 0x8001,
                                 compatible: ["arm,gic-400"], distributorSize: 0x1000, interruptCells: 3,
                                 addressCells: 0, sizeCells: nil)
        #expect(node.name == "interrupt-controller@ff841000")
        #expect(!names(node).contains("#size-cells"))
        let tree = try written([node])
        let gic = try #require(tree.gic())
        #expect(gic.version == .v2 && tree.compatible(of: gic.node) == ["arm,gic-400"])
        #expect(gic.regions == [PhysicalRange(base: 0xff84_1000, size: 0x1000),
                                PhysicalRange(base: 0xff84_2000, size: GICFrames.v2CPUInterfaceSize)])
        #expect(tree.property("#address-cells", of: gic.node)?.u32 == 0)
        #expect(tree.property("phandle", of: gic.node)?.u32 == 0x8001)
        // Without a board node: arm,cortex-a15-gic, 4 KiB distributor.
        let plain = GuestNode.gic(.v2(distributor: 0x0800_0000, cpuInterface: 0x0801_0000), vcpus: 1, phandle: 1)
        #expect(plain.value("compatible") == Array("arm,cortex-a15-gic".utf8) + [0])
        #expect(plain.value("reg") == encodeCells([0, 0x0800_0000, 0, 0x1000, 0, 0x0801_0000, 0, 0x2000]))
    }

    @Test func timerNode() throws {
        let node = GuestNode.timer(.fallback, gic: .v3, vcpus: 2)
        #expect(names(node) == ["compatible", "interrupts", "always-on"])
        let tree = try written([node])
        #expect(tree.lookup(path: "/timer").map { tree.isCompatible($0, with: "arm,armv8-timer") } == true)
        #expect(tree.cells("/timer", "interrupts") == [1, 13, 4, 1, 14, 4, 1, 11, 4, 1, 10, 4])
        // GICv2: each PPI's CPU mask names the guest's vCPUs, the trigger kept.
        let board = TimerInterrupts(specifiers: [[1, 13, 0xf08], [1, 14, 0xf08], [1, 11, 0xf08], [1, 10, 0xf08]])
        #expect(GuestNode.timer(board, gic: .v2, vcpus: 3).value("interrupts")
                == encodeCells([1, 13, 0x708, 1, 14, 0x708, 1, 11, 0x708, 1, 10, 0x708]))
        // On a GICv3 the flags are written as the board has them.
        #expect(GuestNode.timer(board, gic: .v3, vcpus: 3).value("interrupts")
                == encodeCells([1, 13, 0xf08, 1, 14, 0xf08, 1, 11, 0xf08, 1, 10, 0xf08]))
        // Fitted to the GIC node's #interrupt-cells.
        #expect(GuestNode.timer(.fallback, gic: .v3, vcpus: 1, interruptCells: 4).value("interrupts")
                == encodeCells([1, 13, 4, 0, 1, 14, 4, 0, 1, 11, 4, 0, 1, 10, 4, 0]))
    }

    @Test func fixedClockStandIn() throws {
        let node = GuestNode.fixedClock("clk-cru-86", rate: 24_000_000, phandle: 0x1f0)
        #expect(names(node) == ["compatible", "#clock-cells", "clock-frequency", "clock-output-names", "phandle"])
        let tree = try written([node])
        let clock = try #require(tree.lookup(path: "/clk-cru-86"))
        #expect(tree.isCompatible(clock, with: "fixed-clock"))
        #expect(tree.property("#clock-cells", of: clock)?.u32 == 0)
        #expect(tree.property("clock-frequency", of: clock)?.u32 == 24_000_000)
        #expect(tree.property("clock-output-names", of: clock)?.string == "clk-cru-86")
        #expect(tree.phandle(of: clock) == 0x1f0)
    }

    /// One value, two producers: added through the editor to an empty root,
    /// the nodes come out as the sequential writer writes them (children and
    /// siblings in order, the same properties; libfdt puts each new property
    /// first, so the editor's are in reverse).
    @Test func editorAndWriterEmitTheSameNodes() throws {
        let nodes = [GuestNode.gic(.v3(distributor: 0x0800_0000, redistributor: 0x080a_0000), vcpus: 2, phandle: 1,
                                   its: (base: 0x0808_0000, phandle: 3)),
                     GuestNode.cpus(mpidrs: [0, 1])] + GuestNode.consolePage(base: 0x09ff_f000, intid: 33)
        let written = try written(nodes)
        let w = DeviceTreeWriter()
        w.beginNode("")
        w.property("#address-cells", u32: 2)
        w.property("#size-cells", u32: 2)
        w.endNode()
        let editor = try DeviceTreeEditor(try w.finish())
        try GuestNode.add(nodes, to: editor)
        let edited = try editor.finish()
        func listing(_ tree: DeviceTree, reversed: Bool) -> [String] {
            tree.allNodes.map { node in
                let properties = tree.properties(of: node).map { "\($0.name)=\($0.value.bytes)" }
                return tree.path(of: node) + " " + (reversed ? properties.reversed() : properties).joined(separator: " ")
            }
        }
        #expect(listing(edited, reversed: true).dropFirst() == listing(written, reversed: false).dropFirst())
    }
}
