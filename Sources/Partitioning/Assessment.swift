import DeviceTree

/// A verdict on one device with the reasons behind it.
public struct Assessment {
    public var verdict: Verdict
    public var reasons: [String]
}

extension Board {
    /// Whether `device` could be given to a guest, judged against the whole
    /// board (every other device staying with the host).
    public func assess(_ device: DeviceInfo) -> Assessment {
        assess(device, role: device.role, references: tree.dependencies(of: device.node))
    }

    /// `assess(_:)` with the device's role and references already worked out
    /// (a device record reads them from the tree on each access).
    func assess(_ device: DeviceInfo, role: DeviceRole,
                references: (dependencies: [Dependency], problems: [String])) -> Assessment {
        if role != .device {
            return Assessment(verdict: .hostOnly, reasons: ["\(role): \(role.hostReason)"])
        }
        var blockers: [String] = []
        var conditions: [String] = []
        if let problem = device.addressProblem { blockers.append(problem) }
        switch device.address {
        case .notCPUAddressable(let bus, _):
            blockers.append("no CPU address: it sits behind \(bus); assign the bus controller instead")
        case .none:
            if device.interrupts.isEmpty {
                blockers.append("no registers and no interrupts of its own: nothing to pass through")
            }
        case .mmio:
            break
        }
        for interrupt in device.interrupts {
            switch interrupt {
            case .gic(let irq) where !irq.isShared:
                blockers.append("\(irq): a per-CPU interrupt cannot be passed through")
            case .gic:
                break
            case .otherController(let controller, _):
                blockers.append("interrupt parent \(controller) is not the GIC: its interrupts cannot be passed through")
            case .unresolved(let why):
                blockers.append(why)
            }
        }
        if !device.enabled { conditions.append("disabled in the board tree (status)") }
        for irq in device.spis {
            let others = sharers(ofSPI: irq.intid, except: device.node)
            if !others.isEmpty {
                conditions.append("\(irq) is shared with \(others.map { $0.path }.joined(separator: ", ")): assign them together")
            }
        }
        for range in device.mmioRanges {
            for (other, page) in pageSharers(of: range, except: device.node) {
                conditions.append("MMIO page 0x\(String(page, radix: 16)) is shared with \(other.path)")
            }
        }
        var seenKinds: [DependencyKind] = []
        for dep in references.dependencies where !seenKinds.contains(dep.kind) {
            seenKinds.append(dep.kind)
            let provider = tree.path(of: dep.provider)
            switch dep.kind {
            case .clock: conditions.append("clocks from \(provider) stay with the host: fixed-clock stand-ins needed")
            case .pinctrl: conditions.append("pin muxing (\(dep.property)) stays with the host")
            case .reset: conditions.append("resets from \(provider) stay with the host")
            case .powerDomain: conditions.append("power domain \(provider) stays with the host (keep it on)")
            case .supply: conditions.append("supply \(provider) stays with the host (keep it on)")
            case .dma: conditions.append("DMA channels from \(provider) stay with the host")
            case .iommu: conditions.append("behind IOMMU \(provider)")
            case .assignedClock, .operatingPoints, .graphEndpoint, .cpu, .coolingDevice, .thermalSensor:
                break
            default: conditions.append("uses \(dep.kind) \(provider) (\(dep.property))")
            }
        }
        for problem in references.problems { conditions.append(problem) }
        if !blockers.isEmpty { return Assessment(verdict: .notAssignable, reasons: blockers + conditions) }
        if !conditions.isEmpty { return Assessment(verdict: .conditional, reasons: conditions) }
        return Assessment(verdict: .assignable, reasons: [])
    }
}
