import CLinux
import Syscalls

/// A KVM VM file descriptor (api.rst 4.2 KVM_CREATE_VM): memory slots, vCPUs,
/// in-kernel devices and interrupt lines. Memory slot backings are owned here,
/// so a slot can never outlive the host memory behind it.
public final class VirtualMachine {
    let fd: FileDescriptor
    public let system: KVMSystem
    private var backings: [Mapping] = []
    private var nextSlot: UInt32 = 0

    /// The VM's file descriptor, for an interface that takes a VM by fd
    /// (cleave-forward's CLEAVE_FORWARD_SPI, which takes its own reference).
    /// Valid while this object lives.
    public var rawFD: Int32 { fd.rawValue }

    init(fd: consuming FileDescriptor, system: KVMSystem) {
        self.fd = fd
        self.system = system
    }

    /// KVM_CHECK_EXTENSION on the VM fd (some answers are per VM, e.g. IPA size).
    public func check(_ capability: Capability) -> Int32 {
        max(0, cleave_ioctl_value(fd.rawValue, CLEAVE_KVM_CHECK_EXTENSION, UInt(capability.rawValue)))
    }

    /// KVM_SET_USER_MEMORY_REGION (api.rst 4.35): maps `size` bytes of `backing`
    /// starting at `offset` to guest physical `guestAddress`, in a new slot.
    /// The VM keeps `backing` alive until it is destroyed.
    @discardableResult
    public func map(_ backing: Mapping, offset: Int = 0, size: Int, at guestAddress: UInt64, readOnly: Bool = false) throws(KVMError) -> UInt32 {
        precondition(offset >= 0 && size > 0 && offset + size <= backing.length, "slot outside its backing")
        var region = kvm_userspace_memory_region()
        region.slot = nextSlot
        region.flags = readOnly ? 2 : 0 // KVM_MEM_READONLY
        region.guest_phys_addr = guestAddress
        region.memory_size = UInt64(size)
        region.userspace_addr = backing.address + UInt64(offset)
        _ = try checked(cleave_ioctl(fd.rawValue, CLEAVE_KVM_SET_USER_MEMORY_REGION, &region),
                      "KVM_SET_USER_MEMORY_REGION", "slot \(nextSlot) at \(hex(guestAddress)) size \(hex(size))")
        if backings.last !== backing { backings.append(backing) }
        nextSlot += 1
        return nextSlot - 1
    }

    /// Number of memory slots registered so far.
    public var slotCount: Int { Int(nextSlot) }

    /// KVM_CREATE_VCPU (api.rst 4.7) then mmaps its `struct kvm_run`.
    public func createVCPU(id: Int) throws(KVMError) -> VirtualCPU {
        let raw = try checked(cleave_ioctl_value(fd.rawValue, CLEAVE_KVM_CREATE_VCPU, UInt(id)), "KVM_CREATE_VCPU", "vcpu \(id)")
        let vcpuFD = FileDescriptor(adopting: raw)
        let run: Mapping
        do throws(Errno) {
            run = try Mapping(length: system.vcpuMmapSize, protection: PROT_READ | PROT_WRITE, flags: MAP_SHARED, fd: raw)
        } catch {
            throw .call("mmap", context: "kvm_run of vcpu \(id)", errno: error)
        }
        return VirtualCPU(id: id, fd: vcpuFD, run: run, vm: self)
    }

    /// KVM_ARM_PREFERRED_TARGET (api.rst 4.83): the target for KVM_ARM_VCPU_INIT.
    public func preferredTarget() throws(KVMError) -> kvm_vcpu_init {
        var init_ = kvm_vcpu_init()
        _ = try checked(cleave_ioctl(fd.rawValue, CLEAVE_KVM_ARM_PREFERRED_TARGET, &init_), "KVM_ARM_PREFERRED_TARGET")
        return init_
    }

    /// KVM_CREATE_DEVICE (api.rst 4.80), e.g. the vGIC.
    public func createDevice(type: UInt32, name: String) throws(KVMError) -> KVMDevice {
        var request = kvm_create_device()
        request.type = type
        _ = try checked(cleave_ioctl(fd.rawValue, CLEAVE_KVM_CREATE_DEVICE, &request), "KVM_CREATE_DEVICE", name)
        return KVMDevice(fd: FileDescriptor(adopting: Int32(request.fd)), name: name)
    }

    /// KVM_IRQ_LINE (api.rst 4.25) for a shared peripheral interrupt: the
    /// irq field is (KVM_ARM_IRQ_TYPE_SPI << 24) | INTID (docs/kernel-facts.md §4).
    public func setSPI(intid: UInt32, level: Bool) throws(KVMError) {
        precondition(intid >= 32 && intid < 1020, "SPI INTIDs are 32-1019")
        var irq = kvm_irq_level()
        irq.irq = (1 << 24) | intid
        irq.level = level ? 1 : 0
        _ = try checked(cleave_ioctl(fd.rawValue, CLEAVE_KVM_IRQ_LINE, &irq), "KVM_IRQ_LINE", "INTID \(intid)")
    }

    /// KVM_IRQFD (api.rst 4.75): a write to `eventfd` injects SPI `intid`. The
    /// arm64 gsi is the SPI number, INTID - 32 (docs/kernel-facts.md §4).
    public func attachIRQFD(eventfd: Int32, intid: UInt32, resampleFD: Int32? = nil) throws(KVMError) {
        precondition(intid >= 32, "irqfd routes SPIs only")
        var request = kvm_irqfd()
        request.fd = UInt32(bitPattern: eventfd)
        request.gsi = intid - 32
        if let resampleFD {
            request.flags = UInt32(KVM_IRQFD_FLAG_RESAMPLE)
            request.resamplefd = UInt32(bitPattern: resampleFD)
        }
        _ = try checked(cleave_ioctl(fd.rawValue, CLEAVE_KVM_IRQFD, &request), "KVM_IRQFD", "INTID \(intid)")
    }
}
