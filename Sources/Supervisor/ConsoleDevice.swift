import Console
import Platform

extension UART16550 {
    /// Serves the 16550's registers on `bus`: the first half of the console's
    /// page (byte registers, no reg-shift; the 16550 answers any offset there),
    /// the rest of the page is the pvpanic register's (ConsolePage),
    /// as every guest tree describes them (GuestNode.consolePage).
    public func register(on bus: MMIOBus) throws(MMIOBus.Failure) {
        try bus.register(base: base, size: ConsolePage.uartSize, name: "16550 console",
                         read: { address, _, _ in .value(UInt64(self.read(address))) },
                         write: { address, _, value, _ in self.write(address, UInt8(truncatingIfNeeded: value)); return .done })
    }
}
