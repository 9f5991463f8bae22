import DeviceTree
import Platform

/// Where carving puts the things a guest gets that the board does not have.
///
/// ```
///  guest physical address space (identity: guest PA == host PA)
///  +---------------------------+ 4 GiB
///  | virtual 16550 console     | <- highest 4 KiB page below 4 GiB that no
///  |  (one page, MMIO exits)   |    board device, memory or reserved-memory
///  +---------------------------+    range touches
///  | board devices (assigned   |
///  |  ones mapped, others trap)|
///  | RAM (hugepages, 1:1)      |
///  +---------------------------+ 0
/// ```
public enum Layout {
    /// The console's page: the highest free 4 KiB page below 4 GiB.
    public static func consoleBase(board: Board) -> UInt64? {
        var occupied: [PhysicalRange] = board.memory + board.reservedMemory.map { $0.range }
        // Records read in place (by index), not copied one by one.
        for i in board.devices.indices {
            if case .mmio(let ranges) = board.devices[i].address { occupied += ranges }
        }
        occupied.sort()
        var candidate: UInt64 = 0xffff_f000
        while true {
            let page = PhysicalRange(base: candidate, size: ConsolePage.size)
            // The lowest base among the ranges blocking this page, in one pass.
            var lowestBlocker: UInt64? = nil
            for range in occupied where range.overlaps(page) { lowestBlocker = min(lowestBlocker ?? range.base, range.base) }
            guard let lowest = lowestBlocker else { return candidate }
            // Continue from the page below the lowest range blocking this one.
            let lowestPage = lowest & ~0xfff
            guard lowestPage >= 0x2000 else { return nil }
            candidate = lowestPage - 0x1000
        }
    }

    /// The console's SPI number: the lowest one no board device uses.
    public static func consoleSPI(board: Board) -> UInt32 {
        var used: [UInt32] = []
        for i in board.devices.indices {
            for case .gic(let irq) in board.devices[i].interrupts where irq.kind == .spi { used.append(irq.number) }
        }
        // Sorted, the lowest free number is the first gap: one pass, not one
        // search of the list per candidate.
        used.sort()
        var spi: UInt32 = 0
        for number in used {
            if number > spi { break }
            if number == spi { spi += 1 }
        }
        return spi
    }

    /// The MPIDR KVM gives vCPU `index` by default (Aff0 = index % 16, Aff1 =
    /// index / 16), which is what the guest's /cpus must say.
    public static func vcpuMPIDR(_ index: Int) -> UInt64 {
        UInt64(index % 16) | UInt64(index / 16) << 8
    }
}
