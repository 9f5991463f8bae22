import Testing
import GPIO
import Platform

/// The virtual GPIO controller's register model (ARM DDI 0190B) and the
/// placement of its pages.
@Suite struct PL061Tests {
    typealias R = PL061.Register

    @Test func identificationRegistersMatchThePL061() {
        let p = PL061(present: 0xff, outputs: 0)
        let ids = (0..<8).map { p.read(R.identification + UInt64($0) * 4) }
        #expect(ids == [0x61, 0x10, 0x04, 0x00, 0x0d, 0xf0, 0x05, 0xb1])
    }

    @Test func maskedDataDrivesOnlyOutputLinesTheGuestMadeOutputs() {
        var p = PL061(present: 0x0f, outputs: 0x03, pads: 0x04)
        // Not yet outputs: a data write drives nothing.
        #expect(p.write(0x3fc, 0xff) == 0)
        // DIR: only plan outputs (lines 0, 1) can become outputs.
        _ = p.write(R.direction, 0xff)
        #expect(p.read(R.direction) == 0x03)
        // Address bits [9:2] mask the write: only line 0 (offset 0x004).
        #expect(p.write(0x004, 0xff) == 0x01)
        #expect(p.pads == 0x05)
        // A full read sees line 2's input level; a masked read only its lines.
        #expect(p.read(0x3fc) == 0x05)
        #expect(p.read(0x008) == 0)
        #expect(p.read(0x010) == 0x04)
        // Lines beyond `present` read 0 and take nothing.
        p.hostLevels(0xf0, lines: 0xf0)
        #expect(p.read(0x3fc) == 0x05)
        // Writing the same level again changes nothing to drive.
        #expect(p.write(0x004, 0x01) == 0)
    }

    @Test func aPulseTheKernelFoldedIntoOneEventIsReplayedAsBothEdges() {
        var e = HostEdgeEvents(levels: 0x02)        // line 1 high, line 0 low
        #expect(e.replay(line: 0, rising: true) == [true])
        #expect(e.replay(line: 0, rising: false) == [false])
        // Up and down before the kernel's thread ran: one "falling" event.
        #expect(e.replay(line: 0, rising: false) == [true, false])
        // Line 1 started high: a "rising" event means it went low and back.
        #expect(e.replay(line: 1, rising: true) == [false, true])
        #expect(e.replay(line: 1, rising: false) == [false])
        // The replayed pulse is a rising edge to a PL061 armed for rising edges.
        var p = PL061(present: 0x01, outputs: 0)
        _ = p.write(R.event, 0x01)
        _ = p.write(R.mask, 0x01)
        var folded = HostEdgeEvents(levels: 0)
        for level in folded.replay(line: 0, rising: false) { p.hostLevels(level ? 1 : 0, lines: 1) }
        #expect(p.read(R.raw) == 0x01 && p.interrupt)
    }

    @Test func edgesRaiseTheInterruptWhenUnmaskedAndClearOnIC() {
        var p = PL061(present: 0x0f, outputs: 0)
        _ = p.write(R.event, 0x01)      // line 0 rising, line 1 falling
        _ = p.write(R.bothEdges, 0x04)  // line 2 both edges
        _ = p.write(R.mask, 0x07)
        p.hostLevels(0x01, lines: 0x01)
        #expect(p.read(R.raw) == 0x01 && p.interrupt)
        _ = p.write(R.clear, 0x01)
        #expect(p.read(R.raw) == 0 && !p.interrupt)
        p.hostLevels(0x00, lines: 0x01)  // line 0 falling: not its edge
        #expect(p.read(R.raw) == 0)
        p.hostLevels(0x02, lines: 0x02)  // line 1 rising: not its edge
        #expect(p.read(R.raw) == 0)
        p.hostLevels(0x00, lines: 0x02)  // line 1 falling
        #expect(p.read(R.raw) == 0x02)
        p.hostLevels(0x04, lines: 0x04)
        p.hostLevels(0x00, lines: 0x04)
        #expect(p.read(R.raw) == 0x06 && p.read(R.masked) == 0x06)
        // Masked: raw status stays, the output drops.
        _ = p.write(R.mask, 0x00)
        #expect(p.read(R.raw) == 0x06 && p.read(R.masked) == 0 && !p.interrupt)
        // Line 3 changes with no edge configured for it: falling only by IEV 0, so rising gives nothing.
        p.hostLevels(0x08, lines: 0x08)
        #expect(p.read(R.raw) & 0x08 == 0)
    }

    @Test func levelsFollowTheLineAndICDoesNotClearThem() {
        var p = PL061(present: 0x03, outputs: 0)
        _ = p.write(R.sense, 0x03)      // both level
        _ = p.write(R.event, 0x01)      // line 0 high, line 1 low
        _ = p.write(R.mask, 0x03)
        #expect(p.read(R.raw) == 0x02)  // line 1 is low now: pending
        p.hostLevels(0x03, lines: 0x03)
        #expect(p.read(R.raw) == 0x01)
        _ = p.write(R.clear, 0x01)
        #expect(p.read(R.raw) == 0x01 && p.interrupt)
        p.hostLevels(0x02, lines: 0x03)
        #expect(p.read(R.raw) == 0 && !p.interrupt)
        // Turning IEV around re-evaluates at once.
        _ = p.write(R.event, 0x00)
        #expect(p.read(R.raw) == 0x01)
    }

    @Test func anOutputsOwnEdgeIsDetectedLikeAPads() {
        var p = PL061(present: 0x01, outputs: 0x01)
        _ = p.write(R.direction, 0x01)
        _ = p.write(R.event, 0x01)
        _ = p.write(R.mask, 0x01)
        #expect(p.write(0x004, 0x01) == 0x01)
        #expect(p.interrupt)
        // The host cannot move an output.
        _ = p.write(R.clear, 0x01)
        p.hostLevels(0x00, lines: 0x01)
        #expect(p.pads == 0x01 && !p.interrupt)
    }

    @Test func controllerPagesGoBelowTheConsoleOnTheFollowingSPIs() throws {
        let console: (base: UInt64, spi: UInt32) = (0xffff_f000, 0)
        let places = try #require(VirtualGPIOPage.places(count: 3, occupied: [(0xffff_c000, 0x1000)], usedSPIs: [1, 3], console: console))
        #expect(places.map { $0.base } == [0xffff_e000, 0xffff_d000, 0xffff_b000])
        #expect(places.map { $0.spi } == [2, 4, 5])
        #expect(VirtualGPIOPage.controllers(forLines: 0) == 0)
        #expect(VirtualGPIOPage.controllers(forLines: 8) == 1)
        #expect(VirtualGPIOPage.controllers(forLines: 9) == 2)
        // No free page: nil, not a wrong place.
        #expect(VirtualGPIOPage.places(count: 1, occupied: [(0, 0x1_0000_0000)], usedSPIs: [], console: console) == nil)
    }
}
