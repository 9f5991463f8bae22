import ArgumentParser
import Options
import Service
import Supervisor

/// `cleave status|stop|restart|console`: the running partition service's
/// control commands, for boards with a Swift toolchain. The same parser
/// (`ServiceOptions`) and the same code (`ServiceCommand`) as cleave-boot's.
protocol ServiceSubcommand: ParsableCommand {
    static var name: String { get }
    var options: [String] { get }
}

extension ServiceSubcommand {
    func run() throws {
        if ServiceOptions.wantsHelp(options) { print(ServiceOptions.usage); return }
        let parsed: ServiceOptions
        do { parsed = try ServiceOptions.parse(Self.name, options) } catch {
            throw ValidationError(error.description)
        }
        Log.program = "cleave"
        let status = ServiceCommand.run(parsed)
        if status != 0 { throw ExitCode(status) }
    }
}

struct Status: ServiceSubcommand {
    static let name = "status"
    static let configuration = CommandConfiguration(
        abstract: "Each guest of the running partition service: state, pid, CPUs, RAM, devices, restarts.",
        discussion: ServiceOptions.usage)
    @Argument(parsing: .captureForPassthrough, help: "Options, as listed above.")
    var options: [String] = []
}

struct Stop: ServiceSubcommand {
    static let name = "stop"
    static let configuration = CommandConfiguration(
        abstract: "Stop a guest of the running partition service.", discussion: ServiceOptions.usage)
    @Argument(parsing: .captureForPassthrough, help: "GUEST, as listed above.")
    var options: [String] = []
}

struct Restart: ServiceSubcommand {
    static let name = "restart"
    static let configuration = CommandConfiguration(
        abstract: "Stop a guest of the running partition service if it runs, then start it.", discussion: ServiceOptions.usage)
    @Argument(parsing: .captureForPassthrough, help: "GUEST, as listed above.")
    var options: [String] = []
}

struct Console: ServiceSubcommand {
    static let name = "console"
    static let configuration = CommandConfiguration(
        abstract: "Attach to a guest's console (Ctrl-] detaches), follow it read-only, take it over, or print its recent output.", discussion: ServiceOptions.usage)
    @Argument(parsing: .captureForPassthrough, help: "GUEST and options, as listed above.")
    var options: [String] = []
}
