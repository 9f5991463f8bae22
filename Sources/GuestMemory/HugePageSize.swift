import CLinux

/// The hugetlb page sizes arm64 offers with 4 KiB base pages and that Cleave
/// accepts for guest RAM (docs/kernel-facts.md §5; 64 KiB contiguous-PTE pages are
/// too small to be worth a memory slot each).
public enum HugePageSize: UInt64, CustomStringConvertible {
    case twoMiB = 0x20_0000
    case thirtyTwoMiB = 0x200_0000
    case oneGiB = 0x4000_0000

    public init?(bytes: UInt64) { self.init(rawValue: bytes) }

    /// log2 of the size, for MAP_HUGE_* (`log2 << MAP_HUGE_SHIFT`, mmap(2)).
    var shift: Int32 { Int32(rawValue.trailingZeroBitCount) }
    var mmapFlag: Int32 { shift << CLEAVE_MAP_HUGE_SHIFT }

    /// The sysfs directory of this size's pool.
    public var sysfsDirectory: String { "/sys/kernel/mm/hugepages/hugepages-\(rawValue / 1024)kB" }

    /// The kernel command line words reserving `count` pages of this size.
    public func bootargs(count: UInt64) -> String {
        switch self {
        case .twoMiB: return "hugepagesz=2M hugepages=\(count)"
        case .thirtyTwoMiB: return "hugepagesz=32M hugepages=\(count)"
        case .oneGiB: return "hugepagesz=1G hugepages=\(count)"
        }
    }

    public var description: String {
        switch self {
        case .twoMiB: return "2 MiB"
        case .thirtyTwoMiB: return "32 MiB"
        case .oneGiB: return "1 GiB"
        }
    }
}
