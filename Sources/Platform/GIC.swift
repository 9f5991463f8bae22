/// The interrupt controller a guest gets: a vGIC of the board's version at the
/// board's own addresses (guest physical == host physical, so the guest finds
/// the GIC where the board tree puts it). KVM creates it
/// (Documentation/virt/kvm/devices/arm-vgic.rst, arm-vgic-v3.rst) and guest
/// trees describe it; both read this one type.
public enum GIC: Equatable, CustomStringConvertible {
    /// GICv2: distributor and CPU interface bases (0x08000000 and 0x08010000
    /// on QEMU virt; docs/kernel-facts.md §1).
    case v2(distributor: UInt64, cpuInterface: UInt64)
    /// GICv3: distributor and redistributor bases (0x08000000 and 0x080a0000
    /// on QEMU virt); the redistributor region holds one frame pair per vCPU.
    case v3(distributor: UInt64, redistributor: UInt64)

    public var description: String {
        switch self {
        case .v2(let d, let c): return "GICv2 (GICD 0x\(String(d, radix: 16)), GICC 0x\(String(c, radix: 16)))"
        case .v3(let d, let r): return "GICv3 (GICD 0x\(String(d, radix: 16)), GICR 0x\(String(r, radix: 16)))"
        }
    }

    /// The register windows a guest with `vcpus` vCPUs sees, in the order of
    /// the GIC binding's `reg` (arm,gic.yaml: GICD, GICC; arm,gic-v3.yaml:
    /// GICD, GICR region).
    public func guestWindows(vcpus: Int) -> [(base: UInt64, size: UInt64)] {
        switch self {
        case .v2(let d, let c):
            return [(d, GICFrames.v2DistributorSize), (c, GICFrames.v2CPUInterfaceSize)]
        case .v3(let d, let r):
            return [(d, GICFrames.v3DistributorSize), (r, GICFrames.redistributorStride * UInt64(vcpus))]
        }
    }
}

/// Register frame sizes of the GIC architecture (IHI 0048B for GICv2, IHI
/// 0069 for GICv3), as KVM's vGIC implements them.
public enum GICFrames {
    /// GICv2 distributor: 4 KiB of registers (IHI 0048B 4.1.2).
    public static let v2DistributorSize: UInt64 = 0x1000
    /// GICv2 CPU interface as a guest sees it: 8 KiB, so GICC_DIR (offset
    /// 0x1000) exists; a 4 KiB window (some boards' GIC-400 `reg`) loses the
    /// split priority-drop/deactivate register.
    public static let v2CPUInterfaceSize: UInt64 = 0x2000
    /// GICv3 distributor: 64 KiB (IHI 0069 12.1).
    public static let v3DistributorSize: UInt64 = 0x1_0000
    /// One GICv3 redistributor: RD_base and SGI_base frames, 64 KiB each, per
    /// vCPU (IHI 0069 12.10); KVM's region is vCPUs x this.
    public static let redistributorStride: UInt64 = 0x2_0000
    /// One GICv3 ITS: control and translation frames, 64 KiB each (IHI 0069
    /// 12.19); KVM wants its base 64 KiB aligned (arm-vgic-its.rst).
    public static let itsSize: UInt64 = 0x2_0000
}
