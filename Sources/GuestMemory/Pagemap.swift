import CLinux
import Syscalls

/// /proc/self/pagemap (Documentation/admin-guide/mm/pagemap.rst): one 64-bit
/// entry per virtual 4 KiB page; bits 0-54 the page frame number, bit 63
/// "present". PFNs read as zero without CAP_SYS_ADMIN.
struct Pagemap: ~Copyable {
    let fd: FileDescriptor

    init() throws(MemoryError) {
        do throws(Errno) {
            fd = try FileDescriptor(opening: "/proc/self/pagemap", O_RDONLY)
        } catch {
            throw .pagemap(error)
        }
    }

    /// The physical address backing virtual address `address` (page-aligned).
    func physicalAddress(of address: UInt64) throws(MemoryError) -> UInt64 {
        var entry: UInt64 = 0
        let r = withUnsafeMutableBytes(of: &entry) { fd.read(into: $0, at: Int64(address / 4096 * 8)) }
        switch r {
        case .failure(let e): throw .pagemap(e)
        case .success(let n) where n != 8: throw .pagemap(Errno(EIO))
        default: break
        }
        guard entry >> 63 == 1 else { throw .pagemap(Errno(EFAULT)) }
        let pfn = entry & ((1 << 55) - 1)
        if pfn == 0 { throw .notRoot }
        return pfn * 4096
    }
}
