/// The levels an input line went through, from the host kernel's edge
/// events. gpiolib-cdev names an event of a line that reports both edges by
/// the line's level when its IRQ thread runs (uAPI v1 `lineevent_irq_thread`
/// and v2 `edge_irq_thread`, Linux 6.1), so a pulse shorter than that thread's
/// latency (gpio-sim's irq_work, a busy host) arrives as one event carrying
/// the level it ended at. An event that names the level the last one left
/// means the opposite edge came first and was folded into it: both are
/// replayed, so the guest's PL061 sees the pulse (kernel-facts §28).
public struct HostEdgeEvents {
    /// Bit i: line i's level after its last event.
    private var levels: UInt8

    /// Starts from the lines' levels now (bit i: line i high).
    public init(levels: UInt8) { self.levels = levels }

    /// The levels to apply for an event of line `index` naming `rising`: the
    /// folded opposite edge first when there was one.
    public mutating func replay(line index: Int, rising: Bool) -> [Bool] {
        let bit: UInt8 = 1 << UInt8(index)
        let was = levels & bit != 0
        if rising { levels |= bit } else { levels &= ~bit }
        return was == rising ? [!rising, rising] : [rising]
    }
}
