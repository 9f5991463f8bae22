import CLinux

/// The processes that have a file open, found as fuser(1) finds them: each
/// /proc/PID/fd link that resolves to the file. For the error message of a
/// device found busy (a VFIO group opens in one process at a time), so that
/// it names who holds it; it reads every process's fd table, so only on an
/// error path (root reads them all).
public enum FileHolders {
    /// The pids (ascending) with `path` open, this process included.
    public static func pids(holding path: String) -> [Int32] {
        guard let target = Sysfs.realpath(path) else { return [] }
        var found: [Int32] = []
        for entry in Sysfs.list("/proc") {
            guard let pid = Int32(entry) else { continue }
            for fd in Sysfs.list("/proc/\(pid)/fd") where Sysfs.realpath("/proc/\(pid)/fd/\(fd)") == target {
                found.append(pid)
                break
            }
        }
        return found.sorted()
    }

    /// "pid 812 (cleave-boot)": a pid with its command name when readable.
    public static func describe(_ pid: Int32) -> String {
        "pid \(pid)" + (Sysfs.read("/proc/\(pid)/comm").map { " (\($0))" } ?? "")
    }
}
