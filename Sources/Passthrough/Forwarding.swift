import CLinux
import KVM
import Syscalls

/// /dev/cleave-forward, the cleave-forward module's control device
/// (Kernel/cleave-forward/cleave-forward.h, docs/kernel-facts.md §24): the
/// host side of an INTID, and forwarding one SPI of a VM with the list
/// register's HW bit, so the host only drops the priority and the guest's EOI
/// deactivates the physical SPI.
public final class ForwardControl {
    let fd: FileDescriptor

    /// Opens /dev/cleave-forward; throws why forwarding is unavailable.
    public init() throws(ForwardControl.Unavailable) {
        do throws(Errno) { fd = try FileDescriptor(opening: ForwardControl.device, O_RDWR | O_CLOEXEC) } catch {
            switch error.rawValue {
            case ENOENT: throw Unavailable("no \(ForwardControl.device): cleave-forward.ko is not loaded (Scripts/build-modules builds it)")
            case EACCES, EPERM: throw Unavailable("\(ForwardControl.device): \(error) (root only)")
            default: throw Unavailable("\(ForwardControl.device): \(error)")
            }
        }
    }

    public static let device = "/dev/cleave-forward"

    /// Why a host cannot forward, or an SPI was not forwarded: one line for the log.
    public struct Unavailable: Error, CustomStringConvertible {
        public var description: String
        init(_ description: String) { self.description = description }
    }

    /// CLEAVE_FORWARD_IRQ_INFO: the host side of one SPI.
    public struct IRQInfo {
        /// The Linux IRQ, 0 when the INTID has none.
        public var irq: UInt32
        public var level: Bool
        /// The CPU it is steered to, -1 when none.
        public var cpu: Int32
        public var state: UInt32

        public var requested: Bool { state & UInt32(CLEAVE_FORWARD_REQUESTED) != 0 }
        public var forwarded: Bool { state & UInt32(CLEAVE_FORWARD_FORWARDED) != 0 }
        public var active: Bool { state & UInt32(CLEAVE_FORWARD_ACTIVE) != 0 }
        public var splitEOI: Bool { state & UInt32(CLEAVE_FORWARD_SPLIT_EOI) != 0 }
    }

    /// `map`: give an INTID that has no Linux IRQ yet one from the host tree
    /// (as a driver's platform_get_irq would); the forwarding needs one.
    public func info(intid: UInt32, map: Bool) -> Result<IRQInfo, Errno> {
        var request = cleave_forward_irq_info()
        request.intid = intid
        request.flags = map ? UInt32(CLEAVE_FORWARD_INFO_MAP) : 0
        let r = cleave_ioctl(fd.rawValue, CLEAVE_FORWARD_IRQ_INFO_REQUEST, &request)
        if r < 0 { return .failure(Errno(-r)) }
        return .success(IRQInfo(irq: request.irq, level: request.trigger == 4, cpu: request.cpu, state: request.state))
    }

    /// CLEAVE_FORWARD_SPI: forwards `intid` of `vm` (routed by the guest to
    /// vCPU `vcpu`) with the IRQ steered to `hostCPU`, where that vCPU's thread
    /// must run pinned. Needs the vGIC initialised. Maps the INTID first.
    /// Throws the refusal in words, with the errno's meaning from the uapi header.
    public func forward(vm: VirtualMachine, vcpu: UInt32, intid: UInt32, hostCPU: Int) throws(ForwardControl.Unavailable) -> Forwarding {
        switch info(intid: intid, map: true) {
        case .failure(let e): throw Unavailable("INTID \(intid): CLEAVE_FORWARD_IRQ_INFO failed: \(e)")
        case .success(let i) where i.irq == 0:
            throw Unavailable("INTID \(intid): ENXIO (no host device tree node names the SPI on the GIC, so it has no Linux IRQ)")
        case .success: break
        }
        var request = cleave_forward_spi()
        request.vm_fd = vm.rawFD
        request.vcpu = vcpu
        request.intid = intid
        request.host_cpu = UInt32(hostCPU)
        request.flags = 0
        let r = cleave_ioctl(fd.rawValue, CLEAVE_FORWARD_SPI_REQUEST, &request)
        if r < 0 { throw Unavailable("INTID \(intid): \(ForwardControl.refusal(-r))") }
        return Forwarding(fd: FileDescriptor(adopting: r), intid: intid)
    }

    /// The meaning of CLEAVE_FORWARD_SPI's errno (cleave-forward.h; the
    /// module's dmesg line says which case it was).
    static func refusal(_ errno: Int32) -> String {
        switch errno {
        case EINVAL: return "EINVAL (not a KVM VM fd, or bad flags)"
        case ERANGE: return "ERANGE (not an SPI, or beyond the VM's vGIC)"
        case ENXIO: return "ENXIO (the INTID has no Linux IRQ on the host GIC)"
        case EOPNOTSUPP: return "EOPNOTSUPP (the host GIC is not in split EOI/Deactivate mode)"
        case EXDEV: return "EXDEV (the host CPU is offline, the IRQ cannot be steered there, or the vCPU thread may run elsewhere)"
        case EBADF: return "EBADF (the VM fd is not open)"
        case ENODEV: return "ENODEV (the VM's vGIC is not initialised)"
        case ENOENT: return "ENOENT (the VM has no such vCPU)"
        case EBUSY: return "EBUSY (the IRQ is already requested: a host driver, an open VFIO device or another forwarding holds it)"
        case EPERM: return "EPERM (the caller lacks CAP_SYS_ADMIN)"
        default: return "\(Errno(errno))"
        }
    }
}

/// One forwarded SPI, owned: closing the fd (deinit, or the process dying,
/// SIGKILL included) makes the module undo the forwarding (§24).
public final class Forwarding {
    let fd: FileDescriptor
    public let intid: UInt32

    init(fd: consuming FileDescriptor, intid: UInt32) {
        self.fd = fd
        self.intid = intid
    }

    /// CLEAVE_FORWARD_STATUS: host handler runs (physical assertions
    /// injected), of which off the steered CPU, and the vCPU thread's CPU.
    public struct Status {
        public var irq: UInt32
        public var hostCPU: UInt32
        public var handled: UInt32
        public var offCPU: UInt32
        public var vcpuThreadCPU: Int32
    }

    public func status() -> Status? {
        var s = cleave_forward_status()
        guard cleave_ioctl(fd.rawValue, CLEAVE_FORWARD_STATUS_REQUEST, &s) >= 0 else { return nil }
        return Status(irq: s.irq, hostCPU: s.host_cpu, handled: s.handled, offCPU: s.off_cpu, vcpuThreadCPU: s.vcpu_thread_cpu)
    }
}
