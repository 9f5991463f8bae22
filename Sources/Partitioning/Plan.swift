import DeviceTree
import PartitionRecord
import Platform

/// A partition plan (binding `cleave,plan-v1`, documented in Boards/README.md).
public struct Plan: Equatable {
    /// The root compatible the board must have.
    public var board: String
    public var guests: [GuestPlan]
}

public enum ConsoleChoice: Equatable {
    /// An emulated 16550 UART the supervisor serves.
    case virtual
    /// One of the guest's own devices (a passed-through UART), by reference.
    case device(String)
}

public struct DeviceAssignment: Equatable {
    /// The plan node's name: a label for the report.
    public var label: String
    /// Path, alias or label in the board tree.
    public var reference: String
    /// Rate for every stand-in clock of this device.
    public var clockFrequency: UInt32?
    /// Per-clock rates, in the order of the device's `clocks`.
    public var clockFrequencies: [UInt32]
    public var passthrough: PassthroughMethod
    /// How its SPIs reach the guest (the plan's `interrupts`).
    public var interrupts: InterruptMethod = .auto
    public var allowUnbind: Bool

    public init(label: String, reference: String, clockFrequency: UInt32?, clockFrequencies: [UInt32],
                passthrough: PassthroughMethod, interrupts: InterruptMethod = .auto, allowUnbind: Bool) {
        self.label = label
        self.reference = reference
        self.clockFrequency = clockFrequency
        self.clockFrequencies = clockFrequencies
        self.passthrough = passthrough
        self.interrupts = interrupts
        self.allowUnbind = allowUnbind
    }
}

public struct GPIOLineGroup: Equatable {
    public var label: String
    public var chip: String
    public var lines: [UInt32]
    public var output: Bool
}

/// One of the guest's control lines (`control-lines/<role>`): a host line
/// the supervisor drives around the guest's life (ControlLineRecord).
public struct ControlLinePlan: Equatable {
    public var role: ControlLineRole
    /// Path, alias or label of the GPIO controller in the board tree.
    public var chip: String
    public var line: UInt32
    public var activeLow: Bool
    /// Milliseconds: reset's hold-ms, power's settle-ms, heartbeat's period-ms.
    public var delay: UInt32
}

public struct GuestPlan: Equatable {
    public var name: String
    /// Linux logical CPU numbers.
    public var cpus: [UInt32]
    public var memorySize: UInt64
    public var memoryBase: UInt64?
    public var hugepageSize: HugePageSize
    public var kernel: String
    public var initrd: String?
    public var bootargs: String
    public var console: ConsoleChoice
    public var restart: RestartPolicy
    public var maxRestarts: UInt32
    public var devices: [DeviceAssignment]
    public var gpioLines: [GPIOLineGroup]
    public var controlLines: [ControlLinePlan] = []
    /// false with the guest's `no-pmu`: its vCPUs get no PMUv3 and its tree
    /// no `pmu` node (else both, when the board tree has an arm,armv8-pmuv3 node).
    public var pmu: Bool = true
    /// `sve-max-vl`: SVE vector lengths up to this many bits (a multiple of
    /// 128), 0 for no SVE; nil: every length KVM offers.
    public var sveMaxVectorBits: UInt32? = nil
    /// false with the guest's `no-ptrauth`: its vCPUs get no pointer
    /// authentication (else address and generic, when KVM has both).
    public var ptrauth: Bool = true
    /// `ram-scrub`: zero the guest's RAM between two boots (the default), or
    /// keep it as the last boot left it (`"none"`).
    public var ramScrub: RAMScrub = .zero

    /// The virtual GPIO controllers its `gpioLines` need, one per 8 lines.
    public var gpioControllerCount: Int {
        VirtualGPIOPage.controllers(forLines: gpioLines.reduce(0) { $0 + $1.lines.count })
    }
}

extension Plan {
    /// Reads a compiled plan. Problems come back as `plan-invalid` diagnostics
    /// naming the plan node and property; the plan is nil when it is unusable.
    public static func parse(_ tree: DeviceTree) -> (plan: Plan?, diagnostics: [Diagnostic]) {
        var diagnostics: [Diagnostic] = []
        func problem(_ path: String, _ message: String, _ hint: String) {
            diagnostics.append(Diagnostic(.planInvalid, .error, path: "plan:" + path, message, hint: hint))
        }
        let root = tree.root
        if !tree.isCompatible(root, with: "cleave,plan-v1") {
            problem("/", "root 'compatible' is not \"cleave,plan-v1\"",
                    "start the plan with compatible = \"cleave,plan-v1\"; (see Boards/README.md)")
        }
        let board = tree.property("board", of: root)?.string ?? ""
        if board.isEmpty {
            problem("/", "missing 'board'", "add board = \"<one of the board's root compatibles>\";")
        }
        guard let guestsNode = tree.child(of: root, named: "guests"), !tree.children(of: guestsNode).isEmpty else {
            problem("/guests", "no guests", "add a /guests node with one child per guest")
            return (nil, diagnostics)
        }
        var guests: [GuestPlan] = []
        for node in tree.children(of: guestsNode) {
            if let guest = parseGuest(tree, node, problem) { guests.append(guest) }
        }
        if diagnostics.hasErrors { return (nil, diagnostics) }
        return (Plan(board: board, guests: guests), diagnostics)
    }

