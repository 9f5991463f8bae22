/// The page of guest physical address space each of a guest's virtual GPIO
/// controllers takes: an ARM PL061 (PrimeCell GPIO, ARM DDI 0190B) the
/// supervisor emulates, its eight lines backed by host GPIO lines the plan
/// names. Like the console page nothing of the host is mapped there, so every
/// access exits to the supervisor.
///
/// A guest with n lines gets ceil(n / 8) controllers. Carving places
/// controller k on the highest free page below the console page and the
/// controllers before it, with the lowest SPI neither the board nor the
/// console nor those controllers use: the console page's rule, applied again.
public enum VirtualGPIOPage {
    /// One page: the PL061's 4 KiB window, the unit stage 2 traps.
    public static let size: UInt64 = 0x1000
    /// Lines per controller: the PL061's eight GPIOs.
    public static let linesPerController = 8
    /// The PL061's input clock as its node's fixed clock says (the AMBA bus
    /// needs an `apb_pclk` to probe it; the rate means nothing to the model).
    public static let clockRate: UInt32 = 24_000_000

    /// The controllers `lines` lines need.
    public static func controllers(forLines lines: Int) -> Int {
        (lines + linesPerController - 1) / linesPerController
    }

    /// Where `count` controllers go: base and SPI number (INTID - 32) each,
    /// nil when the board leaves too few free pages below 4 GiB or free SPIs.
    /// `occupied` and `usedSPIs` are what the console page's rule avoids;
    /// the console page and its SPI (`console`) are avoided too.
    public static func places(count: Int, occupied: [(base: UInt64, size: UInt64)], usedSPIs: [UInt32],
                              console: (base: UInt64, spi: UInt32)) -> [(base: UInt64, spi: UInt32)]? {
        var taken = occupied
        taken.append((console.base, ConsolePage.size))
        var spis = usedSPIs
        spis.append(console.spi)
        var result: [(base: UInt64, spi: UInt32)] = []
        for _ in 0..<count {
            guard let base = ConsolePage.base(avoiding: taken), let spi = ConsolePage.spi(avoiding: spis) else { return nil }
            result.append((base, spi))
            taken.append((base, size))
            spis.append(spi)
        }
        return result
    }
}
