import DeviceTree
import PartitionRecord
import GuestTree
import Platform

/// Carves one guest's tree out of the board tree, with libfdt's sequential
/// writer: the platform nodes come from the GuestTree module's writers
/// (`GuestNode`, shared with `cleave run` and boot-time finalisation), fed
/// with what this board says; this type decides what only carving knows:
/// which clocks get fixed-clock stand-ins, and how each assigned device is
/// copied (addresses translated, interrupts as GIC specifiers, references to
/// what the host keeps dropped).
///
/// The guest sees (all at the board's physical addresses, identity-mapped):
/// ```
/// / (cleave,guest; #address-cells = #size-cells = 2; interrupt-parent = GIC)
///   chosen        bootargs, stdout-path (initrd and seeds are added at boot)
///   aliases       serial0 -> the console
///   cpus          one cpu@N per vCPU, PSCI, MPIDR as KVM assigns it
///   memory@base   RAM (base finalised at boot unless the plan fixes it)
///   psci          method = "hvc" (KVM's PSCI)
///   timer         the board's architected-timer PPIs (virtualised by KVM)
///   pmu           arm,armv8-pmuv3 on the board's PMU PPI, when the board
///                 has such a node and the plan does not say `no-pmu`
///   <GIC>         the board's GIC node, regions sized for the guest's vCPUs
///   serial@...    the virtual 16550 console (console = "virtual") in the
///   pvpanic@...   console page's first half, the pvpanic register above it
///   clk-...       fixed-clock stand-ins for clocks the host keeps
///   <devices>     each assigned device and its children, reg translated to
///                 physical, interrupts as GIC specifiers with the same INTIDs
/// ```
struct GuestCarver {
    let board: Board
    let guest: ResolvedGuest
    let layout: GuestLayout
    var nextPhandle: UInt32
    var diagnostics: [Diagnostic] = []
    var dropped: [(path: String, property: String, why: String)] = []
    var standIns: [(name: String, rate: UInt32, replaces: String)] = []

    private var standInKeys: [(provider: Node, arguments: [UInt32], rate: UInt32, phandle: UInt32, name: String)] = []

    init(board: Board, guest: ResolvedGuest, layout: GuestLayout, nextPhandle: UInt32) {
        self.board = board
        self.guest = guest
        self.layout = layout
        self.nextPhandle = nextPhandle
    }

    var tree: DeviceTree { board.tree }
    var name: String { guest.plan.name }

    func owned(_ node: Node) -> Bool {
        for device in guest.devices where tree.isDescendant(node, of: device.info.node) { return true }
        return false
    }

    mutating func allocatePhandle() -> UInt32 {
        defer { nextPhandle += 1 }
        return nextPhandle
    }

    static func hex(_ value: UInt64) -> String { String(value, radix: 16) }

    func guestNodeName(_ device: DeviceInfo) -> String {
        if let first = device.mmioRanges.first { return "\(tree.baseName(of: device.node))@\(GuestCarver.hex(first.base))" }
        return tree.name(of: device.node)
    }

