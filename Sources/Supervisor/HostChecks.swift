import PartitionRecord
import Syscalls

/// What a carved guest's record says about the host that only the live host
/// can confirm, checked before anything is taken from it.
extension Supervisor {
    /// Where Linux lists its logical CPUs (docs/kernel-facts.md §20).
    static let cpuSysfs = "/sys/devices/system/cpu"

    /// `cpuSysfs` is a seam for tests.
    func checkHost(cpuSysfs: String = Supervisor.cpuSysfs) throws(SupervisorError) {
        try checkPinning(cpuSysfs: cpuSysfs)
    }

    /// vCPU i is pinned to host logical CPU `hostCPUs[i]`, a number the carve
    /// derived from the order of the cpu nodes in the tree it read, and
    /// recorded with that node's MPIDR. When the live host numbers its CPUs
    /// otherwise (another tree, a boot CPU not listed first), the pin would
    /// land on a core the host keeps: refuse, naming both MPIDRs. A CPU whose
    /// device-tree node Linux does not expose (ACPI, no `of_node`) is not checked.
    func checkPinning(cpuSysfs: String) throws(SupervisorError) {
        for (vcpu, cpu) in config.hostCPUs.enumerated() where vcpu < config.hostCPUMPIDRs.count {
            guard let cpu else { continue }
            let recorded = config.hostCPUMPIDRs[vcpu]
            let file = "\(cpuSysfs)/cpu\(cpu)/of_node/reg"
            guard let live = Supervisor.mpidr(file), live != recorded else { continue }
            throw .configuration("guest '\(config.name)': vCPU \(vcpu) is to run on host CPU \(cpu), which /chosen/cleave/\(config.name) records as MPIDR \(hex(recorded)) (cpu-mpidrs), but the live host's CPU \(cpu) has MPIDR \(hex(live)) (\(file)): the host numbers its logical CPUs differently from the tree that was carved; carve the plan again from the live tree (cleave carve /sys/firmware/fdt PLAN), or list in the plan's cpus the logical numbers of the cores you meant")
        }
    }

    /// A cpu node's `reg` as sysfs shows it: the MPIDR affinity in one or two
    /// big-endian cells. nil when unreadable or of another size.
    static func mpidr(_ file: String) -> UInt64? {
        guard let bytes = try? Files.read(file, limit: 64), bytes.count == 4 || bytes.count == 8 else { return nil }
        var value: UInt64 = 0
        for b in bytes { value = value << 8 | UInt64(b) }
        return value
    }
}
