import DeviceTree
import GuestTree
import KVM
import PartitionRecord
import Platform
import Supervisor
import Syscalls

/// The options of an ad-hoc run (`cleave run` and `cleave-boot run`, one
/// parser for both so they cannot drift): a guest, kvmtool style, no carve.
public enum RunOptions {
    public static let usage = """
    usage: run --kernel IMAGE [options]
      --kernel PATH          arm64 Linux Image or raw binary
      --raw | --linux        force the image kind (default: detect the Image header)
      --load-offset N        raw images: offset from the RAM base (default 0x80000)
      --initrd PATH          initrd/initramfs
      --memory SIZE          guest RAM, e.g. 256M (default 64M), from hugepages
      --hugepage-size SIZE   2M (default), 32M or 1G
      --memory-base ADDR     fixed physical base (must lie in the hugepage pool)
      --cpus LIST            host CPUs, one pinned vCPU each (e.g. 1 or 1-2)
      --vcpus N              N unpinned vCPUs instead of --cpus (default 1)
      --bootargs TEXT        guest command line, verbatim
      --board DTB            board tree for the GIC (default /sys/firmware/fdt)
      --console ADDR         the console page: virtual 16550, pvpanic at +0x800
                             (default: as carve places it, the highest page
                             below 4 GiB the board tree leaves free)
      --console-intid N      the 16550's interrupt, an SPI INTID (default: as
                             carve, the lowest SPI no board device uses)
      --dump-dtb PATH        write the final guest tree there
      --mark TEXT            log the time when the console prints TEXT
      --watchdog-ms N        watchdog sampling period (default 250)
      --restart POLICY       never | always | on-failure
      --max-restarts N       restarts the policy may make (default 0: unbounded)
      --ram-scrub MODE       RAM between two boots (a reset, a restart): zero
                             (default) | none (kept as the guest left it)
      --interactive          feed stdin to the console (raw terminal; Ctrl-A x quits)
      --no-pmu               no PMUv3 (default: the vCPUs get one when KVM has
                             it, on the board's PMU PPI, else PPI 7)
      --sve-max-vl BITS      SVE vector lengths up to BITS (a multiple of 128;
                             0: no SVE; default: every length KVM offers)
      --no-ptrauth           no pointer authentication (default: address and
                             generic, when KVM has both)
      --unmapped-mmio POLICY an access outside RAM and devices: fault (default:
                             the guest stops, status 2) | ignore (reads give 0,
                             writes are dropped, each address logged once)
      --name NAME            guest name for log lines (default "run")
      -h, --help             this text
    exit status: 0 powered off, 1 setup error, 2 guest fault, 3 stuck vCPU,
                 4 guest crash, 128+N killed by signal N
    """

    /// The options that take no value.
    public static let switches = ["--raw", "--linux", "--interactive", "--no-pmu", "--no-ptrauth"]

    /// Whether `items` ask for this help instead of a run.
    public static func wantsHelp(_ items: [String]) -> Bool { Arguments.wantsHelp(items, switches: switches) }

