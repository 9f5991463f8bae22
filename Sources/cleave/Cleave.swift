import ArgumentParser

/// `cleave`: the bring-up engineer's front end.
@main
struct Cleave: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cleave",
        abstract: "Carve an ARM64 board's device tree into host and trusted-guest partitions.",
        subcommands: [Devices.self, Check.self, CarveCommand.self, Run.self, Boot.self,
                       Status.self, Stop.self, Restart.self, Console.self])
}
