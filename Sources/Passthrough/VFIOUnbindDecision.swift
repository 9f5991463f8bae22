/// Whether a device may be unbound from its VFIO driver now. The kernel's
/// unbind (vfio_unregister_group_dev) waits, without bound and past a first
/// signal uninterruptibly, until every fd of the device is closed; while a
/// device fd is open its group does not open (docs/kernel-facts.md §36).
/// Pure: `HostDevice.vfioUnbindBlocker` opens the group and reads /proc.
enum VFIOUnbindDecision: Equatable {
    /// Nobody holds it, only this process holds the group (its device fds
    /// are closed before the teardown unbinds: PassthroughSet.teardown), or
    /// the group is busy with no process holding its file: seen during
    /// this process's own teardown on nvhe (a reference of its own still
    /// being released), so it is not taken for another holder.
    case unbind
    /// Other processes have the group open: one of them may hold the
    /// device's fd, which the unbind would wait for without bound.
    case heldBy([Int32])

    /// `groupBusy`: opening the group failed with EBUSY; `holders`: the pids
    /// with the group's file open (/proc/PID/fd); `own`: this process.
    static func decide(groupBusy: Bool, holders: [Int32], own: Int32) -> VFIOUnbindDecision {
        guard groupBusy else { return .unbind }
        let others = holders.filter { $0 != own }
        return others.isEmpty ? .unbind : .heldBy(others)
    }
}
