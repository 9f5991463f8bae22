import Platform
import Foundation
import Testing
import DeviceTree
@testable import Partitioning

@Suite("Carving synthetic boards")
struct CarveSyntheticTests {
    static let allDevices = Snippet.sharedPage + Snippet.iommu + Snippet.ethernet + Snippet.pinctrl + Snippet.reset
        + Snippet.powerDomain + Snippet.supply + Snippet.dma + Snippet.gpioKeys

    @Test("two guests: separate CPUs, summed hugepages, one /chosen/cleave child each, distinct stand-in phandles")
    func twoGuests() throws {
        let board = try dtsTree(boardDTS(extra: CarveSyntheticTests.allDevices))
        let plan = try parsedPlan(planDTS(guests:
            guestDTS("one", cpus: "1", devices: deviceDTS("rtc", "rtc0") + deviceDTS("p", "/pdev@9a10000"))
            + guestDTS("two", cpus: "2 3", memorySize: "0x8000000",
                       devices: deviceDTS("uart", "serial0") + deviceDTS("s", "/sdev@9d10000") + deviceDTS("pd", "/pddev@9c10000"))))
        let (result, host) = try carveOK(board, plan)
        let t = tokens(result.report.hostBootargs)
        #expect(t.contains("isolcpus=managed_irq,domain,1-3"))
        #expect(t.contains("irqaffinity=0"))
        #expect(t.contains("hugepages=192"))   // 128 + 64 pages of 2 MiB
        #expect(Array(t.prefix(3)) == ["console=ttyAMA0", "root=/dev/vda", "rw"])
        // libfdt's fdt_add_subnode puts a new node first, so the order is not the plan's.
        #expect(host.lookup(path: "/chosen/cleave").map { Set(host.children(of: $0).map { host.name(of: $0) }) } == ["one", "two"])
        for difference in treeDifferences(board: board, host: host) {
            #expect(isCovered(difference, by: result.report.hostEdits), "\(difference)")
        }
        // Stand-in phandles are unique across both guests and above every board phandle.
        var seen: Set<UInt32> = []
        for guest in result.guests {
            for node in guest.tree.allNodes where guest.tree.isCompatible(node, with: "fixed-clock") {
                let handle = try #require(guest.tree.phandle(of: node))
                #expect(handle > board.maxPhandle)
                #expect(seen.insert(handle).inserted, "phandle \(handle) used twice")
            }
        }
        let boardInfo = Board(board)
        for ((guestPlan, carved), report) in zip(zip(plan.guests, result.guests), result.report.guests) {
            try checkGuestTree(carved.tree, plan: guestPlan, board: boardInfo, report: report)
            #expect(unresolvedInterrupts(carved.tree).isEmpty)
            let out = try decompile(carved.tree.bytes)
            #expect(out.status == 0 && !out.stderr.contains("ERROR"), "\(out.stderr)")
        }
        #expect(try decompile(host.bytes).status == 0)
    }

    @Test("a fixed memory-base: a no-map reserved-memory region in the host, no hugepages, the guest memory node at the base")
    func fixedBase() throws {
        let board = try dtsTree(boardDTS())
        let plan = try parsedPlan(onePlan(deviceDTS("rtc", "rtc0"), extra: "memory-base = /bits/ 64 <0x60000000>;"))
        let (result, host) = try carveOK(board, plan)
        let region = try #require(host.lookup(path: "/reserved-memory/cleave-g@60000000"))
        #expect(host.hasProperty("no-map", of: region))
        #expect(try host.deviceAddress(of: region) == .mmio([PhysicalRange(base: 0x6000_0000, size: 0x1000_0000)]))
        #expect(!tokens(result.report.hostBootargs).contains { $0.hasPrefix("hugepages") })
        #expect(result.report.hostEdits.contains { $0.path == "/reserved-memory" && $0.property == nil })
        let guest = try #require(result.guests.first?.tree)
        #expect(guest.lookup(path: "/memory@60000000") != nil)
        #expect(host.lookup(path: "/chosen/cleave/g").flatMap { host.property("memory-base", of: $0)?.u64 } == 0x6000_0000)
        for difference in treeDifferences(board: board, host: host) {
            #expect(isCovered(difference, by: result.report.hostEdits), "\(difference)")
        }
    }

