/// Trigger type of a GIC interrupt, from the flags cell of its specifier
/// (Documentation/devicetree/bindings/interrupt-controller/arm,gic.yaml).
public enum InterruptTrigger: Equatable, CustomStringConvertible {
    case edgeRising, edgeFalling, edgeBoth, levelHigh, levelLow, unspecified

    init(flags: UInt32) {
        switch flags & 0xf {
        case 1: self = .edgeRising
        case 2: self = .edgeFalling
        case 3: self = .edgeBoth
        case 4: self = .levelHigh
        case 8: self = .levelLow
        default: self = .unspecified
        }
    }

    public var isLevel: Bool { self == .levelHigh || self == .levelLow }

    public var description: String {
        switch self {
        case .edgeRising: return "edge-rising"
        case .edgeFalling: return "edge-falling"
        case .edgeBoth: return "edge-both"
        case .levelHigh: return "level-high"
        case .levelLow: return "level-low"
        case .unspecified: return "unspecified"
        }
    }
}

/// The kinds of interrupt a GIC specifier names. INTIDs: SPI n = n + 32,
/// PPI n = n + 16, extended SPI n = n + 4096, extended PPI n = n + 1056
/// (GIC architecture spec IHI 0069, 2.2).
public enum GICInterruptKind: Equatable {
    case spi, ppi, extendedSPI, extendedPPI

    public var name: String {
        switch self {
        case .spi: return "SPI"
        case .ppi: return "PPI"
        case .extendedSPI: return "ESPI"
        case .extendedPPI: return "EPPI"
        }
    }
}

/// One interrupt resolved down to the GIC.
public struct GICInterrupt: Equatable, CustomStringConvertible {
    public var kind: GICInterruptKind
    /// The number in the specifier (the SPI number for an SPI).
    public var number: UInt32
    public var trigger: InterruptTrigger
    /// The GIC-format specifier cells, as they go into a guest tree.
    public var specifier: [UInt32]

    public var intid: UInt32 {
        switch kind {
        case .spi: return number + 32
        case .ppi: return number + 16
        case .extendedSPI: return number + 4096
        case .extendedPPI: return number + 1056
        }
    }

    public var isShared: Bool { kind == .spi || kind == .extendedSPI }

    public var description: String { "\(kind.name) \(number) (INTID \(intid), \(trigger))" }
}

/// What one entry of a device's interrupts resolves to.
public enum ResolvedInterrupt: Equatable {
    case gic(GICInterrupt)
    /// Ends at an interrupt controller that is not the GIC (a GPIO controller, a
    /// wake-up unit like i.MX GPC, a legacy controller).
    case otherController(path: String, specifier: [UInt32])
    /// Could not be resolved; the reason names the node and property.
    case unresolved(String)
}

extension DeviceTree {
    /// Whether `node` is an ARM GIC (any version) interrupt controller.
    public func isGIC(_ node: Node) -> Bool { gicVersion(of: node) != nil }

    /// The GIC architecture version a node's compatible names, if it is a GIC.
    public func gicVersion(of node: Node) -> GICVersion? {
        guard let compatible = property(known.compatible, of: node),
              hasProperty(known.interruptController, of: node) else { return nil }
        if compatible.contains(string: "arm,gic-v3") || compatible.contains(string: "qcom,msm8996-gic-v3") { return .v3 }
        for name in GICVersion.v2Compatibles where compatible.contains(string: name) { return .v2 }
        return nil
    }

    /// The interrupt parent of `node` as Linux's `of_irq_find_parent` finds it:
    /// its own or an ancestor's `interrupt-parent`, else the nearest ancestor
    /// with `#interrupt-cells`.
    /// A GIC's own interrupt (its maintenance PPI) resolves to the GIC itself,
    /// as in Linux. A walk longer than the tree is deep is a reference loop.
    public func interruptParent(of node: Node) -> Node? {
        var current = node
        var hops = 0
        while hops <= nodeCount {
            hops += 1
            guard let next = interruptParentStep(from: current) else { return nil }
            current = next
            if hasProperty(known.interruptCells, of: current) { return current }
        }
        return nil
    }

    /// One hop of that walk: the `interrupt-parent` target, else the parent.
    /// nil at the root or on a phandle no node has (the walk gives up).
    private func interruptParentStep(from node: Node) -> Node? {
        if let handle = property(known.interruptParent, of: node)?.u32 { return self.node(phandle: handle) }
        return parent(of: node)
    }

