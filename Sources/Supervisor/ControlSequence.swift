import PartitionRecord

/// When a guest's control lines change (issue 12), as a pure state machine:
/// the supervisor tells it what happened, it answers with the steps to take,
/// only the changes. A line the plan does not give is never named.
///
///     requested  reset asserted, power off, heartbeat off (the request's levels)
///     boot       power on, then settle-ms            (the first boot only)
///                reset asserted                      (already, unless released)
///     ready      reset held at least hold-ms since it was asserted, then
///                released; the heartbeat starts      (RAM, devices and GPIO ready,
///                                                     just before the vCPUs run)
///     stopped    heartbeat off, reset asserted       (reset, crash, exit, signal)
///     finished   as stopped, then reset held hold-ms, then power off
public struct ControlSequence: Equatable {
    public enum Event: Equatable { case boot, ready, stopped, finished }

    public enum Step: Equatable {
        /// Drive `role`'s line to its asserted (true) or inactive level.
        case drive(ControlLineRole, asserted: Bool)
        /// Wait this many milliseconds.
        case wait(UInt32)
        /// Wait until reset has been asserted this many milliseconds.
        case holdReset(UInt32)
        /// Start (true) or stop (false, leaving the line inactive) toggling
        /// the heartbeat line.
        case heartbeat(Bool)
    }

    let hold: UInt32?
    let settle: UInt32?
    let beats: Bool
    public private(set) var resetAsserted = true
    public private(set) var powerOn = false
    public private(set) var beating = false

    public init(_ lines: [ControlLineRecord]) {
        hold = lines.first { $0.role == .reset }?.delay
        settle = lines.first { $0.role == .power }?.delay
        beats = lines.contains { $0.role == .heartbeat }
    }

    /// A line's level when it is requested, before any event: reset
    /// asserted, power and heartbeat not.
    public static func requestedAsserted(_ role: ControlLineRole) -> Bool { role == .reset }

    public mutating func steps(_ event: Event) -> [Step] {
        var steps: [Step] = []
        switch event {
        case .boot:
            if let settle, !powerOn {
                powerOn = true
                steps += [.drive(.power, asserted: true), .wait(settle)]
            }
            steps += assertReset()
        case .ready:
            if let hold, resetAsserted {
                resetAsserted = false
                steps += [.holdReset(hold), .drive(.reset, asserted: false)]
            }
            if beats, !beating {
                beating = true
                steps.append(.heartbeat(true))
            }
        case .stopped:
            steps += stop()
        case .finished:
            steps += stop()
            if settle != nil, powerOn {
                powerOn = false
                if let hold { steps.append(.holdReset(hold)) }
                steps.append(.drive(.power, asserted: false))
            }
        }
        return steps
    }

    private mutating func stop() -> [Step] {
        var steps: [Step] = []
        if beating {
            beating = false
            steps.append(.heartbeat(false))
        }
        return steps + assertReset()
    }

    private mutating func assertReset() -> [Step] {
        guard hold != nil, !resetAsserted else { return [] }
        resetAsserted = true
        return [.drive(.reset, asserted: true)]
    }
}
