import CLinux
import Syscalls

extension VirtualCPU {
    /// Gives the vCPU's PMUv3 (asked for at `initialize(pmu: true)`) its
    /// overflow interrupt and initialises it, through the vCPU's device
    /// attributes (Documentation/virt/kvm/devices/vcpu.rst,
    /// KVM_ARM_VCPU_PMU_V3_CTRL): KVM_ARM_VCPU_PMU_V3_IRQ with `intid`, a PPI
    /// that must be the same on every vCPU, then KVM_ARM_VCPU_PMU_V3_INIT,
    /// which needs the vGIC initialised first (ENODEV before) and the
    /// interrupt set (ENXIO without). docs/kernel-facts.md §25.
    public func initializePMU(intid: UInt32) throws(KVMError) {
        var irq = Int32(bitPattern: intid)
        try withUnsafeMutablePointer(to: &irq) { (p) throws(KVMError) in
            var attr = kvm_device_attr()
            attr.group = UInt32(KVM_ARM_VCPU_PMU_V3_CTRL)
            attr.attr = UInt64(KVM_ARM_VCPU_PMU_V3_IRQ)
            attr.addr = UInt64(UInt(bitPattern: p))
            _ = try checked(cleave_ioctl(fd.rawValue, CLEAVE_KVM_SET_DEVICE_ATTR, &attr),
                            "KVM_SET_DEVICE_ATTR", "vcpu \(id) KVM_ARM_VCPU_PMU_V3_IRQ \(intid)")
        }
        var attr = kvm_device_attr()
        attr.group = UInt32(KVM_ARM_VCPU_PMU_V3_CTRL)
        attr.attr = UInt64(KVM_ARM_VCPU_PMU_V3_INIT)
        _ = try checked(cleave_ioctl(fd.rawValue, CLEAVE_KVM_SET_DEVICE_ATTR, &attr),
                        "KVM_SET_DEVICE_ATTR", "vcpu \(id) KVM_ARM_VCPU_PMU_V3_INIT")
    }
}
