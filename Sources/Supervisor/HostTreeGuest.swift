import DeviceTree
import GuestTree
import PartitionRecord
import Passthrough
import Platform
import Syscalls

/// A carved guest's configuration, read from the host tree `cleave carve`
/// wrote: its record under /chosen/cleave (`PartitionsRecord`, binding
/// `cleave,partitions-v1`, Boards/README.md) mapped to a `GuestConfiguration`,
/// after checking that the host's RAM can hold the guests.
public enum HostTreeGuest {
    /// The guest named `guest` (or the first one) of the host tree at `treePath`.
    /// Refuses a guest whose RAM the host cannot hold (`checkMemory`);
    /// `iomemPath` is where the host's RAM is read when the tree has no
    /// /memory (a seam for tests).
    @export(interface)
    public static func configuration(treePath: String, guest: String?,
                                     iomemPath: String = "/proc/iomem") throws(SupervisorError) -> GuestConfiguration {
        let tree = try TreeFile.read(treePath, what: "host tree")
        let guests = try record(of: tree, treePath: treePath).guests
        guard let g = guest.map({ name in guests.first { $0.name == name } }) ?? guests.first else {
            throw .configuration("no guest \(guest ?? "") under \(PartitionsRecord.path) (have: \(guests.map { $0.name }.joined(separator: ", ")))")
        }
        let path = PartitionsRecord.path + "/" + g.name
        try checkMemory(tree, guests: guests, booting: g, treePath: treePath, iomemPath: iomemPath)
        let guestTree: DeviceTree
        do throws(DeviceTreeError) { guestTree = try DeviceTree(bytes: g.guestTree) } catch {
            throw .configuration("host tree \(treePath): \(path): 'guest-dtb' is not a usable device tree (\(error)): carve the plan again")
        }
        var consoleBase: UInt64 = 0
        var consoleSPI: UInt32 = 0
        var consoleUART: String? = nil
        switch g.console {
        case .virtual(let base, let spi): (consoleBase, consoleSPI) = (base, spi)
        case .device(let uart):
            // Carving checked it is one of the guest's devices; a record edited since is refused here.
            guard g.devices.contains(where: { $0.path == uart }) else {
                throw .configuration("host tree \(treePath): \(path): console '\(uart)' is not one of the guest's devices (\(g.devices.map { $0.path }.joined(separator: ", "))): carve the plan again")
            }
            consoleUART = uart
        }
        let gic = try BoardGIC.of(tree, source: treePath)
        var config = GuestConfiguration(name: g.name, hostCPUs: g.cpus.map { Int($0) }, memorySize: g.memorySize,
                                        kernelPath: g.kernel, gic: gic,
                                        consoleBase: consoleBase, consoleINTID: consoleSPI + GICCells.firstSPI)
        config.hostCPUMPIDRs = g.cpuMPIDRs
        config.consoleUART = consoleUART
        config.tree = .carved(guestTree)
        // The PMU's PPI is the one carving wrote into the guest's tree (the board's).
        config.pmu = g.pmu ? PMUInterrupt.of(board: guestTree) : nil
        config.sveMaxVectorBits = g.sveMaxVectorBits
        config.ptrauth = g.ptrauth
        config.ramScrub = g.ramScrub
        config.initrdPath = g.initrd
        config.bootargs = g.bootargs
        config.fixedBase = g.memoryBase
        config.pageSize = g.hugepageSize
        config.restart = g.restart
        config.maxRestarts = Int(g.maxRestarts)
        config.passthroughDevices = g.devices.map(PassthroughDevice.init(_:))
        config.gpioLines = g.gpioLines
        config.gpioControllers = g.gpioControllers
        config.controlLines = g.controlLines
        return config
    }

    /// The carve record of the host tree at `treePath` (the service's list of guests).
    public static func record(treePath: String) throws(SupervisorError) -> PartitionsRecord {
        try record(of: try TreeFile.read(treePath, what: "host tree"), treePath: treePath)
    }

    static func record(of tree: DeviceTree, treePath: String) throws(SupervisorError) -> PartitionsRecord {
        do throws(RecordError) { return try PartitionsRecord.read(from: tree) } catch {
            if error.node == PartitionsRecord.path && error.property == nil {
                throw .configuration("\(treePath) has no \(PartitionsRecord.path) (compatible \"\(PartitionsRecord.compatible)\"): boot the host with the tree `cleave carve` wrote")
            }
            throw .configuration("host tree \(treePath): \(error): carve the plan again with this version of cleave and boot the host with the host.dtb it writes")
        }
    }

    /// The host keeps at least this much RAM, as `cleave check` requires
    /// (memory-too-large).
    static let hostMinimumRAM: UInt64 = 0x800_0000   // 128 MiB