    /// What resolving many nodes' interrupts looks up again and again: each
    /// node's interrupt parent and whether a controller is a GIC. Empty tables
    /// mean "do not remember" (a single node's interrupts).
    struct InterruptCache {
        /// By node index: 0 not known yet, 1 a GIC, 2 not a GIC.
        var gic: [UInt8] = []
        /// By node index: -2 not known yet, -1 none, else the parent's index.
        var parent: [Int32] = []
        /// Paths of the non-GIC controllers met so far (a board routes many
        /// interrupts to a few of them: PDC, GPIO, PMIC).
        var controllerPaths: [Int32: String] = [:]

        init() {}
        init(nodeCount: Int) {
            gic = [UInt8](repeating: 0, count: nodeCount)
            parent = [Int32](repeating: -2, count: nodeCount)
        }
    }

    private func controllerPath(_ node: Node, _ cache: inout InterruptCache) -> String {
        guard !cache.parent.isEmpty else { return path(of: node) }
        if let known = cache.controllerPaths[node.index] { return known }
        let path = path(of: node)
        cache.controllerPaths[node.index] = path
        return path
    }

    private func isGIC(_ node: Node, _ cache: inout InterruptCache) -> Bool {
        guard !cache.gic.isEmpty else { return isGIC(node) }
        let i = Int(node.index)
        if cache.gic[i] == 0 { cache.gic[i] = isGIC(node) ? 1 : 2 }
        return cache.gic[i] == 1
    }

    /// `interruptParent(of:)`, remembering the answer for every node the walk
    /// passes through: interruptParent(n) is the next hop when that has
    /// `#interrupt-cells`, else interruptParent(next hop).
    private func interruptParent(of node: Node, _ cache: inout InterruptCache) -> Node? {
        guard !cache.parent.isEmpty else { return interruptParent(of: node) }
        var pending: [Int32] = []   // nodes whose answer is the walk's answer
        var current = node
        var answer: Int32 = -1
        while true {
            let remembered = cache.parent[Int(current.index)]
            if remembered != -2 { answer = remembered; break }
            // Revisiting a node of this walk is a loop: no parent (as the
            // bounded walk finds).
            if pending.contains(current.index) { answer = -1; break }
            pending.append(current.index)
            guard let next = interruptParentStep(from: current) else { answer = -1; break }
            if hasProperty(known.interruptCells, of: next) { answer = next.index; break }
            current = next
        }
        for n in pending { cache.parent[Int(n)] = answer }
        return answer < 0 ? nil : Node(index: answer)
    }

    /// Every interrupt of `node` (`interrupts-extended` or `interrupts`),
    /// resolved through `interrupt-map` nexus nodes as Linux's
    /// `of_irq_parse_raw` does, down to the controller that handles it.
    public func interrupts(of node: Node) -> [ResolvedInterrupt] {
        var cache = InterruptCache()
        return interrupts(of: node, &cache)
    }

    /// `interrupts(of:)` of each node, in order. Interrupt parents and GIC
    /// checks are worked out once for the whole batch (a board's devices
    /// mostly share them).
    public func interrupts(ofEach nodes: [Node]) -> [[ResolvedInterrupt]] {
        var cache = InterruptCache(nodeCount: nodeCount)
        var out: [[ResolvedInterrupt]] = []
        out.reserveCapacity(nodes.count)
        for node in nodes { out.append(interrupts(of: node, &cache)) }
        return out
    }

