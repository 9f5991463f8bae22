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
        var line = "\(program): \(level.rawValue) guest=\(guest) event=\(event)"
        if !detail.isEmpty { line += " " + detail }
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
