import Platform
import Testing
import Console
import Supervisor

/// The supervisor's MMIO bus driven without KVM: registration, lookup by
/// bisection, refused overlaps, and the devices GuestMachine puts on it.
@Suite struct MMIOBusTests {
    /// A device that records what reached it and answers reads with its offset.
    final class Probe {
        var writes: [(UInt64, Int, UInt64)] = []
        func register(on bus: MMIOBus, base: UInt64, size: UInt64, name: String) throws(MMIOBus.Failure) {
            try bus.register(base: base, size: size, name: name,
                             read: { address, _, _ in .value(address - base) },
                             write: { address, length, value, _ in self.writes.append((address, length, value)); return .done })
        }
    }

    @Test func dispatchesByAddressAndLeavesGapsUnhandled() throws {
        let bus = MMIOBus()
        let a = Probe(), b = Probe(), c = Probe()
        // Registered out of order: the bus keeps them sorted.
        try b.register(on: bus, base: 0x9000_0000, size: 0x1000, name: "b")
        try a.register(on: bus, base: 0x1000, size: 0x10, name: "a")
        try c.register(on: bus, base: 0xffff_f000, size: 0x1000, name: "c")
        #expect(bus.ranges.map(\.name) == ["a", "b", "c"])
        #expect(bus.access(0x1008, isWrite: false, length: 4, value: 0, vcpu: 0) == .value(8))
        #expect(bus.access(0x1000, isWrite: false, length: 1, value: 0, vcpu: 0) == .value(0))
        #expect(bus.access(0x100f, isWrite: false, length: 1, value: 0, vcpu: 0) == .value(0xf))
        #expect(bus.access(0x9000_0ffc, isWrite: true, length: 4, value: 0xabcd, vcpu: 1) == .done)
        #expect(b.writes.count == 1 && b.writes[0].0 == 0x9000_0ffc && b.writes[0].2 == 0xabcd)
        #expect(a.writes.isEmpty && c.writes.isEmpty)
        for gap: UInt64 in [0, 0xfff, 0x1010, 0x8fff_ffff, 0x9000_1000, 0xffff_efff, 0xffff_ffff_ffff_ffff] {
            #expect(bus.access(gap, isWrite: false, length: 4, value: 0, vcpu: 0) == nil, "0x\(String(gap, radix: 16))")
        }
        #expect(bus.access(0xffff_ffff, isWrite: false, length: 1, value: 0, vcpu: 0) == .value(0xfff))
    }

    @Test func refusesOverlapsAndEmptyRanges() throws {
        let bus = MMIOBus()
        let p = Probe()
        try p.register(on: bus, base: 0x2000, size: 0x1000, name: "page")
        for (base, size) in [(0x2000, 0x1000), (0x1fff, 2), (0x2fff, 1), (0x1000, 0x3000), (0x2800, 8)] as [(UInt64, UInt64)] {
            do throws(MMIOBus.Failure) {
                try p.register(on: bus, base: base, size: size, name: "other")
                Issue.record("0x\(String(base, radix: 16))+0x\(String(size, radix: 16)) was accepted over 'page'")
            } catch {
                #expect(error == .overlap(name: "other", base: base, size: size, with: "page"))
                #expect(error.description.contains("overlaps 'page'"))
            }
        }
        // Touching is not overlapping.
        try p.register(on: bus, base: 0x1000, size: 0x1000, name: "below")
        try p.register(on: bus, base: 0x3000, size: 0x1000, name: "above")
        #expect(bus.ranges.map(\.name) == ["below", "page", "above"])
        #expect(throws: MMIOBus.Failure.empty(name: "none")) { try p.register(on: bus, base: 0x9000, size: 0, name: "none") }
        // A range at the top of the address space does not wrap around.
        try p.register(on: bus, base: 0xffff_ffff_ffff_f000, size: 0x1000, name: "top")
        #expect(throws: MMIOBus.Failure.self) { try p.register(on: bus, base: 0xffff_ffff_ffff_fff0, size: 0x100, name: "wraps") }
        #expect(bus.access(0, isWrite: false, length: 1, value: 0, vcpu: 0) == nil)
    }

