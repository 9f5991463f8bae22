import DeviceTree
import Syscalls

/// A device tree read from a file: the host tree `cleave boot` reads, the
/// board tree `cleave run --board` reads.
public enum TreeFile {
    /// `what` names the tree in errors ("host tree", "board tree").
    @export(interface)
    public static func read(_ path: String, what: String) throws(SupervisorError) -> DeviceTree {
        let bytes: [UInt8]
        do throws(Errno) { bytes = try Files.read(path, limit: 1 << 26) } catch {
            throw .system("reading the \(what) \(path)", error)
        }
        do throws(DeviceTreeError) { return try DeviceTree(bytes: bytes) } catch {
            throw .configuration("\(what) \(path): \(error)")
        }
    }
}
