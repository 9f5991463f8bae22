import DeviceTree

/// What a control line does (issue 12): lines the supervisor drives around
/// the guest's life, not lines the guest sees.
public enum ControlLineRole: String, Equatable, CaseIterable {
    /// Asserted before a boot, released once the guest's RAM and devices are
    /// ready (after `hold-ms`), asserted again when the boot stops.
    case reset
    /// Enabled before the first boot (then `settle-ms` before reset is
    /// released), disabled when the supervisor finishes.
    case power
    /// Toggled every `period-ms` while a boot's vCPUs run.
    case heartbeat

    /// "reset, power or heartbeat", for messages (from the cases, so it
    /// cannot drift from them).
    public static var listed: String {
        let names = allCases.map { $0.rawValue }
        return names.dropLast().joined(separator: ", ") + " or " + names[names.count - 1]
    }

    /// The property that gives the role's delay, in milliseconds.
    public var delayProperty: String {
        switch self {
        case .reset: return "hold-ms"
        case .power: return "settle-ms"
        case .heartbeat: return "period-ms"
        }
    }

    /// The delay when the plan gives none; nil: the plan must give it.
    public var defaultDelay: UInt32? {
        switch self {
        case .reset, .power: return 10
        case .heartbeat: return nil
        }
    }

    /// The largest delay a plan may give (a minute): larger ones are typos.
    public static let maxDelay: UInt32 = 60_000
}

/// One control line: /chosen/cleave/<guest>/control-lines/<role>
/// {chip, line, active-low?, hold-ms | settle-ms | period-ms}.
public struct ControlLineRecord: Equatable {
    public var role: ControlLineRole
    /// The GPIO controller's path in the board tree.
    public var chip: String
    public var line: UInt32
    /// Asserted (reset held, power on, heartbeat high) is a low level.
    public var activeLow: Bool
    /// The role's delay in milliseconds (`role.delayProperty`).
    public var delay: UInt32

    public init(role: ControlLineRole, chip: String, line: UInt32, activeLow: Bool, delay: UInt32) {
        self.role = role
        self.chip = chip
        self.line = line
        self.activeLow = activeLow
        self.delay = delay
    }

    /// The electrical level that asserts (`true`) or deasserts the line.
    public func level(asserted: Bool) -> Bool { asserted != activeLow }

    func write(into patch: inout DeviceTreePatch, under parent: String) {
        let path = patch.addNode(parent, role.rawValue)
        patch.set(path, "chip", string: chip)
        patch.set(path, "line", cells: [line])
        if activeLow { patch.set(path, "active-low", bytes: []) }
        patch.set(path, role.delayProperty, cells: [delay])
    }

    static func read(from node: RecordNode) throws(RecordError) -> ControlLineRecord {
        guard let role = ControlLineRole(rawValue: node.name) else {
            throw node.error(nil, "is not a control line role (\(ControlLineRole.listed))")
        }
        let delay = try node.u32(role.delayProperty)
        guard delay <= ControlLineRole.maxDelay, role != .heartbeat || delay > 0 else {
            throw node.error(role.delayProperty, "is \(delay) ms, not \(role == .heartbeat ? "1" : "0")-\(ControlLineRole.maxDelay)")
        }
        return ControlLineRecord(role: role, chip: try node.string("chip"), line: try node.u32("line"),
                                 activeLow: try node.flag("active-low"), delay: delay)
    }
}
