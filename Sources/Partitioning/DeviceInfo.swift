import DeviceTree

/// What a node is for, as far as partitioning goes. Everything but `device`
/// stays with the host: guests get virtual stand-ins (vGIC, virtual timer,
/// PSCI, fixed clocks) instead.
public enum DeviceRole: Equatable, CustomStringConvertible {
    case device
    case gic, interruptController, timer, firmware, pmu
    case clockProvider, resetProvider, powerDomainProvider, pinctrl, syscon, regulator, iommu
    case bus, reservedMemory, nvmem

    public var description: String {
        switch self {
        case .device: return "device"
        case .gic: return "GIC"
        case .interruptController: return "interrupt controller"
        case .timer: return "architected timer"
        case .firmware: return "firmware interface"
        case .pmu: return "CPU PMU"
        case .clockProvider: return "clock provider"
        case .resetProvider: return "reset controller"
        case .powerDomainProvider: return "power-domain provider"
        case .pinctrl: return "pin controller"
        case .syscon: return "system controller (syscon)"
        case .regulator: return "regulator"
        case .iommu: return "IOMMU"
        case .bus: return "bus"
        case .reservedMemory: return "reserved memory"
        case .nvmem: return "efuse/OTP"
        }
    }

    /// Why the host keeps it.
    public var hostReason: String {
        switch self {
        case .device: return ""
        case .gic: return "the GIC stays with the host; guests get a vGIC at the same addresses"
        case .interruptController: return "interrupt controllers stay with the host"
        case .timer: return "guests get the virtual architected timer"
        case .firmware: return "firmware interfaces stay with the host; guests get PSCI from KVM"
        case .pmu: return "the CPU PMU is per CPU, not a device"
        case .clockProvider: return "clock units stay with the host; guest devices get fixed-clock stand-ins"
        case .resetProvider: return "reset controllers stay with the host"
        case .powerDomainProvider: return "power-domain providers stay with the host"
        case .pinctrl: return "pin muxing stays with the host"
        case .syscon: return "syscon/GRF blocks are shared by many drivers and stay with the host"
        case .regulator: return "regulators stay with the host"
        case .iommu: return "the IOMMU stays with the host"
        case .bus: return "a bus is not a device: assign the devices on it"
        case .reservedMemory: return "reserved memory is not a device"
        case .nvmem: return "efuse/OTP stays with the host"
        }
    }
}

/// One device node of a board tree with everything resolved that partitioning
/// needs: physical MMIO, interrupts down to the GIC, dependencies.
public struct DeviceInfo {
    public let node: Node
    public let path: String
    public let compatible: [String]
    /// Enabled as Linux sees it (the node and all its ancestors).
    public let enabled: Bool
    public let address: DeviceAddress
    /// Set when `reg` cannot be decoded at all.
    public let addressProblem: String?
    public let interrupts: [ResolvedInterrupt]
    public let dependencies: [Dependency]
    public let dependencyProblems: [String]
    public let role: DeviceRole

    init(tree: DeviceTree, node: Node, path: String, enabled: Bool, dependencies: [Dependency],
         dependencyProblems: [String], reservedMemoryParent: Node?) {
        self.node = node
        self.path = path
        compatible = tree.compatible(of: node)
        self.enabled = enabled
        do {
            address = try tree.deviceAddress(of: node)
            addressProblem = nil
        } catch {
            address = .none
            addressProblem = error.description
        }
        interrupts = tree.interrupts(of: node)
        self.dependencies = dependencies
        self.dependencyProblems = dependencyProblems
        role = DeviceInfo.role(tree, node, compatible, reservedMemoryParent)
    }

    static func role(_ tree: DeviceTree, _ node: Node, _ compatible: [String], _ reserved: Node?) -> DeviceRole {
        func anyCompatible(_ test: (String) -> Bool) -> Bool { compatible.contains(where: test) }
        if tree.isGIC(node) { return .gic }
        if let r = reserved, tree.parent(of: node) == r { return .reservedMemory }
        if anyCompatible({ $0 == "arm,armv8-timer" || $0 == "arm,armv7-timer" }) { return .timer }
        if anyCompatible({ $0.hasPrefix("arm,psci") || $0.hasPrefix("arm,scmi") || $0.hasPrefix("arm,scpi")
                           || $0.hasPrefix("linaro,optee") || $0.hasSuffix("-firmware") || $0.hasSuffix(",firmware") }) {
            return .firmware
        }
        if anyCompatible({ $0.hasPrefix("arm,") && $0.hasSuffix("-pmu") || $0 == "arm,armv8-pmuv3" }) { return .pmu }
        if tree.hasProperty("#iommu-cells", of: node) { return .iommu }
        if anyCompatible({ $0.includes("syscon") }) { return .syscon }
        if anyCompatible({ $0.includes("pinctrl") || $0.includes("pinmux") || $0.includes("iomuxc") }) { return .pinctrl }
        if tree.hasProperty("#clock-cells", of: node) { return .clockProvider }
        if tree.hasProperty("#power-domain-cells", of: node) { return .powerDomainProvider }
        if tree.hasProperty("#reset-cells", of: node) && !tree.hasProperty("interrupts", of: node) { return .resetProvider }
        if anyCompatible({ $0.includes("regulator") }) || tree.hasProperty("regulator-name", of: node) { return .regulator }
        if (tree.hasProperty("interrupt-controller", of: node) || tree.hasProperty("msi-controller", of: node))
            && !tree.hasProperty("gpio-controller", of: node) {
            return .interruptController
        }
        if anyCompatible({ $0.includes("efuse") || $0.includes("-otp") || $0.hasSuffix(",otp") || $0.includes("ocotp") }) {
            return .nvmem
        }
        if anyCompatible({ $0 == "simple-bus" || $0 == "simple-pm-bus" || $0 == "arm,amba-bus" || $0 == "simple-mfd" || $0 == "isa" }) {
            return .bus
        }
        return .device
    }

    /// The device's SPIs (the interrupts that can be passed through).
    public var spis: [GICInterrupt] {
        interrupts.compactMap { if case .gic(let irq) = $0, irq.isShared { return irq } else { return nil } }
    }

    public var mmioRanges: [PhysicalRange] {
        if case .mmio(let ranges) = address { return ranges }
        return []
    }

    /// A device that may master DMA: it names DMA channels, sits behind an
    /// IOMMU, is declared `dma-coherent`, or is of a class that is always a bus
    /// master. A heuristic: the board tree does not say "bus master" directly.
    public var mayDoDMA: Bool {
        if dependencies.contains(where: { $0.kind == .iommu }) { return true }
        let masters = ["ethernet", "mmc", "sdhci", "usb", "sata", "ahci", "pcie", "dma-controller", "dma", "gpu",
                       "display-controller", "vop", "video-codec", "npu", "nvme", "ufs", "spi-nor"]
        for name in masters where path.hasSuffix("/" + name) || path.includes("/" + name + "@") { return true }
        return compatible.contains { $0.includes("virtio,mmio") }
    }
}

/// The verdict `cleave devices` gives a device.
public enum Verdict: Equatable, CustomStringConvertible {
    /// Can be given to a guest as it is.
    case assignable
    /// Can be given to a guest if the listed conditions are met or accepted.
    case conditional
    /// Stays with the host by its nature.
    case hostOnly
    /// Cannot be passed through.
    case notAssignable

    public var description: String {
        switch self {
        case .assignable: return "assignable"
        case .conditional: return "assignable-with-conditions"
        case .hostOnly: return "host-only"
        case .notAssignable: return "not-assignable"
        }
    }
}
