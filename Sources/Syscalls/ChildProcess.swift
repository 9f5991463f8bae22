import CLinux

/// Child processes: started by fork + exec, signalled, reaped without blocking.
/// The partition service runs each guest's VMM this way, so a crash of one
/// cannot take down another or the service.
public enum ChildProcess {
    /// How a reaped child ended.
    public enum Ending: Equatable, CustomStringConvertible {
        case exited(Int32)
        case signalled(Int32)

        public var description: String {
            switch self {
            case .exited(let code): return "exit status \(code)"
            case .signalled(let signal): return "killed by signal \(signal)" + (ChildProcess.signalName(signal).map { " (\($0))" } ?? "")
            }
        }
    }

    /// Starts `path` with `arguments` (argv[0] included). The child gets
    /// `parentDeathSignal` when this process dies, so a killed service does
    /// not leave guests behind holding their devices.
    public static func spawn(_ path: String, _ arguments: [String], parentDeathSignal: Int32) -> Result<Int32, Errno> {
        var pointers: [UnsafeMutablePointer<CChar>?] = arguments.map { strdupCString($0) }
        pointers.append(nil)
        defer { for p in pointers { p?.deallocate() } }
        let r = path.withCString { p in pointers.withUnsafeBufferPointer { cleave_spawn(p, $0.baseAddress, parentDeathSignal) } }
        return Errno.check(r)
    }

    /// A child that ended, or nil when none has (or there are none).
    public static func reapAny() -> (pid: Int32, ending: Ending)? {
        var status: Int32 = 0
        let pid = cleave_reap_any(&status)
        guard pid > 0 else { return nil }
        let code = cleave_exit_code(status)
        return (pid, code >= 0 ? .exited(code) : .signalled(cleave_exit_signal(status)))
    }

    /// kill(2); ESRCH (already gone) is not an error worth reporting here.
    @discardableResult
    public static func signal(_ pid: Int32, _ signal: Int32) -> Bool { cleave_kill(pid, signal) == 0 }

    /// Whether a process with this pid exists (kill with signal 0).
    public static func exists(_ pid: Int32) -> Bool { pid > 0 && cleave_kill(pid, 0) != -ESRCH }

    public static var currentID: Int32 { cleave_getpid() }
    public static var userID: Int32 { cleave_getuid() }

    /// The usual names of the signals a VMM dies by, for messages.
    public static func signalName(_ signal: Int32) -> String? {
        switch signal {
        case SIGHUP: return "SIGHUP"
        case SIGINT: return "SIGINT"
        case SIGQUIT: return "SIGQUIT"
        case SIGILL: return "SIGILL"
        case SIGABRT: return "SIGABRT"
        case SIGBUS: return "SIGBUS"
        case SIGFPE: return "SIGFPE"
        case SIGKILL: return "SIGKILL"
        case SIGSEGV: return "SIGSEGV"
        case SIGPIPE: return "SIGPIPE"
        case SIGTERM: return "SIGTERM"
        default: return nil
        }
    }

    private static func strdupCString(_ s: String) -> UnsafeMutablePointer<CChar> {
        let bytes = Array(s.utf8)
        let p = UnsafeMutablePointer<CChar>.allocate(capacity: bytes.count + 1)
        for (i, b) in bytes.enumerated() { p[i] = CChar(bitPattern: b) }
        p[bytes.count] = 0
        return p
    }
}
