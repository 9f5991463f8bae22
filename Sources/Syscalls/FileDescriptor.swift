import CLinux

/// Owns one open file descriptor and closes it exactly once, in deinit.
/// Wrap a descriptor the moment the kernel returns it: one owner per kernel object (docs/architecture.md).
public struct FileDescriptor: ~Copyable {
    public let rawValue: Int32

    public init(adopting rawValue: Int32) { self.rawValue = rawValue }

    /// Opens `path` with O_CLOEXEC added to `flags`.
    public init(opening path: String, _ flags: Int32, mode: UInt32 = 0o644) throws(Errno) {
        let r = path.withCString { p in retryingOnInterrupt { cleave_open(p, flags | O_CLOEXEC, mode) } }
        switch r {
        case .success(let fd): rawValue = fd
        case .failure(let e): throw e
        }
    }

    deinit { _ = cleave_close(rawValue) }

    /// Reads up to `count` bytes at `offset` (or the current position when nil).
    public func read(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64? = nil) -> Result<Int, Errno> {
        while true {
            let n: Int
            if let offset {
                n = cleave_pread(rawValue, buffer.baseAddress, buffer.count, offset)
            } else {
                n = cleave_read(rawValue, buffer.baseAddress, buffer.count)
            }
            if n == -Int(EINTR) { continue }
            return n < 0 ? .failure(Errno(Int32(-n))) : .success(n)
        }
    }

    /// The file's size (fstat).
    public func size() -> Result<Int, Errno> {
        let n = cleave_fd_size(rawValue)
        return n < 0 ? .failure(Errno(Int32(-n))) : .success(Int(n))
    }

    /// Fills `buffer` from `offset`, looping over short reads; fails on early EOF.
    public func readExactly(into buffer: UnsafeMutableRawBufferPointer, at offset: Int64) -> Result<Void, Errno> {
        var done = 0
        while done < buffer.count {
            let chunk = UnsafeMutableRawBufferPointer(rebasing: buffer[done...])
            switch read(into: chunk, at: offset + Int64(done)) {
            case .failure(let e): return .failure(e)
            case .success(0): return .failure(Errno(EIO))
            case .success(let n): done += n
            }
        }
        return .success(())
    }

    /// Writes all of `bytes`, looping over short writes.
    public func writeAll(_ bytes: UnsafeRawBufferPointer) -> Result<Void, Errno> {
        var done = 0
        while done < bytes.count {
            let n = cleave_write(rawValue, bytes.baseAddress! + done, bytes.count - done)
            if n == -Int(EINTR) { continue }
            if n < 0 { return .failure(Errno(Int32(-n))) }
            done += n
        }
        return .success(())
    }
}
