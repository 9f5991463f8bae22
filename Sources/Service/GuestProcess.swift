import PartitionRecord
import Supervisor
import Syscalls

/// The service's handle on one guest: its VMM process (`cleave-boot boot
/// --guest NAME`), the guest's restart policy as the record says, and what
/// the service decided (`record`). The decisions are here; PartitionService
/// does the spawning, signalling and file writing.
final class GuestProcess {
    let name: String
    let policy: RestartPolicy
    /// 0: unbounded (the record's `max-restarts`).
    let maxRestarts: Int
    var record: ServiceRecord
    /// Stop asked (`stop`, `restart` or the service's shutdown): the process's
    /// end is not a failure to restart after.
    var stopRequested = false
    /// Start again as soon as the process has ended (`restart`).
    var restartRequested = false
    /// When SIGKILL follows the SIGTERM of a stop (CLOCK_MONOTONIC ns).
    var killDeadline: UInt64? = nil
    /// When a backoff ends and the guest starts again (CLOCK_MONOTONIC ns).
    var startAt: UInt64? = nil
    /// The request file to remove once the request is done.
    var pendingRequest: String? = nil

    init(_ guest: GuestRecord) {
        name = guest.name
        policy = guest.restart
        maxRestarts = Int(guest.maxRestarts)
        record = ServiceRecord(name: guest.name)
    }

    var pid: Int32? { record.state == .running && record.pid > 0 ? record.pid : nil }

    /// What the service does once the process ended.
    enum Next: Equatable {
        case stay
        case startNow
        case startAfter(UInt64)
    }

    /// Records how the process ended and decides what follows. A process that
    /// exited applied the guest's policy itself (Supervisor.run: resets and
    /// outcomes); one killed by a signal could not, so the service applies it
    /// here, with `backoff`, unless a stop was asked.
    func ended(_ ending: ChildProcess.Ending, guestSays status: GuestStatus?, backoff: RestartBackoff) -> Next {
        record.lastExit = ending.description
        record.pid = 0
        record.backoffMilliseconds = 0
        defer { stopRequested = false; killDeadline = nil }
        if stopRequested {
            record.state = .stopped
            record.reason = restartRequested ? "restart requested" : "stopped on request (\(ending))"
            if restartRequested {
                restartRequested = false
                return .startNow
            }
            return .stay
        }
        switch ending {
        case .exited(let code):
            let said = status.map { $0.reason.isEmpty ? "" : ": \($0.reason)" } ?? ""
            record.state = code == 0 ? .stopped : .failed
            record.reason = "the VMM ended with \(ending)\(said) (the guest's restart policy was applied in-process)"
            return .stay
        case .signalled:
            let bound = maxRestarts > 0 && record.restarts >= maxRestarts
            guard policy != .never, !bound else {
                record.state = .failed
                record.reason = "the VMM process was \(ending); not restarted: " + (policy == .never ? "restart = \"never\"" : "max-restarts \(maxRestarts) reached")
                return .stay
            }
            record.restarts += 1
            let delay = backoff.delay(beforeRestart: record.restarts)
            record.state = .waiting
            record.backoffMilliseconds = delay / 1_000_000
            record.reason = "the VMM process was \(ending); restart \(record.restarts)" + (maxRestarts > 0 ? " of \(maxRestarts)" : "") + " by restart = \"\(policy.rawValue)\" after \(delay / 1_000_000) ms"
            return .startAfter(delay)
        }
    }
}
