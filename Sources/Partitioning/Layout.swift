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
///  | virtual PL061 GPIO 0, 1.. | <- the next free pages below it, a page each
///  +---------------------------+
///  | board devices (assigned   |
///  |  ones mapped, others trap)|
///  | RAM (hugepages, 1:1)      |
///  +---------------------------+ 0
/// ```
public enum Layout {
    /// The console's page (ConsolePage.base): the highest 4 KiB page below
    /// 4 GiB that no RAM, reserved-memory range or device window of the board
    /// (enabled or not) touches. `BoardSpace` gathers the same from a tree for
    /// `cleave run`.
    public static func consoleBase(board: Board) -> UInt64? { ConsolePage.base(avoiding: occupied(board)) }

    /// The console's SPI number (ConsolePage.spi): the lowest one no board
    /// device (enabled or not) uses.
    public static func consoleSPI(board: Board) -> UInt32? { ConsolePage.spi(avoiding: usedSPIs(board)) }

    /// Where `count` virtual GPIO controllers go (VirtualGPIOPage.places):
    /// below the console page, on SPIs after the console's; nil when the
    /// board leaves too few pages or SPIs.
    public static func gpioControllers(board: Board, count: Int, console: (base: UInt64, spi: UInt32)) -> [(base: UInt64, spi: UInt32)]? {
        VirtualGPIOPage.places(count: count, occupied: occupied(board), usedSPIs: usedSPIs(board), console: console)
    }

    /// The board's RAM, reserved memory and every device window.
    static func occupied(_ board: Board) -> [(base: UInt64, size: UInt64)] {
        var occupied: [(base: UInt64, size: UInt64)] = []
        for range in board.memory { occupied.append((range.base, range.size)) }
        for reserved in board.reservedMemory { occupied.append((reserved.range.base, reserved.range.size)) }
        // Records read in place (by index), not copied one by one.
        for i in board.devices.indices {
            if case .mmio(let ranges) = board.devices[i].address {
                for range in ranges { occupied.append((range.base, range.size)) }
            }
        }
        return occupied
    }

    /// The SPI numbers the board's devices (enabled or not) use.
    static func usedSPIs(_ board: Board) -> [UInt32] {
        var used: [UInt32] = []
        for i in board.devices.indices {
            for case .gic(let irq) in board.devices[i].interrupts where irq.kind == .spi { used.append(irq.number) }
        }
        return used
    }

    /// The MPIDR KVM gives vCPU `index` by default (Aff0 = index % 16, Aff1 =
    /// index / 16), which is what the guest's /cpus must say.
    public static func vcpuMPIDR(_ index: Int) -> UInt64 {
        UInt64(index % 16) | UInt64(index / 16) << 8
    }
}
