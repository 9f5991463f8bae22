/// A window of CPU physical address space.
public struct PhysicalRange: Equatable, Comparable, CustomStringConvertible {
    public var base: UInt64
    public var size: UInt64
    public init(base: UInt64, size: UInt64) { self.base = base; self.size = size }
    /// One past the last byte, saturating at 2^64.
    public var end: UInt64 { base &+ size < base ? UInt64.max : base &+ size }
    public func overlaps(_ other: PhysicalRange) -> Bool { base < other.end && other.base < end }
    public static func < (a: PhysicalRange, b: PhysicalRange) -> Bool { (a.base, a.size) < (b.base, b.size) }
    public var description: String { "0x\(String(base, radix: 16))+0x\(String(size, radix: 16))" }
}

/// Where a device's registers are, as the CPU sees them.
public enum DeviceAddress: Equatable {
    /// Memory-mapped: every `reg` entry translated to CPU physical addresses.
    case mmio([PhysicalRange])
    /// No `reg` property.
    case none
    /// `reg` exists but does not reach the CPU: the bus at `bus` has no `ranges`
    /// (I2C, SPI, MDIO, ...), or its `ranges` do not cover the address.
    case notCPUAddressable(bus: String, reason: String)
}

extension DeviceTree {
    /// `#address-cells` of `node` as its children see it (default 2, Devicetree
    /// Specification 2.3.5).
    public func addressCells(of node: Node) -> Int {
        let cells = index.addressCells[Int(node.index)]
        return cells >= 0 ? Int(cells) : 2
    }

    /// `#size-cells` of `node` as its children see it (default 1).
    public func sizeCells(of node: Node) -> Int {
        let cells = index.sizeCells[Int(node.index)]
        return cells >= 0 ? Int(cells) : 1
    }

    /// The raw `reg` entries of `node` in its parent's address space.
    public func regEntries(of node: Node) throws(DeviceTreeError) -> [(address: UInt64, size: UInt64)] {
        guard let (reg, _, na, ns) = try regLayout(of: node) else { return [] }
        let stride = na + ns
        var out: [(address: UInt64, size: UInt64)] = []
        var i = 0
        while i < reg.cellCount {
            out.append((reg.number(at: i, cells: na), ns == 0 ? 0 : reg.number(at: i + na, cells: ns)))
            i += stride
        }
        return out
    }

    /// `node`'s `reg` with its parent and the parent's cell counts, checked
    /// to decode (nil without `reg`).
    private func regLayout(of node: Node) throws(DeviceTreeError) -> (reg: PropertyValue, parent: Node, addressCells: Int, sizeCells: Int)? {
        guard let reg = property(known.reg, of: node) else { return nil }
        let parent = self.parent(of: node) ?? root
        let na = addressCells(of: parent)
        let ns = sizeCells(of: parent)
        guard na >= 1, na <= 4, ns <= 2 else {
            throw .badProperty(node: path(of: parent), property: "#address-cells",
                               reason: "is \(na)/#size-cells \(ns): cannot decode 'reg' of \(path(of: node))")
        }
        guard reg.count % 4 == 0, reg.cellCount % (na + ns) == 0 else {
            throw .badProperty(node: path(of: node), property: "reg",
                               reason: "has \(reg.count) bytes, not a multiple of (\(na)+\(ns)) cells")
        }
        return (reg, parent, na, ns)
    }

    /// `reg` translated through every ancestor's `ranges` to CPU physical
    /// addresses, as Linux's `of_translate_address` does: an absent `ranges`
    /// on a bus stops translation, an empty one is the identity.
    public func deviceAddress(of node: Node) throws(DeviceTreeError) -> DeviceAddress {
        var cache = RangesCache()
        return try deviceAddress(of: node, &cache)
    }

    /// `deviceAddress(of:)` of each node, in order, its error in place of an
    /// address where `reg` or a bus's `ranges` does not decode. Each bus's
    /// `ranges` is decoded once for the whole batch (a board's devices sit on
    /// a few buses).
    public func deviceAddresses(ofEach nodes: [Node]) -> [Result<DeviceAddress, DeviceTreeError>] {
        var cache = RangesCache(nodeCount: nodeCount)
        var out: [Result<DeviceAddress, DeviceTreeError>] = []
        out.reserveCapacity(nodes.count)
        for node in nodes {
            do throws(DeviceTreeError) {
                out.append(.success(try deviceAddress(of: node, &cache)))
            } catch {
                out.append(.failure(error))
            }
        }
        return out
    }

