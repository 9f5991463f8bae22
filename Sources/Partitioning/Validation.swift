import DeviceTree
import PartitionRecord
import Platform

/// A plan device found in the board tree.
struct ResolvedDevice {
    var assignment: DeviceAssignment
    var info: DeviceInfo
    /// The SPIs the guest gets with it (`Board.subtreeSPIs`), resolved once.
    var spis: [GICInterrupt]
}

/// A plan guest with its CPUs and devices resolved against the board.
struct ResolvedGuest {
    var plan: GuestPlan
    var index: Int
    var cpus: [BoardCPU]
    var devices: [ResolvedDevice]
}

/// Placement of the virtual console, shared by every guest of a board.
struct GuestLayout {
    var consoleBase: UInt64
    var consoleSPI: UInt32
    /// The virtual GPIO controllers' places, as many as the guest with the
    /// most GPIO lines needs; each guest takes the first ones it needs.
    var gpioControllers: [(base: UInt64, spi: UInt32)] = []
}

/// Every check of a plan against a board. Collects diagnostics; never stops at
/// the first problem, so one `cleave check` run lists everything to fix.
struct Validation {
    let board: Board
    let plan: Plan
    var diagnostics: [Diagnostic] = []
    var guests: [ResolvedGuest] = []
    var layout = GuestLayout(consoleBase: 0, consoleSPI: 0)
    /// Assigned device node -> guest index.
    var owner: [Node: Int] = [:]
    /// "chip-path:line" -> the plan group that has it.
    var gpioLineOwners: [String: String] = [:]
    /// Whether host bootargs need clk_ignore_unused / pd_ignore_unused.
    var keepClocks = false
    var keepPowerDomains = false
    /// Regulators guest devices need kept on.
    var alwaysOnSupplies: [Node] = []
    /// The host's console device (its /chosen/stdout-path) when a guest
    /// gets it: the host tree drops stdout-path.
    var hostConsoleGiven: Node? = nil

    init(board: Board, plan: Plan) {
        self.board = board
        self.plan = plan
    }

    var tree: DeviceTree { board.tree }

    mutating func add(_ code: DiagnosticCode, _ severity: Severity, _ path: String, _ message: String, _ hint: String = "") {
        diagnostics.append(Diagnostic(code, severity, path: path, message, hint: hint))
    }

    /// The guest owning `node`: the node or an ancestor is one of its devices.
    func guestOwning(_ node: Node) -> Int? {
        var current: Node? = node
        while let n = current {
            if let g = owner[n] { return g }
            current = tree.parent(of: n)
        }
        return nil
    }

