import DeviceTree

extension GuestNode {
    /// `/chosen` (devicetree specification 3.6; Documentation/arch/arm64/
    /// booting.rst): the command line, the console (`stdout-path`), and what
    /// only boot time knows: where the initrd was loaded and the seeds for
    /// the guest's RNG and KASLR. A nil argument writes no property, so boot
    /// time can leave what the carved tree says (its bootargs, its console).
    public static func chosen(bootargs: String?, stdoutPath: String?, initrd: (start: UInt64, end: UInt64)? = nil,
                              rngSeed: [UInt8]? = nil, kaslrSeed: UInt64? = nil) -> GuestNode {
        var chosen = GuestNode("chosen")
        if let bootargs { chosen.property("bootargs", string: bootargs) }
        if let stdoutPath { chosen.property("stdout-path", string: stdoutPath) }
        if let initrd {
            chosen.property("linux,initrd-start", cells: numberCells(initrd.start, count: 2))
            chosen.property("linux,initrd-end", cells: numberCells(initrd.end, count: 2))
        }
        if let rngSeed { chosen.property("rng-seed", bytes: rngSeed) }
        if let kaslrSeed { chosen.property("kaslr-seed", cells: numberCells(kaslrSeed, count: 2)) }
        return chosen
    }

    /// `/aliases` with `serial0`, the console's path, so the guest's first
    /// serial port is the console (`console=ttyS0`).
    public static func aliases(serial0: String) -> GuestNode {
        var aliases = GuestNode("aliases")
        aliases.property("serial0", string: serial0)
        return aliases
    }
}
