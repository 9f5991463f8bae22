import DeviceTree
import Platform

extension GuestNode {
    /// The console page as the supervisor serves it (`ConsolePage`): the
    /// 16550 over the page's first `uartSize` bytes, then the pvpanic
    /// register at `pvpanicOffset`, two nodes whose `reg` do not overlap.
    ///
    /// - `serial@<base>`: ns16550a (serial/8250.yaml), its SPI level-high,
    ///   `clock-frequency` so Linux's of_serial needs no clock node;
    /// - `pvpanic@<base + 0x800>`: qemu,pvpanic-mmio (misc/qemu,pvpanic-mmio.yaml),
    ///   no interrupt, a one-byte register in a 2-byte window.
    ///
    /// `interruptCells` is the GIC node's `#interrupt-cells` (rk3399's GICv3
    /// has 4); `addressCells`/`sizeCells` the root's.
    public static func consolePage(base: UInt64, intid: UInt32, interruptCells: Int = 3,
                                   addressCells: Int = 2, sizeCells: Int = 2) -> [GuestNode] {
        var uart = GuestNode("serial@" + unitAddress(base))
        uart.property("compatible", string: "ns16550a")
        uart.property("reg", cells: numberCells(base, count: addressCells) + numberCells(ConsolePage.uartSize, count: sizeCells))
        uart.property("interrupts", cells: GICCells.spi(intid: intid).fitted(to: interruptCells))
        uart.property("clock-frequency", u32: ConsolePage.uartClock)

        let register = base + ConsolePage.pvpanicOffset
        var pvpanic = GuestNode("pvpanic@" + unitAddress(register))
        pvpanic.property("compatible", string: "qemu,pvpanic-mmio")
        pvpanic.property("reg", cells: numberCells(register, count: addressCells) + numberCells(ConsolePage.pvpanicSize, count: sizeCells))
        return [uart, pvpanic]
    }

    /// The path of the console page's 16550, for `stdout-path` and `serial0`.
    public static func consolePath(base: UInt64) -> String { "/serial@" + unitAddress(base) }
}

extension Array where Element == UInt32 {
    /// A GIC specifier written for a GIC node with `width` cells: cut to
    /// `width`, or padded with zero cells (the 4th cell of a 4-cell GICv3
    /// specifier is the PPI partition, 0 for none; arm,gic-v3.yaml).
    func fitted(to width: Int) -> [UInt32] {
        if count > width { return Array(self[0..<width]) }
        var cells = self
        while cells.count < width { cells.append(0) }
        return cells
    }
}
