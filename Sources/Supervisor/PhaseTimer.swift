import CLinux
import Syscalls

/// Durations of the phases of a guest's start, for one `timing` log line
/// (`<phase>_ms=<ms>/<faults>pf`): where the time from exec to the first guest
/// instruction goes (issue 3 benchmark, target < 20 ms). The minor page faults
/// per phase tell a phase's own work from first touches of memory.
/// A mark reads the clock and, when counting faults, the fault count (one
/// getrusage: a syscall, which a restart's path does without); `text`
/// formats them, after the timed work.
struct PhaseTimer {
    private let countingFaults: Bool
    private var start: (at: UInt64, faults: Int)
    private var marks: [(phase: String, at: UInt64, faults: Int)] = []

    init(countingFaults: Bool = true) {
        self.countingFaults = countingFaults
        start = (Clock.monotonic, countingFaults ? cleave_minor_faults() : 0)
        marks.reserveCapacity(10)
    }

    /// Ends the current phase, naming it.
    mutating func mark(_ phase: String) {
        marks.append((phase, Clock.monotonic, countingFaults ? cleave_minor_faults() : 0))
    }

    var text: String {
        var text = ""
        var last = start
        for m in marks {
            text += (text.isEmpty ? "" : " ") + m.phase + "_ms=" + milliseconds(m.at - last.at) + (countingFaults ? "/\(m.faults - last.faults)pf" : "")
            last = (m.at, m.faults)
        }
        return text
    }
}
