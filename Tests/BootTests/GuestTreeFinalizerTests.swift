import Foundation
import Testing
import DeviceTree
import GuestTree
import Supervisor

/// Boot-time finalisation (booting.rst "Setup the device tree"): of the tree
/// `cleave carve` embedded in the host tree, read back the way `cleave boot`
/// reads it, and of generated trees.
@Suite struct GuestTreeFinalizerTests {
    static let banks: [(base: UInt64, size: UInt64)] = [(0x4000_0000, 0x20_0000), (0x42c0_0000, 0x540_0000), (0x4920_0000, 0xaa0_0000)]
    static let seed = (0..<64).map { UInt8($0 * 3 & 0xff) }

    func facts(bootargs: String? = nil, initrd: (UInt64, UInt64)? = (0x5379_1000, 0x539f_0000),
               console: (UInt64, UInt32)?) -> BootFacts {
        BootFacts(ramBanks: GuestTreeFinalizerTests.banks, bootargs: bootargs, initrd: initrd, console: console,
                  rngSeed: GuestTreeFinalizerTests.seed, kaslrSeed: 0x0123_4567_89ab_cdef)
    }

    /// The qemu-virt guest, carved and read back from the host tree.
    func carvedConfiguration() throws -> GuestConfiguration {
        let host = try carvedHostTree(board: "qemu-virt-gicv3.dtb", plan: "qemu-virt")
        defer { try? FileManager.default.removeItem(at: host.directory) }
        return try HostTreeGuest.configuration(treePath: host.path, guest: nil)
    }

    func memoryNodes(_ tree: DeviceTree) -> [Node] {
        tree.children(of: tree.root).filter { tree.property("device_type", of: $0)?.string == "memory" }
    }

    @Test func carvedGuestIsReadFromChosenCleave() throws {
        let config = try carvedConfiguration()
        #expect(config.name == "linux")
        #expect(config.hostCPUs == [1])
        #expect(config.memorySize == 0x1000_0000)
        #expect(config.kernelPath == "/guest/Image")
        #expect(config.initrdPath == "/guest/initrd.cpio")
        guard case .v3(let d, let r) = config.gic else { Issue.record("not GICv3"); return }
        #expect(d == 0x0800_0000 && r == 0x080a_0000)
        // Passed-through devices: pl031 (its SPI 2, INTID 34), pl061 and the virtio-mmio transports.
        let rtc = config.passthroughDevices.first { $0.mmio.contains { $0.base == 0x0901_0000 } }
        #expect(rtc?.interrupts.map(\.intid) == [34])
        #expect(config.passthroughDevices.contains { $0.mmio.contains { $0.base == 0x0903_0000 } })
        #expect(config.passthroughDevices.count == 4)
        guard case .carved = config.tree else { Issue.record("tree not carved"); return }
    }

    @Test func carvedTreeFinalised() throws {
        let config = try carvedConfiguration()
        guard case .carved(let carved) = config.tree else { Issue.record("tree not carved"); return }
        let carvedBootargs = try #require(carved.string("/chosen", "bootargs"))
        let consoles = carved.allNodes.filter { carved.isCompatible($0, with: "ns16550a") }
        let tree = try GuestTreeFinalizer.finalize(carved, facts(console: (config.consoleBase, config.consoleINTID)))

        // One memory node at the real base, one reg entry per bank.
        let memory = memoryNodes(tree)
        #expect(memory.count == 1)
        #expect(tree.name(of: memory[0]) == "memory@40000000")
        let reg = try #require(tree.property("reg", of: memory[0])?.cells)
        #expect(numbers(reg, width: 2) == GuestTreeFinalizerTests.banks.flatMap { [$0.base, $0.size] })

        // /chosen: the carved bootargs kept, initrd, seeds.
        #expect(tree.string("/chosen", "bootargs") == carvedBootargs)
        #expect(tree.cells("/chosen", "linux,initrd-start") == [0, 0x5379_1000])
        #expect(tree.cells("/chosen", "linux,initrd-end") == [0, 0x539f_0000])
        #expect(tree.lookup(path: "/chosen").flatMap { tree.property("rng-seed", of: $0)?.bytes } == GuestTreeFinalizerTests.seed)
        #expect(tree.cells("/chosen", "kaslr-seed") == [0x0123_4567, 0x89ab_cdef])

        // stdout-path names the carved console; none was added.
        let stdout = try #require(tree.string("/chosen", "stdout-path"))
        let console = try #require(tree.resolve(stdout))
        #expect(tree.isCompatible(console, with: "ns16550a"))
        #expect(tree.unitAddress(of: console) == String(config.consoleBase, radix: 16))
        #expect(tree.allNodes.filter { tree.isCompatible($0, with: "ns16550a") }.count == consoles.count)
        // Everything else is the carved tree's: same devices, same GIC.
        #expect(tree.lookup(path: "/pl031@9010000") != nil)
        #expect(tree.gic()?.regions == carved.gic()?.regions)
    }

