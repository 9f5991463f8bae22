import Platform
import Syscalls

/// Why guest RAM could not be set up; each case says what to change.
public enum MemoryError: Error, CustomStringConvertible {
    case pool(size: HugePageSize, free: UInt64, needed: UInt64)
    case map(size: HugePageSize, pages: UInt64, errno: Errno)
    case pagemap(Errno)
    case notRoot
    case notContiguous(size: HugePageSize, needed: UInt64, longestRun: UInt64)
    case fixedBase(base: UInt64, size: UInt64)
    case invalidSize(UInt64, HugePageSize)

    public var description: String {
        switch self {
        case .pool(let size, let free, let needed):
            return "\(needed) free \(size) hugepages needed, \(free) free in \(size.sysfsDirectory): add \"\(size.bootargs(count: needed))\" (or more) to the host kernel command line"
        case .map(let size, let pages, let errno):
            return "mmap of \(pages) \(size) hugepages failed: \(errno)"
        case .pagemap(let errno):
            return "reading /proc/self/pagemap failed: \(errno)"
        case .notRoot:
            return "/proc/self/pagemap shows no physical addresses: identity-mapped RAM needs CAP_SYS_ADMIN (run as root)"
        case .notContiguous(let size, let needed, let longest):
            return "no physically contiguous run of \(needed) \(size) hugepages in the pool (longest \(longest)): reserve the pool at boot (\(size.bootargs(count: needed))) before memory fragments"
        case .fixedBase(let base, let size):
            return "memory-base 0x\(String(base, radix: 16)) (+0x\(String(size, radix: 16))) is not inside the free hugepage pool, and this kernel offers no cacheable PFNMAP (KVM 6.1 maps /dev/mem RAM as Device memory: instruction fetch faults, docs/kernel-facts.md §5); drop memory-base or reserve hugepages covering it"
        case .invalidSize(let bytes, let size):
            return "memory size 0x\(String(bytes, radix: 16)) is not a non-zero multiple of the \(size) hugepage size"
        }
    }
}