    private func interrupts(of node: Node, _ cache: inout InterruptCache) -> [ResolvedInterrupt] {
        // The path only goes into messages: built on failure, not per call.
        var here: String { path(of: node) }
        if let extended = property(known.interruptsExtended, of: node) {
            var raw: [(parent: Node, specifier: [UInt32])] = []
            let cells = extended.cells
            var i = 0
            while i < cells.count {
                guard let parent = self.node(phandle: cells[i]) else {
                    return [.unresolved("\(here): interrupts-extended names phandle \(cells[i]), which no node has")]
                }
                guard let n = property(known.interruptCells, of: parent)?.u32, i + 1 + Int(n) <= cells.count else {
                    return [.unresolved("\(here): interrupts-extended entry for \(path(of: parent)) does not match its #interrupt-cells")]
                }
                raw.append((parent, Array(cells[(i + 1)..<(i + 1 + Int(n))])))
                i += 1 + Int(n)
            }
            return raw.map { resolve(parent: $0.parent, specifier: $0.specifier, address: nil, from: node, &cache) }
        } else if let list = property(known.interrupts, of: node) {
            guard let parent = interruptParent(of: node, &cache) else {
                return [.unresolved("\(here): has 'interrupts' but no interrupt parent (no 'interrupt-parent' on it or an ancestor)")]
            }
            guard let n = property(known.interruptCells, of: parent)?.u32, n > 0, list.cellCount % Int(n) == 0,
                  list.count % 4 == 0 else {
                return [.unresolved("\(here): 'interrupts' length does not match #interrupt-cells of \(path(of: parent))")]
            }
            let width = Int(n)
            // Mapped over counted ranges rather than appended to reserved
            // arrays: measured cheaper (a board resolves thousands of these).
            return (0..<(list.cellCount / width)).map { entry in
                let specifier = (0..<width).map { list.cell(entry * width + $0) }
                return resolve(parent: parent, specifier: specifier, address: nil, from: node, &cache)
            }
        }
        return []
    }

    /// Follows one specifier from `parent` to the controller that handles it.
    /// `address` is the unit address the first `interrupt-map` matches on; nil
    /// means `reg` of `origin`, read only if a map is met.
    private func resolve(parent: Node, specifier: [UInt32], address unit: [UInt32]?, from origin: Node,
                         _ cache: inout InterruptCache) -> ResolvedInterrupt {
        var here: String { path(of: origin) }
        var controller = parent
        var spec = specifier
        var address: [UInt32] = []
        var mapped = false   // whether a map was followed (address and addressCells are then the map's)
        var addressCells = 0
        var hops = 0
        while hops < 16 {
            hops += 1
            if hasProperty(known.interruptController, of: controller) {
                if isGIC(controller, &cache) { return decodeGIC(spec, controller: controller, from: origin) }
                return .otherController(path: controllerPath(controller, &cache), specifier: spec)
            }
            guard let map = property(known.interruptMap, of: controller) else {
                guard let next = interruptParent(of: controller, &cache) else {
                    return .unresolved("\(here): interrupt parent \(path(of: controller)) is neither a controller nor a nexus (no interrupt-map)")
                }
                controller = next
                continue
            }
            if !mapped {
                // Linux's "old trick": the first nexus's #address-cells comes
                // from the first parent or its nearest ancestor (default 2);
                // later ones from the new parent itself (default 0).
                addressCells = 2
                var lookup: Node? = parent
                while let n = lookup {
                    if let cells = property(known.addressCells, of: n)?.u32 { addressCells = Int(cells); break }
                    lookup = self.parent(of: n)
                }
                address = unit ?? (property(known.reg, of: origin)?.cells ?? [])
                mapped = true
            }
            switch mapThrough(map, nexus: controller, addressCells: addressCells, specifier: spec, address: address) {
            case .success(let next):
                controller = next.parent
                spec = next.specifier
                address = next.address
                addressCells = Int(property(known.addressCells, of: next.parent)?.u32 ?? 0)
            case .failure(let failure):
                return .unresolved("\(here): \(failure.reason)")
            }
        }
        return .unresolved("\(here): interrupt-map chain longer than 16 hops (a loop?)")
    }

    /// Where every entry of a nexus's `interrupt-map` ends up (PCI host
    /// bridges route INTA-INTD this way); empty when the node has no map.
    public func interruptMapTargets(of node: Node) -> [ResolvedInterrupt] {
        guard let map = property(known.interruptMap, of: node) else { return [] }
        var here: String { path(of: node) }
        var addressCells = 2
        var lookup: Node? = node
        while let n = lookup {
            if let cells = property(known.addressCells, of: n)?.u32 { addressCells = Int(cells); break }
            lookup = parent(of: n)
        }
        let keyCells = addressCells + Int(property(known.interruptCells, of: node)?.u32 ?? 0)
        let cells = map.cells
        var out: [ResolvedInterrupt] = []
        var i = 0
        while i + keyCells + 1 <= cells.count && out.count < 4096 {
            guard let parent = self.node(phandle: cells[i + keyCells]),
                  let pic = property(known.interruptCells, of: parent)?.u32 else {
                return out + [.unresolved("\(here): interrupt-map entry names an unknown or cell-less parent")]
            }
            let parentAddressCells = Int(property(known.addressCells, of: parent)?.u32 ?? 0)
            let start = i + keyCells + 1 + parentAddressCells
            let end = start + Int(pic)
            guard end <= cells.count else { return out + [.unresolved("\(here): interrupt-map is truncated")] }
            var cache = InterruptCache()
            out.append(resolve(parent: parent, specifier: Array(cells[start..<end]),
                               address: Array(cells[(i + keyCells + 1)..<start]), from: node, &cache))
            i = end
        }
        return out
    }

