import CLinux
import Syscalls

extension Sysfs {
    /// Writes `text` in one write(2) (sysfs attributes take one write each).
    static func write(_ path: String, _ text: String) throws(PassthroughError) {
        let fd: FileDescriptor
        do throws(Errno) { fd = try FileDescriptor(opening: path, O_WRONLY) } catch {
            throw .call("open", context: path, errno: error)
        }
        let raw = fd.rawValue
        var bytes = Array(text.utf8)
        let n = bytes.withUnsafeMutableBytes { cleave_write(raw, $0.baseAddress, $0.count) }
        if n < 0 { throw .call("write", context: "\"\(text)\" to \(path)", errno: Errno(Int32(-n))) }
    }
}
