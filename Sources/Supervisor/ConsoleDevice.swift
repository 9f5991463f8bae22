import Console
import Platform
import Syscalls

extension UART16550 {
    /// What the 16550 only puts up with, as `GuestConduct` counts it: an access
    /// past its 8 registers (reads give 0, writes are dropped), wider than its
    /// one-byte registers (reg-io-width 1: only the low byte is used), a
    /// write to a read-only register (LSR, MSR: dropped). nil for an ordinary
    /// access. One kind per access, in that order.
    static func oddity(offset: UInt64, length: Int, isWrite: Bool) -> String? {
        if offset >= ConsolePage.uartRegisters { return "16550-beyond-registers" }
        if length != 1 { return "16550-wide-access" }
        if isWrite && (offset == 5 || offset == 6) { return "16550-read-only-register" }
        return nil
    }

    /// Serves the 16550's registers on `bus`: the first half of the console's
    /// page (byte registers, no reg-shift; the 16550 answers any offset there),
    /// the rest of the page is the pvpanic register's (ConsolePage),
    /// as every guest tree describes them (GuestNode.consolePage). Odd
    /// accesses are counted in `conduct` (`oddity`).
    public func register(on bus: MMIOBus, conduct: GuestConduct? = nil) throws(MMIOBus.Failure) {
        let base = self.base
        try bus.register(base: base, size: ConsolePage.uartSize, name: "16550 console",
                         read: { address, length, vcpu in
                             if let conduct, let kind = UART16550.oddity(offset: address - base, length: length, isWrite: false) {
                                 conduct.note(kind, "vcpu=\(vcpu) read of \(length) bytes at \(hex(address))")
                             }
                             return .value(UInt64(self.read(address)))
                         },
                         write: { address, length, value, vcpu in
                             if let conduct, let kind = UART16550.oddity(offset: address - base, length: length, isWrite: true) {
                                 conduct.note(kind, "vcpu=\(vcpu) write of \(length) bytes at \(hex(address)) value=\(hex(value))")
                             }
                             self.write(address, UInt8(truncatingIfNeeded: value))
                             return .done
                         })
    }
}
