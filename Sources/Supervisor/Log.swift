import Syscalls

/// Structured log lines on stderr, the same shape as the CLI's swift-log
/// output: `<program>: <level> guest=<name> event=<event> <key=value...>`.
public enum Log {
    public enum Level: String { case info, warning, error }

    /// The binary that runs, first on every line: `cleave-boot`, or `cleave`
    /// for the CLI's run and boot. Set once at start, before any thread.
    public static var program = "cleave-boot"

    public static func write(_ level: Level, _ guest: String, _ event: String, _ detail: String = "") {
        var line = "\(program): \(level.rawValue) guest=\(guest) event=\(event)"
        if !detail.isEmpty { line += " " + detail }
        line += "\n"
        let bytes = Array(line.utf8)
        bytes.withUnsafeBytes { StandardStream.write(StandardStream.error, $0) }
    }
}

/// Milliseconds with two decimals, for timing lines.
public func milliseconds(_ nanoseconds: UInt64) -> String {
    let hundredths = nanoseconds / 10_000
    let fraction = hundredths % 100
    return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
}
