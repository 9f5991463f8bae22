import CFDT
import Foundation
import Testing
@testable import DeviceTree

/// Every DTB under DeviceTrees/ (QEMU virt and the boards copied from Debian,
/// see DeviceTrees/README.md) as a corpus: each must open, agree with libfdt,
/// resolve its interrupts and references, and survive editor and writer round
/// trips.
let boardFiles: [String] = {
    let dir = repositoryRoot.appendingPathComponent("DeviceTrees").path
    return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".dtb") }.sorted()
}()

func boardTree(_ file: String) throws -> DeviceTree {
    try DeviceTree(bytes: #require(repositoryFile("DeviceTrees/" + file), "DeviceTrees/\(file) is missing"))
}

/// A gpio-hog's `gpios` or a __symbols__ entry: known false positives of
/// dependencies(of:) (see DependencyTests.gpioHogIsNotAReference and
/// symbolsAreNotReferences), skipped here so the rest stays checked.
func isKnownDependencyFalsePositive(_ tree: DeviceTree, _ node: Node) -> Bool {
    tree.hasProperty("gpio-hog", of: node) || tree.path(of: node) == "/__symbols__"
}

@Suite("Real board trees: the DeviceTrees/ corpus")
struct BoardCorpusTests {
    /// The parameterised tests below run once per file found: an empty or
    /// partial folder must fail here rather than leave them with nothing to run.
    @Test func corpusIsThere() {
        for file in ["qemu-virt-gicv3.dtb", "qemu-virt-gicv2.dtb", "bcm2711-rpi-4-b.dtb", "rk3399-rockpro64.dtb",
                     "imx8mq-evk.dtb", "imx8mm-evk.dtb", "tegra210-p3450-0000.dtb", "zynqmp-zcu102-rev1.0.dtb",
                     "sun50i-a64-pine64-plus.dtb", "k3-am654-base-board.dtb"] {
            #expect(boardFiles.contains(file), "DeviceTrees/\(file) is missing")
        }
    }

    @Test(arguments: boardFiles)
    func opensAndAgreesWithLibfdt(file: String) throws {
        let bytes = try #require(repositoryFile("DeviceTrees/" + file))
        let tree = try DeviceTree(bytes: bytes)
        #expect(tree.bytes == bytes)
        for node in tree.allNodes {
            let path = tree.path(of: node)
            #expect(tree.lookup(path: path) == node, "\(file): \(path)")
            // (Not fdt_path_offset: it takes "/timer" to an earlier "timer@60005000";
            // see EditorTests.exactNameWinsOverAnEarlierUnitAddress.)
            let offset = tree.structOffset(of: node)
            let name = tree.withUnsafeBlob { fdt_get_name($0, offset, nil).map { String(cString: $0) } }
            #expect(name == tree.name(of: node), "\(file): \(path)")
            let parent = tree.withUnsafeBlob { fdt_parent_offset($0, offset) }
            #expect(parent == (tree.parent(of: node).map { tree.structOffset(of: $0) } ?? -FDT_ERR_NOTFOUND), "\(file): \(path)")
            for (name, value) in tree.properties(of: node) {
                var length: Int32 = 0
                let theirs = tree.withUnsafeBlob { fdt -> [UInt8]? in
                    guard let p = fdt_getprop(fdt, offset, name, &length) else { return nil }
                    return [UInt8](UnsafeRawBufferPointer(start: p, count: Int(length)))
                }
                #expect(theirs == value.bytes, "\(file): \(path): \(name)")
            }
            if let handle = tree.phandle(of: node) {
                #expect(tree.withUnsafeBlob { fdt_node_offset_by_phandle($0, handle) } == tree.structOffset(of: node))
            }
        }
    }

    @Test(arguments: boardFiles)
    func everyInterruptAndAddressResolves(file: String) throws {
        let tree = try boardTree(file)
        let gic = try #require(tree.gic(), "\(file) has a GIC")
        for node in tree.allNodes {
            #expect(throws: Never.self, "\(file): \(tree.path(of: node))") { try tree.deviceAddress(of: node) }
            // The GIC's own maintenance interrupt: see InterruptTests.gicMaintenanceInterrupt.
            if node == gic.node { continue }
            for interrupt in tree.interrupts(of: node) {
                if case .unresolved(let reason) = interrupt { Issue.record("\(file): \(reason)") }
                if case .gic(let g) = interrupt {
                    #expect(g.specifier.count >= 3 && g.intid >= 16 && g.intid < 1020 || g.kind == .extendedSPI || g.kind == .extendedPPI,
                            "\(file): \(tree.path(of: node)) \(g)")
                }
            }
        }
    }

    @Test(arguments: boardFiles)
    func everyReferenceDecodes(file: String) throws {
        let tree = try boardTree(file)
        for node in tree.allNodes where !isKnownDependencyFalsePositive(tree, node) {
            let (dependencies, problems) = tree.dependencies(of: node)
            #expect(problems.isEmpty, "\(file): \(problems)")
            for d in dependencies { #expect(d.entry >= 0 && tree.nodeCount > Int(d.provider.index)) }
        }
    }

    @Test(arguments: boardFiles)
    func editorAndWriterRoundTrips(file: String) throws {
        let tree = try boardTree(file)
        #expect(try DeviceTreeEditor(tree, extraSpace: 0).finish().bytes == tree.bytes,
                "fdt_open_into + fdt_pack of a dtc-made blob is the identity")
        // A copy through DeviceTreeWriter reads the same, node by node.
        let copy = try copyThroughWriter(tree)
        #expect(copy.nodeCount == tree.nodeCount)
        #expect(try canonicalDTS(copy.bytes) == canonicalDTS(tree.bytes))
        #expect(try DeviceTree(bytes: copy.bytes).bytes == copy.bytes)
    }

    @Test(arguments: boardFiles)
    func everyAPIOnEveryNode(file: String) throws {
        let tree = try boardTree(file)
        #expect(finishes(within: 120) { exerciseEveryAPI(tree, includeIntid: true) }, "\(file)")
    }

    // MARK: Board facts (DeviceTrees/README.md and the kernel's DTS sources)

    @Test
    func raspberryPi4() throws {
        let tree = try boardTree("bcm2711-rpi-4-b.dtb")
        let uart = try tree.node("/soc/serial@7e201000")
        #expect(try tree.deviceAddress(of: uart) == .mmio([PhysicalRange(base: 0xfe20_1000, size: 0x200)]),
                "VideoCore 0x7e201000 is ARM 0xfe201000 through /soc ranges")
        #expect(tree.interrupts(of: uart) == [.gic(GICInterrupt(kind: .spi, number: 121, trigger: .levelHigh, specifier: [0, 121, 4]))])
        let gic = try #require(tree.gic())
        #expect(gic.version == .v2 && tree.isCompatible(gic.node, with: "arm,gic-400"))
        #expect(gic.regions.first == PhysicalRange(base: 0xff84_1000, size: 0x1000))
        #expect(gic.cpuInterface == PhysicalRange(base: 0xff84_2000, size: 0x2000))
        #expect(tree.resolve("serial0") == uart)
        #expect(tree.resolve("serial1") == (try tree.node("/soc/serial@7e215040")), "the mini UART")
        #expect(tree.dependencies(of: uart).dependencies.contains { $0.kind == .clock })
    }

    @Test
    func rk3399FourCellGIC() throws {
        let tree = try boardTree("rk3399-rockpro64.dtb")
        let gic = try #require(tree.gic())
        #expect(gic.version == .v3)
        #expect(tree.property("#interrupt-cells", of: gic.node)?.u32 == 4)
        let uart = try tree.node("/serial@ff1a0000")
        #expect(tree.interrupts(of: uart) == [.gic(GICInterrupt(kind: .spi, number: 100, trigger: .levelHigh, specifier: [0, 100, 4, 0]))])
        let grfUsers = tree.allNodes.filter { n in tree.dependencies(of: n).dependencies.contains { $0.property == "rockchip,grf" } }
        #expect(!grfUsers.isEmpty, "rockchip,grf references are found")
    }

    /// The root's interrupt parent is i.MX8MQ's GPC, a wake-up controller in
    /// front of the GIC.
    @Test
    func imx8mqRootParentIsGPC() throws {
        let tree = try boardTree("imx8mq-evk.dtb")
        let gpc = try tree.node("/soc@0/bus@30000000/gpc@303a0000")
        #expect(tree.property("interrupt-parent", of: tree.root)?.u32 == tree.phandle(of: gpc))
        let gic = try #require(tree.gic())
        #expect(gic.version == .v3 && tree.path(of: gic.node) == "/soc@0/interrupt-controller@38800000")
        let uart = try #require(tree.resolve("serial0"))
        #expect(tree.interrupts(of: uart) == [.otherController(path: "/soc@0/bus@30000000/gpc@303a0000", specifier: [0, 26, 4])])
        #expect(tree.interrupts(of: gpc) == [.gic(GICInterrupt(kind: .spi, number: 87, trigger: .levelHigh, specifier: [0, 87, 4]))])
    }

    /// Tegra210 has /timer@60005000 (nvidia,tegra210-timer) before /timer
    /// (arm,armv8-timer): "/timer" names the latter, in our index and in Linux
    /// (of_find_node_by_path matches full names), but libfdt's path lookup
    /// takes the first base-name match, and the editor resolves paths through it.
    @Test
    func tegra210TimerPath() throws {
        let tree = try boardTree("tegra210-p3450-0000.dtb")
        let timer = try #require(tree.lookup(path: "/timer"))
        #expect(tree.compatible(of: timer).first == "arm,armv8-timer")
        #expect(tree.name(of: timer) == "timer")
    }

    @Test
    func tegra210EditorDeletesTheRightTimer() throws {
        let tree = try boardTree("tegra210-p3450-0000.dtb")
        let editor = try DeviceTreeEditor(tree)
        try editor.deleteNode("/timer")
        let edited = try editor.finish()
        #expect(edited.lookup(path: "/timer@60005000") != nil, "the nvidia timer stays")
        #expect(edited.lookup(path: "/timer").map { edited.compatible(of: $0) } != ["arm,armv8-timer", "arm,armv7-timer"])
        #expect(edited.nodeCount == tree.nodeCount - 1)
    }

    @Test
    func tegra210RootParentIsICTLR() throws {
        let tree = try boardTree("tegra210-p3450-0000.dtb")
        let gic = try #require(tree.gic())
        #expect(gic.version == .v2 && tree.path(of: gic.node) == "/interrupt-controller@50041000")
        let uart = try tree.node("/serial@70006000")
        #expect(tree.interrupts(of: uart) == [.otherController(path: "/interrupt-controller@60004000", specifier: [0, 36, 4])])
        #expect(tree.interruptParent(of: try tree.node("/interrupt-controller@60004000")) == gic.node)
    }

    /// No interrupt-parent at the root: every device names the GIC itself.
    @Test
    func zynqmpNoRootInterruptParent() throws {
        let tree = try boardTree("zynqmp-zcu102-rev1.0.dtb")
        #expect(!tree.hasProperty("interrupt-parent", of: tree.root))
        let gic = try #require(tree.gic())
        #expect(tree.path(of: gic.node) == "/axi/interrupt-controller@f9010000")
        let uart = try tree.node("/axi/serial@ff000000")
        #expect(tree.interrupts(of: uart) == [.gic(GICInterrupt(kind: .spi, number: 21, trigger: .levelHigh, specifier: [0, 21, 4]))])
        #expect(try tree.deviceAddress(of: uart) == .mmio([PhysicalRange(base: 0xff00_0000, size: 0x1000)]))
    }
}
