import Platform
import Foundation
import Testing
import DeviceTree
import GuestTree
@testable import Partitioning

@Suite("Bootargs")
struct BootargsTests {
    @Test("cpuList gives the kernel's cpulist format", arguments: [
        ([1, 2, 3, 5], "1-3,5"),
        ([5, 3, 2, 1], "1-3,5"),
        ([3], "3"),
        ([1, 1, 2], "1-2"),
        ([0, 2, 4, 5, 6, 7, 9], "0,2,4-7,9"),
        ([], ""),
    ] as [([UInt32], String)])
    func cpuList(_ cpus: [UInt32], _ expected: String) {
        #expect(Bootargs.cpuList(cpus) == expected)
    }

    @Test("merge replaces the keys Cleave owns and keeps every other token in order")
    func mergeReplacesOwnedKeys() {
        let existing = "console=ttyAMA0 isolcpus=2 root=/dev/vda hugepages=10 quiet hugepagesz=1G nohz_full=2 "
            + "rcu_nocbs=2 irqaffinity=0 default_hugepagesz=1G clk_ignore_unused pd_ignore_unused rw isolcpus_extra=1"
        let merged = Bootargs.merge(existing: existing, guestCPUs: [2, 3, 1], hostCPUs: [0],
                                    hugepages: [(.twoMiB, 128)], keepClocks: false, keepPowerDomains: false)
        #expect(tokens(merged) == ["console=ttyAMA0", "root=/dev/vda", "quiet", "rw", "isolcpus_extra=1",
                                   "isolcpus=managed_irq,domain,1-3", "nohz_full=1-3", "rcu_nocbs=1-3", "irqaffinity=0",
                                   "hugepagesz=2M", "hugepages=128"])
    }

    @Test("merge: gigantic pages first, keep-alive flags last, nothing for an empty plan")
    func mergeOrder() {
        let merged = Bootargs.merge(existing: "earlycon", guestCPUs: [3], hostCPUs: [0, 1, 2],
                                    hugepages: [(.twoMiB, 64), (.oneGiB, 2), (.thirtyTwoMiB, 0)],
                                    keepClocks: true, keepPowerDomains: true)
        #expect(tokens(merged) == ["earlycon", "isolcpus=managed_irq,domain,3", "nohz_full=3", "rcu_nocbs=3",
                                   "irqaffinity=0-2", "hugepagesz=1G", "hugepages=2", "hugepagesz=2M", "hugepages=64",
                                   "clk_ignore_unused", "pd_ignore_unused"])
        #expect(Bootargs.merge(existing: "a b", guestCPUs: [], hostCPUs: [0], hugepages: [],
                               keepClocks: false, keepPowerDomains: false) == "a b")
    }

    @Test("merge is idempotent: merging its own output again changes nothing")
    func mergeIdempotent() {
        let once = Bootargs.merge(existing: "console=ttyS0 root=/dev/mmcblk0p2", guestCPUs: [2, 3], hostCPUs: [0, 1],
                                  hugepages: [(.twoMiB, 128)], keepClocks: true, keepPowerDomains: false)
        let twice = Bootargs.merge(existing: once, guestCPUs: [2, 3], hostCPUs: [0, 1],
                                   hugepages: [(.twoMiB, 128)], keepClocks: true, keepPowerDomains: false)
        #expect(once == twice)
    }

    @Test("merge puts Cleave's parameters before a '--' (everything after it goes to init)")
    func mergeBeforeInitArguments() {
        let merged = Bootargs.merge(existing: "console=ttyAMA0 -- single", guestCPUs: [1], hostCPUs: [0],
                                    hugepages: [(.twoMiB, 128)], keepClocks: false, keepPowerDomains: false)
        let t = tokens(merged)
        let separator = t.firstIndex(of: "--") ?? t.count
        #expect(t.suffix(2) == ["--", "single"], "\(merged)")
        #expect(t[..<separator].contains("hugepages=128"), "\(merged)")
        #expect(t[..<separator].contains("isolcpus=managed_irq,domain,1"), "\(merged)")
    }
}

