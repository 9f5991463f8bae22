import CLinux
import Syscalls

/// The /dev/kvm system handle (api.rst 4.1-4.5): API version, capabilities,
/// the vCPU mmap size, and VM creation.
public final class KVMSystem {
    let fd: FileDescriptor
    /// Size of each vCPU's shared `struct kvm_run` mapping (KVM_GET_VCPU_MMAP_SIZE).
    public let vcpuMmapSize: Int

    public init(path: String = "/dev/kvm") throws(KVMError) {
        fd = try KVMSystem.open(path)
        let version = try checked(cleave_ioctl_value(fd.rawValue, CLEAVE_KVM_GET_API_VERSION, 0), "KVM_GET_API_VERSION")
        guard version == 12 else { throw .apiVersion(version) }
        vcpuMmapSize = Int(try checked(cleave_ioctl_value(fd.rawValue, CLEAVE_KVM_GET_VCPU_MMAP_SIZE, 0), "KVM_GET_VCPU_MMAP_SIZE"))
    }

    private static func open(_ path: String) throws(KVMError) -> FileDescriptor {
        do throws(Errno) {
            return try FileDescriptor(opening: path, O_RDWR)
        } catch {
            throw .call("open", context: path, errno: error)
        }
    }

    /// KVM_CHECK_EXTENSION on the system fd: 0 when absent, else a capability-specific value.
    public func check(_ capability: Capability) -> Int32 {
        max(0, cleave_ioctl_value(fd.rawValue, CLEAVE_KVM_CHECK_EXTENSION, UInt(capability.rawValue)))
    }

    /// Throws a `missingCapability` naming `capability` and what needed it.
    public func require(_ capability: Capability, for needed: String) throws(KVMError) {
        if check(capability) <= 0 { throw .missingCapability(capability.description, needed: needed) }
    }

    /// KVM_CREATE_VM with the default IPA size (40 bits): enough for every
    /// QEMU-virt and board RAM address Cleave identity-maps below 1 TiB.
    public func createVM() throws(KVMError) -> VirtualMachine {
        let raw = try checked(retryingOnInterrupt { cleave_ioctl_value(fd.rawValue, CLEAVE_KVM_CREATE_VM, 0) }.rawResult, "KVM_CREATE_VM")
        return VirtualMachine(fd: FileDescriptor(adopting: raw), system: self)
    }
}

extension Result where Success == Int32, Failure == Errno {
    /// Back to the shim convention (value or -errno), for `check`.
    var rawResult: Int32 {
        switch self {
        case .success(let v): return v
        case .failure(let e): return -e.rawValue
        }
    }
}
