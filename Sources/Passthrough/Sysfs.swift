import CLinux
import Syscalls

/// The few sysfs/procfs operations host preparation needs, each returning
/// the errno so callers can name the file that failed.
enum Sysfs {
    static func read(_ path: String) -> String? {
        do throws(Errno) {
            var text = try Files.readText(path)
            while let last = text.last, last == "\n" || last == " " { text.removeLast() }
            return text
        } catch { return nil }
    }

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

    static func exists(_ path: String) -> Bool { realpath(path) != nil }

    static func realpath(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = path.withCString { p in buffer.withUnsafeMutableBufferPointer { cleave_realpath(p, $0.baseAddress, $0.count) } }
        guard n >= 0 else { return nil }
        return String(decoding: buffer[0..<Int(n)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The last path component of a symlink's target (a driver's or group's name).
    static func linkName(_ path: String) -> String? {
        realpath(path).map { p in String(p.split(separator: "/").last ?? "") }
    }

    static func list(_ path: String) -> [String] {
        var buffer = [CChar](repeating: 0, count: 1 << 16)
        let n = path.withCString { p in buffer.withUnsafeMutableBufferPointer { cleave_list_directory(p, $0.baseAddress, $0.count) } }
        guard n > 0 else { return [] }
        return buffer[0..<Int(n)].split(separator: 0).map { String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self) }.sorted()
    }
}
