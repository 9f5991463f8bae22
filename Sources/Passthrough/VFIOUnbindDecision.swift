/// Whether a device may be unbound from its VFIO driver now. The kernel's
/// unbind (vfio_unregister_group_dev) waits, without bound and past a first
/// signal uninterruptibly, until every fd of the device is closed; a device
/// fd keeps its group's file open, so the group of a device that any
/// process holds does not open (docs/kernel-facts.md §36). Pure:
/// `HostDevice.vfioUnbindBlocker` opens the group and reads /proc.
enum VFIOUnbindDecision: Equatable {
    /// Nobody holds it, or only this process holds the group (its device
    /// fds are closed before the teardown unbinds: PassthroughSet.teardown).
    case unbind
    /// These processes have the group open.
    case heldBy([Int32])
    /// The group is busy and no process has it open in /proc: a process
    /// holds the device's fd and has closed its group fd.
    case heldThroughDeviceFD

    /// `groupBusy`: opening the group failed with EBUSY; `holders`: the pids
    /// with the group's file open (/proc/PID/fd); `own`: this process.
    static func decide(groupBusy: Bool, holders: [Int32], own: Int32) -> VFIOUnbindDecision {
        guard groupBusy else { return .unbind }
        let others = holders.filter { $0 != own }
        if !others.isEmpty { return .heldBy(others) }
        return holders.contains(own) ? .unbind : .heldThroughDeviceFD
    }
}
