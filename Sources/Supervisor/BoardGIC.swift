import DeviceTree
import Platform

/// The vGIC matches the board's GIC, at its addresses (GICv2: GICD, GICC;
/// GICv3: GICD, first GICR region).
public enum BoardGIC {
    public static func of(path: String) throws(SupervisorError) -> GIC {
        try of(TreeFile.read(path, what: "board tree"), source: path)
    }

    @export(interface)
    public static func of(_ tree: DeviceTree, source path: String) throws(SupervisorError) -> GIC {
        guard let gic = tree.gic(), gic.regions.count >= 2 else {
            throw .configuration("board tree \(path): no GIC with two register windows")
        }
        switch gic.version {
        case .v2: return .v2(distributor: gic.regions[0].base, cpuInterface: gic.regions[1].base)
        case .v3: return .v3(distributor: gic.regions[0].base, redistributor: gic.regions[1].base)
        }
    }
}