    @export(interface)
    public static func parse(_ items: [String]) throws(UsageError) -> GuestConfiguration {
        var args = Arguments(items)
        guard let kernel = try args.option("--kernel") else { throw UsageError("--kernel is required") }
        let memory = try size(args.option("--memory") ?? "64M", "--memory")
        var hostCPUs: [Int?] = [nil]
        if let list = try args.option("--cpus") {
            guard let cpus = parseCPUList(list) else { throw UsageError("--cpus: cannot read '\(list)'") }
            hostCPUs = cpus.map { Optional($0) }
        } else if let n = try args.option("--vcpus") {
            guard let count = Int(n), count > 0, count <= 64 else { throw UsageError("--vcpus: 1-64") }
            hostCPUs = Array(repeating: nil, count: count)
        }
        let boardPath = try args.option("--board") ?? "/sys/firmware/fdt"
        let gic: GIC
        let its: UInt64?
        let board: DeviceTree
        do throws(SupervisorError) {
            board = try TreeFile.read(boardPath, what: "board tree")
            gic = try BoardGIC.of(board, source: boardPath)
            its = BoardITS.base(of: board)
        } catch { throw UsageError("--board: \(error)") }
        // The console page and SPI: the options', else the carve's rule over
        // the board tree (an ad-hoc guest sits where a carved one would).
        var consoleBase: UInt64? = nil
        if let v = try args.option("--console") {
            let base = try size(v, "--console")
            guard base % ConsolePage.size == 0 else { throw UsageError("--console: \(v) is not 4 KiB aligned (the console page is trapped as a whole page)") }
            consoleBase = base
        }
        var consoleINTID: UInt32? = nil
        if let v = try args.option("--console-intid") {
            guard let n = UInt32(v), n >= GICCells.firstSPI, n <= GICCells.lastSPI else { throw UsageError("--console-intid: an SPI INTID, 32-1019") }
            consoleINTID = n
        }
        if consoleBase == nil || consoleINTID == nil {
            let space = BoardSpace(board)
            if consoleBase == nil {
                guard let base = space.consoleBase else {
                    throw UsageError("--board: \(boardPath) leaves no 4 KiB page below 4 GiB free for the console: pass --console ADDR")
                }
                consoleBase = base
            }
            if consoleINTID == nil {
                guard let spi = space.consoleSPI else {
                    throw UsageError("--board: \(boardPath)'s devices use every SPI: pass --console-intid N")
                }
                consoleINTID = spi + GICCells.firstSPI
            }
        }
        var config = GuestConfiguration(name: try args.option("--name") ?? "run", hostCPUs: hostCPUs,
                                        memorySize: memory, kernelPath: kernel, gic: gic,
                                        consoleBase: consoleBase!, consoleINTID: consoleINTID!)
        config.its = its
        config.timer = TimerInterrupts.of(board: board)
        config.pmu = args.flag("--no-pmu") ? nil : PMUInterrupt.of(board: board) ?? .fallback
        if let v = try args.option("--sve-max-vl") {
            guard let bits = UInt32(v), bits % 128 == 0, bits <= 65536 else { throw UsageError("--sve-max-vl: a multiple of 128 bits up to 65536, 0 for no SVE") }
            config.sveMaxVectorBits = bits
        }
        config.ptrauth = !args.flag("--no-ptrauth")
        if args.flag("--raw") { config.imageKind = .raw }
        if args.flag("--linux") { config.imageKind = .linux }
        if let v = try args.option("--load-offset") { config.loadOffset = try size(v, "--load-offset") }
        config.initrdPath = try args.option("--initrd")
        if let v = try args.option("--hugepage-size") {
            guard let s = parseSize(v), let p = HugePageSize(bytes: s) else { throw UsageError("--hugepage-size: 2M, 32M or 1G") }
            config.pageSize = p
        }
        if let v = try args.option("--memory-base") { config.fixedBase = try size(v, "--memory-base") }
        config.bootargs = try args.option("--bootargs") ?? ""
        config.dumpTreePath = try args.option("--dump-dtb")
        config.consoleMarker = try args.option("--mark")
        if let v = try args.option("--watchdog-ms") {
            guard let n = Int(v), n >= 10 else { throw UsageError("--watchdog-ms: at least 10") }
            config.watchdogPeriodMilliseconds = n
        }
        if let v = try args.option("--restart") {
            guard let p = RestartPolicy(rawValue: v) else { throw UsageError("--restart: never, always or on-failure") }
            config.restart = p
        }
        if let v = try args.option("--max-restarts") {
            guard let n = Int(v), n >= 0 else { throw UsageError("--max-restarts: a count, 0 for unbounded") }
            config.maxRestarts = n
        }
        if let v = try args.option("--ram-scrub") {
            guard let s = RAMScrub(rawValue: v) else { throw UsageError("--ram-scrub: \(RAMScrub.listed)") }
            config.ramScrub = s
        }
        config.interactive = args.flag("--interactive")
        if let v = try args.option("--unmapped-mmio") {
            guard let p = UnmappedMMIO(rawValue: v) else { throw UsageError("--unmapped-mmio: \(UnmappedMMIO.listed)") }
            config.unmappedMMIO = p
        }
        guard args.isEmpty else { throw UsageError("unknown arguments: \(args.remaining.joined(separator: " "))") }
        return config
    }

    static func size(_ text: String, _ option: String) throws(UsageError) -> UInt64 {
        guard let v = parseSize(text) else { throw UsageError("\(option): cannot read '\(text)' (e.g. 0x80000, 256M)") }
        return v
    }
}
