/// The hugetlb page sizes arm64 offers with 4 KiB base pages that Cleave
/// accepts for guest RAM (docs/kernel-facts.md §5): 2 MiB (a PMD), 32 MiB (16
/// contiguous PMDs) and 1 GiB (a PUD). 64 KiB contiguous-PTE pages are too
/// small to be worth a memory slot each. The plan's `hugepage-size`, the host
/// command line carving writes and the supervisor's mmap all use this list.
public enum HugePageSize: UInt64, CaseIterable, CustomStringConvertible {
    case twoMiB = 0x20_0000
    case thirtyTwoMiB = 0x200_0000
    case oneGiB = 0x4000_0000

    public init?(bytes: UInt64) { self.init(rawValue: bytes) }

    public var bytes: UInt64 { rawValue }

    /// The kernel's name for the size, as `hugepagesz=` takes it
    /// (kernel-parameters.txt).
    public var kernelName: String {
        switch self {
        case .twoMiB: return "2M"
        case .thirtyTwoMiB: return "32M"
        case .oneGiB: return "1G"
        }
    }

    /// The sysfs directory of this size's pool.
    public var sysfsDirectory: String { "/sys/kernel/mm/hugepages/hugepages-\(rawValue / 1024)kB" }

    /// The kernel command line words reserving `count` pages of this size.
    public func bootargs(count: UInt64) -> String { "hugepagesz=\(kernelName) hugepages=\(count)" }

    /// "2 MiB", "32 MiB", "1 GiB".
    public var description: String {
        switch self {
        case .twoMiB: return "2 MiB"
        case .thirtyTwoMiB: return "32 MiB"
        case .oneGiB: return "1 GiB"
        }
    }

    /// Every size, for messages: "0x200000 (2 MiB), 0x2000000 (32 MiB) or
    /// 0x40000000 (1 GiB)", from the cases themselves.
    public static var listed: String {
        var text = ""
        for (i, size) in allCases.enumerated() {
            if i > 0 { text += i == allCases.count - 1 ? " or " : ", " }
            text += "0x" + String(size.rawValue, radix: 16) + " (\(size))"
        }
        return text
    }
}
