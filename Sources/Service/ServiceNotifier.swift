import CLinux
import Supervisor
import Syscalls

/// sd_notify(3) without libsystemd: datagrams to the unix socket named by
/// $NOTIFY_SOCKET (`READY=1`, `STATUS=...`, `WATCHDOG=1`, `STOPPING=1`), and
/// the watchdog period from $WATCHDOG_USEC (pinged at half of it, as
/// sd_watchdog_enabled(3) advises; ignored when $WATCHDOG_PID names another
/// process). Without $NOTIFY_SOCKET every call does nothing.
final class ServiceNotifier {
    private let socket: String?
    /// Nanoseconds between WATCHDOG=1 pings, nil without a watchdog.
    let watchdogInterval: UInt64?
    private var lastPing: UInt64 = 0
    private var lastStatus = ""
    private(set) var ready = false

    init() {
        socket = Environment.value("NOTIFY_SOCKET").flatMap { $0.isEmpty ? nil : $0 }
        var interval: UInt64? = nil
        if let usec = Environment.value("WATCHDOG_USEC").flatMap({ UInt64($0) }), usec > 0 {
            let pid = Environment.value("WATCHDOG_PID").flatMap { Int32($0) }
            if pid == nil || pid == ChildProcess.currentID { interval = usec * 1000 / 2 }
        }
        watchdogInterval = socket == nil ? nil : interval
    }

    var enabled: Bool { socket != nil }

    func send(_ message: String) {
        guard let socket else { return }
        let bytes = Array(message.utf8)
        let r = socket.withCString { s in bytes.withUnsafeBytes { cleave_notify(s, $0.baseAddress, $0.count) } }
        if r < 0 { Log.write(.warning, "service", "notify", "socket=\(socket) message=\"\(message)\" error=\(Errno(-r))") }
    }

    func readyOnce(status: String) {
        guard !ready else { return }
        ready = true
        lastStatus = status
        send("READY=1\nSTATUS=\(status)")
    }

    func status(_ line: String) {
        guard line != lastStatus else { return }
        lastStatus = line
        send("STATUS=\(line)")
    }

    /// Pings when half the watchdog period has passed since the last ping.
    func tick(now: UInt64) {
        guard let interval = watchdogInterval, now &- lastPing >= interval else { return }
        lastPing = now
        send("WATCHDOG=1")
    }
}