    mutating func run() {
        let rootCompatible = tree.compatible(of: tree.root)
        if !rootCompatible.contains(plan.board) {
            add(.boardMismatch, .error, "/", "the plan is for \"\(plan.board)\" but the board is \(rootCompatible.map { "\"\($0)\"" }.joined(separator: ", "))",
                "use the plan written for this board, or set board = to one of its root compatibles")
        }
        if board.gic == nil {
            add(.noGIC, .error, "/", "no ARM GIC interrupt controller found",
                "Cleave needs a GICv2 or GICv3 board: guests get a vGIC of the same version")
        }
        let base = Layout.consoleBase(board: board)
        if base == nil && plan.guests.contains(where: { $0.console == .virtual }) {
            add(.consoleInvalid, .error, "/", "no free 4 KiB page below 4 GiB for the virtual console",
                "pass a UART through and set console = \"<its alias>\" instead")
        }
        let spi = Layout.consoleSPI(board: board)
        if spi == nil && plan.guests.contains(where: { $0.console == .virtual }) {
            add(.consoleInvalid, .error, "/", "no free SPI for the virtual console: the board's devices use every one",
                "pass a UART through and set console = \"<its alias>\" instead")
        }
        layout = GuestLayout(consoleBase: base ?? 0, consoleSPI: spi ?? 0)
        let gpioControllers = plan.guests.map { $0.gpioControllerCount }.max() ?? 0
        if gpioControllers > 0 {
            if let places = Layout.gpioControllers(board: board, count: gpioControllers, console: (layout.consoleBase, layout.consoleSPI)) {
                layout.gpioControllers = places
            } else {
                add(.gpioLineInvalid, .error, "/", "no room for \(gpioControllers) virtual GPIO controller(s): each needs a free 4 KiB page below 4 GiB and a free SPI",
                    "give the guests fewer GPIO lines (8 per controller)")
            }
        }

        var seenNames: [String] = []
        for (index, guest) in plan.guests.enumerated() {
            if seenNames.contains(guest.name) {
                add(.planInvalid, .error, "plan:/guests/\(guest.name)", "two guests are named '\(guest.name)'", "give each guest a unique node name")
            }
            seenNames.append(guest.name)
            guests.append(ResolvedGuest(plan: guest, index: index, cpus: resolveCPUs(guest), devices: resolveDevices(guest, index)))
        }
        checkNesting()
        checkCPUTotals()
        checkMemory()
        for guest in guests {
            checkSplitEOI(guest)
            for device in guest.devices { checkDevice(device, guest) }
            checkConsole(guest)
            checkGPIOLines(guest)
        }
        checkHostConsole()
    }

    // MARK: CPUs

    mutating func resolveCPUs(_ guest: GuestPlan) -> [BoardCPU] {
        let here = "plan:/guests/\(guest.name)"
        var out: [BoardCPU] = []
        for cpu in guest.cpus {
            guard Int(cpu) < board.cpus.count else {
                add(.cpuMissing, .error, here, "CPU \(cpu) does not exist: the board has \(board.cpus.count) CPU(s) (0-\(max(board.cpus.count, 1) - 1))",
                    "list CPUs by Linux logical number, the index of the CPU node under /cpus")
                continue
            }
            if cpu == 0 {
                add(.noHostCPU, .error, here, "CPU 0 is the boot CPU and stays with the host",
                    "give the guest other CPUs")
                continue
            }
            if out.contains(where: { $0.logical == cpu }) {
                add(.cpuAssignedTwice, .error, here, "CPU \(cpu) is listed twice", "list each CPU once")
                continue
            }
            out.append(board.cpus[Int(cpu)])
        }
        return out
    }

    mutating func checkCPUTotals() {
        var claimed: [UInt32: String] = [:]
        for guest in guests {
            for cpu in guest.cpus {
                if let other = claimed[cpu.logical] {
                    add(.cpuAssignedTwice, .error, cpu.path, "CPU \(cpu.logical) is given to both '\(other)' and '\(guest.plan.name)'",
                        "give each CPU to one guest")
                } else {
                    claimed[cpu.logical] = guest.plan.name
                }
            }
        }
        if !board.cpus.isEmpty && claimed.count >= board.cpus.count {
            add(.noHostCPU, .error, "/cpus", "every CPU is given to a guest; the host needs at least one",
                "leave at least one CPU (including CPU 0) to the host")
        }
    }

    // MARK: Memory

    mutating func checkMemory() {
        var fixed: [(name: String, range: PhysicalRange)] = []
        var total: UInt64 = 0
        for guest in guests {
            let p = guest.plan
            let here = "plan:/guests/\(p.name)"
            total &+= p.memorySize
            let page = p.hugepageSize.bytes
            if p.memorySize % page != 0 {
                add(.memoryMisaligned, .error, here, "memory-size 0x\(String(p.memorySize, radix: 16)) is not a multiple of the hugepage size 0x\(String(page, radix: 16))",
                    "round memory-size up to a multiple of 0x\(String(page, radix: 16))")
            }
            guard let base = p.memoryBase else { continue }
            let range = PhysicalRange(base: base, size: p.memorySize)
            if base % page != 0 {
                add(.memoryMisaligned, .error, here, "memory-base 0x\(String(base, radix: 16)) is not aligned to the hugepage size 0x\(String(page, radix: 16))",
                    "align memory-base to 0x\(String(page, radix: 16))")
            }
            if !board.memory.isEmpty && !board.memory.contains(where: { $0.base <= range.base && range.end <= $0.end }) {
                add(.memoryNotRAM, .error, here, "memory-base..+size \(range) is not inside the board's RAM (\(board.memory.map { $0.description }.joined(separator: ", ")))",
                    "pick a base inside a /memory range, or drop memory-base and let boot place the guest")
            }
            for other in fixed where other.range.overlaps(range) {
                add(.memoryOverlap, .error, here, "guest RAM \(range) overlaps guest '\(other.name)' at \(other.range)", "move one of the bases")
            }
            for reserved in board.reservedMemory where reserved.range.overlaps(range) {
                add(.memoryOverlap, .error, here, "guest RAM \(range) overlaps reserved memory \(reserved.path) at \(reserved.range)",
                    "move memory-base off firmware-reserved memory")
            }
            for device in board.devices(overlapping: range) {
                add(.memoryOverlap, .error, here, "guest RAM \(range) overlaps the registers of \(device.path)", "move memory-base")
            }
            add(.memoryFixedBase, .note, here, "fixed memory-base \(range): the host gets a no-map reserved-memory region; booting needs a kernel whose KVM maps it cacheable (cacheable PFNMAP, FEAT_S2FWB)",
                "without that kernel support, drop memory-base so the guest runs from hugepages")
            fixed.append((p.name, range))
        }
        if board.memory.isEmpty {
            // 157 of Debian's board trees leave /memory to the bootloader.
            for guest in guests {
                let size = guest.plan.memorySize
                add(.memoryUnknown, .note, "plan:/guests/\(guest.plan.name)",
                    "memory-size 0x\(String(size, radix: 16)) (\(Render.mebibytes(size))) cannot be checked here: the board tree has no /memory node (the bootloader fills it in), so boot checks it against the host's RAM (the live tree's /memory, or /proc/iomem)",
                    "make sure the board has that much RAM for the guests and at least 128 MiB more for the host; boot refuses a guest that does not fit")
            }
        } else {
            let ram = board.memory.reduce(UInt64(0)) { $0 &+ $1.size }
            let hostMinimum: UInt64 = 0x800_0000   // 128 MiB
            if total > ram || ram - total < hostMinimum {
                add(.memoryTooLarge, .error, "/memory", "guests ask for 0x\(String(total, radix: 16)) bytes of the board's 0x\(String(ram, radix: 16)), leaving the host less than 128 MiB",
                    "shrink the guests' memory-size")
            }
        }
    }

    // MARK: Devices

    mutating func resolveDevices(_ guest: GuestPlan, _ index: Int) -> [ResolvedDevice] {
        var out: [ResolvedDevice] = []
        for assignment in guest.devices {
            let here = "plan:/guests/\(guest.name)/\(assignment.label)"
            guard let node = board.resolve(assignment.reference) else {
                add(.deviceMissing, .error, here, "device '\(assignment.reference)' is not in the board tree",
                    "give an absolute path, an alias from /aliases" + (tree.lookup(path: "/__symbols__") == nil ? " (this board tree has no __symbols__, so labels do not work)" : " or a label"))
                continue
            }
            guard let info = board.device(node) else {
                add(.deviceMissing, .error, tree.path(of: node), "'\(assignment.reference)' is not a device node (no 'compatible')",
                    "name the device node itself")
                continue
            }
            if let other = owner[node] {
                let otherName = plan.guests[other].name
                add(.deviceAssignedTwice, .error, info.path, other == index ? "assigned twice to '\(guest.name)'" : "assigned to both '\(otherName)' and '\(guest.name)'",
                    "give each device to one guest")
                continue
            }
            owner[node] = index
            out.append(ResolvedDevice(assignment: assignment, info: info, spis: board.subtreeSPIs(of: info)))
        }
        // A device inside another assigned device moves with it already.
        for device in out {
            for other in out where other.info.node != device.info.node && tree.isDescendant(device.info.node, of: other.info.node) {
                add(.deviceAssignedTwice, .error, device.info.path, "is inside \(other.info.path), which the guest already gets with all its children",
                    "remove '\(device.assignment.label)' from the plan")
            }
        }
        return out
    }

    mutating func checkDevice(_ device: ResolvedDevice, _ guest: ResolvedGuest) {
        let info = device.info
        let path = info.path
        let name = guest.plan.name
        let methods = (mmio: device.assignment.passthrough, interrupts: device.assignment.interrupts)
        if let why = methods.interrupts.conflict(with: methods.mmio) {
            add(.interruptMethodImpossible, .error, "plan:/guests/\(name)/\(device.assignment.label)",
                "interrupts = \"\(methods.interrupts.rawValue)\" cannot go with passthrough = \"\(methods.mmio.rawValue)\": \(why)",
                Validation.interruptMethodHint(methods.mmio))
        }
        if info.role != .device {
            add(.deviceHostOnly, .error, path, "is a \(info.role): \(info.role.hostReason)", "remove it from the plan")
            return
        }
        if !info.enabled {
            if let ancestor = tree.disabledAncestor(of: info.node) {
                add(.deviceDisabled, .error, path, "is not enabled: its ancestor \(tree.path(of: ancestor)) has status \"\(tree.property("status", of: ancestor)?.string ?? "")\"",
                    "enable the bus in the board tree if the board wires the device")
            } else {
                // Vendor trees disable the blocks their reference design leaves
                // unwired; the guest tree enables the device (status = "okay").
                add(.deviceDisabled, .warning, path, "is disabled in the board tree (status = \"\(tree.property("status", of: info.node)?.string ?? "")\"); the guest tree enables it",
                    "check that the board wires this device and that its pins are muxed for it")
            }
        }
        if let problem = info.addressProblem { add(.noCPUAddress, .error, path, problem, "fix 'reg'/'ranges' in the board tree") }
        switch info.address {
        case .notCPUAddressable(let bus, let reason):
            add(.noCPUAddress, .error, path, "has no CPU physical address: \(reason)",
                "assign the bus controller \(bus) instead (the guest then owns the whole bus)")
        case .none where info.interrupts.isEmpty:
            add(.deviceNoRegisters, .error, path, "has no registers and no interrupts: nothing to pass through",
                "assign the devices it drives instead")
        default: break
        }
        for interrupt in info.interrupts {
            switch interrupt {
            case .gic(let irq) where !irq.isShared:
                add(.interruptUnresolved, .error, path, "\(irq) is per-CPU and cannot be passed through", "remove the device from the plan")
            case .gic: break
            case .otherController(let controller, _):
                add(.interruptParentNotGIC, .error, path, "its interrupt goes to \(controller), which is not the GIC: it cannot be passed through",
                    "assign a device whose interrupts reach the GIC directly, or leave it to the host")
            case .unresolved(let why):
                add(.interruptUnresolved, .error, path, why, "fix the interrupt properties in the board tree")
            }
        }
        // SPIs raised by devices that are not all in this guest cannot be split.
        for irq in device.spis {
            for other in board.sharers(ofSPI: irq.intid, except: info.node) {
                if guestOwning(other.node) == guest.index { continue }
                let where_ = guestOwning(other.node).map { "guest '\(plan.guests[$0].name)'" } ?? "the host"
                add(.spiShared, .error, path, "\(irq) is shared with \(other.path), which stays with \(where_); a shared SPI cannot be split",
                    "assign \(other.path) to '\(name)' too, or leave both to the host")
            }
        }
        for range in info.mmioRanges {
            var pages: [UInt64] = []
            var byPage: [UInt64: [String]] = [:]
            for (other, page) in board.pageSharers(of: range, except: info.node) where guestOwning(other.node) != guest.index {
                if byPage[page] == nil { pages.append(page) }
                byPage[page, default: []].append(other.path)
            }
            for page in pages {
                let finding = Validation.pageSharing(range: range, page: page, others: (byPage[page] ?? []).joined(separator: ", "),
                                                     backend: device.assignment.passthrough, hasSPIs: !device.spis.isEmpty, guest: name)
                add(.pageShared, finding.severity, path, finding.message, finding.hint)
            }
        }
        checkDependencies(device, guest)
        for (consumer, property) in board.consumers(of: info.node) where guestOwning(consumer) != guest.index {
            if tree.isDescendant(consumer, of: info.node) { continue }
            add(.referenceDropped, .warning, tree.path(of: consumer), "stays with the host but uses \(path) ('\(property)'), which moves to '\(name)'",
                "disable \(tree.path(of: consumer)) in the board tree, or move it with the device")
        }
        if !tree.children(of: info.node).isEmpty {
            add(.childrenMoved, .note, path, "moves to '\(name)' with its \(tree.children(of: info.node).count) child node(s)",
                "the children's references to host-side nodes are dropped (see the report); assign their providers too if they need them")
        }
        if info.mayDoDMA {
            if info.dependencies.contains(where: { $0.kind == .iommu }) {
                add(.iommuPresent, .warning, path, "sits behind an IOMMU; the guest's DMA goes through it with the host's stream-ID mapping",
                    "pass the device through with VFIO so the IOMMU maps the guest's RAM, or set the SMMU to bypass for its stream IDs")
            } else {
                add(.iommuAbsent, .note, path, board.hasIOMMU ? "may master DMA and is not behind the board's IOMMU: its DMA reaches any RAM"
                                                          : "may master DMA and the board has no IOMMU: its DMA reaches any RAM",
                    "DMA works because guest RAM is identity-mapped; the guest is trusted with it")
            }
        }
    }

    /// The interrupt methods that do go with the MMIO method `mmio`.
    static func interruptMethodHint(_ mmio: PassthroughMethod) -> String {
        switch mmio {
        case .vfio: return "with passthrough = \"vfio\" use interrupts = \"forward\", \"irqfd\" or \"auto\""
        case .uio: return "with passthrough = \"uio\" use interrupts = \"uio\" or \"auto\" (or passthrough = \"vfio\" to forward the SPIs)"
        case .devmem: return "with passthrough = \"devmem\" use interrupts = \"forward\" (or \"auto\": no interrupts)"
        case .auto: return "use interrupts = \"auto\""
        }
    }

    /// What sharing a 4 KiB page with another owner's registers means for the
    /// backend the plan chose (PassthroughSet at boot). A window that is not
    /// whole pages is trapped by VFIO and UIO: each access exits to the
    /// supervisor, which forwards only the device's own bytes, so the guest
    /// cannot reach the neighbours. /dev/mem (devmem, and auto's fallback for
    /// a device without interrupts) maps the whole pages at stage 2
    /// (DeviceWindow.map), and so does every backend for a whole-page window.
    static func pageSharing(range: PhysicalRange, page: UInt64, others: String, backend: PassthroughMethod,
                            hasSPIs: Bool, guest: String) -> (severity: Severity, message: String, hint: String) {
        let shares = "shares the 4 KiB page 0x\(String(page, radix: 16)) with \(others)"
        let method = "passthrough \"\(backend.rawValue)\""
        let exposed = "the guest can reach those registers too (and /dev/mem refuses the page with EPERM while a host driver claims them)"
        let accept = "assign them to '\(guest)' as well, or accept that this trusted guest can touch them (the host must not use them)"
        let trapped = "the supervisor traps the guest's accesses to its window \(range) and forwards only those bytes, so the guest cannot reach the other registers; each access costs an exit to the supervisor"
        let trappedHint = "nothing to fix; if the device's registers are accessed often, expect that cost (the boot log lists the window under trapped=)"
        if range.base & 0xfff == 0 && range.size & 0xfff == 0 {
            return (.warning, "\(shares): its window \(range) covers whole pages, so every passthrough method maps them at stage 2 and the guest can reach those registers too",
                    "fix the overlapping 'reg' entries in the board tree, " + accept)
        }
        switch backend {
        case .vfio, .uio:
            return (.note, "\(shares): with \(method) \(trapped)", trappedHint)
        case .auto where hasSPIs:
            return (.note, "\(shares): with \(method) VFIO or UIO takes the device (it has interrupts, so boot refuses it rather than fall back to /dev/mem), and \(trapped)",
                    trappedHint)
        case .auto:
            return (.warning, "\(shares): with \(method) \(trapped) when VFIO or UIO takes the device; if neither can at boot, auto falls back to /dev/mem, which maps whole pages at stage 2, and \(exposed)",
                    "set passthrough = \"vfio\" or \"uio\" for it to rule the /dev/mem fallback out, or " + accept)
        case .devmem:
            return (.warning, "\(shares): with \(method) stage 2 maps whole pages from /dev/mem, so \(exposed)",
                    "use passthrough = \"vfio\" or \"uio\" (the supervisor then traps the window and forwards only the device's registers), or " + accept)
        }
    }

    /// Passing SPIs through needs the host GIC in split priority-drop /
    /// deactivate mode (EOImode=1), which on GICv2 needs GICC_DIR at offset
    /// 0x1000 of the CPU interface (GIC architecture spec, 4.4.15).
    mutating func checkSplitEOI(_ guest: ResolvedGuest) {
        guard let gic = board.gic, gic.version == .v2, let cpuInterface = gic.cpuInterface,
              cpuInterface.size < GICFrames.v2CPUInterfaceSize,
              guest.devices.contains(where: { !$0.spis.isEmpty }) else { return }
        add(.gicv2CPUInterfaceSmall, .error, tree.path(of: gic.node),
            "the GICv2 CPU interface is 0x\(String(cpuInterface.size, radix: 16)) bytes: passing SPIs to '\(guest.plan.name)' needs split priority-drop/deactivate (EOImode=1), which needs GICC_DIR at 0x1000, so 8 KiB",
            "fix the GIC's second 'reg' entry to 0x2000 bytes if the hardware has it, or boot the host with irqchip.gicv2_force_probe=1")
    }

    /// A device inside another guest's device would be in two guests' trees.
    mutating func checkNesting() {
        for guest in guests {
            for device in guest.devices {
                var ancestor = tree.parent(of: device.info.node)
                while let a = ancestor {
                    if let g = owner[a], g != guest.index {
                        add(.deviceAssignedTwice, .error, device.info.path,
                            "is given to '\(guest.plan.name)' but lies inside \(tree.path(of: a)), which '\(plan.guests[g].name)' gets with all its children",
                            "give both to one guest")
                    }
                    ancestor = tree.parent(of: a)
                }
            }
        }
    }

    mutating func checkDependencies(_ device: ResolvedDevice, _ guest: ResolvedGuest) {
        let info = device.info
        let path = info.path
        // The references and their problems come from one decoding of the node.
        let found = tree.dependencies(of: info.node)
        var reported: [String] = []
        for dep in found.dependencies {
            if guestOwning(dep.provider) == guest.index { continue }
            let key = dep.property
            if reported.contains(key) { continue }
            reported.append(key)
            // Only messages name the provider: worked out when one is written.
            var provider: String { tree.path(of: dep.provider) }
            switch dep.kind {
            case .clock:
                keepClocks = true   // standing in is decided by the guest tree builder
            case .pinctrl:
                add(.pinctrlDropped, .warning, path, "'\(dep.property)' dropped: pin muxing stays with the host",
                    "the host keeps the pins as the bootloader or its own drivers set them; check they are muxed for this device")
            case .reset:
                add(.resetDropped, .warning, path, "'resets' from \(provider) dropped: the guest cannot reset the device",
                    "make sure the bootloader or host leaves the device out of reset")
            case .powerDomain:
                keepPowerDomains = true
                add(.powerDomainKept, .warning, path, "power domain \(provider) stays with the host",
                    "the host tree boots with pd_ignore_unused so the domain is not switched off as unused")
            case .supply:
                if !alwaysOnSupplies.contains(dep.provider) { alwaysOnSupplies.append(dep.provider) }
                let regulator = provider
                add(.supplyKept, .warning, path, "'\(dep.property)' (\(regulator)) stays with the host",
                    "the host tree marks \(regulator) regulator-always-on so it is not switched off as unused")
            case .iommu:
                break   // reported with the DMA note
            case .assignedClock:
                break   // the guest tree drops assigned-clock settings; rates come from stand-ins
            default:
                let other = provider
                add(.referenceDropped, .warning, path, "'\(dep.property)' references \(other), which stays with the host: dropped from the guest tree",
                    "assign \(other) to the same guest if the device needs it")
            }
        }
        for problem in found.problems {
            add(.referenceBroken, .warning, path, problem, "fix the reference in the board tree")
        }
    }

    // MARK: Console and GPIO

    mutating func checkConsole(_ guest: ResolvedGuest) {
        guard case .device(let reference) = guest.plan.console else { return }
        let here = "plan:/guests/\(guest.plan.name)"
        guard let node = board.resolve(reference), guest.devices.contains(where: { $0.info.node == node }) else {
            add(.consoleInvalid, .error, here, "console '\(reference)' is not one of the guest's devices",
                "set console = \"virtual\", or assign that UART to the guest")
            return
        }
    }

    /// The device the host's /chosen/stdout-path names ("serial0:115200n8",
    /// an alias or a path, options after ':'), when the board tree has one.
    var hostConsole: (node: Node, stdoutPath: String)? {
        guard let chosen = tree.lookup(path: "/chosen"), let stdout = tree.property("stdout-path", of: chosen)?.string,
              let reference = stdout.split(separator: ":", maxSplits: 1).first,
              let node = board.resolve(String(reference)) else { return nil }
        return (node, stdout)
    }

    /// A guest that gets the host's console UART (as its own console or as a
    /// device) leaves the host with no console from the tree: the host tree
    /// drops stdout-path (HostTreeBuilder), and the host needs one in its bootargs.
    mutating func checkHostConsole() {
        guard let (node, stdout) = hostConsole, let g = guestOwning(node) else { return }
        hostConsoleGiven = node
        let bootargs = tree.lookup(path: "/chosen").flatMap { tree.property("bootargs", of: $0)?.string } ?? ""
        let named = bootargs.split(separator: " ").filter { $0.hasPrefix("console=") }.map { String($0) }
        add(.hostConsoleMoved, .warning, "/chosen",
            "the host's console \(tree.path(of: node)) (stdout-path \"\(stdout)\") is passed through to guest '\(plan.guests[g].name)': the host tree drops stdout-path, so the host kernel takes its console from its bootargs only"
                + (named.isEmpty ? ", which name none" : " (\(named.joined(separator: " ")): check that is not the same UART)"),
            "give the host another console in the board's /chosen/bootargs, e.g. console=hvc0 (a virtio console) or console=ttyS1")
    }

    mutating func checkGPIOLines(_ guest: ResolvedGuest) {
        for group in guest.plan.gpioLines {
            checkHostLines(chip: group.chip, group.lines, here: "plan:/guests/\(guest.plan.name)/gpio-lines/\(group.label)")
        }
        for control in guest.plan.controlLines {
            checkHostLines(chip: control.chip, [control.line], here: "plan:/guests/\(guest.plan.name)/control-lines/\(control.role.rawValue)")
        }
    }

    /// Lines `lines` of the GPIO controller `reference` that plan node
    /// `here` wants the supervisor to hold: a host chip, enabled, not passed
    /// through, the lines in range, used by no host device, and held by no
    /// other plan node (a guest's gpio-lines or control lines).
    mutating func checkHostLines(chip reference: String, _ lines: [UInt32], here: String) {
        guard let chip = board.resolve(reference), tree.hasProperty("gpio-controller", of: chip) else {
            add(.gpioLineInvalid, .error, here, "chip '\(reference)' is not a GPIO controller in the board tree",
                "name a node with 'gpio-controller' by path, alias or label")
            return
        }
        if let g = guestOwning(chip) {
            add(.gpioLineInvalid, .error, here, "chip \(tree.path(of: chip)) is passed through to '\(plan.guests[g].name)'; lines served by the supervisor come from a host chip",
                "use the lines from inside that guest, or keep the chip with the host")
        }
        if let count = tree.property("ngpios", of: chip)?.u32 {
            for line in lines where line >= count {
                add(.gpioLineInvalid, .error, here, "line \(line) is out of range: \(tree.path(of: chip)) has \(count) lines", "use 0-\(count - 1)")
            }
        }
        if !tree.isEnabled(chip) {
            add(.gpioLineInvalid, .error, here, "chip \(tree.path(of: chip)) is disabled in the board tree", "enable it or pick another chip")
        }
        let users = board.gpioLineUsers(of: chip, skipping: { owner[$0] != nil })
        for line in lines {
            let key = "\(tree.path(of: chip)):\(line)"
            if let user = users[line] {
                add(.gpioLineInvalid, .error, here, "line \(line) of \(tree.path(of: chip)) is used by the host: \(user)",
                    "pick a line no host device references, or give that device to the guest")
            }
            if let other = gpioLineOwners[key] {
                add(.gpioLineInvalid, .error, here, "line \(line) of \(tree.path(of: chip)) is given twice: also to \(other)",
                    "give each line to one guest, once (a control line too)")
            } else {
                gpioLineOwners[key] = here
            }
        }
    }

}