    @Test("a fixed memory-base with an existing /reserved-memory uses its cells")
    func fixedBaseExistingReserved() throws {
        let board = try dtsTree(boardDTS(extra: Snippet.reservedMemory))
        let plan = try parsedPlan(onePlan(extra: "memory-base = /bits/ 64 <0x50000000>;"))
        let (result, host) = try carveOK(board, plan)
        let region = try #require(host.lookup(path: "/reserved-memory/cleave-g@50000000"))
        #expect(try host.deviceAddress(of: region) == .mmio([PhysicalRange(base: 0x5000_0000, size: 0x1000_0000)]))
        #expect(host.lookup(path: "/reserved-memory/firmware@70000000") != nil)
        #expect(!result.report.hostEdits.contains { $0.path == "/reserved-memory" })
    }

    @Test("a board without /chosen gets one, recorded as an added node")
    func noChosen() throws {
        let text = boardDTS(bootargs: nil).replacingOccurrences(of: "\tchosen { stdout-path = \"serial0\"; };\n", with: "")
        let board = try dtsTree(text)
        #expect(board.lookup(path: "/chosen") == nil)
        let (result, host) = try carveOK(board, try parsedPlan(onePlan(deviceDTS("rtc", "rtc0"))))
        #expect(result.report.hostEdits.contains { $0.path == "/chosen" && $0.property == nil })
        #expect(host.string("/chosen", "bootargs")?.hasPrefix("isolcpus=") == true)
    }

    @Test("a board without /memory: size left to boot (memory-unknown note), hugepages still reserved")
    func noMemoryNode() throws {
        let board = try dtsTree(boardDTS(memory: false))
        let (result, _) = try carveOK(board, try parsedPlan(onePlan(memorySize: "0x80000000")))
        #expect(tokens(result.report.hostBootargs).contains("hugepages=1024"))
        #expect(result.diagnostics.filter { $0.code == .memoryUnknown }.map(\.severity) == [.note])
    }

    @Test("1 GiB hugepages on a 4 GiB board")
    func gigantic() throws {
        let text = boardDTS().replacingOccurrences(of: "reg = <0 0x40000000 0 0x40000000>", with: "reg = <0 0x40000000 1 0x00000000>")
        let (result, _) = try carveOK(try dtsTree(text), try parsedPlan(onePlan(memorySize: "0x80000000", extra: "hugepage-size = <0x40000000>;")))
        let t = tokens(result.report.hostBootargs)
        let i = try #require(t.firstIndex(of: "hugepagesz=1G"))
        #expect(t[i + 1] == "hugepages=2")
    }

    @Test("GICv2 guest: the GIC keeps the board's compatible, its CPU interface is 8 KiB, timer masks name the vCPUs")
    func gicv2Guest() throws {
        let board = try dtsTree(boardDTS(gic: .v2(cpuInterfaceSize: 0x2000)))
        let (result, _) = try carveOK(board, try parsedPlan(onePlan(deviceDTS("rtc", "rtc0"), cpus: "1 2 3")))
        let guest = try #require(result.guests.first?.tree)
        let gic = try #require(guest.gic())
        #expect(gic.version == .v2)
        #expect(guest.compatible(of: gic.node) == ["arm,gic-400"])
        #expect(gic.regions == [PhysicalRange(base: 0x800_0000, size: 0x1000), PhysicalRange(base: 0x801_0000, size: 0x2000)])
        let cells = try #require(guest.lookup(path: "/timer").flatMap { guest.property("interrupts", of: $0)?.cells })
        #expect(stride(from: 2, to: cells.count, by: 3).map { cells[$0] } == [0x704, 0x704, 0x704, 0x704])
    }

    @Test("children move with their device at the same physical addresses")
    func childrenAddresses() throws {
        let board = try dtsTree(boardDTS(extra: Snippet.parentWithChild))
        let (result, host) = try carveOK(board, try parsedPlan(onePlan(deviceDTS("parent", "/parent@9200000"))))
        let guest = try #require(result.guests.first?.tree)
        #expect(host.isHeldFromHost("/parent@9200000"))
        let child = try #require(guest.lookup(path: "/parent@9200000/child@100"))
        #expect(gicINTIDs(guest, child) == [66])
        let address = try? guest.deviceAddress(of: child)
        #expect(address == .mmio([PhysicalRange(base: 0x920_0100, size: 0x10)]))
        
    }

