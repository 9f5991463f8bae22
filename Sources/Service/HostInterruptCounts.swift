/// The host's interrupt counts per GIC INTID, from /proc/interrupts: the
/// line whose chip column starts with "GIC" and whose next column is the
/// INTID, summed over the CPU columns (as Tests/QEMUVirt/board/cleave-host-irqs
/// reads it). What `status` shows as "delivered" for a passed-through SPI.
public struct HostInterruptCounts {
    private var counts: [UInt32: UInt64] = [:]

    public init(procInterrupts text: String) {
        for line in text.split(separator: "\n") {
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" })
            guard fields.count > 2, fields[0].hasSuffix(":") else { continue }
            var sum: UInt64 = 0
            var i = 1
            while i < fields.count, let n = UInt64(fields[i]) {
                sum &+= n
                i += 1
            }
            guard i + 1 < fields.count, fields[i].hasPrefix("GIC"), let intid = UInt32(fields[i + 1]) else { continue }
            counts[intid] = sum
        }
    }

    /// The count of `intid`, nil when no host handler holds it.
    public func count(_ intid: UInt32) -> UInt64? { counts[intid] }
}
