import DeviceTree
import Platform

/// What the boot-time side needs to start one guest:
/// /chosen/cleave/<name> (Boards/README.md lists every property).
public struct GuestRecord: Equatable {
    /// The guest's name: the plan's node name.
    public var name: String
    /// Host CPUs, as Linux logical numbers; vCPU i runs pinned on cpus[i].
    public var cpus: [UInt32]
    /// The MPIDR affinity (the cpu node's `reg`) of each of `cpus` in the tree
    /// that was carved: boot checks the live host numbers its CPUs the same way.
    public var cpuMPIDRs: [UInt64]
    public var memorySize: UInt64
    /// A fixed physical base; nil: chosen at boot from the hugepage pool.
    public var memoryBase: UInt64?
    public var hugepageSize: HugePageSize
    /// Paths on the board.
    public var kernel: String
    public var initrd: String?
    /// The guest's command line, verbatim.
    public var bootargs: String
    public var console: ConsoleRecord
    public var restart: RestartPolicy
    /// 0 = unbounded.
    public var maxRestarts: UInt32
    /// `guest-dtb`: the guest tree, finalised at boot (RAM banks, initrd, seeds).
    public var guestTree: [UInt8]
    public var devices: [DeviceRecord]
    public var gpioLines: [GPIOLinesRecord]
    /// The virtual PL061s serving `gpioLines`, one per 8 lines.
    public var gpioControllers: [GPIOControllerRecord]
    /// Lines the supervisor drives around the guest's life, at most one per role.
    public var controlLines: [ControlLineRecord]
    /// The vCPUs get a PMUv3 when the guest tree has a `pmu` node; false
    /// (`no-pmu`, from the plan's `no-pmu`) gives none.
    public var pmu: Bool
    /// `sve-max-vl`, from the plan: SVE vector lengths up to this many bits,
    /// 0 for none; nil (absent): every length KVM offers.
    public var sveMaxVectorBits: UInt32?
    /// The vCPUs get pointer authentication when KVM has it; false
    /// (`no-ptrauth`, from the plan's `no-ptrauth`) gives none.
    public var ptrauth: Bool
    /// `ram-scrub`, from the plan: what the RAM holds when the supervisor
    /// boots the guest again (a reset, a restart by policy).
    public var ramScrub: RAMScrub

    public init(name: String, cpus: [UInt32], cpuMPIDRs: [UInt64], memorySize: UInt64, memoryBase: UInt64?,
                hugepageSize: HugePageSize, kernel: String, initrd: String?, bootargs: String, console: ConsoleRecord,
                restart: RestartPolicy, maxRestarts: UInt32, guestTree: [UInt8], devices: [DeviceRecord],
                gpioLines: [GPIOLinesRecord], gpioControllers: [GPIOControllerRecord] = [],
                controlLines: [ControlLineRecord] = [], pmu: Bool = true,
                sveMaxVectorBits: UInt32? = nil, ptrauth: Bool = true, ramScrub: RAMScrub = .zero) {
        self.name = name
        self.cpus = cpus
        self.cpuMPIDRs = cpuMPIDRs
        self.memorySize = memorySize
        self.memoryBase = memoryBase
        self.hugepageSize = hugepageSize
        self.kernel = kernel
        self.initrd = initrd
        self.bootargs = bootargs
        self.console = console
        self.restart = restart
        self.maxRestarts = maxRestarts
        self.guestTree = guestTree
        self.devices = devices
        self.gpioLines = gpioLines
        self.gpioControllers = gpioControllers
        self.controlLines = controlLines
        self.pmu = pmu
        self.sveMaxVectorBits = sveMaxVectorBits
        self.ptrauth = ptrauth
        self.ramScrub = ramScrub
    }

    static let devicesNode = "devices"
    static let gpioLinesNode = "gpio-lines"
    static let controlLinesNode = "control-lines"