    @Test("a device with interrupts from a controller the guest owns keeps them verbatim")
    func ownedInterruptController() throws {
        let board = try dtsTree(boardDTS(extra: Snippet.gpioInterrupt))
        let plan = try parsedPlan(onePlan(deviceDTS("gpio", "/gpio@9400000") + deviceDTS("button", "/button@9410000")))
        let diagnostics = check(board: board, plan: plan)
        // The button's parent is not the GIC: it cannot be passed through even with its controller.
        #expect(diagnostics.contains { $0.code == .interruptParentNotGIC && $0.path == "/button@9410000" })
    }

    @Test("a host consumer of a guest device is reported, and the host tree still disables the device")
    func hostConsumer() throws {
        let board = try dtsTree(boardDTS(extra: Snippet.gpioKeys))
        let (result, host) = try carveOK(board, try parsedPlan(onePlan(deviceDTS("gpio", "gpio0"))))
        #expect(result.diagnostics.contains { $0.code == .referenceDropped && $0.path == "/keys/power" })
        #expect(host.isHeldFromHost("/gpio@9030000"))
    }

    @Test("a device disabled in the board tree is enabled in the guest; the host enables it for VFIO/UIO only")
    func disabledDevice() throws {
        let board = try dtsTree(boardDTS(extra: Snippet.disabled))
        let (result, host) = try carveOK(board, try parsedPlan(onePlan(deviceDTS("off", "/off@9f20000"))))
        let guest = try #require(result.guests.first?.tree)
        #expect(guest.string("/off@9f20000", "status") == "okay")
        // auto passthrough: a host device must exist to bind, matched by no driver.
        #expect(host.string("/off@9f20000", "status") == "okay")
        #expect(host.isHeldFromHost("/off@9f20000"))
        #expect(result.report.hostEdits.contains { $0.path == "/off@9f20000" && $0.property == "status" })
        // devmem passthrough maps registers from /dev/mem: the host node stays as it was.
        let devmem = """
            off { device = "/off@9f20000"; passthrough = "devmem"; };
            """
        let (again, _) = try carveOK(board, try parsedPlan(onePlan(devmem)))
        #expect(!again.report.hostEdits.contains { $0.path == "/off@9f20000" })
    }

    @Test("a board's existing /chosen/cleave is replaced, not merged")
    func existingCleaveNode() throws {
        let text = boardDTS().replacingOccurrences(of: "stdout-path = \"serial0\"; };",
                                                   with: "stdout-path = \"serial0\"; cleave { stale { kernel = \"/old\"; }; }; };")
        let (_, host) = try carveOK(try dtsTree(text), try parsedPlan(onePlan()))
        #expect(host.lookup(path: "/chosen/cleave/stale") == nil)
        #expect(host.lookup(path: "/chosen/cleave/g") != nil)
    }

    @Test("the virtual console: ns16550a at the layout's page and SPI, stdout-path and serial0 point at it")
    func virtualConsole() throws {
        let board = try dtsTree(boardDTS())
        let (result, host) = try carveOK(board, try parsedPlan(onePlan()))
        let guest = try #require(result.guests.first?.tree)
        let base = try #require(Layout.consoleBase(board: Board(board)))
        let spi = try #require(Layout.consoleSPI(board: Board(board)))
        let path = "/serial@\(String(base, radix: 16))"
        let uart = try #require(guest.lookup(path: path))
        #expect(guest.isCompatible(uart, with: "ns16550a"))
        #expect(guest.property("clock-frequency", of: uart)?.u32 == ConsolePage.uartClock)
        #expect(gicINTIDs(guest, uart) == [spi + 32])
        #expect(guest.string("/chosen", "stdout-path") == path)
        #expect(host.lookup(path: "/chosen/cleave/g").flatMap { host.property("console-base", of: $0)?.u64 } == base)
        #expect(host.lookup(path: "/chosen/cleave/g").flatMap { host.property("console-spi", of: $0)?.u32 } == spi)
    }

    // MARK: Device subtrees

