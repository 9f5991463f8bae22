import DeviceTree

/// Edits the board tree into the host tree: guest devices held from host
/// drivers (or disabled for devmem passthrough), the
/// command line isolating guest CPUs and reserving hugepages, regulators guest
/// devices need kept on, fixed guest RAM reserved, and the plan embedded under
/// /chosen/cleave for the boot-time side. Every edit is recorded.
struct HostTreeBuilder {
    let board: Board
    let validation: Validation
    let guestTrees: [CarvedGuest]
    var edits: [HostEdit] = []

    init(board: Board, validation: Validation, guestTrees: [CarvedGuest]) {
        self.board = board
        self.validation = validation
        self.guestTrees = guestTrees
    }

    var tree: DeviceTree { board.tree }

    /// The compatible that keeps an assigned device from every host driver
    /// while leaving it present for VFIO/UIO (the original is kept under
    /// /chosen/cleave/<guest>/devices/<label>/device-compatible).
    static let passthroughCompatible = "cleave,passthrough"

    mutating func build() throws(DeviceTreeError) -> (bytes: [UInt8], edits: [HostEdit], bootargs: String) {
        var patch = DeviceTreePatch()

        for guest in validation.guests {
            for device in guest.devices {
                let disabled = !tree.isEnabledItself(device.info.node)
                if device.assignment.passthrough == .devmem {
                    if disabled { continue }
                    patch.set(device.info.path, "status", string: "disabled")
                    edits.append(HostEdit(path: device.info.path, property: "status", why: "disabled: passed through to guest '\(guest.plan.name)'"))
                } else {
                    // VFIO and UIO need a host device to bind: it stays
                    // present, matched by no host driver, and the boot-time side
                    // binds it with driver_override. AMBA primecells become
                    // platform devices too (Linux creates an amba device only
                    // for "arm,primecell").
                    patch.set(device.info.path, "compatible", string: HostTreeBuilder.passthroughCompatible)
                    edits.append(HostEdit(path: device.info.path, property: "compatible", why: "\"\(HostTreeBuilder.passthroughCompatible)\": held from host drivers for guest '\(guest.plan.name)' (\(device.assignment.passthrough.rawValue) passthrough binds it at boot)"))
                    // A device the board tree disables has no host device to
                    // bind: enable it (it still matches no host driver).
                    if disabled {
                        patch.set(device.info.path, "status", string: "okay")
                        edits.append(HostEdit(path: device.info.path, property: "status", why: "\"okay\": VFIO/UIO need a host device to bind for guest '\(guest.plan.name)'"))
                    }
                }
            }
        }
        for supply in validation.alwaysOnSupplies where !tree.hasProperty("regulator-always-on", of: supply) {
            let path = tree.path(of: supply)
            patch.set(path, "regulator-always-on", bytes: [])
            edits.append(HostEdit(path: path, property: "regulator-always-on", why: "a guest device is supplied by it; the host must not switch it off as unused"))
        }

        if tree.lookup(path: "/chosen") == nil {
            patch.addNode("/", "chosen")
            edits.append(HostEdit(path: "/chosen", property: nil, why: "holds bootargs and the embedded plan"))
        }
        let bootargs = hostBootargs()
        patch.set("/chosen", "bootargs", string: bootargs)
        edits.append(HostEdit(path: "/chosen", property: "bootargs", why: "CPU isolation, hugepage reservation and clock/power-domain keep-alive for the guests"))

        reserveFixedMemory(&patch)
        embedPlan(&patch)
        return (try patch.bytes(applyingTo: tree), edits, bootargs)
    }

    func hostBootargs() -> String {
        var guestCPUs: [UInt32] = []
        for g in validation.guests { guestCPUs += g.cpus.map { $0.logical } }
        let hostCPUs = board.cpus.map { $0.logical }.filter { !guestCPUs.contains($0) }
        var pools: [(size: UInt64, count: UInt64)] = []
        for g in validation.guests where g.plan.memoryBase == nil {
            let size = g.plan.hugepageSize
            let count = g.plan.memorySize / size
            if let i = pools.firstIndex(where: { $0.size == size }) { pools[i].count += count }
            else { pools.append((size, count)) }
        }
        let existing = tree.lookup(path: "/chosen").flatMap { tree.property("bootargs", of: $0)?.string } ?? ""
        return Bootargs.merge(existing: existing, guestCPUs: guestCPUs, hostCPUs: hostCPUs, hugepages: pools,
                              keepClocks: validation.keepClocks, keepPowerDomains: validation.keepPowerDomains)
    }

