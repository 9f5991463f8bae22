import CLinux
import Syscalls

/// One VMM per guest: /run/cleave/NAME.vmm.lock, an exclusive flock held for
/// the VMM's whole run with its pid written in place (`FileLock`), taken
/// before the VMM touches the guest's RAM, devices, SPIs or console socket.
///
/// A VMM killed with SIGKILL gives those back only when its last thread has
/// closed its files (docs/kernel-facts.md §33): its leader is a zombie, and
/// its lock may already be free, while another thread still closes the VM,
/// the VFIO devices, the forwardings and the console socket. A VMM of the
/// same guest started in that window (an init system restarting a killed
/// service at once, or `cleave-boot boot --guest` run again) would find
/// them busy (§34 has what it found). So a starting VMM reads the last
/// holder's pid from the file and, while that process is exiting, waits for
/// its whole thread group to be gone (`ProcessExitWatch`: the kernel says
/// when, no polling), up to `bound`, and logs one line with what it waited
/// for and how long. A holder that is not exiting is another live VMM of
/// the guest: a setup error naming its pid. Nothing is taken before the
/// wait, so a VMM killed during it leaves nothing to undo. The lock is kept
/// until the process ends (the kernel drops it with the process's other
/// files): given back earlier, it would be free while Swift may still hold
/// the RAM or a VM of the run.
enum VMMLock {
    /// How long a starting VMM waits for a killed one of its guest. §33
    /// measured every killed VMM done within 0.40 s of its kill under
    /// nested emulation with busy CPUs (1.06 s once, while the board forked
    /// a slow dump), §34 within 1.00 s with its guest's new VMMs starting
    /// beside it; 5 s is over four times the worst, far below the
    /// service's 10 s from SIGTERM to SIGKILL and an init system's start
    /// timeouts. A VMM still exiting after it is stuck in the kernel (or
    /// dumping a core slowly), which waiting longer would not mend.
    static let bound: UInt64 = 5_000_000_000

    static let directory = "/run/cleave"

    /// The locks this process took, by path; never released (above). Only
    /// the supervising thread takes one, once per run.
    private static var kept: [(path: String, lock: FileLock)] = []

    /// Takes the guest's lock and keeps it until the process ends, waiting
    /// (bounded) for a killed predecessor to finish exiting first. Logged
    /// and skipped when the lock file cannot be made: the VMM then runs
    /// unguarded, as before the lock existed. A lock this process already
    /// holds is not taken again. `directory` and `bound`: other than the
    /// defaults only in tests.
    static func take(guest: String, directory: String = VMMLock.directory, bound: UInt64 = VMMLock.bound) throws(SupervisorError) {
        let path = "\(directory)/\(guest).vmm.lock"
        if kept.contains(where: { $0.path == path }) { return }
        if let lock = try acquire(guest: guest, directory: directory, path: path, bound: bound) { kept.append((path, lock)) }
    }

    private static func acquire(guest: String, directory: String, path: String, bound: UInt64) throws(SupervisorError) -> FileLock? {
        if directory == VMMLock.directory {
            _ = "/run".withCString { cleave_mkdir($0, 0o755) }
            _ = directory.withCString { cleave_mkdir($0, 0o700) }
        }
        let start = Clock.monotonic
        let deadline = start + bound
        var waited: (pid: Int32, state: ProcessExitState)? = nil
        while true {
            // The last holder's pid, read before taking the lock overwrites it.
            let last = Sysfs.read(path).flatMap { Int32($0) }
            var lock: FileLock? = nil
            var holder = last
            do throws(FileLock.Failure) { lock = try FileLock(taking: path) } catch {
                switch error {
                case .held(_, let pid): holder = pid
                case .system:
                    Log.write(.warning, guest, "vmm-lock", "error=\"\(error)\": starting without the one-VMM-per-guest lock (a VMM of this guest killed just before may still hold its devices)")
                    return nil
                }
            }
            let me = cleave_getpid()
            let state: ProcessExitState = holder.map { $0 == me ? .gone : ProcessExitState.read(pid: $0) } ?? .gone
            switch PredecessorDecision.decide(lockHeld: lock == nil, state: state, now: Clock.monotonic, deadline: deadline) {
            case .proceed:
                if let (pid, first) = waited {
                    Log.write(.info, guest, "predecessor", "waited_ms=\(milliseconds(Clock.monotonic - start)) pid=\(pid) was=\"\(first)\" now=\"\(state)\" for=\"the last VMM of guest \(guest), killed and still exiting, to give back its RAM, devices, forwarded SPIs and console socket\"")
                }
                return lock
            case .retake:
                Clock.sleep(nanoseconds: 1_000_000)
            case .wait(let ms):
                guard let pid = holder else { continue }
                if waited == nil { waited = (pid, state) }
                try waitForExit(pid: pid, milliseconds: ms, guest: guest)
            case .refuseLive:
                throw .configuration("guest \(guest): another VMM of it holds \(path)"
                    + (holder.map { " (pid \($0), \(state))" } ?? "")
                    + ": one VMM per guest. Stop it first (cleave-boot stop \(guest) under the service"
                    + (holder.map { ", or kill \($0)" } ?? "") + ")")
            case .refuseStillExiting:
                let pid = holder.map(String.init) ?? "?"
                throw .configuration("guest \(guest): the last VMM of it, pid \(pid), is still \(state) \(milliseconds(Clock.monotonic - start)) ms after this start (bound \(milliseconds(bound)) ms): the kernel has not given back its RAM, devices, forwarded SPIs and console socket yet. Its threads' kernel stacks (/proc/\(pid)/task/*/stack) say where it waits; start the guest again once /proc/\(pid) is gone")
            }
        }
    }

    /// Waits up to `milliseconds` for `pid`'s thread group to be gone. A
    /// SIGTERM or SIGINT ends the wait (the start is given up: nothing is
    /// taken yet).
    private static func waitForExit(pid: Int32, milliseconds ms: Int32, guest: String) throws(SupervisorError) {
        switch ProcessExitWatch.open(pid: pid) {
        case .failure(let e) where e.rawValue == ESRCH:
            return
        case .failure:
            // No pidfd (a kernel before 5.3): look at the state again in 10 ms.
            Clock.sleep(nanoseconds: 10_000_000)
        case .success(let watch):
            if case .failure(let e) = watch.wait(milliseconds: ms), e.rawValue != EINTR {
                throw .system("poll of a pidfd of pid \(pid), the last VMM of guest \(guest)", e)
            }
        }
        if let signal = Signals.received {
            throw .configuration("guest \(guest): signal \(signal) while waiting for the last VMM of the guest, pid \(pid), to finish exiting: not started")
        }
    }
}
