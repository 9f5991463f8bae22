import DeviceTree
import Platform

extension GuestNode {
    /// A virtual GPIO controller as the supervisor serves it
    /// (`VirtualGPIOPage`): `gpio@<base>`, an ARM PL061 (gpio/pl061-gpio.yaml)
    /// on the AMBA bus (`arm,primecell`, matched by the ID registers the
    /// supervisor answers), a GPIO controller and an interrupt controller of
    /// two cells, its SPI level-high, clocked by `clock` (the AMBA bus needs
    /// an `apb_pclk` to probe it), its lines named `lineNames`.
    public static func virtualGPIO(base: UInt64, intid: UInt32, lineNames: [String], clock: UInt32,
                                   interruptCells: Int = 3, addressCells: Int = 2, sizeCells: Int = 2) -> GuestNode {
        var gpio = GuestNode("gpio@" + unitAddress(base))
        gpio.property("compatible", strings: ["arm,pl061", "arm,primecell"])
        gpio.property("reg", cells: numberCells(base, count: addressCells) + numberCells(VirtualGPIOPage.size, count: sizeCells))
        gpio.property("interrupts", cells: GICCells.spi(intid: intid).fitted(to: interruptCells))
        gpio.property("gpio-controller")
        gpio.property("#gpio-cells", u32: 2)
        gpio.property("interrupt-controller")
        gpio.property("#interrupt-cells", u32: 2)
        gpio.property("ngpios", u32: UInt32(lineNames.count))
        gpio.property("gpio-line-names", strings: lineNames)
        gpio.property("clocks", cells: [clock])
        gpio.property("clock-names", string: "apb_pclk")
        return gpio
    }

    /// The names of a group's lines in the guest: the plan's group name, with
    /// the line's index in the group when it has several.
    public static func gpioLineNames(group: String, count: Int) -> [String] {
        count == 1 ? [group] : (0..<count).map { "\(group)-\($0)" }
    }
}
