import CLinux
import DeviceTree
import GuestMemory
import KVM
import Supervisor
import Syscalls

/// `cleave-boot boot`: boots the guests that `cleave carve` embedded under
/// /chosen/cleave in the host tree (Boards/README.md, "What carving adds").
enum BootCommand {
    static let usage = """
    usage: cleave-boot boot [--tree DTB] [--guest NAME] [--dump-dtb PATH] [--mark TEXT]
      --tree DTB       the host tree carrying /chosen/cleave (default /sys/firmware/fdt)
      --guest NAME     boot only this guest (default: the first guest)
      --dump-dtb PATH  write the finalised guest tree there
      --mark TEXT      log the time when the console prints TEXT
    """

    static func main(_ args: inout Arguments, startTime: UInt64) -> Int32 {
        do throws(UsageError) {
            let treePath = try args.option("--tree") ?? "/sys/firmware/fdt"
            let only = try args.option("--guest")
            let dump = try args.option("--dump-dtb")
            let mark = try args.option("--mark")
            guard args.isEmpty else { throw UsageError("unknown arguments: \(args.remaining.joined(separator: " "))") }
            var config = try CarvedGuest.configuration(treePath: treePath, guest: only)
            config.dumpTreePath = dump
            config.consoleMarker = mark
            let outcome = Supervisor(config, startTime: startTime).run()
            Log.write(.info, config.name, "exit", "status=\(outcome.exitStatus) peak_rss_kib=\(cleave_peak_rss_kib()) (hugetlb guest RAM is not counted in RSS) t_ms=\(milliseconds(Clock.monotonic - startTime))")
            return outcome.exitStatus
        } catch {
            print("cleave-boot boot: \(error)")
            print(usage)
            return 1
        }
    }
}
