import DeviceTree
import GuestMemory
import KVM
import Supervisor
import Syscalls

/// Reads one guest's configuration from /chosen/cleave/<name> of the host tree
/// (binding `cleave,partitions-v1`, Boards/README.md): the plan's properties
/// (cpus, memory-size, memory-base, hugepage-size, kernel, initrd, bootargs,
/// restart, max-restarts) and carve's `guest-dtb`.
enum CarvedGuest {
    static func configuration(treePath: String, guest: String?) throws(UsageError) -> GuestConfiguration {
        let bytes: [UInt8]
        do throws(Errno) { bytes = try Files.read(treePath, limit: 1 << 26) } catch {
            throw UsageError("cannot read the host tree \(treePath): \(error)")
        }
        let tree: DeviceTree
        do throws(DeviceTreeError) { tree = try DeviceTree(bytes: bytes) } catch {
            throw UsageError("host tree \(treePath): \(error)")
        }
        guard let partitions = tree.lookup(path: "/chosen/cleave"),
              tree.isCompatible(partitions, with: "cleave,partitions-v1") else {
            throw UsageError("\(treePath) has no /chosen/cleave (compatible \"cleave,partitions-v1\"): boot the host with the tree `cleave carve` wrote")
        }
        let guests = tree.children(of: partitions)
        guard let node = guest.map({ g in guests.first { tree.name(of: $0) == g } }) ?? guests.first else {
            throw UsageError("no guest \(guest ?? "") under /chosen/cleave (have: \(guests.map { tree.name(of: $0) }.joined(separator: ", ")))")
        }
        let name = tree.name(of: node)
        let path = tree.path(of: node)
        func string(_ p: String) -> String? { tree.property(p, of: node)?.string }
        func number(_ p: String) -> UInt64? { tree.property(p, of: node)?.u64 }

        guard let cpus = tree.property("cpus", of: node)?.cells, !cpus.isEmpty else { throw UsageError("\(path): no cpus") }
        guard let memory = number("memory-size") else { throw UsageError("\(path): no memory-size") }
        guard let kernel = string("kernel") else { throw UsageError("\(path): no kernel") }
        guard let dtb = tree.property("guest-dtb", of: node)?.bytes else { throw UsageError("\(path): no guest-dtb") }
        let guestTree: DeviceTree
        do throws(DeviceTreeError) { guestTree = try DeviceTree(bytes: dtb) } catch {
            throw UsageError("\(path)/guest-dtb: \(error)")
        }
        let gic = try RunCommand.boardGIC(tree: tree, source: treePath)
        var config = GuestConfiguration(name: name, hostCPUs: cpus.map { Int($0) }, memorySize: memory,
                                        kernelPath: kernel, gic: gic)
        config.tree = .carved(guestTree)
        config.initrdPath = string("initrd")
        config.bootargs = string("bootargs")
        config.fixedBase = number("memory-base")
        if let s = number("hugepage-size") {
            guard let p = HugePageSize(bytes: s) else { throw UsageError("\(path): hugepage-size \(hex(s)) is not 2M, 32M or 1G") }
            config.pageSize = p
        }
        if let r = string("restart") {
            guard let p = RestartPolicy(rawValue: r) else { throw UsageError("\(path): restart '\(r)'") }
            config.restart = p
        }
        if let m = number("max-restarts") { config.maxRestarts = Int(m) }
        if let base = number("console-base") { config.consoleBase = base }
        if let spi = tree.property("console-spi", of: node)?.u32 { config.consoleINTID = spi + 32 }
        if let devices = tree.child(of: node, named: "devices") {
            for device in tree.children(of: devices) {
                let cells = tree.property("reg", of: device)?.cells ?? []
                var i = 0
                while i + 4 <= cells.count {
                    config.deviceWindows.append((UInt64(cells[i]) << 32 | UInt64(cells[i + 1]),
                                                 UInt64(cells[i + 2]) << 32 | UInt64(cells[i + 3])))
                    i += 4
                }
            }
        }
        if let c = string("console"), c != "virtual" {
            throw UsageError("\(path): console '\(c)' (a passed-through UART) is not supported by this build; use \"virtual\"")
        }
        return config
    }
}
