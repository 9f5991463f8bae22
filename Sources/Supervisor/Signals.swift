import CLinux
import Synchronization

/// Process-wide signal state. SIGTERM/SIGINT record themselves for the
/// supervisor's loop to tear guests down; SIGUSR1 is the vCPU kick (its
/// handler does nothing: delivery alone makes a blocked KVM_RUN return EINTR,
/// api.rst 4.10). SIGPIPE is ignored so a closed log cannot kill guests.
public enum Signals {
    static let pending = Atomic<Int32>(0)
    public static let kick: Int32 = SIGUSR1

    public static func install() {
        _ = cleave_signal_install(SIGTERM, { Signals.pending.store($0, ordering: .relaxed) })
        _ = cleave_signal_install(SIGINT, { Signals.pending.store($0, ordering: .relaxed) })
        _ = cleave_signal_install(SIGUSR1, { _ in })
        _ = cleave_signal_ignore(SIGPIPE)
    }

    /// The terminating signal received, if any.
    public static var received: Int32? {
        let s = pending.load(ordering: .relaxed)
        return s == 0 ? nil : s
    }
}
