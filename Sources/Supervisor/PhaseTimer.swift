import Syscalls

/// Durations of the phases of a guest's start, for one `timing` log line
/// (`<phase>_ms=...`): where the time from exec to the first guest
/// instruction goes (issue 3 benchmark, target < 20 ms).
struct PhaseTimer {
    private var last = Clock.monotonic
    private(set) var text = ""

    /// Ends the current phase, naming it.
    mutating func mark(_ phase: String) {
        let now = Clock.monotonic
        text += (text.isEmpty ? "" : " ") + phase + "_ms=" + milliseconds(now - last)
        last = now
    }
}