    /// A board tree without /memory passes `cleave check` with any
    /// memory-size (memory-unknown): the guests' RAM is checked here, against
    /// the RAM the host has. Throws naming the guest, the size asked, the RAM
    /// and where it was read, and the largest memory-size that would fit.
    static func checkMemory(_ tree: DeviceTree, guests: [GuestRecord], booting guest: GuestRecord, treePath: String,
                            iomemPath: String) throws(SupervisorError) {
        let (ram, source) = hostRAM(tree, treePath: treePath, iomemPath: iomemPath)
        guard !ram.isEmpty else { return }   // nothing says how much: hugepage allocation will tell
        let total = ram.reduce(UInt64(0)) { $0 &+ $1.size }
        let name = guest.name
        let size = guest.memorySize
        var others: UInt64 = 0
        var otherNames: [String] = []
        for g in guests where g.name != name {
            others &+= g.memorySize
            otherNames.append("'\(g.name)' \(bytes(g.memorySize))")
        }
        let asked = size &+ others
        guard asked < size || asked > total || total - asked < hostMinimumRAM else { return }
        let page = guest.hugepageSize.bytes
        let room = total > others &+ hostMinimumRAM ? total - others - hostMinimumRAM : 0
        let fits = room / page * page
        let together = otherNames.isEmpty ? "" : " (with the other guests under /chosen/cleave, \(otherNames.joined(separator: ", ")): \(bytes(asked)) in all)"
        throw .configuration("guest '\(name)' asks for memory-size \(bytes(size))\(together), but the host has \(bytes(total)) of RAM (\(source)) and keeps at least \(bytes(hostMinimumRAM)) for itself: "
            + (fits > 0 ? "set memory-size to at most \(bytes(fits)) for '\(name)' in the plan" : "set a smaller memory-size for the guests in the plan")
            + " and carve again")
    }

    /// The host's RAM and where it was read: the tree's `device_type =
    /// "memory"` nodes (the bootloader fills /memory in), else the top-level
    /// "System RAM" entries of /proc/iomem (the EFI stub deletes /memory from
    /// the tree Linux gets and takes the UEFI memory map; iomem shows real
    /// addresses to root only). Empty when neither says.
    static func hostRAM(_ tree: DeviceTree, treePath: String, iomemPath: String) -> (ranges: [PhysicalRange], source: String) {
        var ranges: [PhysicalRange] = []
        for n in tree.allNodes where tree.property("device_type", of: n)?.string == "memory" && tree.isEnabled(n) {
            if case .mmio(let r) = (try? tree.deviceAddress(of: n)) ?? .none { ranges += r.filter { $0.size > 0 } }
        }
        if !ranges.isEmpty { return (ranges, "/memory in \(treePath)") }
        guard let text = try? Files.readText(iomemPath) else { return ([], "") }
        for line in text.split(separator: "\n") where !line.hasPrefix(" ") {
            let parts = line.split(separator: ":", maxSplits: 1)
            guard parts.count == 2, parts[1].trimmingSpaces == "System RAM" else { continue }
            let bounds = parts[0].trimmingSpaces.split(separator: "-")
            guard bounds.count == 2, let first = UInt64(bounds[0], radix: 16), let last = UInt64(bounds[1], radix: 16),
                  last > first else { continue }
            ranges.append(PhysicalRange(base: first, size: last - first + 1))
        }
        return (ranges, "System RAM in \(iomemPath)")
    }

    /// `0x10000000 (256 MiB)`.
    static func bytes(_ v: UInt64) -> String {
        let mib: UInt64 = 0x10_0000
        if v >= 1024 * mib && v % (1024 * mib) == 0 { return "\(hex(v)) (\(v / (1024 * mib)) GiB)" }
        return v % mib == 0 ? "\(hex(v)) (\(v / mib) MiB)" : hex(v)
    }
}

extension PassthroughDevice {
    /// The device as carving recorded it.
    init(_ record: DeviceRecord) {
        self.init(label: record.label, path: record.path, compatible: record.compatible,
                  mmio: record.mmio.map { (base: $0.base, size: $0.size) },
                  interrupts: record.interrupts.map { Interrupt(intid: $0.intid, level: $0.isLevel) },
                  method: record.passthrough, interruptMethod: record.interruptMethod, allowUnbind: record.allowUnbind)
    }
}

extension Substring {
    /// Without leading and trailing spaces and tabs.
    fileprivate var trimmingSpaces: Substring {
        var s = self
        while let c = s.first, c == " " || c == "\t" { s.removeFirst() }
        while let c = s.last, c == " " || c == "\t" { s.removeLast() }
        return s
    }
}