    mutating func build() throws(DeviceTreeError) -> (DeviceTree, GuestReport) {
        guard let gic = board.gic else { throw .malformed("no GIC") }
        let gicPhandle = tree.phandle(of: gic.node) ?? allocatePhandle()
        let vcpus = guest.cpus.count
        let interruptCells = tree.property("#interrupt-cells", of: gic.node)?.u32 ?? 3

        // Clock stand-ins are decided first: device nodes reference their phandles.
        var clockRewrites: [Node: [UInt32]] = [:]
        for device in guest.devices { clockRewrites[device.info.node] = try standInClocks(for: device) }

        var consolePath = GuestNode.consolePath(base: layout.consoleBase)
        if case .device(let reference) = guest.plan.console, let node = board.resolve(reference),
           let device = board.device(node) {
            consolePath = "/" + guestNodeName(device)
        }

        let w = DeviceTreeWriter(capacity: 8192)
        w.beginNode("")
        w.property("compatible", strings: ["cleave,guest"])
        let boardModel = tree.property("model", of: tree.root)?.string ?? tree.compatible(of: tree.root).first ?? "board"
        w.property("model", string: "Cleave guest \(name) on \(boardModel)")
        w.property("#address-cells", u32: 2)
        w.property("#size-cells", u32: 2)
        w.property("interrupt-parent", u32: gicPhandle)

        GuestNode.chosen(bootargs: guest.plan.bootargs, stdoutPath: consolePath).write(to: w)
        GuestNode.aliases(serial0: consolePath).write(to: w)
        GuestNode.cpus(mpidrs: (0..<vcpus).map { Layout.vcpuMPIDR($0) }).write(to: w)
        GuestNode.memory(banks: [(guest.plan.memoryBase ?? 0, guest.plan.memorySize)]).write(to: w)
        GuestNode.psci().write(to: w)
        GuestNode.timer(TimerInterrupts.of(board: tree), gic: gic.version, vcpus: vcpus,
                        interruptCells: Int(interruptCells)).write(to: w)
        if guest.plan.pmu, let pmu = PMUInterrupt.of(board: tree) {
            GuestNode.pmu(pmu, gic: gic.version, vcpus: vcpus, interruptCells: Int(interruptCells)).write(to: w)
        }
        guestGIC(gic, vcpus: vcpus, phandle: gicPhandle, interruptCells: interruptCells).write(to: w)
        if guest.plan.console == .virtual {
            for node in GuestNode.consolePage(base: layout.consoleBase, intid: layout.consoleSPI + GICCells.firstSPI,
                                              interruptCells: Int(interruptCells)) {
                node.write(to: w)
            }
        }
        for key in standInKeys { GuestNode.fixedClock(key.name, rate: key.rate, phandle: key.phandle).write(to: w) }
        // The virtual GPIO controllers (issue 12), 8 lines each, and their clock.
        let gpioControllers = virtualGPIOControllers()
        if !gpioControllers.isEmpty {
            let clock = allocatePhandle()
            GuestNode.fixedClock("gpio-apb-pclk", rate: VirtualGPIOPage.clockRate, phandle: clock).write(to: w)
            for c in gpioControllers {
                GuestNode.virtualGPIO(base: c.base, intid: c.spi + GICCells.firstSPI, lineNames: c.lines.map { $0.name }, clock: clock,
                                      interruptCells: Int(interruptCells)).write(to: w)
            }
        }

        var reportDevices: [(path: String, guestPath: String, mmio: [PhysicalRange], interrupts: [GICInterrupt],
                             passthrough: PassthroughMethod, interruptMethod: InterruptMethod)] = []
        for device in guest.devices {
            let nodeName = guestNodeName(device.info)
            w.beginNode(nodeName)
            try copyProperties(w, device.info.node, top: true, clocks: clockRewrites[device.info.node] ?? [])
            for child in tree.children(of: device.info.node) { try copySubtree(w, child) }
            w.endNode()
            reportDevices.append((device.info.path, "/" + nodeName, device.info.mmioRanges, device.spis,
                                  device.assignment.passthrough, device.assignment.interrupts))
        }
        w.endNode()
        let result = try w.finish()
        var report = GuestReport(name: name, cpus: guest.cpus.map { $0.logical }, memorySize: guest.plan.memorySize,
                                 memoryBase: guest.plan.memoryBase, hugepageSize: guest.plan.hugepageSize,
                                 devices: reportDevices, standInClocks: standIns, dropped: dropped,
                                 console: guest.plan.console == .virtual
                                    ? "virtual 16550 at 0x\(GuestCarver.hex(layout.consoleBase)), SPI \(layout.consoleSPI) (INTID \(layout.consoleSPI + 32))"
                                    : consolePath)
        report.gpioControllers = gpioControllers
        report.controlLines = guest.plan.controlLines.map {
            var line = $0
            line.chip = board.resolve($0.chip).map { tree.path(of: $0) } ?? $0.chip
            return line
        }
        return (result, report)
    }

    /// The virtual PL061s, for the guest tree and the report: guest line i
    /// (the plan's groups in order, named by `GuestNode.gpioLineNames`) on
    /// controller i / 8, with the board line behind it.
    func virtualGPIOControllers() -> [(base: UInt64, spi: UInt32, lines: [(name: String, chip: String, line: UInt32, output: Bool)])] {
        var lines: [(name: String, chip: String, line: UInt32, output: Bool)] = []
        for group in guest.plan.gpioLines {
            let chip = board.resolve(group.chip).map { tree.path(of: $0) } ?? group.chip
            let names = GuestNode.gpioLineNames(group: group.label, count: group.lines.count)
            for (name, offset) in zip(names, group.lines) { lines.append((name, chip, offset, group.output)) }
        }
        return layout.gpioControllers.prefix(guest.plan.gpioControllerCount).enumerated().map { k, place in
            let first = k * VirtualGPIOPage.linesPerController
            return (place.base, place.spi, Array(lines[first..<min(first + VirtualGPIOPage.linesPerController, lines.count)]))
        }
    }

