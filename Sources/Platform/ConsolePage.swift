/// The page of guest physical address space the supervisor serves for every
/// guest: an emulated 16550 UART in its first half and a pvpanic register in
/// its second. Nothing of the host is mapped there, so every access exits to
/// the supervisor (stage 2 traps at page granularity), and the check that keeps
/// passed-through devices out of the page keeps them out of both devices.
///
/// ```
///   base + 0x000  16550 registers (8 bytes decoded, node `reg` 0x800)
///   base + 0x800  pvpanic register (qemu,pvpanic-mmio, node `reg` 2 bytes)
/// ```
/// Carving picks `base` and the console's SPI per board (the highest free page
/// below 4 GiB, the lowest free SPI); `cleave run` uses the same rule.
public enum ConsolePage {
    /// One page: the unit stage 2 maps and traps.
    public static let size: UInt64 = 0x1000
    /// The 16550's window in the page: its node's `reg` size and the range the
    /// supervisor answers as 16550 registers.
    public static let uartSize: UInt64 = 0x800
    /// The pvpanic register, from the page's base.
    public static let pvpanicOffset: UInt64 = 0x800
    /// The pvpanic node's `reg` size (Documentation/devicetree/bindings/misc/
    /// qemu,pvpanic-mmio.yaml: a one-byte register in a 2-byte window).
    public static let pvpanicSize: UInt64 = 2
    /// The 16550's input clock: the PC standard 1.8432 MHz, so the guest's
    /// 8250 driver computes the usual divisors (its node's `clock-frequency`).
    public static let uartClock: UInt32 = 1_843_200
    /// The 16550's registers: eight, one byte apart (reg-shift 0,
    /// reg-io-width 1; TI PC16550D table 2).
    public static let uartRegisters: UInt64 = 8
}

extension ConsolePage {
    /// The console page's base: the highest page below 4 GiB that none of
    /// `occupied` (the board's RAM, reserved memory and every device window)
    /// touches; nil when there is none. Below 4 GiB so 32-bit early consoles
    /// reach it; the highest, because boards put RAM low and devices in
    /// blocks, leaving the top of the 32-bit space sparse.
    public static func base(avoiding occupied: [(base: UInt64, size: UInt64)]) -> UInt64? {
        var candidate: UInt64 = 0x1_0000_0000 - size
        while true {
            // The lowest base among the ranges blocking this page, in one pass.
            var lowestBlocker: UInt64? = nil
            for range in occupied where range.base < candidate + size {
                // One past its last byte, saturating (a zero-sized range inside
                // the page still blocks it, as PhysicalRange.overlaps has it).
                let end = range.base &+ range.size < range.base ? UInt64.max : range.base &+ range.size
                if candidate < end { lowestBlocker = min(lowestBlocker ?? range.base, range.base) }
            }
            guard let lowest = lowestBlocker else { return candidate }
            // Continue from the page below the lowest range blocking this one.
            let lowestPage = lowest & ~(size - 1)
            guard lowestPage >= 2 * size else { return nil }
            candidate = lowestPage - size
        }
    }

    /// The console's SPI number (INTID - 32): the lowest one that no board
    /// device uses (`used`, SPI numbers), so the guest's vGIC line is free
    /// whatever devices the plan assigns; nil when every SPI is taken.
    public static func spi(avoiding used: [UInt32]) -> UInt32? {
        let count = Int(GICCells.lastSPI - GICCells.firstSPI) + 1
        var taken = [Bool](repeating: false, count: count)
        for number in used where number < UInt32(count) { taken[Int(number)] = true }
        guard let free = taken.firstIndex(of: false) else { return nil }
        return UInt32(free)
    }
}
