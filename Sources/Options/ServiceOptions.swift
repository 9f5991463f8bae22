/// The options of the partition service and its control commands
/// (`cleave-boot start|status|stop|restart`).
public enum ServiceOptions: Equatable {
    case start(tree: String)
    case status(json: Bool)
    case stop(guest: String)
    case restart(guest: String)

    public static let commands = ["start", "status", "stop", "restart"]

    public static let usage = """
    usage: start [--tree DTB]      run every guest of the host tree's /chosen/cleave, in the foreground
           status [--json]         each guest of the running service: state, pid, CPUs, RAM, devices, restarts
           stop GUEST              stop a guest (not restarted by its policy)
           restart GUEST           stop a guest if it runs, then start it
      --tree DTB       the host tree carrying /chosen/cleave (default /sys/firmware/fdt)
      -h, --help       this text
    files under /run/cleave (root only); stop and restart need root and a running service
    """

    /// Whether `items` ask for this help.
    public static func wantsHelp(_ items: [String]) -> Bool { Arguments.wantsHelp(items, switches: ["--json"]) }

    /// `command` is one of `commands`; `items` the arguments after it.
    public static func parse(_ command: String, _ items: [String]) throws(UsageError) -> ServiceOptions {
        var args = Arguments(items)
        let parsed: ServiceOptions
        switch command {
        case "start": parsed = .start(tree: try args.option("--tree") ?? "/sys/firmware/fdt")
        case "status": parsed = .status(json: args.flag("--json"))
        case "stop", "restart":
            guard let guest = args.remaining.first, !guest.hasPrefix("-") else { throw UsageError("\(command) needs a guest name") }
            args = Arguments(Array(args.remaining.dropFirst()))
            parsed = command == "stop" ? .stop(guest: guest) : .restart(guest: guest)
        default: throw UsageError("unknown command \(command) (have: \(commands.joined(separator: ", ")))")
        }
        guard args.isEmpty else { throw UsageError("unknown arguments: \(args.remaining.joined(separator: " "))") }
        return parsed
    }
}