    /// The guest's GIC node from the board's: the same model (a GICv2's
    /// compatible), distributor window and cells; the redistributor region
    /// or CPU interface sized for the guest's vCPUs (`GIC.guestWindows`).
    func guestGIC(_ gic: GICDescription, vcpus: Int, phandle: UInt32, interruptCells: UInt32) -> GuestNode {
        let distributor = gic.regions.first ?? PhysicalRange(base: 0, size: 0x1_0000)
        let platformGIC: GIC
        var compatible: [String]? = nil
        switch gic.version {
        case .v3:
            let redistributor = gic.regions.count > 1 ? gic.regions[1].base : distributor.base + 0xa_0000
            platformGIC = .v3(distributor: distributor.base, redistributor: redistributor)
        case .v2:
            platformGIC = .v2(distributor: distributor.base, cpuInterface: gic.cpuInterface?.base ?? distributor.base + 0x1_0000)
            compatible = tree.compatible(of: gic.node)
        }
        // Only what the board says: an interrupt-map's parent unit address
        // is sized by the GIC's #address-cells (absent means 0).
        return GuestNode.gic(platformGIC, vcpus: vcpus, phandle: phandle, compatible: compatible,
                             distributorSize: distributor.size, interruptCells: interruptCells,
                             addressCells: tree.property("#address-cells", of: gic.node)?.u32 ?? 0,
                             sizeCells: tree.property("#size-cells", of: gic.node)?.u32)
    }

    // MARK: Clocks

    /// The `clocks` cells for a device in the guest: references to providers
    /// the guest owns stay, every other clock becomes a fixed-clock stand-in.
    mutating func standInClocks(for device: ResolvedDevice) throws(DeviceTreeError) -> [UInt32] {
        let info = device.info
        let entries = info.dependencies.filter { $0.kind == .clock && $0.property == "clocks" }
        var cells: [UInt32] = []
        for dep in entries {
            if owned(dep.provider), let handle = tree.phandle(of: dep.provider) {
                cells.append(handle)
                cells += dep.arguments
                continue
            }
            let providerPath = tree.path(of: dep.provider)
            let described = dep.arguments.isEmpty ? providerPath : "\(providerPath) \(dep.arguments.map { String($0) }.joined(separator: " "))"
            guard let rate = rate(for: dep, of: device) else {
                diagnostics.append(Diagnostic(.clockNoRate, .error, path: info.path,
                    "clock \(dep.entry) (<\(described)>) stays with the host and its rate is not in the board tree",
                    hint: "add clock-frequency = <rate in Hz>; to '\(device.assignment.label)' in the plan"))
                continue
            }
            if let existing = standInKeys.first(where: { $0.provider == dep.provider && $0.arguments == dep.arguments && $0.rate == rate }) {
                cells.append(existing.phandle)
                continue
            }
            let phandle = allocatePhandle()
            var nodeName = "clk-\(tree.baseName(of: dep.provider))"
            for a in dep.arguments { nodeName += "-\(a)" }
            if standInKeys.contains(where: { $0.name == nodeName }) { nodeName += "-\(rate)" }
            standInKeys.append((dep.provider, dep.arguments, rate, phandle, nodeName))
            standIns.append((nodeName, rate, described))
            diagnostics.append(Diagnostic(.clockStandIn, .note, path: info.path,
                "clock \(dep.entry) (<\(described)>) stays with the host: the guest gets fixed-clock /\(nodeName) at \(rate) Hz",
                hint: "the host must keep this clock running (the host tree boots with clk_ignore_unused)"))
            cells.append(phandle)
        }
        return cells
    }

    /// A stand-in's rate: the plan's, the provider's fixed rate, the device's
    /// assigned-clock-rates entry for that clock, or the device's own
    /// clock-frequency, in that order.
    func rate(for dep: Dependency, of device: ResolvedDevice) -> UInt32? {
        if dep.entry < device.assignment.clockFrequencies.count, device.assignment.clockFrequencies[dep.entry] > 0 {
            return device.assignment.clockFrequencies[dep.entry]
        }
        if let rate = device.assignment.clockFrequency { return rate }
        if dep.arguments.isEmpty, let rate = tree.property("clock-frequency", of: dep.provider)?.u32, rate > 0 { return rate }
        let node = device.info.node
        if let rates = tree.property("assigned-clock-rates", of: node)?.cells {
            for assigned in device.info.dependencies where assigned.property == "assigned-clocks"
                && assigned.provider == dep.provider && assigned.arguments == dep.arguments {
                if assigned.entry < rates.count && rates[assigned.entry] > 0 { return rates[assigned.entry] }
            }
        }
        if let rate = tree.property("clock-frequency", of: node)?.u32, rate > 0 { return rate }
        return nil
    }

    // MARK: Device nodes