    private static func parseGuest(_ tree: DeviceTree, _ node: Node,
                                   _ problem: (String, String, String) -> Void) -> GuestPlan? {
        let name = tree.name(of: node)
        let here = tree.path(of: node)
        var ok = true
        func fail(_ message: String, _ hint: String) { problem(here, message, hint); ok = false }

        if !isValidGuestName(name) {
            fail("guest name '\(name)' is not 1-31 characters of a-z 0-9 - _", "rename the node, e.g. 'linux0'")
        }
        var cpus: [UInt32] = []
        if let value = tree.property("cpus", of: node), value.count > 0, value.count % 4 == 0 {
            cpus = value.cells
        } else {
            fail("missing or malformed 'cpus'", "cpus = <1>; lists the host CPUs (Linux logical numbers) the guest owns")
        }
        var memorySize: UInt64 = 0
        if let size = tree.property("memory-size", of: node)?.u64, size > 0 {
            memorySize = size
        } else {
            fail("missing or malformed 'memory-size'", "memory-size = /bits/ 64 <0x10000000>; (256 MiB)")
        }
        var memoryBase: UInt64? = nil
        if let value = tree.property("memory-base", of: node) {
            if let base = value.u64 { memoryBase = base } else { fail("'memory-base' is not a u32 or u64", "memory-base = /bits/ 64 <0x60000000>;") }
        }
        var hugepageSize = HugePageSize.twoMiB
        if let value = tree.property("hugepage-size", of: node) {
            if let size = value.u64.flatMap(HugePageSize.init(bytes:)) { hugepageSize = size }
            else { fail("'hugepage-size' must be \(HugePageSize.listed)", "hugepage-size = /bits/ 64 <0x200000>;") }
        }
        let kernel = tree.property("kernel", of: node)?.string ?? ""
        if kernel.isEmpty { fail("missing 'kernel'", "kernel = \"/path/on/the/board/Image\";") }
        let initrd = tree.property("initrd", of: node)?.string
        let bootargs = tree.property("bootargs", of: node)?.string ?? ""
        var console = ConsoleChoice.virtual
        if let text = tree.property("console", of: node)?.string, text != "virtual" {
            console = .device(text)
        }
        var restart = RestartPolicy.never
        if let text = tree.property("restart", of: node)?.string {
            if let policy = RestartPolicy(rawValue: text) { restart = policy }
            else { fail("'restart' is \"\(text)\"", "use \"never\", \"always\" or \"on-failure\"") }
        }
        let maxRestarts = tree.property("max-restarts", of: node)?.u32 ?? 0
        var ramScrub = RAMScrub.zero
        if let value = tree.property("ram-scrub", of: node) {
            let hint = "ram-scrub = \"zero\"; (the default: zeroed between boots) or ram-scrub = \"none\"; (kept as the guest left it)"
            if let text = value.string {
                if let scrub = RAMScrub(rawValue: text) { ramScrub = scrub } else { fail("'ram-scrub' is \"\(text)\", not \(RAMScrub.listed)", hint) }
            } else {
                fail("'ram-scrub' is not a string", hint)
            }
        }
        var sveMaxVectorBits: UInt32? = nil
        if let value = tree.property("sve-max-vl", of: node) {
            if let bits = value.u32, bits % 128 == 0 { sveMaxVectorBits = bits }
            else { fail("'sve-max-vl' must be one u32, a multiple of 128 bits (0: no SVE)", "sve-max-vl = <256>;") }
        }
        // A flag is present or absent; a value in it is a mistake, not a yes.
        func flag(_ property: String) -> Bool {
            guard let value = tree.property(property, of: node) else { return false }
            if !value.isEmpty { fail("'\(property)' is a flag and takes no value (it has \(value.count) bytes)", "\(property);") }
            return true
        }
        let noPMU = flag("no-pmu")
        let noPtrAuth = flag("no-ptrauth")

        var devices: [DeviceAssignment] = []
        var gpioLines: [GPIOLineGroup] = []
        var controlLines: [ControlLinePlan] = []
        for child in tree.children(of: node) {
            let label = tree.name(of: child)
            let childPath = tree.path(of: child)
            if label == "control-lines" {
                for lineNode in tree.children(of: child) {
                    if let line = parseControlLine(tree, lineNode, problem) { controlLines.append(line) } else { ok = false }
                }
                continue
            }
            if label == "gpio-lines" {
                for group in tree.children(of: child) {
                    let groupPath = tree.path(of: group)
                    guard let chip = tree.property("chip", of: group)?.string, !chip.isEmpty else {
                        problem(groupPath, "missing 'chip'", "chip = \"gpio0\"; names the GPIO controller"); ok = false; continue
                    }
                    guard let lines = tree.property("lines", of: group), lines.count > 0, lines.count % 4 == 0 else {
                        problem(groupPath, "missing or malformed 'lines'", "lines = <3 4>; lists line offsets"); ok = false; continue
                    }
                    let direction = tree.property("direction", of: group)?.string ?? "input"
                    if direction != "input" && direction != "output" {
                        problem(groupPath, "'direction' is \"\(direction)\"", "use \"input\" or \"output\""); ok = false
                    }
                    gpioLines.append(GPIOLineGroup(label: tree.name(of: group), chip: chip, lines: lines.cells,
                                                   output: direction == "output"))
                }
                continue
            }
            guard let reference = tree.property("device", of: child)?.string, !reference.isEmpty else {
                problem(childPath, "child node without a 'device' property",
                        "add device = \"/path/to/node\"; (or an alias or label), or remove the node"); ok = false
                continue
            }
            var backend = PassthroughMethod.auto
            if let text = tree.property("passthrough", of: child)?.string {
                if let b = PassthroughMethod(rawValue: text) { backend = b }
                else { problem(childPath, "'passthrough' is \"\(text)\"", "use auto, vfio, uio or devmem"); ok = false }
            }
            var interrupts = InterruptMethod.auto
            if let text = tree.property("interrupts", of: child)?.string {
                if let m = InterruptMethod(rawValue: text) { interrupts = m }
                else { problem(childPath, "'interrupts' is \"\(text)\"", "use \(InterruptMethod.listed)"); ok = false }
            } else if tree.hasProperty("interrupts", of: child) {
                problem(childPath, "'interrupts' is not a string", "interrupts = \"forward\"; (\(InterruptMethod.listed))"); ok = false
            }
            var frequency: UInt32? = nil
            if let value = tree.property("clock-frequency", of: child) {
                if let f = value.u32, f > 0 { frequency = f }
                else { problem(childPath, "'clock-frequency' is not a non-zero u32", "clock-frequency = <48000000>;"); ok = false }
            }
            let frequencies = tree.property("clock-frequencies", of: child)?.cells ?? []
            devices.append(DeviceAssignment(label: label, reference: reference, clockFrequency: frequency,
                                            clockFrequencies: frequencies, passthrough: backend, interrupts: interrupts,
                                            allowUnbind: tree.hasProperty("allow-unbind", of: child)))
        }
        guard ok else { return nil }
        return GuestPlan(name: name, cpus: cpus, memorySize: memorySize, memoryBase: memoryBase,
                         hugepageSize: hugepageSize, kernel: kernel, initrd: initrd, bootargs: bootargs,
                         console: console, restart: restart, maxRestarts: maxRestarts,
                         devices: devices, gpioLines: gpioLines, controlLines: controlLines, pmu: !noPMU,
                         sveMaxVectorBits: sveMaxVectorBits, ptrauth: !noPtrAuth, ramScrub: ramScrub)
    }

