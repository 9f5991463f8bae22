import Console

/// The options of the partition service and its control commands
/// (`cleave-boot start|status|stop|restart|console`; the `cleave` CLI takes
/// the same text for all but `start`).
public enum ServiceOptions: Equatable {
    case start(tree: String, kmsg: Bool)
    case status(json: Bool)
    case stop(guest: String)
    case restart(guest: String)
    /// `request`: what the console client asks the guest's console socket
    /// for: `attach` (history, then live output, and input; the default),
    /// `takeOver` (`--force`: the same, detaching an attached client),
    /// `follow` (`--read-only`: output only), `dump` (`--no-follow`: the
    /// history, then exit); `seconds`: detach after that long.
    case console(guest: String, request: ConsoleRequest, seconds: UInt64?)

    public static let commands = ["start", "status", "stop", "restart", "console"]

    public static let usage = """
    usage: start [--tree DTB] [--kmsg] run every guest of the host tree's /chosen/cleave, in the foreground
           status [--json]         each guest of the running service: state, pid, CPUs, RAM, devices, restarts
           stop GUEST              stop a guest (not restarted by its policy)
           restart GUEST           stop a guest if it runs, then start it
           console GUEST [--read-only | --force | --no-follow] [--timeout SECONDS]
                                   attach to the guest's console: its last 64 KiB of output, then live
                                   output; what you type goes to the guest. Ctrl-] detaches (on a
                                   terminal; the guest keeps running). One attached client at a time;
                                   any number of --read-only ones beside it.
      --tree DTB       the host tree carrying /chosen/cleave (default /sys/firmware/fdt)
      --kmsg           log lines to /dev/kmsg too (the service and every guest's VMM)
      --no-follow      print the console's recent output and exit
      -r, --read-only  follow the output as attach does but send nothing to the guest; beside the
                       attached client. On a terminal Ctrl-], Ctrl-C or Ctrl-D ends it; otherwise
                       stdin is not read and a signal (or --timeout) ends it
      --force          attach even if another client is attached: that one is told which pid took
                       over and detached
      --timeout SECONDS  detach after SECONDS (for scripts: stdin's end does not detach)
      -h, --help       this text
    files under /run/cleave (root only); stop, restart and console need root and a running service
    """

    /// The options that take no value.
    public static let switches = ["--json", "--kmsg", "--no-follow", "--read-only", "-r", "--force"]

    /// Whether `items` ask for this help.
    public static func wantsHelp(_ items: [String]) -> Bool { Arguments.wantsHelp(items, switches: switches) }

    /// `command` is one of `commands`; `items` the arguments after it.
    public static func parse(_ command: String, _ items: [String]) throws(UsageError) -> ServiceOptions {
        var args = Arguments(items)
        let parsed: ServiceOptions
        switch command {
        case "start":
            let tree = try args.option("--tree") ?? "/sys/firmware/fdt"
            parsed = .start(tree: tree, kmsg: args.flag("--kmsg"))
        case "status": parsed = .status(json: args.flag("--json"))
        case "stop", "restart", "console":
            var request = ConsoleRequest.attach
            var seconds: UInt64? = nil
            if command == "console" {
                request = try consoleRequest(&args)
            }
            if command == "console", let text = try args.option("--timeout") {
                guard let value = UInt64(text), value > 0 else { throw UsageError("--timeout needs a whole number of seconds above 0, not \(text)") }
                seconds = value
            }
            guard let guest = args.remaining.first, !guest.hasPrefix("-") else { throw UsageError("\(command) needs a guest name") }
            args = Arguments(Array(args.remaining.dropFirst()))
            switch command {
            case "stop": parsed = .stop(guest: guest)
            case "restart": parsed = .restart(guest: guest)
            default: parsed = .console(guest: guest, request: request, seconds: seconds)
            }
        default: throw UsageError("unknown command \(command) (have: \(commands.joined(separator: ", ")))")
        }
        guard args.isEmpty else { throw UsageError("unknown arguments: \(args.remaining.joined(separator: " "))") }
        return parsed
    }

    /// The console request the switches in `args` choose (taking them out): at most one of
    /// `--read-only`/`-r`, `--force`, `--no-follow`.
    private static func consoleRequest(_ args: inout Arguments) throws(UsageError) -> ConsoleRequest {
        var chosen: [(String, ConsoleRequest)] = []
        if args.flag("--no-follow") { chosen.append(("--no-follow", .dump)) }
        if args.flag("--force") { chosen.append(("--force", .takeOver)) }
        let readOnly = args.flag("--read-only")
        if args.flag("-r") || readOnly { chosen.append(("--read-only", .follow)) }
        guard chosen.count <= 1 else {
            throw UsageError("console takes one of --read-only, --force, --no-follow, not \(chosen.map { $0.0 }.joined(separator: " and "))")
        }
        return chosen.first?.1 ?? .attach
    }
}