    /// The `-names` property that labels each entry of a list property.
    static let companionNames: [String: String] = [
        "clocks": "clock-names", "resets": "reset-names", "dmas": "dma-names", "phys": "phy-names",
        "power-domains": "power-domain-names", "interconnects": "interconnect-names", "mboxes": "mbox-names",
        "nvmem-cells": "nvmem-cell-names", "pwms": "pwm-names", "io-channels": "io-channel-names",
        "interrupts": "interrupt-names", "interrupts-extended": "interrupt-names",
    ]

    mutating func copySubtree(_ w: DeviceTreeWriter, _ node: Node) throws(DeviceTreeError) {
        w.beginNode(tree.name(of: node))
        try copyProperties(w, node, top: false, clocks: nil)
        for child in tree.children(of: node) { try copySubtree(w, child) }
        w.endNode()
    }

    /// Copies a node's properties into the guest tree. A first pass decides
    /// what is dropped (references to providers the host keeps, pin muxing,
    /// clock setup), so a `-names` companion goes with its list wherever it
    /// stands; the second pass writes the rest, rewriting `reg`, `ranges`,
    /// `interrupts` and `clocks` of the top node for the guest.
    mutating func copyProperties(_ w: DeviceTreeWriter, _ node: Node, top: Bool, clocks: [UInt32]?) throws(DeviceTreeError) {
        let path = tree.path(of: node)
        let properties = tree.properties(of: node)
        let names = properties.map { $0.name }

        // Interrupts: references to a controller the guest owns are kept;
        // anything reaching the GIC is rewritten to GIC specifiers.
        let hasInterrupts = names.contains("interrupts") || names.contains("interrupts-extended")
        var interruptCells: [UInt32]? = nil
        var keepInterruptsVerbatim = false
        if hasInterrupts {
            let parentOwned = tree.interruptParent(of: node).map { owned($0) } ?? false
            var extendedOwned = false
            if let ext = tree.property("interrupts-extended", of: node), ext.cellCount > 0 {
                extendedOwned = tree.node(phandle: ext.cell(0)).map { owned($0) } ?? false
            }
            if (parentOwned && !names.contains("interrupts-extended")) || extendedOwned {
                keepInterruptsVerbatim = true
            } else {
                var cells: [UInt32] = []
                var all = true
                for r in tree.interrupts(of: node) {
                    if case .gic(let irq) = r { cells += irq.specifier } else { all = false }
                }
                if all { interruptCells = cells }
            }
        }

        var drop: [String: String] = [:]
        // The node's references, decoded once for every property asked about.
        var references: [Dependency]? = nil
        func allProvidersOwned(_ node: Node, _ property: String) -> Bool {
            if references == nil { references = tree.dependencies(of: node).dependencies }
            return allOwned((references ?? []).filter { $0.property == property })
        }
        for name in names {
            switch name {
            case "assigned-clocks", "assigned-clock-parents", "assigned-clock-rates":
                if top || !allProvidersOwned(node, name) { drop[name] = "clock setup stays with the host" }
            case "pinctrl-names":
                drop[name] = "pin muxing stays with the host"
            case "clocks" where top:
                if (clocks ?? []).isEmpty { drop[name] = "no clock reaches the guest" }
            case "interrupts", "interrupts-extended":
                if hasInterrupts && !keepInterruptsVerbatim && interruptCells == nil {
                    drop[name] = "its interrupt controller stays with the host"
                }
            default:
                guard let rule = DeviceTree.dependencyRule(for: name), !allProvidersOwned(node, name) else { continue }
                switch rule.0 {
                case .pinctrl: drop[name] = "pin muxing stays with the host"
                case .supply: drop[name] = "the regulator stays with the host (kept on)"
                case .powerDomain: drop[name] = "the power domain stays with the host (kept on)"
                case .reset: drop[name] = "the reset controller stays with the host"
                default: drop[name] = "\(rule.0) provider stays with the host"
                }
            }
        }
        for (base, companion) in GuestCarver.companionNames where drop[base] != nil && names.contains(companion) {
            if companion == "interrupt-names" && names.contains("interrupts") && names.contains("interrupts-extended") { continue }
            drop[companion] = "its '\(base)' was dropped"
        }
        if drop["interrupts"] != nil && !top {
            diagnostics.append(Diagnostic(.referenceDropped, .warning, path: path,
                "interrupts dropped: its interrupt controller stays with the host",
                hint: "assign the interrupt controller to the same guest, or let the driver poll"))
        }

        var interruptsWritten = false
        for (name, value) in properties {
            if let why = drop[name] {
                if !(name == "interrupts-extended" && drop["interrupts"] != nil) { dropped.append((path, name, why)) }
                continue
            }
            switch name {
            case "status":
                continue
            case "compatible" where top && value.string == HostTreeBuilder.passthroughCompatible:
                // Re-carving a carved host tree: the original is in /chosen/cleave.
                if let original = recordedCompatible(tree, path) { w.property(name, strings: original) }
                else { w.property(name, bytes: value.bytes) }
            case "reg" where top:
                var cells: [UInt32] = []
                if case .mmio(let ranges) = (try? tree.deviceAddress(of: node)) ?? .none {
                    for r in ranges { cells += numberCells(r.base, count: 2) + numberCells(r.size, count: 2) }
                }
                w.property("reg", cells: cells)
            case "ranges" where top:
                w.property("ranges", cells: try translatedRanges(node, value))
            case "interrupts", "interrupts-extended", "interrupt-parent":
                if keepInterruptsVerbatim { w.property(name, bytes: value.bytes); continue }
                if let cells = interruptCells, !interruptsWritten, name != "interrupt-parent" {
                    interruptsWritten = true
                    w.property("interrupts", cells: cells)
                }
            case "clocks" where top:
                w.property("clocks", cells: clocks ?? [])
            default:
                w.property(name, bytes: value.bytes)
            }
        }
        if top { w.property("status", string: "okay") }
        else if let status = tree.property("status", of: node) { w.property("status", bytes: status.bytes) }
    }

