import CLinux

/// How far a process is in exiting, as /proc/PID/status and /proc/PID/stat
/// show it (docs/kernel-facts.md §33, §34). SIGKILL makes every thread run
/// `do_exit` on its own; the leader shows `State: Z` as soon as it has
/// exited itself, while another thread may still be closing the process's
/// files (its VM, VFIO devices, forwardings, sockets). Only a zombie leader
/// with `Threads: 1`, or a process whose status cannot be read, has given
/// everything back.
public enum ProcessExitState: Equatable, CustomStringConvertible {
    /// No /proc entry: reaped (or never was).
    case gone
    /// A zombie (or dead) leader with no other thread: every file closed,
    /// every page freed; only its parent's wait is left.
    case done
    /// Killed or exiting, with `threads` threads not yet gone: what it held
    /// may still be held. `state` is the leader's State letter.
    case exiting(state: String, threads: Int)
    /// Neither exiting nor killed.
    case running(state: String, threads: Int)

    /// PF_EXITING in /proc/PID/stat's flags (include/linux/sched.h): the
    /// leader is in do_exit.
    static let exitingFlag: UInt64 = 0x4
    /// SIGKILL's bit in the SigPnd/ShdPnd masks (bit signal - 1).
    static let killBit: UInt64 = 1 << 8

    /// The state from the texts of /proc/PID/status and /proc/PID/stat (nil:
    /// could not be read). The status decides; a leader still running (R,
    /// S, D) counts as exiting when SIGKILL is pending for it or its
    /// process (SigPnd, ShdPnd: set by the kill before any thread acts on
    /// it), when it is dumping core (`CoreDumping: 1`: a crashed process
    /// holds everything until its dump is written, for as long as a
    /// core_pattern pipe helper takes), or its stat flags have PF_EXITING.
    public static func parse(status: String?, stat: String?) -> ProcessExitState {
        guard let status else { return .gone }
        var state = ""
        var threads = 0
        var pending: UInt64 = 0
        var dumping = false
        for line in status.split(separator: "\n") {
            guard let colon = line.firstIndex(of: ":") else { continue }
            let key = line[line.startIndex..<colon]
            let value = line[line.index(after: colon)...].split(separator: " ", omittingEmptySubsequences: true)
                .flatMap { $0.split(separator: "\t") }
            guard let first = value.first else { continue }
            switch key {
            case "State": state = String(first)
            case "Threads": threads = Int(first) ?? 0
            case "SigPnd", "ShdPnd": pending |= UInt64(first, radix: 16) ?? 0
            case "CoreDumping": dumping = first == "1"
            default: break
            }
        }
        guard !state.isEmpty else { return .gone }
        if state == "Z" || state == "X" {
            return threads <= 1 ? .done : .exiting(state: state, threads: threads)
        }
        if pending & killBit != 0 || dumping || (flags(stat: stat) ?? 0) & exitingFlag != 0 {
            return .exiting(state: state, threads: threads)
        }
        return .running(state: state, threads: threads)
    }

    /// The flags field (the 9th) of /proc/PID/stat: counted after the last
    /// `)`, since the command name in parentheses may hold spaces.
    static func flags(stat: String?) -> UInt64? {
        guard let stat, let close = stat.lastIndex(of: ")") else { return nil }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // fields[0] is the state (3rd field), so the flags (9th) are fields[6].
        guard fields.count > 6 else { return nil }
        return UInt64(fields[6])
    }

    /// Reads process `pid`'s state now. The status is read once (open and
    /// read of one file): a process reaped in between is gone, never taken
    /// for one that runs.
    public static func read(pid: Int32) -> ProcessExitState {
        let status = try? Files.readText("/proc/\(pid)/status")
        let stat = try? Files.readText("/proc/\(pid)/stat")
        return parse(status: status, stat: stat)
    }

    /// Whether what the process held is given back (gone or done).
    public var isDone: Bool {
        switch self {
        case .gone, .done: return true
        case .exiting, .running: return false
        }
    }

    public var description: String {
        switch self {
        case .gone: return "gone"
        case .done: return "done (a zombie with no thread left)"
        case .exiting(let state, let threads): return "exiting (State \(state), \(threads) thread\(threads == 1 ? "" : "s") left)"
        case .running(let state, let threads): return "running (State \(state), \(threads) thread\(threads == 1 ? "" : "s"))"
        }
    }
}
