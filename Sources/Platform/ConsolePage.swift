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
