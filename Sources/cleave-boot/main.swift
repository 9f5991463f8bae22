import CLinux
import Options
import Service
import Supervisor
import Syscalls

// cleave-boot: the static boot-time binary (Embedded Swift). Subcommands:
//   run   an ad-hoc guest from command-line options (kvmtool style)
//   boot  a guest that `cleave carve` described under /chosen/cleave
//   start the partition service: every guest of /chosen/cleave, each its own process
//   status, stop, restart, console: the running service's guests
// The exit status of run and boot is the guest's outcome (Outcome.exitStatus);
// of the service commands 0, or 1 with a message.

/// Every `t_ms=` is measured from here: the exec itself when a launcher
/// stamped it in CLEAVE_EXEC_NS (CLOCK_MONOTONIC just before execve, see
/// Tests/Guests/exec-clock.c), else the top of main, which leaves out the
/// kernel's exec, the static-pie self-relocation and libc start-up.
let mainTime = Clock.monotonic
let startTime: UInt64 = {
    let now = mainTime
    guard let stamp = Environment.value("CLEAVE_EXEC_NS").flatMap({ UInt64($0) }),
          stamp <= now, now - stamp < 10_000_000_000 else { return now }
    return stamp
}()

var items = Array(ProcessArguments.all.dropFirst())
let command = items.first ?? ""
if !items.isEmpty { items.removeFirst() }
Signals.install()
// Before any parsing, so every line of the run (a parse error too) reaches the kernel's log.
if (command == "boot" || command == "start") && items.contains("--kmsg") { Log.enableKmsg() }

func finish(_ config: GuestConfiguration) -> Never {
    let outcome = Supervisor(config, startTime: startTime, mainTime: mainTime).run()
    Log.write(.info, config.name, "exit", "status=\(outcome.exitStatus) peak_rss_kib=\(cleave_peak_rss_kib()) faults=\(cleave_minor_faults()) (hugetlb guest RAM is not counted in RSS) t_ms=\(milliseconds(Clock.monotonic - startTime))")
    cleave_exit(outcome.exitStatus)
}

switch command {
case "run":
    if RunOptions.wantsHelp(items) { print(RunOptions.usage); cleave_exit(0) }
    do throws(UsageError) {
        finish(try RunOptions.parse(items))
    } catch {
        print("cleave-boot run: \(error)")
        print(RunOptions.usage)
        cleave_exit(1)
    }
case "boot":
    if BootOptions.wantsHelp(items) { print(BootOptions.usage); cleave_exit(0) }
    do throws(UsageError) {
        finish(try BootOptions.parse(items))
    } catch {
        if error.isSetup {
            Log.write(.error, "boot", "setup", "error=\"\(error)\"")
        } else {
            print("cleave-boot boot: \(error)")
            print(BootOptions.usage)
        }
        cleave_exit(1)
    }
case _ where ServiceOptions.commands.contains(command):
    if ServiceOptions.wantsHelp(items) { print(ServiceOptions.usage); cleave_exit(0) }
    let options: ServiceOptions
    do throws(UsageError) { options = try ServiceOptions.parse(command, items) } catch {
        print("cleave-boot \(command): \(error)")
        print(ServiceOptions.usage)
        cleave_exit(1)
    }
    cleave_exit(ServiceCommand.run(options))
default:
    print("usage: cleave-boot run|boot|start|status|stop|restart|console [options]\n")
    print(RunOptions.usage)
    print("")
    print(BootOptions.usage)
    print("")
    print(ServiceOptions.usage)
    cleave_exit(command == "-h" || command == "--help" || command == "help" ? 0 : 1)
}
