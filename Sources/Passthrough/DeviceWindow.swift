import CLinux
import KVM
import Syscalls

/// A passed-through device's MMIO, mapped from /dev/mem and given to the guest
/// at the same physical address (the `devmem` passthrough method). KVM maps a
/// PFNMAP VMA at stage 2 as Device memory, which is what MMIO needs (docs/kernel-facts.md
/// §5). /dev/mem allows it only for MMIO no host driver claims (§6):
/// carve disables the device in the host tree, so no driver binds it.
/// Interrupts are not forwarded here (that needs VFIO platform or UIO genirq,
/// docs/kernel-facts.md §3).
public final class DeviceWindow {
    public let base: UInt64
    public let size: UInt64
    let mapping: Mapping

    public enum Failure: Error, CustomStringConvertible {
        case open(Errno)
        case map(base: UInt64, size: UInt64, Errno)
        public var description: String {
            switch self {
            case .open(let e): return "open /dev/mem: \(e)"
            case .map(let b, let s, let e):
                return "mmap /dev/mem 0x\(String(b, radix: 16))+0x\(String(s, radix: 16)): \(e)" + (e.rawValue == EPERM ? " (a host driver claims it, or it is System RAM: STRICT_DEVMEM)" : "")
            }
        }
    }

    private init(base: UInt64, size: UInt64, mapping: Mapping) {
        self.base = base
        self.size = size
        self.mapping = mapping
    }

    /// Maps whole 4 KiB pages covering `ranges`, merged (stage 2 maps pages, so
    /// two devices in one page share a window).
    public static func map(_ ranges: [(base: UInt64, size: UInt64)]) throws(Failure) -> [DeviceWindow] {
        var pages: [(base: UInt64, end: UInt64)] = []
        for r in ranges.sorted(by: { $0.base < $1.base }) {
            let b = r.base & ~UInt64(0xfff)
            let e = (r.base + r.size + 0xfff) & ~UInt64(0xfff)
            if let last = pages.last, b <= last.end { pages[pages.count - 1].end = max(last.end, e) } else { pages.append((b, e)) }
        }
        guard !pages.isEmpty else { return [] }
        let fd: FileDescriptor
        do throws(Errno) { fd = try FileDescriptor(opening: "/dev/mem", O_RDWR | O_SYNC) } catch { throw .open(error) }
        var windows: [DeviceWindow] = []
        for p in pages {
            do throws(Errno) {
                let m = try Mapping(length: Int(p.end - p.base), protection: PROT_READ | PROT_WRITE, flags: MAP_SHARED,
                                    fd: fd.rawValue, offset: Int64(p.base))
                windows.append(DeviceWindow(base: p.base, size: p.end - p.base, mapping: m))
            } catch {
                throw .map(base: p.base, size: p.end - p.base, error)
            }
        }
        return windows
    }

    public func register(in vm: VirtualMachine) throws(KVMError) {
        try vm.map(mapping, size: Int(size), at: base)
    }
}
