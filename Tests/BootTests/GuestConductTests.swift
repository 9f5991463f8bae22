import Testing
import Console
import Platform
import Syscalls
@testable import Supervisor

/// What the supervisor counts of a guest's odd accesses to its emulated
/// devices (the chaos guest's summary is compared with these counts on the
/// board): one kind per access, the first of each logged, all counted.
@Suite struct GuestConductTests {
    @Test func sixteen550KindsInOrder() {
        #expect(UART16550.oddity(offset: 0, length: 1, isWrite: true) == nil)
        #expect(UART16550.oddity(offset: 5, length: 1, isWrite: false) == nil)             // LSR read
        #expect(UART16550.oddity(offset: 5, length: 1, isWrite: true) == "16550-read-only-register")
        #expect(UART16550.oddity(offset: 6, length: 1, isWrite: true) == "16550-read-only-register")
        #expect(UART16550.oddity(offset: 7, length: 1, isWrite: true) == nil)              // SCR
        #expect(UART16550.oddity(offset: 4, length: 4, isWrite: true) == "16550-wide-access")
        #expect(UART16550.oddity(offset: 6, length: 2, isWrite: true) == "16550-wide-access")
        #expect(UART16550.oddity(offset: 8, length: 1, isWrite: false) == "16550-beyond-registers")
        #expect(UART16550.oddity(offset: 0x7f8, length: 8, isWrite: true) == "16550-beyond-registers")
    }

    @Test func countsEveryAccessOnTheBusByKind() {
        let bus = MMIOBus()
        let conduct = GuestConduct(guest: "test")
        var out: [UInt8] = []
        let uart = UART16550(base: TestConsole.base, output: { out.append($0) }, setLine: { _ in })
        #expect(throws: Never.self) { try uart.register(on: bus, conduct: conduct) }
        let panic = TestConsole.base + ConsolePage.pvpanicOffset
        #expect(throws: Never.self) { try PanicDevice(base: panic).register(on: bus, conduct: conduct) }
        #expect(conduct.summary == "refused=0")
        for _ in 0..<3 { _ = bus.access(TestConsole.base + 5, isWrite: true, length: 1, value: 0, vcpu: 0) }
        _ = bus.access(TestConsole.base + 0x100, isWrite: false, length: 4, value: 0, vcpu: 1)
        _ = bus.access(TestConsole.base, isWrite: true, length: 8, value: 0x41, vcpu: 0)
        _ = bus.access(TestConsole.base, isWrite: true, length: 1, value: 0x42, vcpu: 0)
        #expect(out == [0x41, 0x42])
        // pvpanic: CRASH_LOADED and unknown bits go on, counted; so does the byte past it.
        #expect(bus.access(panic, isWrite: true, length: 1, value: 0x06, vcpu: 0) == .done)
        #expect(bus.access(panic, isWrite: true, length: 1, value: 0x04, vcpu: 0) == .done)
        #expect(bus.access(panic, isWrite: true, length: 1, value: 0x10, vcpu: 0) == .done)
        #expect(bus.access(panic + 1, isWrite: true, length: 1, value: 0x01, vcpu: 0) == .done)
        #expect(bus.access(panic, isWrite: true, length: 1, value: 0, vcpu: 0) == .done)
        #expect(conduct.count("16550-read-only-register") == 3)
        #expect(conduct.count("16550-beyond-registers") == 1)
        #expect(conduct.count("16550-wide-access") == 1)
        #expect(conduct.count("pvpanic-crash-loaded") == 1)
        #expect(conduct.count("pvpanic-unknown-bits") == 2)
        #expect(conduct.count("pvpanic-beyond-register") == 1)
        #expect(conduct.summary == "refused=9 16550-read-only-register=3 16550-beyond-registers=1 16550-wide-access=1 pvpanic-crash-loaded=1 pvpanic-unknown-bits=2 pvpanic-beyond-register=1")
    }
}

/// The supervisor's state of one boot: every vCPU powered off ends it, one
/// running vCPU keeps it going; the first outcome and its time are kept.
@Suite struct RunStateTests {
    @Test func allOffCountsTheLeastOfTheVCPUs() {
        let state = RunState(vcpus: 2)
        #expect(state.sampleOff(0, off: true) == 0)
        #expect(state.sampleOff(1, off: true) == 1)
        #expect(state.sampleOff(0, off: true) == 1)
        #expect(state.sampleOff(1, off: true) == 2)
        #expect(state.sampleOff(0, off: false) == 0)   // vCPU 0 running again
        #expect(state.sampleOff(1, off: true) == 0)
    }

    @Test func theFirstOutcomeAndItsTimeAreKept() {
        let state = RunState(vcpus: 1)
        state.finish(.reset)
        let at = state.endedAt
        state.finish(.poweredOff)
        #expect(state.outcome == .reset && at > 0 && state.endedAt == at)
        // Recording posts nothing: the vCPU's thread does, once its loop returned.
        #expect(!state.wakeup.wait(nanoseconds: 1_000_000))
    }
}

@Suite struct RestartTimingTests {
    @Test func phasesAddUpToTheRestart() {
        var timing = RestartTiming(endedAt: 1_000_000, after: .reset, boot: 2)
        timing.mark("stop", at: 1_400_000)
        timing.mark("scrub", at: 1_500_000)
        let text = timing.text(enteredAt: 3_000_000)
        #expect(text == "n=2 after=\"reset\" restart_us=2000 stop_us=400 scrub_us=100 enter_us=1500")
    }

    @Test func aMarkBeforeTheLastCountsZero() {
        // A phase stamped on another thread may fall before the last mark.
        var timing = RestartTiming(endedAt: 1_000_000, after: .reset, boot: 3)
        timing.mark("wake", at: 1_200_000)
        timing.mark("vcpus", at: 1_100_000)
        timing.mark("stop", at: 1_300_000)
        #expect(timing.text(enteredAt: 900_000) == "n=3 after=\"reset\" restart_us=0 wake_us=200 vcpus_us=0 stop_us=100 enter_us=0")
    }
}

@Suite struct WakeupTests {
    @Test func aPostIsNeverLostAndIsTakenOnce() {
        let wakeup = Wakeup()
        #expect(!wakeup.wait(nanoseconds: 1_000_000))          // times out
        wakeup.post()
        #expect(wakeup.wait(nanoseconds: 10_000_000_000))      // at once
        #expect(!wakeup.wait(nanoseconds: 1_000_000))
    }
}