    mutating func reserveFixedMemory(_ patch: inout DeviceTreePatch) {
        let fixed = validation.guests.filter { $0.plan.memoryBase != nil }
        guard !fixed.isEmpty else { return }
        var addressCells = 2
        var sizeCells = 2
        if let existing = tree.lookup(path: "/reserved-memory") {
            addressCells = tree.addressCells(of: existing)
            sizeCells = tree.sizeCells(of: existing)
        } else {
            patch.addNode("/", "reserved-memory")
            patch.set("/reserved-memory", "#address-cells", cells: [2])
            patch.set("/reserved-memory", "#size-cells", cells: [2])
            patch.set("/reserved-memory", "ranges", bytes: [])
            edits.append(HostEdit(path: "/reserved-memory", property: nil, why: "holds fixed guest RAM"))
        }
        for guest in fixed {
            guard let base = guest.plan.memoryBase else { continue }
            let path = patch.addNode("/reserved-memory", "cleave-\(guest.plan.name)@\(String(base, radix: 16))")
            patch.set(path, "reg", cells: numberCells(base, count: addressCells) + numberCells(guest.plan.memorySize, count: sizeCells))
            patch.set(path, "no-map", bytes: [])
            edits.append(HostEdit(path: path, property: nil, why: "guest '\(guest.plan.name)' RAM at its fixed base, out of the host's linear map"))
        }
    }

    /// /chosen/cleave: what the boot-time side needs to start each guest.
    mutating func embedPlan(_ patch: inout DeviceTreePatch) {
        // A host tree carved before is carved again from scratch.
        if tree.lookup(path: "/chosen/cleave") != nil { patch.deleteNode("/chosen/cleave") }
        let root = patch.addNode("/chosen", "cleave")
        patch.set(root, "compatible", string: "cleave,partitions-v1")
        edits.append(HostEdit(path: root, property: nil, why: "the partition plan for the boot-time side"))
        for (guest, carved) in zip(validation.guests, guestTrees) {
            let p = guest.plan
            let path = patch.addNode(root, p.name)
            patch.set(path, "cpus", cells: guest.cpus.map { $0.logical })
            var mpidrs: [UInt32] = []
            for cpu in guest.cpus { mpidrs += numberCells(cpu.mpidr, count: 2) }
            patch.set(path, "cpu-mpidrs", cells: mpidrs)
            patch.set(path, "memory-size", cells: numberCells(p.memorySize, count: 2))
            if let base = p.memoryBase { patch.set(path, "memory-base", cells: numberCells(base, count: 2)) }
            patch.set(path, "hugepage-size", cells: numberCells(p.hugepageSize, count: 2))
            patch.set(path, "kernel", string: p.kernel)
            if let initrd = p.initrd { patch.set(path, "initrd", string: initrd) }
            patch.set(path, "bootargs", string: p.bootargs)
            switch p.console {
            case .virtual:
                patch.set(path, "console", string: "virtual")
                patch.set(path, "console-base", cells: numberCells(validation.layout.consoleBase, count: 2))
                patch.set(path, "console-spi", cells: [validation.layout.consoleSPI])
            case .device(let reference):
                patch.set(path, "console", string: board.resolve(reference).map { tree.path(of: $0) } ?? reference)
            }
            patch.set(path, "restart", string: p.restart.rawValue)
            patch.set(path, "max-restarts", cells: [p.maxRestarts])
            patch.set(path, "guest-dtb", bytes: carved.tree.bytes)
            let devicesPath = patch.addNode(path, "devices")
            for device in guest.devices {
                let d = patch.addNode(devicesPath, device.assignment.label)
                patch.set(d, "path", string: device.info.path)
                patch.set(d, "device-compatible", strings: recordedCompatible(tree, device.info.path) ?? device.info.compatible)
                var reg: [UInt32] = []
                for r in device.info.mmioRanges { reg += numberCells(r.base, count: 2) + numberCells(r.size, count: 2) }
                // Named mmio/intids, not reg/interrupts: these describe another
                // node, and dtc would check them against this node's cells.
                patch.set(d, "mmio", cells: reg)
                // <INTID trigger-flags> pairs, the device's and its children's
                // SPIs; flags as in the GIC binding (1 edge, 4 level).
                var irqs: [UInt32] = []
                for irq in device.spis { irqs += [irq.intid, irq.specifier.count > 2 ? irq.specifier[2] & 0xf : 0] }
                patch.set(d, "intids", cells: irqs)
                patch.set(d, "passthrough", string: device.assignment.passthrough.rawValue)
                if device.assignment.allowUnbind { patch.set(d, "allow-unbind", bytes: []) }
            }
            if !p.gpioLines.isEmpty {
                let linesPath = patch.addNode(path, "gpio-lines")
                for group in p.gpioLines {
                    let g = patch.addNode(linesPath, group.label)
                    patch.set(g, "chip", string: board.resolve(group.chip).map { tree.path(of: $0) } ?? group.chip)
                    patch.set(g, "lines", cells: group.lines)
                    patch.set(g, "direction", string: group.output ? "output" : "input")
                }
            }
        }
    }
}

/// The `device-compatible` an earlier carve recorded under /chosen/cleave for
/// the device at `path`: re-carving a carved host tree finds
/// "cleave,passthrough" in the device node itself.
func recordedCompatible(_ tree: DeviceTree, _ path: String) -> [String]? {
    guard let partitions = tree.lookup(path: "/chosen/cleave") else { return nil }
    for guest in tree.children(of: partitions) {
        guard let devices = tree.child(of: guest, named: "devices") else { continue }
        for d in tree.children(of: devices) where tree.property("path", of: d)?.string == path {
            return tree.property("device-compatible", of: d)?.strings
        }
    }
    return nil
}
