import CLinux
import Syscalls

/// A virtual GICv3 Interrupt Translation Service (Documentation/virt/kvm/
/// devices/arm-vgic-its.rst): KVM_DEV_TYPE_ARM_VGIC_ITS at the board's ITS
/// address, so a guest's MSIs (and LPIs) work as on the board. Create it after
/// the vGICv3 (it needs one), before the first KVM_RUN.
public final class VITS {
    public let device: KVMDevice
    public let base: UInt64

    static let deviceType = UInt32(KVM_DEV_TYPE_ARM_VGIC_ITS.rawValue)
    static let addressType = UInt64(KVM_VGIC_ITS_ADDR_TYPE)

    /// KVM_CREATE_DEVICE, the base address (64 KiB aligned, arm-vgic-its.rst
    /// KVM_DEV_ARM_VGIC_GRP_ADDR), then KVM_DEV_ARM_VGIC_CTRL_INIT. A kernel
    /// without ITS emulation, or a host without a GICv3, answers ENODEV.
    public init(vm: VirtualMachine, base: UInt64) throws(KVMError) {
        self.base = base
        device = try vm.createDevice(type: VITS.deviceType, name: "vITS")
        try device.set(group: UInt32(KVM_DEV_ARM_VGIC_GRP_ADDR), attribute: VITS.addressType, value: base)
        try device.control(group: UInt32(KVM_DEV_ARM_VGIC_GRP_CTRL), attribute: UInt64(KVM_DEV_ARM_VGIC_CTRL_INIT))
    }
}
