import CLinux
import Syscalls

/// Structured log lines on stderr, the same shape as the CLI's swift-log
/// output: `<program>: <level> guest=<name> event=<event> <key=value...>`;
/// and, once `enableKmsg` succeeded (`start --kmsg`, `boot --kmsg`), the
/// same line in the kernel's log (`KmsgLine`).
public enum Log {
    public enum Level: String { case info, warning, error }

    /// The binary that runs, first on every line: `cleave-boot`, or `cleave`
    /// for the CLI's run and boot. Set once at start, before any thread.
    public static var program = "cleave-boot"

    /// /dev/kmsg open for writing, -1 when not asked. Set once at start,
    /// before any thread; held until the process exits (one write per line:
    /// the kernel takes each write as one record, so threads do not mix).
    private static var kmsg: Int32 = -1

    public static func write(_ level: Level, _ guest: String, _ event: String, _ detail: String = "") {
        let line = format(level, guest, event, detail)
        lock.withLock {
            if level == .info && waits {
                waiting.append(.line(level, line))
                return
            }
            emitWaiting()
            emit(level, line)
        }
    }

    /// Whether an info line waits: while held, behind lines that wait, and
    /// while the guest's console is in the middle of a line (up to
    /// `maximumWaiting` lines: a guest that never ends its line does not
    /// hold the log back without bound). Under `lock`.
    private static var waits: Bool {
        holding || (!waiting.isEmpty || consoleMidLine) && waiting.count < maximumWaiting
    }
    static let maximumWaiting = 256

    /// `write` for a line on a restart's path: while info lines are held
    /// (`hold`), `detail` runs when the line is written, not now, so that
    /// not even its formatting is paid between a guest's reset and its next
    /// first instruction. `detail` must capture the values it shows (not
    /// variables that change meanwhile) and must not log.
    public static func writeLater(_ level: Level, _ guest: String, _ event: String, _ detail: @escaping () -> String) {
        let held = lock.withLock {
            guard level == .info && waits else { return false }
            waiting.append(.later(level, guest, event, detail))
            return true
        }
        if !held { write(level, guest, event, detail()) }
    }

    private static func format(_ level: Level, _ guest: String, _ event: String, _ detail: String) -> String {
        var line = "\(program): \(level.rawValue) guest=\(guest) event=\(event)"
        if !detail.isEmpty { line += " " + detail }
        return line
    }

    /// Lines held back on a restart's critical path, and around each boot's
    /// start. From `hold` to `release` info lines wait in memory, so the log's
    /// cost (a serial console on the emulated board: about a millisecond a
    /// line) is not paid between a guest's reset and its next first
    /// instruction (docs/kernel-facts.md §31). Once released they are written
    /// at the console's next line start (the guest's output shares the
    /// terminal, `console`): a supervisor line never splits a guest's line;
    /// an info line written while the guest's console is mid-line waits for
    /// its next line start too. Later info lines queue behind them; a warning or error writes them,
    /// then itself, at once; `finish` writes what is left. Nothing is dropped.
    /// One lock orders the log and the console's bytes.
    private static let lock = Lock()
    private static var holding = false
    private static var waiting: [Held] = []
    /// A line waiting: formatted, or formatted when written (`writeLater`).
    private enum Held {
        case line(Level, String)
        case later(Level, String, String, () -> String)
    }
    /// The console's last byte was not a newline.
    private static var consoleMidLine = false

    /// Holds info lines back until `release`.
    public static func hold() {
        lock.withLock { holding = true }
    }

    /// Stops holding: the held lines go out now if the console is at a line
    /// start, else just after its next newline.
    public static func release() {
        lock.withLock {
            holding = false
            if !consoleMidLine { emitWaiting() }
        }
    }

    /// One byte of the guest's console on stdout; the lines waiting for a
    /// line start follow a newline.
    public static func console(_ byte: UInt8) {
        lock.withLock {
            StandardStream.write(StandardStream.output, byte)
            consoleMidLine = byte != 0x0a
            if !consoleMidLine && !holding { emitWaiting() }
        }
    }

    /// The console is done (the guest's vCPUs have stopped for good): writes
    /// every waiting line.
    public static func finish() {
        lock.withLock {
            holding = false
            consoleMidLine = false
            emitWaiting()
        }
    }

    /// Under `lock`.
    private static func emitWaiting() {
        for held in waiting {
            switch held {
            case .line(let level, let line): emit(level, line)
            case .later(let level, let guest, let event, let detail): emit(level, format(level, guest, event, detail()))
            }
        }
        waiting = []
    }

    /// One line to stderr and, when enabled, to the kernel's log. Under `lock`.
    private static func emit(_ level: Level, _ line: String) {
        let bytes = Array((line + "\n").utf8)
        bytes.withUnsafeBytes { StandardStream.write(StandardStream.error, $0) }
        if kmsg >= 0 {
            let record = KmsgLine(level: level, text: line).bytes
            _ = record.withUnsafeBytes { cleave_write(kmsg, $0.baseAddress, $0.count) }
        }
    }

    /// Opens /dev/kmsg so every later line also goes to the kernel's log;
    /// on failure says so on stderr and goes on without it.
    public static func enableKmsg(path: String = "/dev/kmsg") {
        guard kmsg < 0 else { return }
        let fd = path.withCString { cleave_open($0, O_WRONLY | O_CLOEXEC | O_NONBLOCK, 0) }
        guard fd >= 0 else {
            write(.warning, "log", "kmsg", "path=\(path) error=\"\(Errno(-fd))\" (log lines go to stderr only)")
            return
        }
        kmsg = fd
    }
}

/// One log line as a /dev/kmsg record: the syslog level in angle brackets
/// (`<3>` error, `<4>` warning, `<6>` info; Documentation/ABI/testing/dev-kmsg),
/// then the line, which starts with the program's name as its tag, cut to
/// `maximumBytes` (the kernel refuses records over about 1 KiB) at a
/// character boundary with `...` and ended by one newline.
public struct KmsgLine {
    public static let maximumBytes = 900
    public let bytes: [UInt8]

    public init(level: Log.Level, text: String) {
        let prefix: String
        switch level {
        case .error: prefix = "<3>"
        case .warning: prefix = "<4>"
        case .info: prefix = "<6>"
        }
        var body = Array(text.utf8).map { $0 == 10 ? UInt8(ascii: " ") : $0 }
        let room = KmsgLine.maximumBytes - prefix.utf8.count - 1
        if body.count > room {
            var cut = room - 3
            // Not inside a UTF-8 sequence: back off continuation bytes (10xxxxxx).
            while cut > 0 && body[cut] & 0xc0 == 0x80 { cut -= 1 }
            body = Array(body[0..<cut]) + Array("...".utf8)
        }
        bytes = Array(prefix.utf8) + body + [10]
    }
}

/// Milliseconds with two decimals, for timing lines.
public func milliseconds(_ nanoseconds: UInt64) -> String {
    let hundredths = nanoseconds / 10_000
    let fraction = hundredths % 100
    return "\(hundredths / 100).\(fraction < 10 ? "0" : "")\(fraction)"
}
