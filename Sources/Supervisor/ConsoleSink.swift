import Syscalls

/// Where console output goes: the supervisor's stdout, byte by byte
/// (through `Log.console`, which keeps log lines from splitting its lines; or,
/// under the service, a bounded `ConsoleLog` file), the console socket's
/// history when there is one (`ConsoleServer`), and an
/// optional marker watch that logs the supervisor's clock the first time the
/// guest prints a given text (how benchmarks time "userspace reached").
final class ConsoleSink {
    private let lock = Lock()
    private let marker: [UInt8]
    private var window: [UInt8] = []
    private var markerSeen = false
    private let guest: String
    private let startTime: UInt64
    private let file: ConsoleLog?
    private let server: ConsoleServer?

    init(guest: String, marker: String?, startTime: UInt64, file: ConsoleLog? = nil, server: ConsoleServer? = nil) {
        self.file = file
        self.server = server
        self.guest = guest
        self.marker = marker.map { Array($0.utf8) } ?? []
        self.startTime = startTime
    }

    func put(_ byte: UInt8) {
        if let file { lock.withLock { file.put(byte) } } else { Log.console(byte) }
        server?.put(byte)
        guard !marker.isEmpty else { return }
        lock.withLock {
            guard !markerSeen else { return }
            window.append(byte)
            if window.count > marker.count { window.removeFirst(window.count - marker.count) }
            if window == marker {
                markerSeen = true
                Log.write(.info, guest, "console-marker", "t_ms=\(milliseconds(Clock.monotonic - startTime))")
            }
        }
    }

    /// Writes out what the console file holds back (at the end of a run).
    func flush() { if let file { lock.withLock { file.flush() } } }
}
