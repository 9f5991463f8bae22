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
///
/// A board holds one record per device, and carving reads most of them only
/// for their addresses and interrupts (page and SPI sharing, the console's
/// place). Those are resolved when the board is built; the path, compatible
/// list, role and dependencies are read from the tree when asked for, so only
/// the few devices a plan names pay for them. Each of those reads the tree
/// again: keep the value when using it more than once.
public struct DeviceInfo {
    public let node: Node
    /// Enabled as Linux sees it (the node and all its ancestors).
    public let enabled: Bool
    public let address: DeviceAddress
    /// Set when `reg` cannot be decoded at all.
    public let addressProblem: String?
    public let interrupts: [ResolvedInterrupt]
    let tree: DeviceTree
    let reservedMemoryParent: Node?

    /// `address` is `tree.deviceAddress(of: node)`, worked out by the caller
    /// (a board translates all its devices' addresses in one batch).
    init(tree: DeviceTree, node: Node, enabled: Bool, address: Result<DeviceAddress, DeviceTreeError>,
         interrupts: [ResolvedInterrupt], reservedMemoryParent: Node?) {
        self.tree = tree
        self.node = node
        self.enabled = enabled
        self.reservedMemoryParent = reservedMemoryParent
        switch address {
        case .success(let address):
            self.address = address
            addressProblem = nil
        case .failure(let error):
            self.address = .none
            addressProblem = error.description
        }
        self.interrupts = interrupts
    }

    public var path: String { tree.path(of: node) }
    public var compatible: [String] { tree.compatible(of: node) }
    public var dependencies: [Dependency] { tree.dependencies(of: node).dependencies }
    public var dependencyProblems: [String] { tree.dependencies(of: node).problems }
    public var role: DeviceRole { DeviceInfo.role(tree, node, reservedMemoryParent) }

    /// What `compatible` says about a node's role, in one pass over its strings.
    struct CompatibleClasses {
        var timer = false, firmware = false, pmu = false, syscon = false, pinctrl = false
        var regulator = false, nvmem = false, bus = false

        init(_ compatible: PropertyValue?) {
            guard let compatible else { return }
            _ = compatible.anyString { s in
                if s.equals("arm,armv8-timer") || s.equals("arm,armv7-timer") { timer = true }
                if s.hasPrefix("arm,psci") || s.hasPrefix("arm,scmi") || s.hasPrefix("arm,scpi")
                    || s.hasPrefix("linaro,optee") || s.hasSuffix("-firmware") || s.hasSuffix(",firmware") {
                    firmware = true
                }
                if s.hasPrefix("arm,") && s.hasSuffix("-pmu") || s.equals("arm,armv8-pmuv3") { pmu = true }
                if s.includes("syscon") { syscon = true }
                if s.includes("pinctrl") || s.includes("pinmux") || s.includes("iomuxc") { pinctrl = true }
                if s.includes("regulator") { regulator = true }
                if s.includes("efuse") || s.includes("-otp") || s.hasSuffix(",otp") || s.includes("ocotp") { nvmem = true }
                if s.equals("simple-bus") || s.equals("simple-pm-bus") || s.equals("arm,amba-bus")
                    || s.equals("simple-mfd") || s.equals("isa") {
                    bus = true
                }
                return false
            }
        }
    }

    static func role(_ tree: DeviceTree, _ node: Node, _ reserved: Node?) -> DeviceRole {
        if tree.isGIC(node) { return .gic }
        if let r = reserved, tree.parent(of: node) == r { return .reservedMemory }
        let compatible = CompatibleClasses(tree.property("compatible", of: node))
        if compatible.timer { return .timer }
        if compatible.firmware { return .firmware }
        if compatible.pmu { return .pmu }
        if tree.hasProperty("#iommu-cells", of: node) { return .iommu }
        if compatible.syscon { return .syscon }
        if compatible.pinctrl { return .pinctrl }
        if tree.hasProperty("#clock-cells", of: node) { return .clockProvider }
        if tree.hasProperty("#power-domain-cells", of: node) { return .powerDomainProvider }
        if tree.hasProperty("#reset-cells", of: node) && !tree.hasProperty("interrupts", of: node) { return .resetProvider }
        if compatible.regulator || tree.hasProperty("regulator-name", of: node) { return .regulator }
        if (tree.hasProperty("interrupt-controller", of: node) || tree.hasProperty("msi-controller", of: node))
            && !tree.hasProperty("gpio-controller", of: node) {
            return .interruptController
        }
        if compatible.nvmem { return .nvmem }
        if compatible.bus { return .bus }
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
        // Cheapest test first: the node's name, then its compatible, and only
        // then its references (decoding them all costs the most).
        let path = self.path
        let masters = ["ethernet", "mmc", "sdhci", "usb", "sata", "ahci", "pcie", "dma-controller", "dma", "gpu",
                       "display-controller", "vop", "video-codec", "npu", "nvme", "ufs", "spi-nor"]
        for name in masters where path.hasSuffix("/" + name) || path.includes("/" + name + "@") { return true }
        if compatible.contains(where: { $0.includes("virtio,mmio") }) { return true }
        return dependencies.contains(where: { $0.kind == .iommu })
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
