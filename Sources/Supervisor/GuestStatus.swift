/// What a guest's own VMM process says about it, in
/// /run/cleave/guests/<name>.status (`KeyValueLines`, written through a
/// temporary file and a rename by `GuestStatusFile`): its state, pid, CPUs,
/// RAM, devices with their methods, boots and the last outcome. The service
/// (`cleave-boot start`) reads it for `status` and READY=1. Write (`text`)
/// and read (`init(text:)`) side by side.
public struct GuestStatus: Equatable {
    public enum State: String, Equatable {
        /// Setting up, or booting and not yet at its first instruction.
        case starting
        /// vCPU 0 has entered the guest (the `first-run` event) in this boot.
        case running
        /// Ended without a failure (powered off, or stopped by a signal).
        case stopped
        /// Ended with a failure (setup error, fault, stuck, crash); `reason` says which.
        case failed
    }

    /// A passed-through device and the methods it got.
    public struct Device: Equatable {
        public var path: String
        /// `vfio`, `uio` or `devmem` (PassthroughSet's backend name).
        public var method: String
        /// `34/level/forward` per SPI, comma-separated; `-` with none.
        public var intids: String
        public init(path: String, method: String, intids: String) {
            self.path = path
            self.method = method
            self.intids = intids
        }

        /// The INTIDs of `intids`.
        public var intidNumbers: [UInt32] {
            intids.split(separator: ",").compactMap { $0.split(separator: "/").first.flatMap { UInt32($0) } }
        }
    }

    public var name: String
    public var state: State = .starting
    /// Why it failed or stopped; "" while it runs.
    public var reason = ""
    public var pid: Int32 = 0
    public var cpus: [Int] = []
    public var ramBase: UInt64 = 0
    public var ramSize: UInt64 = 0
    public var devices: [Device] = []
    public var boots = 0
    /// The last boot's outcome (`Outcome.description`), "" before one ended.
    public var lastOutcome = ""
    /// The process's exit status, once it is known (`Outcome.exitStatus`).
    public var exitStatus: Int32? = nil
    /// CLOCK_BOOTTIME (ns) when the process started: uptime for `status`.
    public var startedAt: UInt64 = 0

    public init(name: String) { self.name = name }

    public var text: String {
        var pairs: [(key: String, value: String)] = [
            ("name", name), ("state", state.rawValue), ("reason", reason), ("pid", "\(pid)"),
            ("cpus", cpus.map { "\($0)" }.joined(separator: ",")),
            ("ram-base", "\(ramBase)"), ("ram-size", "\(ramSize)"),
        ]
        for d in devices { pairs.append(("device", "\(d.path) \(d.method) \(d.intids)")) }
        pairs += [("boots", "\(boots)"), ("last-outcome", lastOutcome),
                  ("exit-status", exitStatus.map { "\($0)" } ?? ""), ("started-at", "\(startedAt)")]
        return KeyValueLines.text(pairs)
    }

    /// Reads `text`; nil when it has no name or state (not a status file, or
    /// one from another version).
    public init?(text: String) {
        var name: String? = nil
        var state: State? = nil
        var status = GuestStatus(name: "")
        for (key, value) in KeyValueLines.pairs(text) {
            switch key {
            case "name": name = value
            case "state": state = State(rawValue: value)
            case "reason": status.reason = value
            case "pid": status.pid = Int32(value) ?? 0
            case "cpus": status.cpus = value.split(separator: ",").compactMap { Int($0) }
            case "ram-base": status.ramBase = UInt64(value) ?? 0
            case "ram-size": status.ramSize = UInt64(value) ?? 0
            case "device":
                // The path has no spaces (a device-tree path); the methods none either.
                let f = value.split(separator: " ", maxSplits: 2).map(String.init)
                if f.count == 3 { status.devices.append(Device(path: f[0], method: f[1], intids: f[2])) }
            case "boots": status.boots = Int(value) ?? 0
            case "last-outcome": status.lastOutcome = value
            case "exit-status": status.exitStatus = Int32(value)
            case "started-at": status.startedAt = UInt64(value) ?? 0
            default: break
            }
        }
        guard let name, let state else { return nil }
        status.name = name
        status.state = state
        self = status
    }
}
