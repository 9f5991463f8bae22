/// How bad a finding is. Errors stop `carve`; warnings and notes go in the report.
public enum Severity: Int, Comparable, CustomStringConvertible {
    case note = 0, warning = 1, error = 2
    public static func < (a: Severity, b: Severity) -> Bool { a.rawValue < b.rawValue }
    public var description: String {
        switch self {
        case .note: return "note"
        case .warning: return "warning"
        case .error: return "error"
        }
    }
}

/// Every kind of finding `check` and `carve` report, with a stable name users
/// and scripts can match on.
public enum DiagnosticCode: String, CaseIterable {
    case planInvalid = "plan-invalid"
    case boardMismatch = "board-mismatch"
    case noGIC = "no-gic"
    case deviceMissing = "device-missing"
    case deviceDisabled = "device-disabled"
    case deviceAssignedTwice = "device-assigned-twice"
    case deviceHostOnly = "device-host-only"
    case deviceNoRegisters = "device-no-registers"
    case spiShared = "spi-shared"
    case pageShared = "page-shared"
    case memoryOverlap = "memory-overlap"
    case memoryMisaligned = "memory-misaligned"
    case memoryNotRAM = "memory-not-ram"
    case memoryTooLarge = "memory-too-large"
    case memoryUnknown = "memory-unknown"
    case memoryFixedBase = "memory-fixed-base"
    case cpuMissing = "cpu-missing"
    case cpuAssignedTwice = "cpu-assigned-twice"
    case noHostCPU = "no-host-cpu"
    case interruptParentNotGIC = "interrupt-parent-not-gic"
    case interruptUnresolved = "interrupt-unresolved"
    case noCPUAddress = "no-cpu-address"
    case iommuPresent = "iommu-present"
    case iommuAbsent = "iommu-absent"
    case gicv2CPUInterfaceSmall = "gicv2-cpu-interface-small"
    case clockStandIn = "clock-stand-in"
    case clockNoRate = "clock-no-rate"
    case pinctrlDropped = "pinctrl-dropped"
    case resetDropped = "reset-dropped"
    case powerDomainKept = "power-domain-kept"
    case supplyKept = "supply-kept"
    case referenceDropped = "reference-dropped"
    case referenceBroken = "reference-broken"
    case childrenMoved = "children-moved"
    case consoleInvalid = "console-invalid"
    case hostConsoleMoved = "host-console-moved"
    case gpioLineInvalid = "gpio-line-invalid"
    case interruptMethodImpossible = "interrupt-method-impossible"
}

/// One finding: what, where (a node path in the board tree, or a node of the
/// plan), and what to do about it.
public struct Diagnostic: Equatable, CustomStringConvertible {
    public var code: DiagnosticCode
    public var severity: Severity
    /// A board-tree node path, or `plan:/guests/<name>/...` for plan nodes.
    public var path: String
    public var message: String
    public var hint: String

    public init(_ code: DiagnosticCode, _ severity: Severity, path: String, _ message: String, hint: String = "") {
        self.code = code
        self.severity = severity
        self.path = path
        self.message = message
        self.hint = hint
    }

    public var description: String {
        let fix = hint.isEmpty ? "" : "\n    fix: \(hint)"
        return "\(severity): [\(code.rawValue)] \(path): \(message)\(fix)"
    }
}

extension Array where Element == Diagnostic {
    public var hasErrors: Bool { contains { $0.severity == .error } }
    public var errorCount: Int { filter { $0.severity == .error }.count }
    public var warningCount: Int { filter { $0.severity == .warning }.count }
}
