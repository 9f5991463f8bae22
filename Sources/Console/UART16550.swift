import Syscalls

/// An emulated 16550A UART (ns16550a), served from MMIO exits: one byte
/// register per address (reg-shift 0, reg-io-width 1), as Linux's 8250 driver
/// and earlycon `uart8250,mmio` expect. Transmit is instantaneous (THR is
/// always empty), so only two interrupt sources exist: received data and THR
/// empty. The interrupt is level-triggered; `setLine` is called whenever its
/// level changes. Modelled on the register semantics of the TI PC16550D data
/// sheet, section 8, and kvmtool's hw/serial.c.
///
/// Thread safety: MMIO calls come from vCPU threads and `receive` from the
/// input thread; every entry point takes the lock.
public final class UART16550 {
    public let base: UInt64

    private let lock = Lock()
    private let output: (UInt8) -> Void
    private let setLine: (Bool) -> Void

    private var ier: UInt8 = 0
    private var lcr: UInt8 = 0
    private var mcr: UInt8 = 0x08 // OUT2
    private var fcr: UInt8 = 0
    private var scr: UInt8 = 0
    private var dll: UInt8 = 0x0c
    private var dlm: UInt8 = 0
    private var rx: [UInt8] = []
    private var rxHead = 0
    private var thrInterrupt = false
    private var line = false

    // Register offsets and bits (PC16550D, tables 2-4).
    private static let lcrDLAB: UInt8 = 0x80
    private static let ierRDI: UInt8 = 0x01
    private static let ierTHRI: UInt8 = 0x02
    private static let iirNone: UInt8 = 0x01
    private static let iirTHRI: UInt8 = 0x02
    private static let iirRDI: UInt8 = 0x04
    private static let iirFIFO: UInt8 = 0xc0
    private static let lsrDR: UInt8 = 0x01
    private static let lsrTHRE: UInt8 = 0x20
    private static let lsrTEMT: UInt8 = 0x40
    private static let mcrLoop: UInt8 = 0x10
    private static let rxCapacity = 4096

    /// `output` receives each transmitted byte; `setLine` drives the SPI.
    public init(base: UInt64, output: @escaping (UInt8) -> Void, setLine: @escaping (Bool) -> Void) {
        self.base = base
        self.output = output
        self.setLine = setLine
    }

    /// Handles a guest read of `address` (1-byte registers; wider reads see the byte).
    public func read(_ address: UInt64) -> UInt8 {
        lock.withLock {
            let value = readLocked(address - base)
            updateLine()
            return value
        }
    }

    public func write(_ address: UInt64, _ value: UInt8) {
        var transmitted: UInt8? = nil
        lock.withLock {
            transmitted = writeLocked(address - base, value)
            updateLine()
        }
        if let transmitted { output(transmitted) }
    }

    /// Queues input bytes for the guest (from stdin), raising the receive
    /// interrupt when enabled. Drops bytes beyond 4 KiB: callers that must not
    /// lose input offer at most `receiveRoom` bytes.
    public func receive(_ bytes: [UInt8]) {
        lock.withLock {
            for b in bytes where rx.count - rxHead < UART16550.rxCapacity { rx.append(b) }
            updateLine()
        }
    }

    /// How many more input bytes the receive buffer holds.
    public var receiveRoom: Int { lock.withLock { UART16550.rxCapacity - (rx.count - rxHead) } }

    /// Bytes the receive buffer holds, read ones not yet dropped included:
    /// at most twice its capacity.
    public var bufferedBytes: Int { lock.withLock { rx.count } }

    private var rxAvailable: Bool { rxHead < rx.count }

    private func readLocked(_ offset: UInt64) -> UInt8 {
        let dlab = lcr & UART16550.lcrDLAB != 0
        switch offset {
        case 0:
            if dlab { return dll }
            guard rxAvailable else { return 0 }
            let b = rx[rxHead]
            rxHead += 1
            if rxHead == rx.count { rx.removeAll(keepingCapacity: true); rxHead = 0 }
            // Bytes read are dropped from the front now and then, so a buffer
            // that never runs empty (input, or loopback, as fast as reads)
            // stays bounded too.
            else if rxHead >= UART16550.rxCapacity { rx.removeFirst(rxHead); rxHead = 0 }
            return b
        case 1: return dlab ? dlm : ier
        case 2:
            let iir = identification()
            // Reading IIR while it reports THR empty clears that source.
            if iir & 0x0f == UART16550.iirTHRI { thrInterrupt = false }
            return iir | (fcr & 0x01 != 0 ? UART16550.iirFIFO : 0)
        case 3: return lcr
        case 4: return mcr
        case 5: return (rxAvailable ? UART16550.lsrDR : 0) | UART16550.lsrTHRE | UART16550.lsrTEMT
        case 6:
            if mcr & UART16550.mcrLoop != 0 {
                // Loopback: DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD (Linux's autoconfig test).
                return (mcr & 0x01) << 5 | (mcr & 0x02) << 3 | (mcr & 0x04) << 4 | (mcr & 0x08) << 4
            }
            return 0xb0 // DCD | DSR | CTS
        case 7: return scr
        default: return 0
        }
    }

    private func writeLocked(_ offset: UInt64, _ value: UInt8) -> UInt8? {
        let dlab = lcr & UART16550.lcrDLAB != 0
        switch offset {
        case 0:
            if dlab { dll = value; return nil }
            thrInterrupt = true
            if mcr & UART16550.mcrLoop != 0 {
                // Looped back into the receive buffer, bounded as input is: a
                // guest writing in loopback mode forever must not grow it.
                if rx.count - rxHead < UART16550.rxCapacity { rx.append(value) }
                return nil
            }
            return value
        case 1:
            if dlab { dlm = value; return nil }
            // Enabling the THR-empty interrupt with THR empty raises it at once.
            if value & UART16550.ierTHRI != 0 && ier & UART16550.ierTHRI == 0 { thrInterrupt = true }
            ier = value & 0x0f
        case 2:
            fcr = value
            if value & 0x02 != 0 { rx.removeAll(); rxHead = 0 } // clear receive FIFO
        case 3: lcr = value
        case 4: mcr = value & 0x1f
        case 7: scr = value
        default: break
        }
        return nil
    }

    private func identification() -> UInt8 {
        if ier & UART16550.ierRDI != 0 && rxAvailable { return UART16550.iirRDI }
        if ier & UART16550.ierTHRI != 0 && thrInterrupt { return UART16550.iirTHRI }
        return UART16550.iirNone
    }

    private func updateLine() {
        let level = identification() != UART16550.iirNone
        if level != line {
            line = level
            setLine(level)
        }
    }
}