    /// The policy for an address no range holds: `fault` (the default) leaves
    /// it to the loop as a fault; `ignore` answers it, marking only the first
    /// access to each address for the log, up to the log limit; ranges still win.
    @Test func unmappedAccessesFaultOrAreIgnored() throws {
        let faulting = MMIOBus()
        #expect(faulting.unmapped == .fault)
        try Probe().register(on: faulting, base: 0x1000, size: 0x10, name: "a")
        #expect(faulting.access(0x1_0000_0000, isWrite: false, length: 4, value: 0, vcpu: 0) == nil)
        #expect(faulting.access(0x1_0000_0000, isWrite: true, length: 4, value: 1, vcpu: 0) == nil)

        let bus = MMIOBus(unmapped: .ignore)
        let probe = Probe()
        try probe.register(on: bus, base: 0x1000, size: 0x10, name: "a")
        #expect(bus.access(0x1004, isWrite: false, length: 4, value: 0, vcpu: 0) == .value(4))
        #expect(bus.access(0x1000_0000, isWrite: false, length: 4, value: 0, vcpu: 0) == .ignored(first: true))
        #expect(bus.access(0x1000_0000, isWrite: false, length: 4, value: 0, vcpu: 1) == .ignored(first: false))
        #expect(bus.access(0x1000_0000, isWrite: true, length: 8, value: 7, vcpu: 0) == .ignored(first: false))
        #expect(bus.access(0x1000_0004, isWrite: true, length: 4, value: 7, vcpu: 0) == .ignored(first: true))
        #expect(bus.access(0x1010, isWrite: true, length: 4, value: 7, vcpu: 0) == .ignored(first: true))
        #expect(probe.writes.isEmpty)
        // A guest sweeping unmapped space: new addresses past the limit are
        // answered but no longer marked for the log.
        var marked = 3
        for i in 0..<UInt64(MMIOBus.ignoredLogLimit + 10) {
            if bus.access(0x2000_0000 + 8 * i, isWrite: false, length: 8, value: 0, vcpu: 0) == .ignored(first: true) { marked += 1 }
        }
        #expect(marked == MMIOBus.ignoredLogLimit)
        #expect(bus.access(0x3000_0000, isWrite: false, length: 4, value: 0, vcpu: 0) == .ignored(first: false))
        #expect(UnmappedMMIO(rawValue: "fault") == .fault && UnmappedMMIO(rawValue: "ignore") == .ignore)
        #expect(UnmappedMMIO(rawValue: "emulate") == nil)
    }

    /// The console and the pvpanic register share the console's page without
    /// overlapping (docs: ConsolePage.pvpanicOffset), each answering its own bytes.
    @Test func consoleAndPanicShareThePage() throws {
        let bus = MMIOBus()
        var out: [UInt8] = []
        let uart = UART16550(base: TestConsole.base, output: { out.append($0) }, setLine: { _ in })
        try uart.register(on: bus)
        let panicBase = TestConsole.base + ConsolePage.pvpanicOffset
        try PanicDevice(base: panicBase).register(on: bus, conduct: GuestConduct(guest: "test"))
        #expect(bus.access(TestConsole.base, isWrite: true, length: 1, value: 0x41, vcpu: 0) == .done)
        #expect(out == [0x41])
        #expect(bus.access(panicBase, isWrite: false, length: 1, value: 0, vcpu: 0) == .value(UInt64(PanicDevice.supported)))
        #expect(bus.access(panicBase, isWrite: true, length: 1, value: UInt64(PanicDevice.crashLoaded), vcpu: 0) == .done)
        guard case .stop(.crashed(let reason), let event, let detail)? =
                bus.access(panicBase, isWrite: true, length: 1, value: UInt64(PanicDevice.panicked), vcpu: 3) else {
            Issue.record("PANICKED did not stop the run"); return
        }
        #expect(reason.contains("vcpu 3") && event == "guest-panic" && detail == "vcpu=3 pvpanic=panicked")
        // The 16550 answers up to the pvpanic register; past the register's two
        // bytes the page is nobody's.
        #expect(bus.access(panicBase - 1, isWrite: false, length: 1, value: 0, vcpu: 0) != nil)
        #expect(bus.access(panicBase + PanicDevice.size, isWrite: false, length: 1, value: 0, vcpu: 0) == nil)
    }
}