    @Test func bootargsOverrideAndNoInitrd() throws {
        let config = try carvedConfiguration()
        guard case .carved(let carved) = config.tree else { Issue.record("tree not carved"); return }
        let once = try GuestTreeFinalizer.finalize(carved, facts(bootargs: "console=ttyS0 rdinit=/bin/sh", console: nil))
        #expect(once.string("/chosen", "bootargs") == "console=ttyS0 rdinit=/bin/sh")
        // A reset finalises again: the previous initrd must not survive.
        let again = try GuestTreeFinalizer.finalize(once, facts(initrd: nil, console: nil))
        #expect(again.cells("/chosen", "linux,initrd-start") == nil)
        #expect(again.cells("/chosen", "linux,initrd-end") == nil)
        #expect(memoryNodes(again).count == 1)
    }

    @Test func generatedTreeFinalised() throws {
        let spec = GuestTreeSpec(cpuAffinities: [0], gic: .v3(distributor: 0x0800_0000, redistributor: 0x080a_0000),
                                 consoleBase: 0x09ff_f000, consoleINTID: 33, bootargs: "console=ttyS0")
        let tree = try GuestTreeFinalizer.finalize(GuestTreeGenerator.generate(spec), facts(console: (0x09ff_f000, 33)))
        let memory = memoryNodes(tree)
        #expect(memory.count == 1 && tree.name(of: memory[0]) == "memory@40000000")
        #expect(tree.allNodes.filter { tree.isCompatible($0, with: "ns16550a") }.count == 1)
        #expect(tree.string("/chosen", "stdout-path") == "/serial@9fff000")
        #expect(tree.string("/chosen", "bootargs") == "console=ttyS0")
    }

    /// Every node's properties by path: equal for trees that say the same
    /// thing in a different order.
    func flattened(_ tree: DeviceTree) -> [String: [String: [UInt8]]] {
        var out: [String: [String: [UInt8]]] = [:]
        for node in tree.allNodes {
            var properties: [String: [UInt8]] = [:]
            for p in tree.properties(of: node) { properties[p.name] = p.value.bytes }
            out[tree.path(of: node)] = properties
        }
        return out
    }

    @Test(arguments: [true, false])
    func onePassGenerationEqualsGenerateThenFinalize(withInitrd: Bool) throws {
        let spec = GuestTreeSpec(cpuAffinities: [0, 1], gic: .v3(distributor: 0x0800_0000, redistributor: 0x080a_0000),
                                 consoleBase: 0x09ff_f000, consoleINTID: 33, bootargs: "console=ttyS0", its: 0x0808_0000)
        let f = facts(bootargs: "console=ttyS0 quiet", initrd: withInitrd ? (0x5379_1000, 0x539f_0000) : nil, console: (0x09ff_f000, 33))
        let twoPass = try GuestTreeFinalizer.finalize(GuestTreeGenerator.generate(spec), f)
        let onePass = try GuestTreeGenerator.generate(spec, facts: f)
        #expect(flattened(onePass) == flattened(twoPass))
    }

    @Test func consoleAddedWhenTheTreeHasNone() throws {
        let w = DeviceTreeWriter()
        w.beginNode("")
        w.property("#address-cells", u32: 1)
        w.property("#size-cells", u32: 1)
        w.beginNode("memory@0")
        w.property("device_type", string: "memory")
        w.property("reg", cells: [0, 0])
        w.endNode()
        w.endNode()
        let tree = try GuestTreeFinalizer.finalize(try w.finish(), BootFacts(
            ramBanks: [(0x8000_0000, 0x100_0000)], bootargs: "x", initrd: nil, console: (0x1c09_0000, 40),
            rngSeed: [1, 2, 3], kaslrSeed: 7))
        // One-cell addresses and sizes follow the root's #address-cells/#size-cells.
        #expect(tree.cells("/memory@80000000", "reg") == [0x8000_0000, 0x100_0000])
        #expect(tree.lookup(path: "/memory@0") == nil)
        let stdout = try #require(tree.string("/chosen", "stdout-path"))
        let console = try #require(tree.resolve(stdout))
        // The console page as the supervisor serves it: the 16550 below the pvpanic register.
        #expect(tree.property("reg", of: console)?.cells == [0x1c09_0000, 0x800])
        #expect(tree.property("interrupts", of: console)?.cells == [0, 8, 4])
        #expect(tree.isCompatible(console, with: "ns16550a"))
        #expect(tree.cells("/pvpanic@1c090800", "reg") == [0x1c09_0800, 2])
        #expect(tree.children(of: tree.root).map { tree.name(of: $0) } == ["serial@1c090000", "pvpanic@1c090800", "chosen", "memory@80000000"])
    }

    @Test func unsupportedCellWidthsAreRefused() throws {
        let w = DeviceTreeWriter()
        w.beginNode("")
        w.property("#address-cells", u32: 3)
        w.property("#size-cells", u32: 2)
        w.endNode()
        let tree = try w.finish()
        #expect(throws: DeviceTreeError.self) {
            _ = try GuestTreeFinalizer.finalize(tree, BootFacts(ramBanks: [(0, 0x20_0000)], bootargs: nil, initrd: nil,
                                                                console: nil, rngSeed: [], kaslrSeed: 0))
        }
    }
}
