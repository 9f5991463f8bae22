/// What a device needs from another node, by the property that says so.
public enum DependencyKind: Equatable, CustomStringConvertible {
    case clock, assignedClock, reset, powerDomain, pinctrl, supply, dma, iommu, phy, gpio
    case interconnect, mailbox, nvmem, memoryRegion, pwm, ioChannel, hwlock, thermalSensor
    case soundDAI, msi, syscon, graphEndpoint, cpu, coolingDevice, operatingPoints

    public var description: String {
        switch self {
        case .clock: return "clock"
        case .assignedClock: return "assigned-clock"
        case .reset: return "reset"
        case .powerDomain: return "power-domain"
        case .pinctrl: return "pinctrl"
        case .supply: return "supply"
        case .dma: return "dma"
        case .iommu: return "iommu"
        case .phy: return "phy"
        case .gpio: return "gpio"
        case .interconnect: return "interconnect"
        case .mailbox: return "mailbox"
        case .nvmem: return "nvmem"
        case .memoryRegion: return "memory-region"
        case .pwm: return "pwm"
        case .ioChannel: return "io-channel"
        case .hwlock: return "hwlock"
        case .thermalSensor: return "thermal-sensor"
        case .soundDAI: return "sound-dai"
        case .msi: return "msi"
        case .syscon: return "syscon"
        case .graphEndpoint: return "graph-endpoint"
        case .cpu: return "cpu"
        case .coolingDevice: return "cooling-device"
        case .operatingPoints: return "operating-points"
        }
    }
}

/// One reference from a device to a provider node.
public struct Dependency: Equatable {
    public var kind: DependencyKind
    /// The property holding the reference (`clocks`, `vmmc-supply`, ...).
    public var property: String
    /// Index of the entry within that property.
    public var entry: Int
    public var provider: Node
    /// The specifier cells that follow the phandle.
    public var arguments: [UInt32]
}

/// How the entries of a phandle-bearing property are laid out.
public enum PhandleLayout {
    /// phandle + the provider's `#<name>` cells.
    case cells(String)
    /// phandle + the provider's `#<name>` cells, 0 when the provider has none.
    case optionalCells(String)
    /// phandle + a fixed number of cells.
    case fixed(Int)
    /// Only the first cell is a phandle; the meaning of the rest is binding-specific.
    case leading
}

extension DeviceTree {
    /// Property names whose binding says they hold phandles, by exact name.
    static let exactRules: [(name: StaticString, kind: DependencyKind, layout: PhandleLayout)] = [
        ("clocks", .clock, .cells("#clock-cells")),
        ("assigned-clocks", .assignedClock, .cells("#clock-cells")),
        ("assigned-clock-parents", .assignedClock, .cells("#clock-cells")),
        ("resets", .reset, .cells("#reset-cells")),
        ("power-domains", .powerDomain, .cells("#power-domain-cells")),
        ("dmas", .dma, .cells("#dma-cells")),
        ("iommus", .iommu, .cells("#iommu-cells")),
        ("phys", .phy, .cells("#phy-cells")),
        ("interconnects", .interconnect, .cells("#interconnect-cells")),
        ("mboxes", .mailbox, .cells("#mbox-cells")),
        ("nvmem-cells", .nvmem, .optionalCells("#nvmem-cell-cells")),
        ("memory-region", .memoryRegion, .fixed(0)),
        ("pwms", .pwm, .cells("#pwm-cells")),
        ("io-channels", .ioChannel, .cells("#io-channel-cells")),
        ("hwlocks", .hwlock, .cells("#hwlock-cells")),
        ("thermal-sensors", .thermalSensor, .cells("#thermal-sensor-cells")),
        ("sound-dai", .soundDAI, .cells("#sound-dai-cells")),
        ("msi-parent", .msi, .optionalCells("#msi-cells")),
        ("gpio-ranges", .pinctrl, .fixed(3)),
        ("remote-endpoint", .graphEndpoint, .fixed(0)),
        ("cpu", .cpu, .fixed(0)),
        ("cooling-device", .coolingDevice, .cells("#cooling-cells")),
        ("operating-points-v2", .operatingPoints, .fixed(0)),
        ("syscon", .syscon, .leading), ("rockchip,grf", .syscon, .leading), ("rockchip,pmu", .syscon, .leading),
        ("rockchip,pmugrf", .syscon, .leading), ("fsl,stop-mode", .syscon, .leading), ("fsl,gpr", .syscon, .leading),
        ("gpios", .gpio, .cells("#gpio-cells")), ("gpio", .gpio, .cells("#gpio-cells")),
    ]

    /// How a property references other nodes, if it does. Only properties whose
    /// binding says they hold phandles are decoded: a value that merely looks
    /// like a phandle (`fsl,pins`, `linux,code`) is never taken for one.
    public static func dependencyRule(for name: String) -> (DependencyKind, PhandleLayout)? {
        var name = name
        return name.withUTF8 { dependencyRule(bytes: UnsafeRawBufferPointer($0)) }
    }

