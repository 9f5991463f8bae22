import Testing
import PartitionRecord
@testable import Supervisor

@Suite("Control lines: which level each line gets at each event")
struct ControlSequenceTests {
    static func line(_ role: ControlLineRole, _ delay: UInt32) -> ControlLineRecord {
        ControlLineRecord(role: role, chip: "/gpio", line: 0, activeLow: false, delay: delay)
    }

    @Test func powerThenSettleThenResetHeldAndReleasedThenHeartbeat() {
        var s = ControlSequence([Self.line(.reset, 20), Self.line(.power, 30), Self.line(.heartbeat, 100)])
        #expect(ControlSequence.requestedAsserted(.reset) && !ControlSequence.requestedAsserted(.power) && !ControlSequence.requestedAsserted(.heartbeat))
        // Reset is asserted from the request on: the boot only powers on.
        #expect(s.steps(.boot) == [.drive(.power, asserted: true), .wait(30)])
        #expect(s.steps(.ready) == [.holdReset(20), .drive(.reset, asserted: false), .heartbeat(true)])
        #expect(s.resetAsserted == false && s.powerOn && s.beating)
        // A stop (reset, crash, exit, signal): heartbeat off, reset asserted; power stays.
        #expect(s.steps(.stopped) == [.heartbeat(false), .drive(.reset, asserted: true)])
        // The next boot: power is on already, reset asserted already.
        #expect(s.steps(.boot) == [])
        #expect(s.steps(.ready) == [.holdReset(20), .drive(.reset, asserted: false), .heartbeat(true)])
        #expect(s.steps(.stopped) == [.heartbeat(false), .drive(.reset, asserted: true)])
        // The end: reset stays asserted its hold before power goes.
        #expect(s.steps(.finished) == [.holdReset(20), .drive(.power, asserted: false)])
        #expect(s.steps(.finished) == [])
    }

    @Test func finishingMidBootAssertsResetBeforePowerOff() {
        var s = ControlSequence([Self.line(.reset, 5), Self.line(.power, 0), Self.line(.heartbeat, 10)])
        _ = s.steps(.boot)
        _ = s.steps(.ready)
        // A setup failure or signal with the vCPUs running: no `stopped` came.
        #expect(s.steps(.finished) == [.heartbeat(false), .drive(.reset, asserted: true), .holdReset(5), .drive(.power, asserted: false)])
        // Before any boot: nothing was changed, nothing to undo.
        var fresh = ControlSequence([Self.line(.reset, 5), Self.line(.power, 0)])
        #expect(fresh.steps(.finished) == [])
    }

    @Test func onlyTheGivenLinesAreNamed() {
        var reset = ControlSequence([Self.line(.reset, 7)])
        #expect(reset.steps(.boot) == [])
        #expect(reset.steps(.ready) == [.holdReset(7), .drive(.reset, asserted: false)])
        #expect(reset.steps(.stopped) == [.drive(.reset, asserted: true)])
        #expect(reset.steps(.finished) == [])
        var power = ControlSequence([Self.line(.power, 3)])
        #expect(power.steps(.boot) == [.drive(.power, asserted: true), .wait(3)])
        #expect(power.steps(.ready) == [])
        #expect(power.steps(.stopped) == [])
        #expect(power.steps(.finished) == [.drive(.power, asserted: false)])
        var beat = ControlSequence([Self.line(.heartbeat, 50)])
        #expect(beat.steps(.boot) == [])
        #expect(beat.steps(.ready) == [.heartbeat(true)])
        #expect(beat.steps(.ready) == [])
        #expect(beat.steps(.stopped) == [.heartbeat(false)])
        var none = ControlSequence([])
        for e in [ControlSequence.Event.boot, .ready, .stopped, .finished] { #expect(none.steps(e) == []) }
    }

    @Test func activeLowInvertsTheLevel() {
        let low = ControlLineRecord(role: .reset, chip: "/gpio", line: 4, activeLow: true, delay: 10)
        #expect(low.level(asserted: true) == false && low.level(asserted: false) == true)
        let high = ControlLineRecord(role: .power, chip: "/gpio", line: 5, activeLow: false, delay: 10)
        #expect(high.level(asserted: true) == true && high.level(asserted: false) == false)
    }
}
