import Testing
import Console

/// The emulated 16550A's register model (PC16550D data sheet section 8): what
/// Linux's 8250 driver, earlycon and polling bare-metal payloads rely on.
@Suite struct UART16550Tests {
    static let base: UInt64 = 0x09ff_f000
    // Register offsets.
    static let rbr: UInt64 = 0, ier: UInt64 = 1, iir: UInt64 = 2, fcr: UInt64 = 2, lcr: UInt64 = 3
    static let mcr: UInt64 = 4, lsr: UInt64 = 5, msr: UInt64 = 6, scr: UInt64 = 7

    /// A UART whose transmitted bytes and interrupt-line changes are recorded.
    final class Harness {
        var sent: [UInt8] = []
        var line: [Bool] = []
        var uart: UART16550!
        init() {
            uart = UART16550(base: UART16550Tests.base, output: { [unowned self] in self.sent.append($0) },
                             setLine: { [unowned self] in self.line.append($0) })
        }
        func read(_ offset: UInt64) -> UInt8 { uart.read(UART16550Tests.base + offset) }
        func write(_ offset: UInt64, _ value: UInt8) { uart.write(UART16550Tests.base + offset, value) }
    }

    @Test func transmitIsImmediate() {
        let h = Harness()
        #expect(h.read(Self.lsr) == 0x60) // THRE | TEMT, no data ready
        for b in "hi\n".utf8 { h.write(Self.rbr, b) }
        #expect(h.sent == Array("hi\n".utf8))
        #expect(h.read(Self.lsr) == 0x60)
        #expect(h.line.isEmpty) // no interrupt enabled: the line never moves
    }

    @Test func receiveSetsDataReadyAndRBRDrains() {
        let h = Harness()
        h.uart.receive(Array("ok".utf8))
        #expect(h.read(Self.lsr) & 0x01 == 0x01)
        #expect(h.read(Self.rbr) == UInt8(ascii: "o"))
        #expect(h.read(Self.lsr) & 0x01 == 0x01)
        #expect(h.read(Self.rbr) == UInt8(ascii: "k"))
        #expect(h.read(Self.lsr) & 0x01 == 0)
        #expect(h.read(Self.rbr) == 0) // empty reads 0
        #expect(h.line.isEmpty)
    }

    @Test func receiveInterruptRaisesAndClears() {
        let h = Harness()
        h.write(Self.ier, 0x01) // RDI
        #expect(h.line.isEmpty)
        #expect(h.read(Self.iir) == 0x01) // no interrupt pending
        h.uart.receive([0x41, 0x42])
        #expect(h.line == [true])
        #expect(h.read(Self.iir) == 0x04) // received data available
        _ = h.read(Self.rbr)
        #expect(h.line == [true]) // still data
        _ = h.read(Self.rbr)
        #expect(h.line == [true, false])
        #expect(h.read(Self.iir) == 0x01)
    }

    @Test func enablingRDIWithDataWaitingRaisesAtOnce() {
        let h = Harness()
        h.uart.receive([0x41])
        #expect(h.line.isEmpty)
        h.write(Self.ier, 0x01)
        #expect(h.line == [true])
        h.write(Self.ier, 0x00) // masking drops the line
        #expect(h.line == [true, false])
    }

    @Test func thrEmptyInterrupt() {
        let h = Harness()
        h.write(Self.ier, 0x02) // THRI: THR is empty, so it is pending at once
        #expect(h.line == [true])
        #expect(h.read(Self.iir) == 0x02)
        #expect(h.line == [true, false]) // reading IIR cleared it
        #expect(h.read(Self.iir) == 0x01)
        h.write(Self.rbr, 0x41) // sending re-arms it
        #expect(h.line == [true, false, true])
        #expect(h.sent == [0x41])
    }

    @Test func receivedDataOutranksTHREmpty() {
        let h = Harness()
        h.write(Self.ier, 0x03)
        h.uart.receive([0x41])
        #expect(h.read(Self.iir) == 0x04)
        _ = h.read(Self.rbr)
        #expect(h.read(Self.iir) == 0x02)
    }

    @Test func fifoControl() {
        let h = Harness()
        h.write(Self.fcr, 0x01) // enable FIFOs: IIR reports them in bits 6-7
        #expect(h.read(Self.iir) == 0xc1)
        h.uart.receive([1, 2, 3])
        h.write(Self.fcr, 0x03) // clear the receive FIFO
        #expect(h.read(Self.lsr) & 0x01 == 0)
    }

    @Test func divisorLatch() {
        let h = Harness()
        h.write(Self.lcr, 0x83) // DLAB, 8N1
        h.write(Self.rbr, 0x01)
        h.write(Self.ier, 0x00)
        #expect(h.read(Self.rbr) == 0x01 && h.read(Self.ier) == 0x00)
        #expect(h.sent.isEmpty) // divisor writes are not output
        h.write(Self.lcr, 0x03)
        #expect(h.read(Self.lcr) == 0x03)
        #expect(h.read(Self.ier) == 0x00)
        h.write(Self.scr, 0x5a)
        #expect(h.read(Self.scr) == 0x5a)
    }

    @Test func loopback() {
        let h = Harness()
        h.write(Self.mcr, 0x10 | 0x0f) // LOOP with DTR, RTS, OUT1, OUT2
        h.write(Self.rbr, 0x55)
        #expect(h.sent.isEmpty)
        #expect(h.read(Self.lsr) & 0x01 == 0x01)
        #expect(h.read(Self.rbr) == 0x55)
        #expect(h.read(Self.msr) == 0xf0) // CTS, DSR, RI, DCD mirror the outputs
        h.write(Self.mcr, 0x08)
        #expect(h.read(Self.msr) == 0xb0)
    }

    @Test func receiveBufferIsBounded() {
        let h = Harness()
        #expect(h.uart.receiveRoom == 4096)
        h.uart.receive([UInt8](repeating: 0x41, count: 4000))
        #expect(h.uart.receiveRoom == 96)
        h.uart.receive([UInt8](repeating: 0x42, count: 200)) // 104 dropped
        #expect(h.uart.receiveRoom == 0)
        var count = 0
        while h.read(Self.lsr) & 1 == 1 { _ = h.read(Self.rbr); count += 1 }
        #expect(count == 4096)
        #expect(h.uart.receiveRoom == 4096)
    }

    /// A guest writing in loopback mode (the chaos guest does) cannot grow
    /// the receive buffer past its bound, whether it reads nothing or keeps
    /// one byte unread behind each read.
    @Test func loopbackIsBounded() {
        let h = Harness()
        h.write(Self.mcr, 0x10)
        for _ in 0..<5000 { h.write(Self.rbr, 0x41) }
        #expect(h.uart.receiveRoom == 0)
        var count = 0
        while h.read(Self.lsr) & 1 == 1 { _ = h.read(Self.rbr); count += 1 }
        #expect(count == 4096)
        for _ in 0..<20_000 {
            h.write(Self.rbr, 0x42)
            h.write(Self.rbr, 0x43)
            _ = h.read(Self.rbr)
        }
        #expect(h.uart.receiveRoom <= 1)
        #expect(h.uart.bufferedBytes <= 2 * 4096)
    }
}
