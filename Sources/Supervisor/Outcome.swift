/// How one run of a guest ended, and the exit status a script sees.
public enum Outcome: Equatable, CustomStringConvertible {
    /// PSCI SYSTEM_OFF.
    case poweredOff
    /// PSCI SYSTEM_RESET: the supervisor boots the guest again.
    case reset
    /// The guest touched something outside its RAM and devices, or KVM could
    /// not continue it (internal error, failed entry): reported, never emulated.
    case fault(String)
    /// The guest reported a panic: PVPANIC_PANICKED written to the pvpanic
    /// device (`PanicDevice`), or KVM_SYSTEM_EVENT_CRASH (which arm64 KVM
    /// never raises today). The text says which, and on which vCPU.
    case crashed(String)
    /// The watchdog found a vCPU stuck (exception loop; docs/kernel-facts.md §7).
    case stuck(String)
    /// SIGTERM or SIGINT.
    case signalled(Int32)
    /// Setup or supervision failed.
    case error(String)

    /// 0 powered off; 1 supervisor error; 2 guest fault; 3 watchdog;
    /// 4 guest crash; 128 + N killed by signal N (shell convention).
    public var exitStatus: Int32 {
        switch self {
        case .poweredOff: return 0
        case .reset: return 0
        case .error: return 1
        case .fault: return 2
        case .stuck: return 3
        case .crashed: return 4
        case .signalled(let s): return 128 + s
        }
    }

    /// Whether a restart policy of `on-failure` restarts after this outcome.
    public var isFailure: Bool {
        switch self {
        case .fault, .stuck, .crashed, .error: return true
        default: return false
        }
    }

    public var description: String {
        switch self {
        case .poweredOff: return "powered-off"
        case .reset: return "reset"
        case .fault(let s): return "fault (\(s))"
        case .crashed(let s): return "crashed (\(s))"
        case .stuck(let s): return "stuck (\(s))"
        case .signalled(let s): return "signal \(s)"
        case .error(let s): return "error (\(s))"
        }
    }
}
