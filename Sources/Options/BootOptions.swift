import Supervisor

/// The options of a carved boot (`cleave boot` and `cleave-boot boot`).
public enum BootOptions {
    public static let usage = """
    usage: boot [--tree DTB] [--guest NAME] [--dump-dtb PATH] [--mark TEXT] [--interactive]
                [--status-file PATH] [--console-log PATH] [--console-socket PATH] [--kmsg]
      --tree DTB       the host tree carrying /chosen/cleave (default /sys/firmware/fdt)
      --guest NAME     boot this guest (default: the first one)
      --dump-dtb PATH  write the finalised guest tree there
      --mark TEXT      log the time when the console prints TEXT
      --interactive    feed stdin to the console (raw terminal; Ctrl-A x quits)
      --status-file PATH  keep the guest's state there (key=value lines; the service's guests/NAME.status)
      --console-log PATH  write the console there, bounded to 256 KiB with PATH.1, not to stdout
      --console-socket PATH  serve the console on this unix socket (mode 0600): the last 64 KiB
                       of output, then live output and input, for `cleave-boot console`
      --kmsg           write the log lines to /dev/kmsg too (levels <3> <4> <6>)
      -h, --help       this text
    exit status: as for run
    """

    /// The options that take no value.
    public static let switches = ["--interactive", "--kmsg"]

    /// Whether `items` ask for this help instead of a boot.
    public static func wantsHelp(_ items: [String]) -> Bool { Arguments.wantsHelp(items, switches: switches) }

    @export(interface)
    public static func parse(_ items: [String]) throws(UsageError) -> GuestConfiguration {
        var args = Arguments(items)
        let treePath = try args.option("--tree") ?? "/sys/firmware/fdt"
        let only = try args.option("--guest")
        let dump = try args.option("--dump-dtb")
        let mark = try args.option("--mark")
        let interactive = args.flag("--interactive")
        let statusPath = try args.option("--status-file")
        let consoleLogPath = try args.option("--console-log")
        let consoleSocketPath = try args.option("--console-socket")
        // Turned on by the executable before parsing (Log.enableKmsg), so a parse error reaches it too.
        _ = args.flag("--kmsg")
        guard args.isEmpty else { throw UsageError("unknown arguments: \(args.remaining.joined(separator: " "))") }
        var config: GuestConfiguration
        do throws(SupervisorError) { config = try HostTreeGuest.configuration(treePath: treePath, guest: only) } catch {
            throw UsageError(setup: "\(error)")
        }
        config.dumpTreePath = dump
        config.consoleMarker = mark
        config.interactive = interactive
        config.statusPath = statusPath
        config.consoleLogPath = consoleLogPath
        config.consoleSocketPath = consoleSocketPath
        return config
    }
}
