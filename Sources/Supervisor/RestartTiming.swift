import Syscalls

/// Where the time of one restart goes, from the vCPU exit that ended the
/// last boot (a PSCI SYSTEM_RESET, or the outcome a restart policy acts on)
/// to the next boot's first KVM_RUN, all of it supervisor time: `wake` (the
/// supervising thread sees the outcome), `vcpus` (every vCPU stopped and
/// its loop returned), `stop` (the last boot's lines and files), `scrub`
/// (zeroing the RAM, `RAMScrub.zero`), `standby` (the VM built ahead
/// taken, `StandbyVM.take`), `machine` (images and tree loaded, the boot
/// registers when the standby's do not fit, the emulated devices: `GuestMachine`), `attach`
/// (passthrough and GPIO into the new VM), `ready` (status file, boot line,
/// control lines) and `enter` (until vCPU 0's thread, handed its loop, is
/// pinned and about to enter the guest). The supervising thread logs it as
/// the `restarted` line (`restart_us=`, the harness's restart bench;
/// docs/kernel-facts.md §31) once the guest runs.
///
/// A mark only reads the clock: the line is formatted after the guest
/// entered, off the restart's path.
struct RestartTiming {
    let endedAt: UInt64
    let after: Outcome
    /// The boot this restart leads to.
    let boot: Int
    private var marks: [(phase: String, at: UInt64)] = []

    init(endedAt: UInt64, after: Outcome, boot: Int) {
        self.endedAt = endedAt
        self.after = after
        self.boot = boot
        marks.reserveCapacity(12)
    }

    /// Ends the current phase, naming it.
    mutating func mark(_ phase: String, at now: UInt64 = Clock.monotonic) {
        marks.append((phase, now))
    }

    /// The line's detail: the whole restart as `restart_us` (to
    /// `enteredAt`, vCPU 0's entry into the guest), then each phase's share.
    func text(enteredAt: UInt64) -> String {
        var last = endedAt
        var phases = ""
        for (phase, at) in marks + [("enter", enteredAt)] {
            phases += " " + phase + "_us=\(microseconds(at, since: last))"
            last = max(last, at)
        }
        return "n=\(boot) after=\"\(after)\" restart_us=\(microseconds(enteredAt, since: endedAt))" + phases
    }

    private func microseconds(_ t: UInt64, since start: UInt64) -> UInt64 {
        t > start ? (t - start) / 1000 : 0
    }
}
