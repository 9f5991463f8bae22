import DeviceTree
import GuestMemory
import KVM
import Syscalls

/// Reads guest configurations from a host tree that `cleave carve` wrote
/// (binding `cleave,partitions-v1`, Boards/README.md): /chosen/cleave/<name>
/// carries the plan's properties (cpus, memory-size, memory-base,
/// hugepage-size, kernel, initrd, bootargs, restart, max-restarts), the
/// virtual console's console-base/console-spi, the assigned devices' MMIO
/// windows, and `guest-dtb`, the tree to finalise at boot.
public enum CarvedGuest {
    /// The guest named `guest` (or the first one) of the host tree at `treePath`.
    public static func configuration(treePath: String, guest: String?) throws(SupervisorError) -> GuestConfiguration {
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
        guard let kernel = string("kernel") else { throw .configuration("\(path): no kernel") }
        guard let dtb = tree.property("guest-dtb", of: node)?.bytes else { throw .configuration("\(path): no guest-dtb") }
        let guestTree: DeviceTree
        do throws(DeviceTreeError) { guestTree = try DeviceTree(bytes: dtb) } catch {
            throw .configuration("\(path)/guest-dtb: \(error)")
        }
        let gic = try BoardGIC.of(tree, source: treePath)
        var config = GuestConfiguration(name: name, hostCPUs: cpus.map { Int($0) }, memorySize: memory,
                                        kernelPath: kernel, gic: gic)
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
        if let base = number("console-base") { config.consoleBase = base }
        if let spi = tree.property("console-spi", of: node)?.u32 { config.consoleINTID = spi + 32 }
        if let devices = tree.child(of: node, named: "devices") {
            config.passthroughDevices = try passthroughDevices(tree, devices: devices)
        }
        if let c = string("console"), c != "virtual" {
            throw .configuration("\(path): console '\(c)' (a passed-through UART) is not supported yet; use \"virtual\"")
        }
        return config
    }

    static func readTree(_ path: String, what: String) throws(SupervisorError) -> DeviceTree {
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
