import Syscalls

/// Where the time of one restart goes, from the vCPU exit that ended the
/// last boot (a PSCI SYSTEM_RESET, or the outcome a restart policy acts on)
/// to the next boot's first KVM_RUN, all of it supervisor time: `stop` (the
/// vCPUs stopped and their loops returned, the last boot's lines and
/// files), `scrub` (zeroing the RAM, `RAMScrub.zero`), `machine` (images and
/// tree loaded, a new VM, vCPUs, vGIC and memory slots: `GuestMachine`),
/// `attach` (passthrough and GPIO into the new VM), `ready` (status file,
/// boot line, control lines) and `enter` (until vCPU 0's thread, handed its
/// loop, is pinned and about to run). vCPU 0 logs it as the `restarted`
/// line (`restart_us=`, the harness's restart bench; docs/kernel-facts.md §31).
struct RestartTiming {
    let endedAt: UInt64
    let after: Outcome
    /// The boot this restart leads to.
    let boot: Int
    private var last: UInt64
    private(set) var phases = ""

    init(endedAt: UInt64, after: Outcome, boot: Int) {
        self.endedAt = endedAt
        self.after = after
        self.boot = boot
        last = endedAt
    }

    /// Ends the current phase, naming it.
    mutating func mark(_ phase: String) {
        let now = Clock.monotonic
        phases += (phases.isEmpty ? "" : " ") + phase + "_us=\((now - last) / 1000)"
        last = now
    }

    /// The line's detail, with the time so far as `restart_us` (at the first KVM_RUN).
    mutating func text() -> String {
        mark("enter")
        return "n=\(boot) after=\"\(after)\" restart_us=\((last - endedAt) / 1000) \(phases)"
    }
}
