import CLinux
import Syscalls

/// The virtual interrupt controller, at the board's own addresses so the guest
/// sees the GIC where the board tree puts it (Documentation/virt/kvm/devices/
/// arm-vgic.rst and arm-vgic-v3.rst).
public enum GIC: CustomStringConvertible {
    /// GICv2: distributor and CPU interface bases (on QEMU virt 0x08000000 and
    /// 0x08010000; docs/kernel-facts.md §1).
    case v2(distributor: UInt64, cpuInterface: UInt64)
    /// GICv3: distributor and redistributor bases (0x08000000 and 0x080a0000 on
    /// QEMU virt); the redistributor region is 128 KiB per vCPU.
    case v3(distributor: UInt64, redistributor: UInt64)

    public var description: String {
        switch self {
        case .v2(let d, let c): return "GICv2 (GICD \(hex(d)), GICC \(hex(c)))"
        case .v3(let d, let r): return "GICv3 (GICD \(hex(d)), GICR \(hex(r)))"
        }
    }

    static let deviceTypeV2 = UInt32(KVM_DEV_TYPE_ARM_VGIC_V2.rawValue)
    static let deviceTypeV3 = UInt32(KVM_DEV_TYPE_ARM_VGIC_V3.rawValue)
    public static let distributorSize: UInt64 = 0x10000
    public static let redistributorSizePerCPU: UInt64 = 0x20000
    public static let cpuInterfaceSize: UInt64 = 0x2000
}

/// A created vGIC device. Create it after the vCPUs and call `finalize` before
/// the first KVM_RUN (arm-vgic-v3.rst: KVM_DEV_ARM_VGIC_CTRL_INIT "requires
/// all vcpus to be created").
public final class VGIC {
    public let device: KVMDevice
    public let gic: GIC

    /// KVM_CREATE_DEVICE + KVM_DEV_ARM_VGIC_GRP_ADDR for each region. A host
    /// with a GICv2 (or no GICv3 CPU interface) answers ENODEV for v3.
    public init(vm: VirtualMachine, gic: GIC, interruptCount: UInt32 = 256) throws(KVMError) {
        try vm.system.require(.deviceControl, for: "creating the vGIC")
        self.gic = gic
        switch gic {
        case .v2(let d, let c):
            device = try vm.createDevice(type: GIC.deviceTypeV2, name: "vGICv2")
            try device.set(group: UInt32(KVM_DEV_ARM_VGIC_GRP_ADDR), attribute: UInt64(KVM_VGIC_V2_ADDR_TYPE_DIST), value: d)
            try device.set(group: UInt32(KVM_DEV_ARM_VGIC_GRP_ADDR), attribute: UInt64(KVM_VGIC_V2_ADDR_TYPE_CPU), value: c)
        case .v3(let d, let r):
            device = try vm.createDevice(type: GIC.deviceTypeV3, name: "vGICv3")
            try device.set(group: UInt32(KVM_DEV_ARM_VGIC_GRP_ADDR), attribute: UInt64(KVM_VGIC_V3_ADDR_TYPE_DIST), value: d)
            try device.set(group: UInt32(KVM_DEV_ARM_VGIC_GRP_ADDR), attribute: UInt64(KVM_VGIC_V3_ADDR_TYPE_REDIST), value: r)
        }
        // Number of interrupts including the 32 private ones; a multiple of 32.
        try device.set32(group: UInt32(KVM_DEV_ARM_VGIC_GRP_NR_IRQS), attribute: 0, value: interruptCount)
    }

    /// KVM_DEV_ARM_VGIC_CTRL_INIT: after every vCPU exists, before any runs.
    public func finalize() throws(KVMError) {
        try device.control(group: UInt32(KVM_DEV_ARM_VGIC_GRP_CTRL), attribute: UInt64(KVM_DEV_ARM_VGIC_CTRL_INIT))
    }
}
