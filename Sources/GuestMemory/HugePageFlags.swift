import CLinux
import Platform

/// The mmap flags of a hugetlb size (the sizes themselves are Platform's).
extension HugePageSize {
    /// log2 of the size, for MAP_HUGE_* (`log2 << MAP_HUGE_SHIFT`, mmap(2)).
    var shift: Int32 { Int32(rawValue.trailingZeroBitCount) }
    var mmapFlag: Int32 { shift << CLEAVE_MAP_HUGE_SHIFT }
}
