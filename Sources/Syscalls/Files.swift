import CLinux

/// Whole-file helpers for the small files a supervisor reads (images, DTBs,
/// sysfs and procfs entries) and the outputs it writes (temporary file + rename).
public enum Files {
    /// Reads a whole file. procfs/sysfs files report size 0, so this reads until EOF.
    public static func read(_ path: String, limit: Int = 1 << 30) throws(Errno) -> [UInt8] {
        let fd = try FileDescriptor(opening: path, O_RDONLY)
        // sysfs/procfs report size 0 and return at most a page per read: read
        // in fixed 64 KiB chunks (growing the chunk cost 8 MB of zeroing and
        // RSS for a 35 KB /sys/firmware/fdt).
        var bytes: [UInt8] = []
        if case .success(let n) = fd.size(), n > 0 { bytes.reserveCapacity(min(n, limit)) }
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let r = chunk.withUnsafeMutableBytes { fd.read(into: $0) }
            switch r {
            case .failure(let e): throw e
            case .success(0): return bytes
            case .success(let n):
                bytes.append(contentsOf: chunk[0..<n])
                if bytes.count > limit { throw Errno(EFBIG) }
            }
        }
    }

    public static func readText(_ path: String) throws(Errno) -> String {
        String(decoding: try read(path, limit: 1 << 24), as: UTF8.self)
    }

    /// Writes `bytes` to `path` through `path.tmp` and a rename: never half a file.
    public static func write(_ bytes: [UInt8], to path: String) throws(Errno) {
        let temporary = path + ".tmp"
        try writeDirect(bytes, to: temporary)
        let r = temporary.withCString { t in path.withCString { cleave_rename(t, $0) } }
        if r < 0 {
            _ = temporary.withCString { cleave_unlink($0) }
            throw Errno(-r)
        }
    }

    private static func writeDirect(_ bytes: [UInt8], to path: String) throws(Errno) {
        let fd = try FileDescriptor(opening: path, O_WRONLY | O_CREAT | O_TRUNC)
        if case .failure(let e) = bytes.withUnsafeBytes({ fd.writeAll($0) }) {
            _ = path.withCString { cleave_unlink($0) }
            throw e
        }
    }
}
