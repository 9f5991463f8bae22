import DeviceTree

extension GuestNode {
    /// A `fixed-clock` (clock/fixed-clock.yaml) standing in for a clock the
    /// host keeps running: the guest's driver reads a rate and cannot change
    /// it. Carving decides which clocks need one and names them.
    public static func fixedClock(_ name: String, rate: UInt32, phandle: UInt32) -> GuestNode {
        var clock = GuestNode(name)
        clock.property("compatible", string: "fixed-clock")
        clock.property("#clock-cells", u32: 0)
        clock.property("clock-frequency", u32: rate)
        clock.property("clock-output-names", string: name)
        clock.property("phandle", u32: phandle)
        return clock
    }
}
