import CLinux
import Syscalls

/// A guest's console output kept in a bounded file (the service's
/// /run/cleave/guests/<name>.console, appended to across the guest's VMM
/// processes): appended to until it holds `cap`/2 bytes, then renamed to
/// `<path>.1` (replacing the older half) and started
/// afresh, so the two files hold the last `cap`/2 to `cap` bytes.
final class ConsoleLog {
    let path: String
    let cap: Int
    /// The open file, -1 when a rotation could not reopen it. A raw fd (closed
    /// in deinit and at rotation): an optional `FileDescriptor` cannot be
    /// replaced in place.
    private var fd: Int32 = -1
    private var written = 0
    private var pending: [UInt8] = []

    init(path: String, cap: Int = 256 * 1024) throws(Errno) {
        self.path = path
        self.cap = cap
        fd = try ConsoleLog.open(path)
        if case .success(let n) = Errno.check(Int32(truncatingIfNeeded: cleave_fd_size(fd))) { written = Int(n) }
    }

    deinit {
        flush()
        if fd >= 0 { _ = cleave_close(fd) }
    }

    /// The last `limit` bytes the two files hold (`<path>.1` then `path`),
    /// as an earlier VMM of the guest left them; empty when there are none.
    /// A file that cannot be read counts as empty: the history is a
    /// convenience, the files stay as they are.
    static func tail(of path: String, limit: Int) -> [UInt8] {
        var bytes: [UInt8] = []
        for file in [path + ".1", path] {
            // Each holds at most cap/2 bytes; more means someone else's file.
            if let content = try? Files.read(file, limit: 1 << 22) { bytes.append(contentsOf: content) }
        }
        return bytes.count > limit ? Array(bytes[(bytes.count - limit)...]) : bytes
    }

    private static func open(_ path: String) throws(Errno) -> Int32 {
        let r = path.withCString { p in retryingOnInterrupt { cleave_open(p, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0o600) } }
        switch r {
        case .success(let fd): return fd
        case .failure(let e): throw e
        }
    }

    /// Appends one byte; written out at a newline or every 256 bytes.
    /// Callers serialise (ConsoleSink's lock).
    func put(_ byte: UInt8) {
        pending.append(byte)
        guard byte == 10 || pending.count >= 256 else { return }
        flush()
    }

    func flush() {
        guard !pending.isEmpty else { return }
        if written + pending.count > cap / 2 { rotate() }
        if fd >= 0 { pending.withUnsafeBytes { StandardStream.write(fd, $0) } }
        written += pending.count
        pending.removeAll(keepingCapacity: true)
    }

    private func rotate() {
        let older = path + ".1"
        _ = path.withCString { p in older.withCString { cleave_rename(p, $0) } }
        if fd >= 0 { _ = cleave_close(fd) }
        _ = path.withCString { cleave_unlink($0) }   // a failed rename must not let it grow
        fd = (try? ConsoleLog.open(path)) ?? -1
        written = 0
    }
}
