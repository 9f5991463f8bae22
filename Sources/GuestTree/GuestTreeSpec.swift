import Platform

/// What a generated guest tree (for `cleave run`, no carve) describes. The
/// guest physical map is the board's: the GIC at the board's addresses, RAM
/// identity-mapped, the virtual console's page where `consoleBase` says.
public struct GuestTreeSpec {
    /// MPIDR affinity value of each vCPU, in vCPU order (cpu node `reg`).
    public var cpuAffinities: [UInt64]
    public var gic: GIC
    /// The console page (`ConsolePage`: the 16550 and the pvpanic register):
    /// its base and the 16550's SPI INTID.
    public var consoleBase: UInt64
    public var consoleINTID: UInt32
    public var bootargs: String
    /// GICv3 only: the vITS base, when the board has an ITS and KVM created
    /// one (an `msi-controller` child of the GIC node).
    public var its: UInt64?
    /// The board's timer interrupts (`TimerInterrupts.of(board:)`).
    public var timer: TimerInterrupts
    /// The vCPUs' PMUv3 interrupt, when KVM gave them one (a `pmu` node).
    public var pmu: PMUInterrupt?

    public init(cpuAffinities: [UInt64], gic: GIC, consoleBase: UInt64, consoleINTID: UInt32, bootargs: String,
                its: UInt64? = nil, timer: TimerInterrupts = .fallback, pmu: PMUInterrupt? = nil) {
        self.cpuAffinities = cpuAffinities
        self.gic = gic
        self.consoleBase = consoleBase
        self.consoleINTID = consoleINTID
        self.bootargs = bootargs
        self.its = its
        self.timer = timer
        self.pmu = pmu
    }
}

/// Phandles of generated trees: fixed numbers, since the generator writes
/// every node itself and nothing else allocates them.
public enum GuestPhandle {
    /// The GIC: the root `interrupt-parent`.
    public static let gic: UInt32 = 1
    /// The GICv3 ITS (`msi-parent` of future MSI devices).
    public static let its: UInt32 = 3
}
