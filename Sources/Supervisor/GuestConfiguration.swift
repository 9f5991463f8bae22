import DeviceTree
import GuestMemory
import GuestTree
import KVM
import Loading
import PartitionRecord
import Passthrough
import Platform

/// Everything needed to boot one guest, from a carved plan (`cleave boot`) or
/// from command-line options (`cleave run`).
public struct GuestConfiguration {
    public enum ImageKind: Equatable {
        /// Detect from the arm64 Image header magic; raw when absent.
        case automatic
        case linux
        case raw
    }

    public enum TreeSource {
        /// The carved guest tree from /chosen/cleave/<name>/guest-dtb.
        case carved(DeviceTree)
        /// Generate one (ad-hoc runs).
        case generated
    }

    public var name: String
    /// Host CPUs (Linux logical numbers), one vCPU each, pinned; nil entries
    /// leave that vCPU thread unpinned.
    public var hostCPUs: [Int?]
    /// The MPIDR the carve recorded for each of `hostCPUs` (`cpu-mpidrs`):
    /// boot checks the live host's CPUs against them. Empty for ad-hoc runs.
    public var hostCPUMPIDRs: [UInt64] = []
    public var memorySize: UInt64
    public var pageSize: HugePageSize = .twoMiB
    public var fixedBase: UInt64? = nil
    public var kernelPath: String
    public var imageKind: ImageKind = .automatic
    /// Offset from the RAM base for raw images.
    public var loadOffset: UInt64 = BootPlacement.rawLoadOffset
    public var initrdPath: String? = nil
    /// nil keeps the tree's bootargs (carved); generated trees get "".
    public var bootargs: String? = nil
    public var gic: GIC
    /// The board's GICv3 ITS base: the guest gets a vITS there (and an ITS
    /// node in a generated tree) when the kernel can create one.
    public var its: UInt64? = nil
    /// The board's timer interrupts, for a generated tree (a carved tree has
    /// its own timer node).
    public var timer: TimerInterrupts = .fallback
    /// The console page (ConsolePage): the 16550 at its base, the pvpanic
    /// register above it; chosen per board by the carve, or by `cleave run`
    /// with the carve's rule (BoardSpace) unless its options say otherwise.
    public var consoleBase: UInt64
    /// The 16550's interrupt, an SPI INTID.
    public var consoleINTID: UInt32
    /// The board path of the passed-through UART that is the guest's console
    /// (a carved plan's `console = "<device>"`): the guest drives it itself,
    /// so there is no console page (no 16550, no pvpanic) and `consoleBase`
    /// and `consoleINTID` are unused; nil: the virtual console.
    public var consoleUART: String? = nil
    public var tree: TreeSource = .generated
    public var restart: RestartPolicy = .never
    /// 0 = unbounded.
    public var maxRestarts: Int = 0
    /// Watchdog sampling period and consecutive suspicious samples.
    public var watchdogPeriodMilliseconds: Int = 250
    public var watchdogThreshold: Int = 8
    /// Write the finalised guest tree here before boot (kvmtool's --dump-dtb).
    public var dumpTreePath: String? = nil
    /// Log the supervisor's clock when the console output contains this text.
    public var consoleMarker: String? = nil
    /// Assigned devices of a carved guest: VFIO/UIO/devmem (PassthroughSet).
    public var passthroughDevices: [PassthroughDevice] = []
    /// GPIO lines the plan gives a carved guest, served by the virtual PL061s
    /// at `gpioControllers` (GuestGPIO, `Supervisor.prepareGPIO`).
    public var gpioLines: [GPIOLinesRecord] = []
    public var gpioControllers: [GPIOControllerRecord] = []
    /// Keep a `GuestStatus` file here (`boot --status-file`, given by the
    /// service for each guest it starts).
    public var statusPath: String? = nil
    /// Write the console to this bounded file (`ConsoleLog`) instead of
    /// stdout (`boot --console-log`, given by the service).
    public var consoleLogPath: String? = nil
    /// Serve the console on this unix socket (`ConsoleServer`: a history of
    /// recent output, one attached client; `boot --console-socket`, given by the service).
    public var consoleSocketPath: String? = nil
    /// Host lines driven around the guest's life (reset, power, heartbeat:
    /// `ControlLines`, `ControlSequence`).
    public var controlLines: [ControlLineRecord] = []
    /// Read stdin into the console.
    public var interactive: Bool = false
    /// What an access outside the guest's RAM and devices gets: a fault, or
    /// (ad-hoc runs only: `run --unmapped-mmio ignore`) read-as-zero and
    /// writes dropped. A carved boot never sets it (BootOptions has no such
    /// option and `HostTreeGuest` leaves the default).
    public var unmappedMMIO: UnmappedMMIO = .fault
    /// The vCPUs' PMUv3 and its overflow PPI; nil: no PMU (`run --no-pmu`,
    /// plan `no-pmu`, or a carved tree without a `pmu` node). A generated
    /// tree gets a `pmu` node when KVM gives the PMU; a carved tree has its
    /// own, and its PMU is required (`GuestVM.init`).
    public var pmu: PMUInterrupt? = nil
    /// SVE, when KVM has it: nil gives the vCPUs every vector length KVM
    /// offers, N those up to N bits, 0 no SVE (`run --sve-max-vl`, plan
    /// `sve-max-vl`).
    public var sveMaxVectorBits: UInt32? = nil
    /// Pointer authentication (address and generic together), when KVM has
    /// both; false gives none (`run --no-ptrauth`, plan `no-ptrauth`).
    public var ptrauth: Bool = true
    /// What the RAM holds when the guest boots again in this process (PSCI
    /// SYSTEM_RESET, restart by policy): zeroed (default) or as left
    /// (`run --ram-scrub`, plan `ram-scrub`). The pages stay the same.
    public var ramScrub: RAMScrub = .zero

    public init(name: String, hostCPUs: [Int?], memorySize: UInt64, kernelPath: String, gic: GIC,
                consoleBase: UInt64, consoleINTID: UInt32) {
        self.consoleBase = consoleBase
        self.consoleINTID = consoleINTID
        self.name = name
        self.hostCPUs = hostCPUs
        self.memorySize = memorySize
        self.kernelPath = kernelPath
        self.gic = gic
    }
}
