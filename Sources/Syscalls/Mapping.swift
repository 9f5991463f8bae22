import CLinux

/// Owns one mmap'ed range and unmaps it in deinit. A class, so that whoever
/// hands the range to the kernel (a KVM memory slot) can keep it alive.
public final class Mapping {
    public let base: UnsafeMutableRawPointer
    public let length: Int

    /// mmap(2). `fd` -1 for anonymous mappings.
    public init(length: Int, protection: Int32, flags: Int32, fd: Int32 = -1, offset: Int64 = 0) throws(Errno) {
        var error: Int32 = 0
        guard let p = cleave_mmap(nil, length, protection, flags, fd, offset, &error) else { throw Errno(error) }
        base = p
        self.length = length
    }

    deinit { _ = cleave_munmap(base, length) }

    public var address: UInt64 { UInt64(UInt(bitPattern: base)) }
    public var bytes: UnsafeMutableRawBufferPointer { UnsafeMutableRawBufferPointer(start: base, count: length) }
}