    struct MapFailure: Error { var reason: String }

    private func mapThrough(_ map: PropertyValue, nexus: Node, addressCells: Int, specifier: [UInt32], address: [UInt32])
        -> Result<(parent: Node, specifier: [UInt32], address: [UInt32]), MapFailure> {
        let nexusPath = path(of: nexus)
        let interruptCells = Int(property(known.interruptCells, of: nexus)?.u32 ?? 0)
        guard specifier.count == interruptCells, addressCells <= 4 else {
            return .failure(MapFailure(reason: "specifier does not match #interrupt-cells of nexus \(nexusPath)"))
        }
        let mask = property(known.interruptMapMask, of: nexus)?.cells ?? []
        var key: [UInt32] = []
        for i in 0..<addressCells { key.append(i < address.count ? address[i] : 0) }
        key += specifier
        let cells = map.cells
        var i = 0
        while i + key.count + 1 <= cells.count {
            // As of_irq_parse_raw: an entry matches where (entry ^ key) & mask is 0.
            var matches = true
            for k in 0..<key.count where (cells[i + k] ^ key[k]) & (k < mask.count ? mask[k] : 0xffff_ffff) != 0 { matches = false }
            let handle = cells[i + key.count]
            guard let parent = self.node(phandle: handle) else {
                return .failure(MapFailure(reason: "interrupt-map of \(nexusPath) names phandle \(handle), which no node has"))
            }
            let parentAddressCells = Int(property(known.addressCells, of: parent)?.u32 ?? 0)
            guard let pic = property(known.interruptCells, of: parent)?.u32 else {
                return .failure(MapFailure(reason: "interrupt-map of \(nexusPath) points at \(path(of: parent)), which has no #interrupt-cells"))
            }
            let start = i + key.count + 1
            let end = start + parentAddressCells + Int(pic)
            guard end <= cells.count else {
                return .failure(MapFailure(reason: "interrupt-map of \(nexusPath) is truncated"))
            }
            if matches {
                return .success((parent, Array(cells[(start + parentAddressCells)..<end]),
                                 Array(cells[start..<(start + parentAddressCells)])))
            }
            i = end
        }
        return .failure(MapFailure(reason: "no interrupt-map entry of \(nexusPath) matches"))
    }

    private func decodeGIC(_ spec: [UInt32], controller: Node, from origin: Node) -> ResolvedInterrupt {
        var here: String { path(of: origin) }
        guard spec.count >= 3 else {
            return .unresolved("\(here): GIC specifier has \(spec.count) cells; expected 3 or 4")
        }
        let kind: GICInterruptKind
        switch spec[0] {
        case 0: kind = .spi
        case 1: kind = .ppi
        case 2: kind = .extendedSPI
        case 3: kind = .extendedPPI
        default:
            return .unresolved("\(here): GIC interrupt type \(spec[0]) is not SPI(0), PPI(1), ESPI(2) or EPPI(3)")
        }
        // INTID ranges (GIC architecture spec 2.2): SPI 32-1019, PPI 16-31,
        // ESPI 4096-5119, EPPI 1056-1119.
        let limit: UInt32
        switch kind {
        case .spi: limit = 987
        case .ppi: limit = 15
        case .extendedSPI: limit = 1023
        case .extendedPPI: limit = 63
        }
        guard spec[1] <= limit else {
            return .unresolved("\(here): GIC \(kind.name) number \(spec[1]) is out of range (0-\(limit))")
        }
        return .gic(GICInterrupt(kind: kind, number: spec[1], trigger: InterruptTrigger(flags: spec[2]), specifier: spec))
    }
}
