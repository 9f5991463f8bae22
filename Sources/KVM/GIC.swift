import CLinux
import Platform
import Syscalls

/// KVM device types of the vGIC (<linux/kvm.h>).
extension GIC {
    static let deviceTypeV2 = UInt32(KVM_DEV_TYPE_ARM_VGIC_V2.rawValue)
    static let deviceTypeV3 = UInt32(KVM_DEV_TYPE_ARM_VGIC_V3.rawValue)
}


/// A created vGIC device. Create it after the vCPUs and call `finalize` before
/// the first KVM_RUN (arm-vgic-v3.rst: KVM_DEV_ARM_VGIC_CTRL_INIT "requires
/// all vcpus to be created").
public final class VGIC {
    public let device: KVMDevice
    public let gic: GIC

    /// KVM_CREATE_DEVICE + KVM_DEV_ARM_VGIC_GRP_ADDR for each region. A host
    /// with a GICv2 (or no GICv3 CPU interface) answers ENODEV for v3.
    public init(vm: VirtualMachine, gic: GIC, interruptCount: UInt32) throws(KVMError) {
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
        // Number of interrupts including the 32 private ones (VGICLines).
        try device.set32(group: UInt32(KVM_DEV_ARM_VGIC_GRP_NR_IRQS), attribute: 0, value: interruptCount)
    }

    /// KVM_DEV_ARM_VGIC_CTRL_INIT: after every vCPU exists, before any runs.
    public func finalize() throws(KVMError) {
        try device.control(group: UInt32(KVM_DEV_ARM_VGIC_GRP_CTRL), attribute: UInt64(KVM_DEV_ARM_VGIC_CTRL_INIT))
    }
}
