import CLinux
import Supervisor
import Syscalls

// cleave-boot: the static boot-time binary (Embedded Swift). Subcommands:
//   run   an ad-hoc guest from command-line options (kvmtool style)
//   boot  the guests carve described under /chosen/cleave of the live tree
let startTime = Clock.monotonic

func usage() -> Never {
    print(RunCommand.usage)
    print("")
    print(BootCommand.usage)
    cleave_exit(1)
}

var arguments = Arguments(Array(ProcessArguments.all.dropFirst()))
let command = arguments.remaining.first ?? ""
if !arguments.isEmpty { arguments = Arguments(Array(arguments.remaining.dropFirst())) }
Signals.install()

switch command {
case "run":
    do throws(UsageError) {
        let config = try RunCommand.parse(&arguments)
        Log.write(.info, config.name, "parsed", "t_ms=\(milliseconds(Clock.monotonic - startTime))")
        let outcome = Supervisor(config, startTime: startTime).run()
        Log.write(.info, config.name, "exit", "status=\(outcome.exitStatus) peak_rss_kib=\(cleave_peak_rss_kib()) (hugetlb guest RAM is not counted in RSS) t_ms=\(milliseconds(Clock.monotonic - startTime))")
        cleave_exit(outcome.exitStatus)
    } catch {
        print("cleave-boot run: \(error)")
        print(RunCommand.usage)
        cleave_exit(1)
    }
case "boot":
    cleave_exit(BootCommand.main(&arguments, startTime: startTime))
case "-h", "--help", "help":
    usage()
default:
    usage()
}
