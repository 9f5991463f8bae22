import DeviceTree

extension GuestNode {
    /// `/memory@<first base>` with one `reg` entry per RAM bank (devicetree
    /// specification 3.4), in the root's cell widths (1 or 2 each). Carving
    /// writes the plan's one bank (base 0 until boot unless the plan fixes
    /// it), `cleave run` a placeholder or the real banks, boot-time
    /// finalisation the banks the guest's RAM was given.
    public static func memory(banks: [(base: UInt64, size: UInt64)], addressCells: Int = 2, sizeCells: Int = 2) -> GuestNode {
        var memory = GuestNode("memory@" + unitAddress(banks.first?.base ?? 0))
        memory.property("device_type", string: "memory")
        var reg: [UInt32] = []
        for bank in banks { reg += numberCells(bank.base, count: addressCells) + numberCells(bank.size, count: sizeCells) }
        memory.property("reg", cells: reg)
        return memory
    }
}