    /// Whether every phandle in `property` of `node` points into the guest.
    func allProvidersOwned(_ node: Node, _ property: String) -> Bool {
        allOwned(tree.dependencies(of: node).dependencies.filter { $0.property == property })
    }

    /// Whether there are references and every one points into the guest.
    func allOwned(_ deps: [Dependency]) -> Bool {
        guard !deps.isEmpty else { return false }
        return deps.allSatisfy { owned($0.provider) }
    }

    /// A device's own `ranges`, with parent addresses translated to physical
    /// (the device moves to the guest's root bus, 2 address + 2 size cells).
    func translatedRanges(_ node: Node, _ value: PropertyValue) throws(DeviceTreeError) -> [UInt32] {
        let childCells = tree.addressCells(of: node)
        let parentBus = tree.parent(of: node) ?? tree.root
        let parentCells = tree.addressCells(of: parentBus)
        let sizeCells = tree.sizeCells(of: node)
        let stride = childCells + parentCells + sizeCells
        guard stride > 0, value.cellCount % stride == 0, parentCells <= 2, sizeCells <= 2, sizeCells >= 1 else {
            throw .badProperty(node: tree.path(of: node), property: "ranges", reason: "cannot be translated for the guest")
        }
        var out: [UInt32] = []
        if value.isEmpty {
            // Identity with the board bus the device sat on. The guest's root
            // bus is physical, so write out the windows of the nearest bus
            // above with a non-empty `ranges` (empty ones between are
            // identity), each translated to physical; no such bus means the
            // addresses were physical already.
            guard childCells >= 1, childCells <= 2 else { return [] }
            var bus: Node? = parentBus
            while let b = bus, b != tree.root {
                if let windows = tree.property("ranges", of: b), !windows.isEmpty {
                    let na = tree.addressCells(of: b)
                    let pa = tree.addressCells(of: tree.parent(of: b) ?? tree.root)
                    let ns = tree.sizeCells(of: b)
                    let stride = na + pa + ns
                    guard stride > 0, windows.cellCount % stride == 0, na <= 2, ns <= 2 else { return [] }
                    var entries: [UInt32] = []
                    var i = 0
                    while i < windows.cellCount {
                        let childBase = windows.number(at: i, cells: na)
                        let size = windows.number(at: i + na + pa, cells: ns)
                        guard case .success(let physical) = try tree.translate(childBase, from: parentBus) else { return [] }
                        entries += numberCells(childBase, count: childCells) + numberCells(physical, count: 2)
                            + numberCells(size, count: sizeCells)
                        i += stride
                    }
                    return entries
                }
                bus = tree.parent(of: b)
            }
            return []
        }
        var i = 0
        while i < value.cellCount {
            for k in 0..<childCells { out.append(value.cell(i + k)) }
            let parentAddress = value.number(at: i + childCells, cells: parentCells)
            let size = value.number(at: i + childCells + parentCells, cells: sizeCells)
            switch try tree.translate(parentAddress, from: parentBus) {
            case .success(let physical): out += numberCells(physical, count: 2)
            case .failure(let failure): throw .badProperty(node: tree.path(of: node), property: "ranges", reason: failure.reason)
            }
            out += numberCells(size, count: sizeCells)
            i += stride
        }
        return out
    }
}
