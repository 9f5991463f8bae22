import CLinux
import Syscalls

/// The host's device object for a board-tree node: its bus (platform, or amba
/// for "arm,primecell" nodes) and name in /sys/bus/<bus>/devices, found by
/// comparing each device's `of_node` link with the node in
/// /sys/firmware/devicetree/base.
public struct HostDevice: Equatable, CustomStringConvertible {
    public var bus: String
    public var name: String

    public var sysfs: String { "/sys/bus/\(bus)/devices/\(name)" }
    public var description: String { "\(bus):\(name)" }

    /// The driver bound now, if any.
    public var driver: String? { Sysfs.linkName(sysfs + "/driver") }

    public static func find(treePath: String) -> HostDevice? {
        guard let node = Sysfs.realpath("/sys/firmware/devicetree/base" + treePath) else { return nil }
        for bus in ["platform", "amba"] {
            for name in Sysfs.list("/sys/bus/\(bus)/devices") where Sysfs.realpath("/sys/bus/\(bus)/devices/\(name)/of_node") == node {
                return HostDevice(bus: bus, name: name)
            }
        }
        return nil
    }

    /// Binds the device to `driver` with driver_override (Documentation/ABI/
    /// testing/sysfs-bus-platform): unbinding a host driver first only when
    /// `allowUnbind`. Returns the driver it had before ("" for none).
    func bind(to target: String, allowUnbind: Bool) throws(PassthroughError) -> String {
        let before = driver ?? ""
        if before == target { return before }
        guard Sysfs.exists("/sys/bus/\(bus)/drivers/\(target)") else {
            throw .unavailable("no \(target) driver on the \(bus) bus (load the module)")
        }
        if !before.isEmpty {
            guard allowUnbind else {
                throw .refused("\(self) is bound to the host driver \(before); add allow-unbind to the plan's device node to let the supervisor unbind it")
            }
            try Sysfs.write(sysfs + "/driver/unbind", name)
        }
        try Sysfs.write(sysfs + "/driver_override", target)
        try Sysfs.write("/sys/bus/\(bus)/drivers/\(target)/bind", name)
        guard driver == target else { throw .unavailable("\(self): \(target) did not bind it") }
        return before
    }

    /// Undoes `bind`: unbinds whatever holds the device, clears driver_override
    /// and rebinds `original` when there was one. Best effort; returns what
    /// failed, and whether it is done: not when another process holds the
    /// device through VFIO (the unbind would wait for it without bound), in
    /// which case it is left bound as it is.
    func restore(original: String) -> (problems: [String], done: Bool) {
        var problems: [String] = []
        func attempt(_ path: String, _ text: String) {
            do throws(PassthroughError) { try Sysfs.write(path, text) } catch { problems.append("\(error)") }
        }
        if let d = driver, d != original {
            if d.hasPrefix("vfio"), let blocker = vfioUnbindBlocker(driver: d) { return ([blocker], false) }
            attempt(sysfs + "/driver/unbind", name)
        }
        attempt(sysfs + "/driver_override", "\n")
        if !original.isEmpty && driver != original { attempt("/sys/bus/\(bus)/drivers/\(original)/bind", name) }
        return (problems, true)
    }

    /// Why the device must not be unbound from its VFIO driver now, or nil
    /// (`VFIOUnbindDecision`): its group is opened and closed again to see
    /// whether another process holds it.
    func vfioUnbindBlocker(driver: String) -> String? {
        guard let number = Sysfs.linkName(sysfs + "/iommu_group") else { return nil }
        guard let path = VFIOGroup.paths(number).first(where: { Sysfs.exists($0) }) else { return nil }
        var busy = false
        do throws(Errno) { _ = try FileDescriptor(opening: path, O_RDWR) } catch { busy = error.rawValue == EBUSY }
        let holders = busy ? FileHolders.pids(holding: path) : []
        let what = "\(self) is not unbound from \(driver)"
        let advice = "stop it, then start the guest again (or unbind the device by hand): the kernel's unbind would wait for it without bound"
        switch VFIOUnbindDecision.decide(groupBusy: busy, holders: holders, own: cleave_getpid()) {
        case .unbind: return nil
        case .heldBy(let pids):
            return "\(what): VFIO group \(number) is open in \(pids.map(FileHolders.describe).joined(separator: ", ")); \(advice)"
        }
    }
}
