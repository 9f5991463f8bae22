import PartitionRecord

/// One device the plan assigns to a guest, as `cleave carve` recorded it under
/// /chosen/cleave/<guest>/devices/<label> (`DeviceRecord`, Boards/README.md).
public struct PassthroughDevice {
    public struct Interrupt {
        /// GIC INTID (an SPI: 32-1019), identical on host and guest.
        public var intid: UInt32
        /// Level-sensitive (GIC binding flag 4) rather than edge (1): level
        /// interrupts need a resample path so the line re-arms after the guest's EOI.
        public var level: Bool
        public init(intid: UInt32, level: Bool) { self.intid = intid; self.level = level }
    }

    public var label: String
    /// The device's path in the board (and host) tree.
    public var path: String
    public var compatible: [String]
    /// Physical MMIO windows, in `reg` order (VFIO region i / UIO map i).
    public var mmio: [(base: UInt64, size: UInt64)]
    /// SPIs, in `interrupts` order (VFIO IRQ index i / the UIO interrupt).
    public var interrupts: [Interrupt]
    /// How the plan asks for the device to be taken from the host.
    public var method: PassthroughMethod
    /// How the plan asks for its SPIs to reach the guest.
    public var interruptMethod: InterruptMethod
    public var allowUnbind: Bool

    public init(label: String, path: String, compatible: [String], mmio: [(base: UInt64, size: UInt64)],
                interrupts: [Interrupt], method: PassthroughMethod, interruptMethod: InterruptMethod = .auto,
                allowUnbind: Bool) {
        self.label = label
        self.path = path
        self.compatible = compatible
        self.mmio = mmio
        self.interrupts = interrupts
        self.method = method
        self.interruptMethod = interruptMethod
        self.allowUnbind = allowUnbind
    }
}
