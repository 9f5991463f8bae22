/// The interrupt controller architecture a board uses. Guests get a vGIC of the
/// same version at the same addresses (identity), so the guest tree can reuse
/// the board's GIC node.
public enum GICVersion: Equatable, CustomStringConvertible {
    case v2, v3

    /// GICv1/v2 compatibles (arm,gic.yaml).
    static let v2Compatibles = [
        "arm,gic-400", "arm,cortex-a15-gic", "arm,cortex-a9-gic", "arm,cortex-a7-gic",
        "arm,arm11mp-gic", "arm,pl390", "arm,arm1176jzf-devchip-gic", "arm,eb11mp-gic",
        "arm,tc11mp-gic", "brcm,brahma-b15-gic", "nvidia,tegra210-agic", "qcom,msm-8660-qgic",
        "qcom,msm-qgic2",
    ]

    public var description: String { self == .v2 ? "GICv2" : "GICv3" }
}

/// The board's GIC: its node and register windows.
public struct GICDescription {
    public var node: Node
    public var version: GICVersion
    /// `reg` entries, CPU physical. v2: GICD, GICC, [GICH, GICV]. v3: GICD,
    /// GICR region(s), [GICC, GICH, GICV].
    public var regions: [PhysicalRange]

    /// The GICv2 CPU interface (second `reg` entry), if this is a v2 GIC.
    public var cpuInterface: PhysicalRange? {
        version == .v2 && regions.count > 1 ? regions[1] : nil
    }
}

extension DeviceTree {
    /// The board's root interrupt controller if it is a GIC: the GIC that the
    /// root's `interrupt-parent` leads to, else the first enabled GIC node.
    public func gic() -> GICDescription? {
        var candidate: Node? = nil
        if let handle = property(known.interruptParent, of: root)?.u32, let n = node(phandle: handle), isGIC(n) {
            candidate = n
        } else {
            for n in allNodes where isGIC(n) && isEnabled(n) { candidate = n; break }
        }
        guard let node = candidate, let version = gicVersion(of: node) else { return nil }
        var regions: [PhysicalRange] = []
        if case .mmio(let ranges) = (try? deviceAddress(of: node)) ?? .none { regions = ranges }
        return GICDescription(node: node, version: version, regions: regions)
    }
}
