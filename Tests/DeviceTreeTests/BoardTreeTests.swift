import Testing
@testable import DeviceTree

/// The QEMU virt trees dumped by Scripts/dump-qemu-virt-trees: real DTBs, as
/// QEMU hands them to a guest.
@Suite("Real board trees: QEMU virt")
struct BoardTreeTests {
    static let gicV3 = repositoryFile("DeviceTrees/qemu-virt-gicv3.dtb")
    static let gicV2 = repositoryFile("DeviceTrees/qemu-virt-gicv2.dtb")

    @Test
    func pl031() throws {
        let tree = try DeviceTree(bytes: #require(Self.gicV3))
        let rtc = try tree.node("/pl031@9010000")
        #expect(tree.isCompatible(rtc, with: "arm,pl031"))
        #expect(tree.isEnabled(rtc))
        #expect(try tree.deviceAddress(of: rtc) == .mmio([PhysicalRange(base: 0x901_0000, size: 0x1000)]))
        let irqs = tree.interrupts(of: rtc)
        #expect(irqs == [.gic(GICInterrupt(kind: .spi, number: 2, trigger: .levelHigh, specifier: [0, 2, 4]))])
        guard case .gic(let irq)? = irqs.first else { return }
        #expect(irq.intid == 34)
        #expect(irq.trigger.isLevel && irq.isShared)
        let deps = tree.dependencies(of: rtc)
        #expect(deps.problems.isEmpty)
        #expect(deps.dependencies.map { tree.path(of: $0.provider) } == ["/apb-pclk"])
    }

    @Test
    func gicV3Regions() throws {
        let tree = try DeviceTree(bytes: #require(Self.gicV3))
        let gic = try #require(tree.gic())
        #expect(gic.version == .v3)
        #expect(tree.path(of: gic.node) == "/intc@8000000")
        #expect(gic.regions == [PhysicalRange(base: 0x800_0000, size: 0x1_0000),      // GICD
                                PhysicalRange(base: 0x80a_0000, size: 0xf6_0000)])    // GICR
        #expect(gic.cpuInterface == nil)
        let its = try tree.node("/intc@8000000/its@8080000")
        #expect(try tree.deviceAddress(of: its) == .mmio([PhysicalRange(base: 0x808_0000, size: 0x2_0000)]))
        #expect(!tree.isGIC(its))
        // The timer's four PPIs.
        let timer = tree.interrupts(of: try tree.node("/timer")).compactMap { r -> UInt32? in
            if case .gic(let g) = r, g.kind == .ppi { return g.intid } else { return nil }
        }
        #expect(timer == [29, 30, 27, 26])
    }

    @Test
    func virtioTransports() throws {
        let tree = try DeviceTree(bytes: #require(Self.gicV3))
        let transports = tree.allNodes.filter { tree.isCompatible($0, with: "virtio,mmio") }
        #expect(transports.count == 32)
        var spis: [UInt32] = []
        for node in transports {
            let irqs = tree.interrupts(of: node)
            guard irqs.count == 1, case .gic(let g) = irqs[0] else { Issue.record("\(tree.path(of: node)): \(irqs)"); continue }
            #expect(g.kind == .spi && g.trigger == .edgeRising, "\(tree.path(of: node))")
            #expect(g.intid == g.number + 32)
            spis.append(g.number)
            // The SPI matches the transport's slot: 0xa000000 + 0x200 * (spi - 16).
            guard case .mmio(let ranges) = try tree.deviceAddress(of: node), ranges.count == 1 else {
                Issue.record("\(tree.path(of: node)) not mmio"); continue
            }
            #expect(ranges[0] == PhysicalRange(base: 0xa00_0000 + 0x200 * UInt64(g.number - 16), size: 0x200))
        }
        #expect(spis.sorted() == Array(16...47))
    }

    @Test
    func wholeTreeReadsCleanly() throws {
        let bytes = try #require(Self.gicV3)
        let tree = try DeviceTree(bytes: bytes)
        #expect(tree.bytes == bytes)
        #expect(tree.resolve(tree.property("stdout-path", of: try tree.node("/chosen"))?.string ?? "") ==
                (try tree.node("/pl011@9000000")))
        #expect(tree.labels(of: tree.root).isEmpty, "no __symbols__ in QEMU's tree")
        // Every node's phandle-bearing properties decode.
        for node in tree.allNodes {
            #expect(tree.dependencies(of: node).problems.isEmpty, "\(tree.path(of: node))")
            #expect(!tree.interrupts(of: node).contains { if case .unresolved = $0 { return true } else { return false } }
                    || node == tree.gic()?.node, "\(tree.path(of: node))")
        }
        // gpio-keys: the key code equals no phandle decode; the gpios do.
        let key = tree.dependencies(of: try tree.node("/gpio-keys/poweroff"))
        #expect(key.dependencies.map { tree.path(of: $0.provider) } == ["/pl061@9030000"])
        #expect(key.dependencies.first?.arguments == [3, 0])
        // The pl061 is an interrupt user but not an interrupt controller here.
        #expect(tree.interrupts(of: try tree.node("/pl061@9030000")) ==
                [.gic(GICInterrupt(kind: .spi, number: 7, trigger: .levelHigh, specifier: [0, 7, 4]))])
        // Flash banks and the PCIe ECAM are translated without ranges (root children).
        #expect(try tree.deviceAddress(of: tree.node("/flash@0")) ==
                .mmio([PhysicalRange(base: 0, size: 0x400_0000), PhysicalRange(base: 0x400_0000, size: 0x400_0000)]))
        #expect(try tree.deviceAddress(of: tree.node("/pcie@10000000")) ==
                .mmio([PhysicalRange(base: 0x40_1000_0000, size: 0x1000_0000)]))
        // CPUs have reg but are not memory-mapped.
        guard case .notCPUAddressable(let bus, _) = try tree.deviceAddress(of: tree.node("/cpus/cpu@1")) else {
            Issue.record("cpu reg is an MPIDR, not an address"); return
        }
        #expect(bus == "/cpus")
        exerciseEveryAPI(tree, includeIntid: true)
    }

    @Test
    func gicV2Tree() throws {
        let tree = try DeviceTree(bytes: #require(Self.gicV2))
        let gic = try #require(tree.gic())
        #expect(gic.version == .v2)
        #expect(gic.regions.count >= 2)
        #expect(gic.regions.first == PhysicalRange(base: 0x800_0000, size: 0x1_0000))
        #expect(gic.cpuInterface == PhysicalRange(base: 0x801_0000, size: 0x1_0000))
        let rtc = tree.interrupts(of: try tree.node("/pl031@9010000"))
        #expect(rtc == [.gic(GICInterrupt(kind: .spi, number: 2, trigger: .levelHigh, specifier: [0, 2, 4]))])
        exerciseEveryAPI(tree, includeIntid: true)
    }

    /// Every truncation and many byte flips of the real tree are refused or read safely.
    @Test
    func corruptedRealTree() throws {
        let bytes = try #require(Self.gicV3)
        for length in stride(from: 0, to: bytes.count, by: 7) {
            #expect(throws: DeviceTreeError.self) { try DeviceTree(bytes: Array(bytes[0..<length])) }
        }
        var random = SplitMix64(seed: 0x9e3779b9)
        for _ in 0..<300 {
            var mutated = bytes
            for _ in 0..<Int.random(in: 1...4, using: &random) {
                mutated[Int.random(in: 0..<mutated.count, using: &random)] = UInt8.random(in: 0...255, using: &random)
            }
            if let tree = try? DeviceTree(bytes: mutated) { exerciseEveryAPI(tree) }
        }
    }
}
