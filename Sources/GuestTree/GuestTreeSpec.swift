/// What a generated guest tree (for `cleave run`, no carve) describes. The
/// guest physical map is the board's: the GIC at the board's addresses, RAM
/// identity-mapped, the virtual console where `console` says.
public struct GuestTreeSpec {
    public enum InterruptController: Equatable {
        case v2(distributor: UInt64, cpuInterface: UInt64)
        case v3(distributor: UInt64, redistributor: UInt64)
    }

    /// MPIDR affinity value of each vCPU, in vCPU order (cpu node `reg`).
    public var cpuAffinities: [UInt64]
    public var gic: InterruptController
    /// The virtual 16550 console: base address and SPI INTID.
    public var consoleBase: UInt64
    public var consoleINTID: UInt32
    public var bootargs: String
    /// GICv3 only: the vITS base, when the board has an ITS and KVM created
    /// one (an `msi-controller` child of the GIC node).
    public var its: UInt64?
    /// The emulated pvpanic register (`qemu,pvpanic-mmio`, 2 bytes), nil for
    /// none. The supervisor puts it in the console's page, above the 16550's
    /// registers; the console's `reg` then ends where it starts.
    public var pvpanic: UInt64?

    public init(cpuAffinities: [UInt64], gic: InterruptController, consoleBase: UInt64,
                consoleINTID: UInt32, bootargs: String, its: UInt64? = nil, pvpanic: UInt64? = nil) {
        self.cpuAffinities = cpuAffinities
        self.gic = gic
        self.consoleBase = consoleBase
        self.consoleINTID = consoleINTID
        self.bootargs = bootargs
        self.its = its
        self.pvpanic = pvpanic
    }

    /// The window the 16550's node claims: its 4 KiB page, or the part of the
    /// page below the pvpanic register when that lies in it (no two nodes'
    /// `reg` overlap; Linux's 8250 maps only its eight registers either way).
    public var consoleSize: UInt64 {
        if let p = pvpanic, p > consoleBase, p - consoleBase < 0x1000 { return p - consoleBase }
        return 0x1000
    }
}

/// Phandles of generated trees: fixed numbers, since the generator writes
/// every node itself and nothing else allocates them.
public enum GuestPhandle {
    /// The GIC: the root `interrupt-parent`.
    public static let gic: UInt32 = 1
    /// The fixed clock feeding the 16550 (Linux's of_serial wants a clock or
    /// `clock-frequency`; a property is enough, so this is unused today).
    public static let consoleClock: UInt32 = 2
    /// The GICv3 ITS (`msi-parent` of future MSI devices).
    public static let its: UInt32 = 3
}

/// Device tree interrupt specifiers for the 3-cell GIC binding
/// (Documentation/devicetree/bindings/interrupt-controller/arm,gic.yaml and
/// arm,gic-v3.yaml): <type number flags>, type 0 = SPI, 1 = PPI.
public enum GICCells {
    public static let spi: UInt32 = 0
    public static let ppi: UInt32 = 1
    public static let levelHigh: UInt32 = 4
    public static let levelLow: UInt32 = 8
    public static let edgeRising: UInt32 = 1

    /// `<0 SPI flags>` for an INTID (SPI number = INTID - 32; docs/kernel-facts.md §4).
    public static func spi(intid: UInt32, flags: UInt32 = levelHigh) -> [UInt32] {
        [spi, intid - 32, flags]
    }
}