    /// One `control-lines` child: its name is the role.
    private static func parseControlLine(_ tree: DeviceTree, _ node: Node,
                                         _ problem: (String, String, String) -> Void) -> ControlLinePlan? {
        let here = tree.path(of: node)
        let name = tree.name(of: node)
        guard let role = ControlLineRole(rawValue: name) else {
            problem(here, "'\(name)' is not a control line", "name the node \(ControlLineRole.listed)"); return nil
        }
        var ok = true
        let chip = tree.property("chip", of: node)?.string ?? ""
        if chip.isEmpty { problem(here, "missing 'chip'", "chip = \"gpio0\"; names the GPIO controller"); ok = false }
        let line = tree.property("line", of: node)?.u32
        if line == nil { problem(here, "missing or malformed 'line' (one u32)", "line = <4>; the line's offset on the chip"); ok = false }
        if let value = tree.property("active-low", of: node), value.count != 0 {
            problem(here, "'active-low' is a flag and takes no value (it has \(value.count) bytes)", "active-low;"); ok = false
        }
        let property = role.delayProperty
        var delay = role.defaultDelay ?? 0
        let lowest: UInt32 = role == .heartbeat ? 1 : 0
        if let value = tree.property(property, of: node) {
            if let ms = value.u32, ms >= lowest, ms <= ControlLineRole.maxDelay { delay = ms }
            else { problem(here, "'\(property)' must be one u32 of \(lowest)-\(ControlLineRole.maxDelay) milliseconds", "\(property) = <100>;"); ok = false }
        } else if role.defaultDelay == nil {
            problem(here, "missing '\(property)'", "\(property) = <500>; (the toggle period in milliseconds)"); ok = false
        }
        guard ok, let line else { return nil }
        return ControlLinePlan(role: role, chip: chip, line: line, activeLow: tree.hasProperty("active-low", of: node), delay: delay)
    }

    static func isValidGuestName(_ name: String) -> Bool {
        let bytes = Array(name.utf8)
        guard !bytes.isEmpty, bytes.count <= 31 else { return false }
        for b in bytes {
            let ok = (b >= 0x61 && b <= 0x7a) || (b >= 0x30 && b <= 0x39) || b == 0x2d || b == 0x5f
            if !ok { return false }
        }
        return true
    }
}
