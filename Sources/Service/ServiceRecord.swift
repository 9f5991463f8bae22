import Supervisor

/// What the service knows of one guest that the guest's own process cannot
/// say (it may be dead): whether its process runs, restarts the service made,
/// how the last process ended and why the service did what it did. Kept in
/// /run/cleave/guests/<name>.service (`KeyValueLines`, temporary file and
/// rename); write (`text`) beside read (`init(text:)`).
public struct ServiceRecord: Equatable {
    public enum State: String, Equatable {
        /// Its VMM process runs (`GuestStatus` says how far the guest is).
        case running
        /// Its process died; the service starts it again after a backoff.
        case waiting
        /// Stopped: by `stop`, by the service's shutdown, or the guest ended
        /// without a failure.
        case stopped
        /// Ended with a failure the service does not restart.
        case failed
    }

    public var name: String
    public var state: State = .stopped
    public var pid: Int32 = 0
    /// Restarts made by the service (not those the VMM made in-process).
    public var restarts = 0
    /// How the last process ended (`ChildProcess.Ending`), "" before one did.
    public var lastExit = ""
    /// Why the service did what it did last.
    public var reason = ""
    /// The backoff before the pending restart (ms), 0 when none is pending.
    public var backoffMilliseconds: UInt64 = 0
    /// CLOCK_BOOTTIME (ns) when the current process was started.
    public var since: UInt64 = 0

    public init(name: String) { self.name = name }

    public var text: String {
        KeyValueLines.text([
            ("name", name), ("state", state.rawValue), ("pid", "\(pid)"), ("restarts", "\(restarts)"),
            ("last-exit", lastExit), ("reason", reason), ("backoff-ms", "\(backoffMilliseconds)"), ("since", "\(since)"),
        ])
    }

    public init?(text: String) {
        var record = ServiceRecord(name: "")
        var state: State? = nil
        for (key, value) in KeyValueLines.pairs(text) {
            switch key {
            case "name": record.name = value
            case "state": state = State(rawValue: value)
            case "pid": record.pid = Int32(value) ?? 0
            case "restarts": record.restarts = Int(value) ?? 0
            case "last-exit": record.lastExit = value
            case "reason": record.reason = value
            case "backoff-ms": record.backoffMilliseconds = UInt64(value) ?? 0
            case "since": record.since = UInt64(value) ?? 0
            default: break
            }
        }
        guard let state, !record.name.isEmpty else { return nil }
        record.state = state
        self = record
    }
}
