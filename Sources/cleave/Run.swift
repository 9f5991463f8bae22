import ArgumentParser
import CLinux
import Options
import Supervisor
import Syscalls

/// `cleave run`: an ad-hoc guest on this machine's KVM, kvmtool style (no carve).
/// Options are parsed by `RunOptions`, the same parser the static boot-time
/// binary uses, so `cleave run ...` and `cleave-boot run ...` accept the same text.
struct Run: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "run",
        abstract: "Boot a guest (Linux Image or raw binary) on KVM with identity-mapped hugepage RAM.",
        discussion: RunOptions.usage)

    @Argument(parsing: .captureForPassthrough, help: "Options, as listed above.")
    var options: [String] = []

    func run() throws {
        // The passthrough captures --help too: answer it here.
        if RunOptions.wantsHelp(options) { print(Run.configuration.abstract + "\n\n" + RunOptions.usage); return }
        let start = Clock.monotonic
        let config: GuestConfiguration
        do { config = try RunOptions.parse(options) } catch {
            throw ValidationError(error.description)
        }
        try supervise(config, start: start)
    }
}

/// `cleave boot`: a guest that `cleave carve` embedded under /chosen/cleave.
struct Boot: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "boot",
        abstract: "Boot a carved guest from the live host tree (/chosen/cleave).",
        discussion: BootOptions.usage)

    @Argument(parsing: .captureForPassthrough, help: "Options, as listed above.")
    var options: [String] = []

    func run() throws {
        // The passthrough captures --help too: answer it here.
        if BootOptions.wantsHelp(options) { print(Boot.configuration.abstract + "\n\n" + BootOptions.usage); return }
        let start = Clock.monotonic
        Log.program = "cleave"
        if options.contains("--kmsg") { Log.enableKmsg() }
        let config: GuestConfiguration
        do { config = try BootOptions.parse(options) } catch {
            guard error.isSetup else { throw ValidationError(error.description) }
            Log.program = "cleave"
            Log.write(.error, "boot", "setup", "error=\"\(error)\"")
            throw ExitCode(1)
        }
        try supervise(config, start: start)
    }
}

/// Runs the guest to its end; the exit status is `Outcome.exitStatus`.
func supervise(_ config: GuestConfiguration, start: UInt64) throws {
    Signals.install()
    Log.program = "cleave"
    let outcome = Supervisor(config, startTime: start).run()
    Log.write(.info, config.name, "exit", "status=\(outcome.exitStatus) peak_rss_kib=\(cleave_peak_rss_kib()) t_ms=\(milliseconds(Clock.monotonic - start))")
    if outcome.exitStatus != 0 { throw ExitCode(outcome.exitStatus) }
}
