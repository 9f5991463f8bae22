import DeviceTree
import PartitionRecord
import Platform

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
    /// while leaving it present for VFIO/UIO (the original is kept in its
    /// `DeviceRecord`, /chosen/cleave/<guest>/devices/<label>/device-compatible).
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
        if let console = validation.hostConsoleGiven {
            patch.delete("/chosen", "stdout-path")
            edits.append(HostEdit(path: "/chosen", property: "stdout-path", why: "deleted: the host's console \(tree.path(of: console)) is passed through to a guest (the host's console comes from its bootargs)"))
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
        var pools: [(size: HugePageSize, count: UInt64)] = []
        for g in validation.guests where g.plan.memoryBase == nil {
            let size = g.plan.hugepageSize
            let count = g.plan.memorySize / size.bytes
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
        if tree.lookup(path: PartitionsRecord.path) != nil { patch.deleteNode(PartitionsRecord.path) }
        let root = partitionsRecord().write(into: &patch)
        edits.append(HostEdit(path: root, property: nil, why: "the partition plan for the boot-time side"))
    }

    /// The record of the validated plan: paths resolved in the board tree,
    /// the console placed, each device's windows and SPIs found.
    func partitionsRecord() -> PartitionsRecord {
        var guests: [GuestRecord] = []
        for (guest, carved) in zip(validation.guests, guestTrees) {
            let p = guest.plan
            let console: ConsoleRecord
            switch p.console {
            case .virtual: console = .virtual(base: validation.layout.consoleBase, spi: validation.layout.consoleSPI)
            case .device(let reference): console = .device(path: boardPath(reference))
            }
            let devices = guest.devices.map { device in
                DeviceRecord(label: device.assignment.label, path: device.info.path,
                             compatible: DeviceRecord.compatible(recordedFor: device.info.path, in: tree) ?? device.info.compatible,
                             mmio: device.info.mmioRanges,
                             interrupts: device.spis.map {
                                 .init(intid: $0.intid, flags: $0.specifier.count > 2 ? $0.specifier[2] & GICCells.triggerMask : 0)
                             },
                             passthrough: device.assignment.passthrough, interruptMethod: device.assignment.interrupts,
                             allowUnbind: device.assignment.allowUnbind)
            }
            let gpioLines = p.gpioLines.map {
                GPIOLinesRecord(label: $0.label, chip: boardPath($0.chip), lines: $0.lines, output: $0.output)
            }
            let controlLines = p.controlLines.map {
                ControlLineRecord(role: $0.role, chip: boardPath($0.chip), line: $0.line, activeLow: $0.activeLow, delay: $0.delay)
            }
            let gpioControllers = validation.layout.gpioControllers
                .prefix(p.gpioControllerCount)
                .map { GPIOControllerRecord(base: $0.base, spi: $0.spi) }
            guests.append(GuestRecord(name: p.name, cpus: guest.cpus.map { $0.logical }, cpuMPIDRs: guest.cpus.map { $0.mpidr },
                                      memorySize: p.memorySize, memoryBase: p.memoryBase, hugepageSize: p.hugepageSize,
                                      kernel: p.kernel, initrd: p.initrd, bootargs: p.bootargs, console: console,
                                      restart: p.restart, maxRestarts: p.maxRestarts, guestTree: carved.tree.bytes,
                                      devices: devices, gpioLines: gpioLines, gpioControllers: gpioControllers,
                                      controlLines: controlLines, pmu: p.pmu,
                                      sveMaxVectorBits: p.sveMaxVectorBits, ptrauth: p.ptrauth, ramScrub: p.ramScrub))
        }
        return PartitionsRecord(guests: guests)
    }

    /// A reference's path in the board tree (the reference itself when it
    /// does not resolve; validation has reported that).
    func boardPath(_ reference: String) -> String {
        board.resolve(reference).map { tree.path(of: $0) } ?? reference
    }
}

/// The `device-compatible` an earlier carve recorded for the device at `path`
/// (`DeviceRecord.compatible(recordedFor:in:)`), for the guest tree builder.
func recordedCompatible(_ tree: DeviceTree, _ path: String) -> [String]? {
    DeviceRecord.compatible(recordedFor: path, in: tree)
}
