import DeviceTree
import GuestMemory
import KVM
import Platform
import Syscalls

/// Reads guest configurations from a host tree that `cleave carve` wrote
/// (binding `cleave,partitions-v1`, Boards/README.md): /chosen/cleave/<name>
/// carries the plan's properties (cpus, memory-size, memory-base,
/// hugepage-size, kernel, initrd, bootargs, restart, max-restarts), the
/// virtual console's console-base/console-spi, the assigned devices' MMIO
/// windows, and `guest-dtb`, the tree to finalise at boot.
public enum CarvedGuest {
    /// The guest named `guest` (or the first one) of the host tree at `treePath`.
    /// Refuses a guest whose RAM the host cannot hold (`checkMemory`);
    /// `iomemPath` is where the host's RAM is read when the tree has no
    /// /memory (a seam for tests).
    public static func configuration(treePath: String, guest: String?,
                                     iomemPath: String = "/proc/iomem") throws(SupervisorError) -> GuestConfiguration {
        let tree = try readTree(treePath, what: "host tree")
        guard let partitions = tree.lookup(path: "/chosen/cleave"),
              tree.isCompatible(partitions, with: "cleave,partitions-v1") else {
            throw .configuration("\(treePath) has no /chosen/cleave (compatible \"cleave,partitions-v1\"): boot the host with the tree `cleave carve` wrote")
        }
        let guests = tree.children(of: partitions)
        guard let node = guest.map({ g in guests.first { tree.name(of: $0) == g } }) ?? guests.first else {
            throw .configuration("no guest \(guest ?? "") under /chosen/cleave (have: \(guests.map { tree.name(of: $0) }.joined(separator: ", ")))")
        }
        let name = tree.name(of: node)
        let path = tree.path(of: node)
        func string(_ p: String) -> String? { tree.property(p, of: node)?.string }
        func number(_ p: String) -> UInt64? { tree.property(p, of: node)?.u64 }

        guard let cpus = tree.property("cpus", of: node)?.cells, !cpus.isEmpty else { throw .configuration("\(path): no cpus") }
        guard let memory = number("memory-size") else { throw .configuration("\(path): no memory-size") }
        try checkMemory(tree, guests: guests, booting: node, treePath: treePath, iomemPath: iomemPath)
        guard let kernel = string("kernel") else { throw .configuration("\(path): no kernel") }
        guard let dtb = tree.property("guest-dtb", of: node)?.bytes else { throw .configuration("\(path): no guest-dtb") }
        let guestTree: DeviceTree
        do throws(DeviceTreeError) { guestTree = try DeviceTree(bytes: dtb) } catch {
            throw .configuration("\(path)/guest-dtb: \(error)")
        }
        let gic = try BoardGIC.of(tree, source: treePath)
        if let c = string("console"), c != "virtual" {
            throw .configuration("\(path): console '\(c)' (a passed-through UART) is not supported yet; use \"virtual\"")
        }
        guard let consoleBase = number("console-base"), let consoleSPI = tree.property("console-spi", of: node)?.u32 else {
            throw .configuration("\(path): no console-base and console-spi (the virtual console's page and SPI): carve again")
        }
        var config = GuestConfiguration(name: name, hostCPUs: cpus.map { Int($0) }, memorySize: memory,
                                        kernelPath: kernel, gic: gic,
                                        consoleBase: consoleBase, consoleINTID: consoleSPI + GICCells.firstSPI)
        config.tree = .carved(guestTree)
        config.initrdPath = string("initrd")
        config.bootargs = string("bootargs")
        config.fixedBase = number("memory-base")
        if let s = number("hugepage-size") {
            guard let p = HugePageSize(bytes: s) else { throw .configuration("\(path): hugepage-size \(hex(s)) is not 2M, 32M or 1G") }
            config.pageSize = p
        }
        if let r = string("restart") {
            guard let p = RestartPolicy(rawValue: r) else { throw .configuration("\(path): restart '\(r)'") }
            config.restart = p
        }
        if let m = number("max-restarts") { config.maxRestarts = Int(m) }
        if let devices = tree.child(of: node, named: "devices") {
            config.passthroughDevices = try passthroughDevices(tree, devices: devices)
        }
        return config
    }

    /// The host keeps at least this much RAM, as `cleave check` requires
    /// (memory-too-large).
    static let hostMinimumRAM: UInt64 = 0x800_0000   // 128 MiB

    /// A board tree without /memory passes `cleave check` with any
    /// memory-size (memory-unknown): the guests' RAM is checked here, against
    /// the RAM the host has. Throws naming the guest, the size asked, the RAM
    /// and where it was read, and the largest memory-size that would fit.
    static func checkMemory(_ tree: DeviceTree, guests: [Node], booting node: Node, treePath: String,
                            iomemPath: String) throws(SupervisorError) {
        let (ram, source) = hostRAM(tree, treePath: treePath, iomemPath: iomemPath)
        guard !ram.isEmpty else { return }   // nothing says how much: hugepage allocation will tell
        let total = ram.reduce(UInt64(0)) { $0 &+ $1.size }
        let name = tree.name(of: node)
        let size = tree.property("memory-size", of: node)?.u64 ?? 0
        var others: UInt64 = 0
        var otherNames: [String] = []
        for g in guests where g != node {
            let s = tree.property("memory-size", of: g)?.u64 ?? 0
            others &+= s
            otherNames.append("'\(tree.name(of: g))' \(bytes(s))")
        }
        let asked = size &+ others
        guard asked < size || asked > total || total - asked < hostMinimumRAM else { return }
        let page = tree.property("hugepage-size", of: node)?.u64 ?? 0x20_0000
        let room = total > others &+ hostMinimumRAM ? total - others - hostMinimumRAM : 0
        let fits = page > 0 ? room / page * page : room
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

    public static func readTree(_ path: String, what: String) throws(SupervisorError) -> DeviceTree {
        let bytes: [UInt8]
        do throws(Errno) { bytes = try Files.read(path, limit: 1 << 26) } catch {
            throw .system("reading the \(what) \(path)", error)
        }
        do throws(DeviceTreeError) { return try DeviceTree(bytes: bytes) } catch {
            throw .configuration("\(what) \(path): \(error)")
        }
    }
}

/// The vGIC matches the board's GIC, at its addresses (GICv2: GICD, GICC;
/// GICv3: GICD, first GICR region).
public enum BoardGIC {
    public static func of(path: String) throws(SupervisorError) -> GIC {
        try of(CarvedGuest.readTree(path, what: "board tree"), source: path)
    }

    public static func of(_ tree: DeviceTree, source path: String) throws(SupervisorError) -> GIC {
        guard let gic = tree.gic(), gic.regions.count >= 2 else {
            throw .configuration("board tree \(path): no GIC with two register windows")
        }
        switch gic.version {
        case .v2: return .v2(distributor: gic.regions[0].base, cpuInterface: gic.regions[1].base)
        case .v3: return .v3(distributor: gic.regions[0].base, redistributor: gic.regions[1].base)
        }
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
