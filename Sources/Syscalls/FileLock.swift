import CLinux

/// An exclusive flock(2) on a lock file, held while this owner lives (the
/// kernel releases it when the fd closes, also when the process is killed).
/// The holder's pid is written into the file for others' messages.
public final class FileLock {
    /// The lock file, open while the lock is held (a raw fd: closing it releases the lock).
    private let fd: Int32

    public enum Failure: Error, CustomStringConvertible {
        /// Another process holds it; its pid as the file says, when readable.
        case held(path: String, pid: Int32?)
        case system(path: String, call: String, Errno)

        public var description: String {
            switch self {
            case .held(let path, let pid): return "\(path) is held by " + (pid.map { "pid \($0)" } ?? "another process")
            case .system(let path, let call, let e): return "\(call) \(path): \(e)"
            }
        }
    }

    /// Takes the lock at `path` (created with mode 0600) or throws `.held`.
    public convenience init(taking path: String) throws(Failure) {
        try self.init(path, wait: false)
    }

    /// Takes the lock at `path` (created with mode 0600), waiting while
    /// another process holds it.
    public convenience init(waitingFor path: String) throws(Failure) {
        try self.init(path, wait: true)
    }

    private init(_ path: String, wait: Bool) throws(Failure) {
        let opened = path.withCString { p in retryingOnInterrupt { cleave_open(p, O_RDWR | O_CREAT | O_CLOEXEC, 0o600) } }
        guard case .success(let fd) = opened else {
            if case .failure(let e) = opened { throw .system(path: path, call: "open", e) }
            throw .system(path: path, call: "open", Errno(EIO))
        }
        var r = wait ? cleave_flock_exclusive_wait(fd) : cleave_flock_exclusive(fd)
        while wait && r == -EINTR { r = cleave_flock_exclusive_wait(fd) }
        if r < 0 {
            let pid = FileLock.holder(of: fd)
            _ = cleave_close(fd)
            if r == -EWOULDBLOCK || r == -EAGAIN { throw .held(path: path, pid: pid) }
            throw .system(path: path, call: "flock", Errno(-r))
        }
        // The lock is on this inode: its pid is written in place, not renamed over.
        _ = cleave_ftruncate(fd, 0)
        let text = Array("\(cleave_getpid())\n".utf8)
        _ = text.withUnsafeBytes { cleave_pwrite(fd, $0.baseAddress, $0.count, 0) }
        self.fd = fd
    }

    deinit { _ = cleave_close(fd) }

    /// Whether some process holds the lock at `path`: `.some(pid)` when one
    /// does (pid nil when unreadable), nil when none does. Probes with a
    /// flock that is dropped at once and writes nothing.
    public static func holder(_ path: String) -> Int32?? {
        guard case .success(let fd) = path.withCString({ p in retryingOnInterrupt { cleave_open(p, O_RDONLY | O_CLOEXEC, 0) } }) else { return nil }
        defer { _ = cleave_close(fd) }
        let r = cleave_flock_exclusive(fd)
        guard r == -EWOULDBLOCK || r == -EAGAIN else { return nil }
        return .some(holder(of: fd))
    }

    private static func holder(of fd: Int32) -> Int32? {
        var buffer = [UInt8](repeating: 0, count: 32)
        let n = buffer.withUnsafeMutableBytes { cleave_pread(fd, $0.baseAddress, $0.count, 0) }
        guard n > 0 else { return nil }
        return Int32(String(decoding: buffer[0..<n], as: UTF8.self).split(separator: "\n").first ?? "")
    }
}
