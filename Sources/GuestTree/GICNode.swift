import DeviceTree
import Platform

extension GuestNode {
    /// The guest's GIC, `interrupt-controller@<GICD>`, at the board's
    /// addresses (arm,gic.yaml for a GICv2, arm,gic-v3.yaml): the windows of
    /// the vGIC KVM gives `vcpus` vCPUs (`GIC.guestWindows`), the root's
    /// `interrupt-parent` through `phandle`.
    ///
    /// Carving keeps what the board's node says where the guest can use it
    /// as is: a GICv2's `compatible` (its model), the distributor's window,
    /// `#interrupt-cells`, `#address-cells`/`#size-cells` (an interrupt-map's
    /// parent unit address is sized by them). `cleave run` has no board node
    /// to follow and takes the defaults.
    ///
    /// With `its` (GICv3 only), an `its@<base>` msi-controller child with that
    /// phandle, reached through an empty `ranges` (the GIC's cells must then
    /// be 2 and 2).
    public static func gic(_ gic: GIC, vcpus: Int, phandle: UInt32, compatible: [String]? = nil,
                           distributorSize: UInt64? = nil, interruptCells: UInt32 = 3,
                           addressCells: UInt32 = 2, sizeCells: UInt32? = 2,
                           its: (base: UInt64, phandle: UInt32)? = nil) -> GuestNode {
        var windows = gic.guestWindows(vcpus: vcpus)
        if let distributorSize { windows[0].size = distributorSize }
        var node = GuestNode("interrupt-controller@" + unitAddress(windows[0].base))
        switch gic {
        case .v3: node.property("compatible", strings: compatible ?? ["arm,gic-v3"])
        case .v2: node.property("compatible", strings: compatible ?? ["arm,cortex-a15-gic"])
        }
        var reg: [UInt32] = []
        for window in windows { reg += numberCells(window.base, count: 2) + numberCells(window.size, count: 2) }
        node.property("reg", cells: reg)
        node.property("#interrupt-cells", u32: interruptCells)
        node.property("#address-cells", u32: addressCells)
        if let sizeCells { node.property("#size-cells", u32: sizeCells) }
        node.property("interrupt-controller")
        node.property("phandle", u32: phandle)
        if case .v3 = gic, let its {
            node.property("ranges")
            var child = GuestNode("its@" + unitAddress(its.base))
            child.property("compatible", string: "arm,gic-v3-its")
            child.property("msi-controller")
            child.property("#msi-cells", u32: 1)
            child.property("reg", cells: numberCells(its.base, count: 2) + numberCells(GICFrames.itsSize, count: 2))
            child.property("phandle", u32: its.phandle)
            node.children.append(child)
        }
        return node
    }
}

extension GIC {
    /// The architecture version, as device-tree code names it.
    var version: GICVersion {
        switch self {
        case .v2: return .v2
        case .v3: return .v3
        }
    }
}