    /// A GICv2 board (its GIC has no #address-cells) with a device that is an
    /// interrupt nexus for a child, and a device under a translating bus with
    /// an empty `ranges`.
    static let subtreeBoard = boardDTS(gic: .v2(cpuInterfaceSize: 0x2000), extra: """
        pci@9f70000 {
            compatible = "test,pci"; reg = <0 0x9f70000 0 0x1000>; interrupts = <0 64 4>;
            #address-cells = <3>; #size-cells = <2>; #interrupt-cells = <1>;
            interrupt-map-mask = <0 0 0 7>; interrupt-map = <0 0 0 1 &gic 0 65 4>;
            dev@0 { reg = <0 0 0 0 0>; interrupts = <1>; };
        };
        soc {
            compatible = "simple-bus"; #address-cells = <1>; #size-cells = <1>; ranges = <0x7e000000 0x0 0xfe000000 0x1800000>;
            usb@7e980000 {
                compatible = "test,usb"; reg = <0x7e980000 0x1000>; interrupts = <0 73 4>;
                #address-cells = <1>; #size-cells = <1>; ranges;
                phy@7e981000 { compatible = "test,phy"; reg = <0x7e981000 0x100>; };
            };
        };
    """)

    @Test("an interrupt-map in a moved device still decodes against the guest GIC")
    func interruptMapInGuest() throws {
        let board = try dtsTree(CarveSyntheticTests.subtreeBoard)
        #expect(gicINTIDs(board, try #require(board.lookup(path: "/pci@9f70000/dev@0"))) == [97])
        let (result, _) = try carveOK(board, try parsedPlan(onePlan(deviceDTS("pci", "/pci@9f70000"))))
        let guest = try #require(result.guests.first?.tree)
        let child = try #require(guest.lookup(path: "/pci@9f70000/dev@0"))
        #expect(gicINTIDs(guest, child) == [97])
        
    }

    @Test("a moved device with an empty ranges under a translating bus keeps its children at their physical addresses")
    func emptyRangesInGuest() throws {
        let board = try dtsTree(CarveSyntheticTests.subtreeBoard)
        let phy = try #require(board.lookup(path: "/soc/usb@7e980000/phy@7e981000"))
        #expect(try board.deviceAddress(of: phy) == .mmio([PhysicalRange(base: 0xfe98_1000, size: 0x100)]))
        let (result, _) = try carveOK(board, try parsedPlan(onePlan(deviceDTS("usb", "/soc/usb@7e980000"))))
        let guest = try #require(result.guests.first?.tree)
        let guestPHY = try #require(guest.lookup(path: "/usb@fe980000/phy@7e981000"))
        let address = try? guest.deviceAddress(of: guestPHY)
        #expect(address == .mmio([PhysicalRange(base: 0xfe98_1000, size: 0x100)]))
        
    }

    @Test("SPIs of a moved device's children are passed through too (they are in the guest tree)")
    func childSPIsEmbedded() throws {
        let board = try dtsTree(boardDTS(extra: Snippet.parentWithChild))
        let (result, host) = try carveOK(board, try parsedPlan(onePlan(deviceDTS("parent", "/parent@9200000"))))
        let guest = try #require(result.guests.first?.tree)
        let guestINTIDs = Set(guest.allNodes.filter { guest.path(of: $0).hasPrefix("/parent@9200000") }.flatMap { gicINTIDs(guest, $0) })
        #expect(guestINTIDs == [65, 66])
        let embedded = host.lookup(path: "/chosen/cleave/g/devices/parent").flatMap { host.property("intids", of: $0)?.cells } ?? []
        let passed = Set(stride(from: 0, to: embedded.count, by: 2).map { embedded[$0] })
        #expect(passed == guestINTIDs)
        
    }

    @Test("*-names companions go with their property whatever the property order")
    func namesBeforeBase() throws {
        let board = try dtsTree(boardDTS(extra: """
            dmac: dma-controller@9e00000 { compatible = "test,dmac"; reg = <0 0x9e00000 0 0x1000>; interrupts = <0 56 4>; #dma-cells = <1>; };
            rst: reset-controller@9b00000 { compatible = "test,rst"; reg = <0 0x9b00000 0 0x1000>; #reset-cells = <1>; };
            ddev@9e10000 { compatible = "test,ddev"; reg = <0 0x9e10000 0 0x1000>; interrupts = <0 59 4>;
                dma-names = "rx"; dmas = <&dmac 4>; reset-names = "core"; resets = <&rst 1>; };
        """))
        let (result, _) = try carveOK(board, try parsedPlan(onePlan(deviceDTS("d", "/ddev@9e10000"))))
        let guest = try #require(result.guests.first?.tree)
        let node = try #require(guest.lookup(path: "/ddev@9e10000"))
        #expect(!guest.hasProperty("dmas", of: node) && !guest.hasProperty("resets", of: node))
        #expect(!guest.hasProperty("dma-names", of: node))
        #expect(!guest.hasProperty("reset-names", of: node))
        
    }
}
