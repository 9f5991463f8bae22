import Platform
import Testing
import Console
import GuestTree
import Supervisor

/// The emulated pvpanic register (qemu,pvpanic-mmio) as Linux's driver uses
/// it (drivers/misc/pvpanic/): probe reads the supported events, the panic
/// notifier writes one.
@Suite struct PanicDeviceTests {
    static let base = TestConsole.base + ConsolePage.pvpanicOffset
    let device = PanicDevice(base: PanicDeviceTests.base)

    @Test func readReportsPanickedAndCrashLoaded() {
        // Linux: capability = PANICKED | CRASH_LOADED, then `capability &= ioread8(base)`.
        #expect(device.read(Self.base) == 0x3)
        #expect(device.read(Self.base + 1) == 0)
    }

    @Test func writesDecodeToEvents() {
        #expect(device.write(Self.base, 1) == .panicked)
        #expect(device.write(Self.base, 2) == .crashLoaded)
        // QEMU's handler: PANICKED first when both are set.
        #expect(device.write(Self.base, 3) == .panicked)
        #expect(device.write(Self.base, 4) == .unknown(4))       // a newer guest's PVPANIC_SHUTDOWN
        #expect(device.write(Self.base, 0) == nil)
        #expect(device.write(Self.base + 1, 1) == nil)           // the byte past the register
    }

    /// In the console's page, clear of the 16550's eight byte registers, so
    /// the vCPU loop can look it up before the console.
    @Test func sharesTheConsolePageClearOfTheUART() {
        #expect(ConsolePage.pvpanicOffset >= ConsolePage.uartRegisters)
        #expect(ConsolePage.pvpanicOffset + PanicDevice.size <= ConsolePage.size)
        #expect(TestConsole.base % ConsolePage.size == 0)
    }

    @Test func crashIsExitStatusFourAndAFailure() {
        let outcome = Outcome.crashed("pvpanic: guest panicked on vcpu 0")
        #expect(outcome.exitStatus == 4)
        #expect(outcome.isFailure)
        #expect(outcome.description == "crashed (pvpanic: guest panicked on vcpu 0)")
    }
}