    /// `dependencyRule(for:)` on a name's bytes, read in place when a tree is
    /// opened (once per distinct name).
    static func dependencyRule(bytes name: UnsafeRawBufferPointer) -> (DependencyKind, PhandleLayout)? {
        for rule in exactRules where rule.name.utf8CodeUnitCount == name.count {
            if name.equals(rule.name) { return (rule.kind, rule.layout) }
        }
        // The pattern rules all need a '-' or ',' in the name.
        guard name.contains(where: { $0 == UInt8(ascii: "-") || $0 == UInt8(ascii: ",") }) else { return nil }
        if name.hasPrefix("pinctrl-") && name.count > 8
            && name[8...].allSatisfy({ $0 >= UInt8(ascii: "0") && $0 <= UInt8(ascii: "9") }) {
            return (.pinctrl, .fixed(0))
        }
        if name.hasSuffix("-supply") { return (.supply, .fixed(0)) }
        if name.hasSuffix("-gpios") || name.hasSuffix("-gpio") {
            // Counts, not references: `nr-gpios`, `snps,nr-gpios`, `ngpios`.
            if name.hasSuffix("nr-gpios") || name.hasSuffix("nr-gpio") { return nil }
            return (.gpio, .cells("#gpio-cells"))
        }
        if name.hasSuffix(",syscon") || name.hasPrefix("syscon-") || name.hasSuffix("-syscon") || name.hasSuffix(",grf") {
            return (.syscon, .leading)
        }
        return nil
    }

    /// Every node `node` references through a phandle-bearing property, in
    /// property order. References that do not decode are returned as problems.
    public func dependencies(of node: Node) -> (dependencies: [Dependency], problems: [String]) {
        var deps: [Dependency] = []
        var problems: [String] = []
        // Path strings and fixups, not references.
        if let up = parent(of: node), up == root {
            let name = self.name(of: node)
            if name == "aliases" || name == "__symbols__" || name == "__fixups__" || name == "__local_fixups__" {
                return (deps, problems)
            }
        }
        // A GPIO hog's `gpios` is <line flags> on its own controller, no phandle.
        let isHog = hasProperty(known.gpioHog, of: node)
        let record = nodeTable[Int(node.index)]
        let end = Int(record.firstProperty + record.propertyCount)
        for index in Int(record.firstProperty)..<end {
            let p = propertyTable[index]
            guard let (kind, layout) = rules[Int(p.nameID)] else { continue }
            let name = names[Int(p.nameID)]
            if isHog && kind == .gpio { continue }
            let value = PropertyValue(storage: storage, offset: Int(p.valueOffset), count: Int(p.length))
            var here: String { path(of: node) }
            guard value.count % 4 == 0 else {
                problems.append("\(here): '\(name)' is \(value.count) bytes, not whole cells")
                continue
            }
            let count = value.cellCount
            var i = 0
            var entry = 0
            while i < count {
                let handle = value.cell(i)
                if handle == 0 {   // an empty slot in a list
                    i += 1; entry += 1
                    continue
                }
                guard let provider = self.node(phandle: handle) else {
                    problems.append("\(here): '\(name)' entry \(entry) names phandle \(handle), which no node has")
                    break
                }
                var argumentCount = 0
                switch layout {
                case .fixed(let n): argumentCount = n
                case .leading: argumentCount = count - i - 1
                case .cells(let cellsName), .optionalCells(let cellsName):
                    if let n = property(cellsName, of: provider)?.u32 {
                        argumentCount = Int(n)
                    } else if case .cells = layout {
                        problems.append("\(here): '\(name)' references \(path(of: provider)), which has no \(cellsName)")
                        i = count
                        continue
                    }
                }
                guard i + 1 + argumentCount <= count else {
                    problems.append("\(here): '\(name)' entry \(entry) is truncated (\(path(of: provider)) needs \(argumentCount) argument cells)")
                    break
                }
                var arguments: [UInt32] = []
                if argumentCount > 0 {
                    arguments.reserveCapacity(argumentCount)
                    for k in (i + 1)..<(i + 1 + argumentCount) { arguments.append(value.cell(k)) }
                }
                deps.append(Dependency(kind: kind, property: name, entry: entry, provider: provider, arguments: arguments))
                i += 1 + argumentCount
                entry += 1
            }
        }
        return (deps, problems)
    }

    /// The nodes among `candidates` that reference `provider` through a
    /// phandle-bearing property, each with those dependencies as
    /// `dependencies(of:)` decodes them, in the order of `candidates`. Each
    /// candidate's phandle-bearing cells are first scanned for a phandle of the
    /// provider, and only a node that has one is decoded: asking this of every
    /// node of a tree costs one pass over those cells.
    public func references(to provider: Node, among candidates: [Node]) -> [(consumer: Node, dependencies: [Dependency])] {
        // The phandles that resolve to the provider (`phandle`, `linux,phandle`).
        var first: UInt32 = 0
        var second: UInt32 = 0
        if let h = property(known.phandle, of: provider)?.u32, self.node(phandle: h) == provider { first = h }
        if let h = property(known.linuxPhandle, of: provider)?.u32, self.node(phandle: h) == provider { second = h }
        guard first != 0 || second != 0 else { return [] }
        let nodes = index.nodeTable
        let properties = index.propertyTable
        let isReference = index.isReference
        let storage = index.storage
        var out: [(consumer: Node, dependencies: [Dependency])] = []
        for consumer in candidates {
            let record = nodes[Int(consumer.index)]
            var found = false
            var i = Int(record.firstProperty)
            let end = i + Int(record.propertyCount)
            while i < end && !found {
                let p = properties[i]
                i += 1
                guard isReference[Int(p.nameID)] else { continue }
                var offset = Int(p.valueOffset)
                let stop = offset + Int(p.length)
                while offset + 4 <= stop {
                    let cell = storage.be32(offset)
                    if cell != 0 && (cell == first || cell == second) { found = true; break }
                    offset += 4
                }
            }
            guard found else { continue }
            let deps = dependencies(of: consumer).dependencies.filter { $0.provider == provider }
            if !deps.isEmpty { out.append((consumer, deps)) }
        }
        return out
    }
}