    private func deviceAddress(of node: Node, _ cache: inout RangesCache) throws(DeviceTreeError) -> DeviceAddress {
        // regEntries(of:), read in place rather than into an array first.
        guard let (reg, parent, na, ns) = try regLayout(of: node) else { return .none }
        let stride = na + ns
        if reg.cellCount == 0 { return .none }
        var out: [PhysicalRange] = []
        out.reserveCapacity(reg.cellCount / stride)
        var i = 0
        while i < reg.cellCount {
            let address = reg.number(at: i, cells: na)
            let size = ns == 0 ? 0 : reg.number(at: i + na, cells: ns)
            switch try translate(address, from: parent, &cache) {
            case .success(let physical): out.append(PhysicalRange(base: physical, size: size))
            case .failure(let failure): return .notCPUAddressable(bus: failure.bus, reason: failure.reason)
            }
            i += stride
        }
        return .mmio(out)
    }

    public struct TranslationFailure: Error { public var bus: String; public var reason: String }

    /// A bus's `ranges`, decoded and checked.
    enum BusRanges {
        /// No `ranges`: the bus's children are not memory-mapped. The failure
        /// is the same for every address, so it is worded once.
        case absent(TranslationFailure)
        /// Empty `ranges`: the identity.
        case identity
        /// (child base, parent base, size), in property order.
        case windows([(child: UInt64, parent: UInt64, size: UInt64)])
        /// `ranges` does not decode with the cell counts around it.
        case undecodable(DeviceTreeError)
    }

    /// Buses' decoded `ranges`, by node index, for translating many addresses.
    /// An empty table means "do not remember" (a single translation).
    struct RangesCache {
        /// By node index: -1 not decoded yet, else the index into `decoded`.
        var slot: [Int32] = []
        var decoded: [BusRanges] = []

        init() {}
        init(nodeCount: Int) { slot = [Int32](repeating: -1, count: nodeCount) }
    }

    private func busRanges(of bus: Node, parentBus: Node, _ cache: inout RangesCache) -> BusRanges {
        guard !cache.slot.isEmpty else { return decodeRanges(of: bus, parentBus: parentBus) }
        let i = Int(bus.index)
        if cache.slot[i] < 0 {
            cache.slot[i] = Int32(cache.decoded.count)
            cache.decoded.append(decodeRanges(of: bus, parentBus: parentBus))
        }
        return cache.decoded[Int(cache.slot[i])]
    }

    private func decodeRanges(of bus: Node, parentBus: Node) -> BusRanges {
        guard let ranges = property(known.ranges, of: bus) else {
            let path = path(of: bus)
            return .absent(TranslationFailure(bus: path,
                reason: "bus \(path) has no 'ranges': its children are not memory-mapped"))
        }
        if ranges.isEmpty { return .identity }
        let childCells = addressCells(of: bus)
        let parentCells = addressCells(of: parentBus)
        let sizeCells = self.sizeCells(of: bus)
        let stride = childCells + parentCells + sizeCells
        guard childCells >= 1, childCells <= 4, parentCells >= 1, parentCells <= 4, sizeCells >= 1,
              sizeCells <= 2, ranges.count % 4 == 0, ranges.cellCount % stride == 0 else {
            return .undecodable(.badProperty(node: path(of: bus), property: "ranges",
                reason: "does not decode with #address-cells \(childCells), parent #address-cells \(parentCells), #size-cells \(sizeCells)"))
        }
        var windows: [(child: UInt64, parent: UInt64, size: UInt64)] = []
        windows.reserveCapacity(ranges.cellCount / stride)
        var i = 0
        while i < ranges.cellCount {
            // Wider child addresses (PCI's 3 cells) are compared on their
            // low 64 bits; the space code in phys.hi is not decoded.
            windows.append((child: ranges.number(at: i + max(0, childCells - 2), cells: min(childCells, 2)),
                            parent: ranges.number(at: i + childCells, cells: parentCells),
                            size: ranges.number(at: i + childCells + parentCells, cells: sizeCells)))
            i += stride
        }
        return .windows(windows)
    }

    /// Translates `address` in the child address space of `bus` up to the root.
    public func translate(_ address: UInt64, from bus: Node) throws(DeviceTreeError) -> Result<UInt64, TranslationFailure> {
        var cache = RangesCache()
        return try translate(address, from: bus, &cache)
    }

    private func translate(_ address: UInt64, from bus: Node, _ cache: inout RangesCache) throws(DeviceTreeError) -> Result<UInt64, TranslationFailure> {
        var address = address
        var bus = bus
        while let parentBus = parent(of: bus) {
            switch busRanges(of: bus, parentBus: parentBus, &cache) {
            case .absent(let failure):
                return .failure(failure)
            case .identity:
                break
            case .undecodable(let error):
                throw error
            case .windows(let windows):
                guard let window = windows.first(where: { address >= $0.child && address - $0.child < $0.size }) else {
                    let path = path(of: bus)
                    return .failure(TranslationFailure(bus: path,
                        reason: "address 0x\(String(address, radix: 16)) is outside the 'ranges' of \(path)"))
                }
                address = window.parent &+ (address - window.child)
            }
            bus = parentBus
        }
        return .success(address)
    }
}
