import DeviceTree

/// The board's GICv3 Interrupt Translation Service, if it has one: a child of
/// the GIC node compatible with "arm,gic-v3-its" (Documentation/devicetree/
/// bindings/interrupt-controller/arm,gic-v3.yaml, "msi-controller" children).
/// A guest of that board gets a vITS at the same address.
public enum BoardITS {
    /// The CPU physical base of the first enabled ITS of the board's GICv3.
    public static func base(of tree: DeviceTree) -> UInt64? {
        guard let gic = tree.gic(), gic.version == .v3 else { return nil }
        for child in tree.children(of: gic.node)
        where tree.isCompatible(child, with: "arm,gic-v3-its") && tree.isEnabled(child) {
            if case .mmio(let ranges)? = try? tree.deviceAddress(of: child), let first = ranges.first {
                return first.base
            }
        }
        return nil
    }
}
