import CLinux

/// Owns one mmap'ed range and unmaps it in deinit. A class, so that whoever
/// hands the range to the kernel (a KVM memory slot) can keep it alive.
public final class Mapping {
    public let base: UnsafeMutableRawPointer
    public let length: Int
    /// Sub-ranges already given back with `release`, sorted by offset.
    private var released: [Range<Int>] = []

    /// mmap(2). `fd` -1 for anonymous mappings.
    public init(length: Int, protection: Int32, flags: Int32, fd: Int32 = -1, offset: Int64 = 0) throws(Errno) {
        var error: Int32 = 0
        guard let p = cleave_mmap(nil, length, protection, flags, fd, offset, &error) else { throw Errno(error) }
        base = p
        self.length = length
    }

    /// mmap(2) with MAP_FIXED at `offset` into this range (e.g. hugepages
    /// into a PROT_NONE reservation, a batch at a time); the new pages belong
    /// to this range and are unmapped with it.
    public func map(at offset: Int, length: Int, protection: Int32, flags: Int32) -> Result<Void, Errno> {
        precondition(offset >= 0 && length > 0 && offset + length <= self.length)
        var error: Int32 = 0
        guard cleave_mmap(base + offset, length, protection, flags | MAP_FIXED, -1, 0, &error) != nil else {
            return .failure(Errno(error))
        }
        return .success(())
    }

    /// Unmaps part of the range now (e.g. hugepages not needed after all); the
    /// rest stays mapped until deinit. `offset`/`length` must respect the
    /// mapping's page size.
    public func release(offset: Int, length: Int) {
        precondition(offset >= 0 && length > 0 && offset + length <= self.length)
        _ = cleave_munmap(base + offset, length)
        released.append(offset..<(offset + length))
        released.sort { $0.lowerBound < $1.lowerBound }
    }

    deinit {
        var cursor = 0
        for r in released {
            if r.lowerBound > cursor { _ = cleave_munmap(base + cursor, r.lowerBound - cursor) }
            cursor = max(cursor, r.upperBound)
        }
        if cursor < length { _ = cleave_munmap(base + cursor, length - cursor) }
    }

    public var address: UInt64 { UInt64(UInt(bitPattern: base)) }
    public var bytes: UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(start: base, count: length) }
}