@Suite("Layout")
struct LayoutTests {
    static func occupied(_ board: Board) -> [PhysicalRange] {
        var out = board.memory + board.reservedMemory.map(\.range)
        for device in board.devices { out += device.mmioRanges }
        return out
    }

    @Test("the console page avoids every device, memory and reserved-memory range", arguments: RealBoard.allTrees)
    func consoleBaseReal(_ name: String) throws {
        let board = Board(try realTree(name))
        let base = try #require(Layout.consoleBase(board: board))
        #expect(base % 0x1000 == 0)
        #expect(base + ConsolePage.size <= 0x1_0000_0000)
        let page = PhysicalRange(base: base, size: ConsolePage.size)
        for range in LayoutTests.occupied(board) {
            #expect(!range.overlaps(page), "console page 0x\(String(base, radix: 16)) overlaps \(range)")
        }
        // And it is the highest such page: the next one up is taken or above 4 GiB.
        let above = PhysicalRange(base: base + 0x1000, size: 0x1000)
        #expect(above.end > 0x1_0000_0000 || LayoutTests.occupied(board).contains { $0.overlaps(above) })
    }

    /// `cleave run` places its console from the tree alone (BoardSpace, in the
    /// boot binary) by the rule carving uses with its inventory (Layout): the
    /// same page and SPI on every board.
    @Test("cleave run's console placement is carve's", arguments: RealBoard.allTrees)
    func runPlacementIsCarves(_ name: String) throws {
        let tree = try realTree(name)
        let board = Board(tree)
        let space = BoardSpace(tree)
        #expect(space.consoleBase == Layout.consoleBase(board: board))
        #expect(space.consoleSPI == Layout.consoleSPI(board: board))
    }

    @Test("the console SPI is used by no board device", arguments: RealBoard.allTrees)
    func consoleSPIReal(_ name: String) throws {
        let board = Board(try realTree(name))
        let spi = try #require(Layout.consoleSPI(board: board))
        for device in board.devices {
            for case .gic(let irq) in device.interrupts where irq.kind == .spi {
                #expect(irq.number != spi, "\(device.path) uses SPI \(spi)")
            }
        }
    }

    @Test("a device in the top page pushes the console below it")
    func consoleBelowTopDevice() throws {
        let board = Board(try dtsTree(boardDTS(extra: """
            top@fffff000 { compatible = "test,top"; reg = <0 0xfffff000 0 0x1000>; };
            next@ffffd000 { compatible = "test,next"; reg = <0 0xffffd000 0 0x2000>; };
        """)))
        #expect(Layout.consoleBase(board: board) == 0xffff_c000)
        #expect(Layout.consoleSPI(board: board) == 0)
    }

    @Test("a device starting inside the top page (not page aligned) pushes the console below it")
    func consoleBelowUnalignedDevice() throws {
        let board = Board(try dtsTree(boardDTS(extra: """
            top@fffff800 { compatible = "test,top"; reg = <0 0xfffff800 0 0x100>; };
        """)))
        #expect(Layout.consoleBase(board: board) == 0xffff_e000)
    }

    @Test("the console SPI skips SPIs in use, including those of disabled devices")
    func consoleSPISkipsUsed() throws {
        let board = Board(try dtsTree(boardDTS(extra: """
            d0@9f60000 { compatible = "test,d"; reg = <0 0x9f60000 0 0x1000>; interrupts = <0 0 4>; };
            d3@9f61000 { compatible = "test,d"; reg = <0 0x9f61000 0 0x1000>; interrupts = <0 3 4>; status = "disabled"; };
        """)))
        // Used: 0 (d0), 1 (uart), 2 (rtc), 3 (d3, disabled); free: 4.
        #expect(Layout.consoleSPI(board: board) == 4)
    }

    @Test("vCPU MPIDRs: Aff0 = index % 16, Aff1 = index / 16")
    func mpidr() {
        #expect(Layout.vcpuMPIDR(0) == 0)
        #expect(Layout.vcpuMPIDR(15) == 15)
        #expect(Layout.vcpuMPIDR(16) == 0x100)
        #expect(Layout.vcpuMPIDR(33) == 0x201)
    }
}
