import CLinux

/// The few sysfs/procfs reads host preparation (Passthrough) and the host
/// GPIO lookup (GPIO) need; nil or empty when the file is not there.
public enum Sysfs {
    public static func read(_ path: String) -> String? {
        do throws(Errno) {
            var text = try Files.readText(path)
            while let last = text.last, last == "\n" || last == " " { text.removeLast() }
            return text
        } catch { return nil }
    }

    public static func exists(_ path: String) -> Bool { realpath(path) != nil }

    public static func realpath(_ path: String) -> String? {
        var buffer = [CChar](repeating: 0, count: 4096)
        let n = path.withCString { p in buffer.withUnsafeMutableBufferPointer { cleave_realpath(p, $0.baseAddress, $0.count) } }
        guard n >= 0 else { return nil }
        return String(decoding: buffer[0..<Int(n)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }

    /// The last path component of a symlink's target (a driver's or group's name).
    public static func linkName(_ path: String) -> String? {
        realpath(path).map { p in String(p.split(separator: "/").last ?? "") }
    }

    public static func list(_ path: String) -> [String] {
        var buffer = [CChar](repeating: 0, count: 1 << 16)
        let n = path.withCString { p in buffer.withUnsafeMutableBufferPointer { cleave_list_directory(p, $0.baseAddress, $0.count) } }
        guard n > 0 else { return [] }
        return buffer[0..<Int(n)].split(separator: 0).map { String(decoding: $0.map { UInt8(bitPattern: $0) }, as: UTF8.self) }.sorted()
    }
}
