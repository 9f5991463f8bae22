import CLinux
import Syscalls

/// Durations of the phases of a guest's start, for one `timing` log line
/// (`<phase>_ms=<ms>/<faults>pf`): where the time from exec to the first guest
/// instruction goes (issue 3 benchmark, target < 20 ms). The minor page faults
/// per phase tell a phase's own work from first touches of memory.
struct PhaseTimer {
    private var last = Clock.monotonic
    private var lastFaults = cleave_minor_faults()
    private(set) var text = ""

    /// Ends the current phase, naming it.
    mutating func mark(_ phase: String) {
        let now = Clock.monotonic
        let faults = cleave_minor_faults()
        text += (text.isEmpty ? "" : " ") + phase + "_ms=" + milliseconds(now - last) + "/\(faults - lastFaults)pf"
        last = now
        lastFaults = faults
    }
}