    func write(into patch: inout DeviceTreePatch, under parent: String) {
        let path = patch.addNode(parent, name)
        patch.set(path, "cpus", cells: cpus)
        var mpidrs: [UInt32] = []
        for mpidr in cpuMPIDRs { mpidrs += numberCells(mpidr, count: 2) }
        patch.set(path, "cpu-mpidrs", cells: mpidrs)
        patch.set(path, "memory-size", cells: numberCells(memorySize, count: 2))
        if let memoryBase { patch.set(path, "memory-base", cells: numberCells(memoryBase, count: 2)) }
        patch.set(path, "hugepage-size", cells: numberCells(hugepageSize.bytes, count: 2))
        patch.set(path, "kernel", string: kernel)
        if let initrd { patch.set(path, "initrd", string: initrd) }
        patch.set(path, "bootargs", string: bootargs)
        console.write(into: &patch, at: path)
        patch.set(path, "restart", string: restart.rawValue)
        patch.set(path, "max-restarts", cells: [maxRestarts])
        patch.set(path, "guest-dtb", bytes: guestTree)
        if !pmu { patch.set(path, "no-pmu", bytes: []) }
        if let sveMaxVectorBits { patch.set(path, "sve-max-vl", cells: [sveMaxVectorBits]) }
        if !ptrauth { patch.set(path, "no-ptrauth", bytes: []) }
        patch.set(path, "ram-scrub", string: ramScrub.rawValue)
        let devicesPath = patch.addNode(path, GuestRecord.devicesNode)
        for device in devices { device.write(into: &patch, under: devicesPath) }
        if !gpioLines.isEmpty {
            let linesPath = patch.addNode(path, GuestRecord.gpioLinesNode)
            for group in gpioLines { group.write(into: &patch, under: linesPath) }
            GPIOControllerRecord.write(gpioControllers, into: &patch, at: linesPath)
        }
        if !controlLines.isEmpty {
            let controlPath = patch.addNode(path, GuestRecord.controlLinesNode)
            for line in controlLines { line.write(into: &patch, under: controlPath) }
        }
    }

    static func read(from node: RecordNode) throws(RecordError) -> GuestRecord {
        let cpus = try node.cells("cpus", group: 1, "CPU numbers")
        guard !cpus.isEmpty else { throw node.error("cpus", "is empty (at least one host CPU)") }
        let mpidrCells = try node.cells("cpu-mpidrs", group: 2, "MPIDRs")
        guard mpidrCells.count == 2 * cpus.count else {
            throw node.error("cpu-mpidrs", "holds \(mpidrCells.count / 2) MPIDRs for \(cpus.count) CPUs in 'cpus'")
        }
        let mpidrs = stride(from: 0, to: mpidrCells.count, by: 2).map { RecordNode.u64(mpidrCells, $0) }
        let memorySize = try node.u64("memory-size")
        guard memorySize > 0 else { throw node.error("memory-size", "is 0") }
        let pageBytes = try node.u64("hugepage-size")
        guard let hugepageSize = HugePageSize(bytes: pageBytes) else {
            throw node.error("hugepage-size", "is 0x\(String(pageBytes, radix: 16)), not \(HugePageSize.listed)")
        }
        let kernel = try node.string("kernel")
        guard !kernel.isEmpty else { throw node.error("kernel", "is empty") }
        let restartText = try node.string("restart")
        guard let restart = RestartPolicy(rawValue: restartText) else {
            throw node.error("restart", "is \"\(restartText)\", not \(RestartPolicy.listed)")
        }
        let guestTree = try node.value("guest-dtb").bytes
        guard !guestTree.isEmpty else { throw node.error("guest-dtb", "is empty") }
        var devices: [DeviceRecord] = []
        for d in node.child(GuestRecord.devicesNode)?.children ?? [] { devices.append(try DeviceRecord.read(from: d)) }
        let sveMaxVectorBits = try node.optionalU32("sve-max-vl")
        if let bits = sveMaxVectorBits, bits % 128 != 0 {
            throw node.error("sve-max-vl", "is \(bits), not a multiple of 128 bits")
        }
        var gpioLines: [GPIOLinesRecord] = []
        var gpioControllers: [GPIOControllerRecord] = []
        if let linesNode = node.child(GuestRecord.gpioLinesNode) {
            for g in linesNode.children { gpioLines.append(try GPIOLinesRecord.read(from: g)) }
            gpioControllers = try GPIOControllerRecord.read(from: linesNode, lines: gpioLines.reduce(0) { $0 + $1.lines.count })
        }
        // Absent in a record carved before the property existed: the default.
        var ramScrub = RAMScrub.zero
        if let text = try node.optionalString("ram-scrub") {
            guard let scrub = RAMScrub(rawValue: text) else { throw node.error("ram-scrub", "is \"\(text)\", not \(RAMScrub.listed)") }
            ramScrub = scrub
        }
        var controlLines: [ControlLineRecord] = []
        for c in node.child(GuestRecord.controlLinesNode)?.children ?? [] { controlLines.append(try ControlLineRecord.read(from: c)) }
        return GuestRecord(name: node.name, cpus: cpus, cpuMPIDRs: mpidrs, memorySize: memorySize,
                           memoryBase: try node.optionalU64("memory-base"), hugepageSize: hugepageSize,
                           kernel: kernel, initrd: try node.optionalString("initrd"), bootargs: try node.string("bootargs"),
                           console: try ConsoleRecord.read(from: node), restart: restart,
                           maxRestarts: try node.u32("max-restarts"), guestTree: guestTree,
                           devices: devices, gpioLines: gpioLines, gpioControllers: gpioControllers, controlLines: controlLines,
                           pmu: !(try node.flag("no-pmu")),
                           sveMaxVectorBits: sveMaxVectorBits, ptrauth: !(try node.flag("no-ptrauth")), ramScrub: ramScrub)
    }
}
