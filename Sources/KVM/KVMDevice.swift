import CLinux
import Syscalls

/// A device created with KVM_CREATE_DEVICE (api.rst 4.80-4.81), configured
/// through KVM_SET_DEVICE_ATTR (Documentation/virt/kvm/devices/).
public final class KVMDevice {
    let fd: FileDescriptor
    public let name: String

    init(fd: consuming FileDescriptor, name: String) {
        self.fd = fd
        self.name = name
    }

    /// KVM_SET_DEVICE_ATTR with a 64-bit value (addresses, counts).
    public func set(group: UInt32, attribute: UInt64, value: UInt64) throws(KVMError) {
        try setAttribute(group: group, attribute: attribute, value: value)
    }

    /// KVM_SET_DEVICE_ATTR with a 32-bit value (e.g. KVM_DEV_ARM_VGIC_GRP_NR_IRQS).
    public func set32(group: UInt32, attribute: UInt64, value: UInt32) throws(KVMError) {
        try setAttribute(group: group, attribute: attribute, value: value)
    }

    /// The attribute's `addr` points at `value`, whose width the group defines.
    private func setAttribute<T: FixedWidthInteger>(group: UInt32, attribute: UInt64, value: T) throws(KVMError) {
        var v = value
        try withUnsafeMutablePointer(to: &v) { (p) throws(KVMError) in
            var attr = kvm_device_attr()
            attr.group = group
            attr.attr = attribute
            attr.addr = UInt64(UInt(bitPattern: p))
            _ = try checked(cleave_ioctl(fd.rawValue, CLEAVE_KVM_SET_DEVICE_ATTR, &attr),
                          "KVM_SET_DEVICE_ATTR", "\(name) group \(group) attr \(attribute)")
        }
    }

    /// KVM_SET_DEVICE_ATTR carrying no data (control operations such as VGIC init).
    public func control(group: UInt32, attribute: UInt64) throws(KVMError) {
        var attr = kvm_device_attr()
        attr.group = group
        attr.attr = attribute
        _ = try checked(cleave_ioctl(fd.rawValue, CLEAVE_KVM_SET_DEVICE_ATTR, &attr),
                      "KVM_SET_DEVICE_ATTR", "\(name) group \(group) attr \(attribute)")
    }
}
