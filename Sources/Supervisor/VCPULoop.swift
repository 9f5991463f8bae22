import CLinux
import Console
import KVM
import Passthrough
import Synchronization
import Syscalls

/// The run loop of one vCPU thread: pin, KVM_RUN, decode the exit, serve the
/// console and the pvpanic register, turn PSCI system events and guest panics
/// into outcomes, sample the watchdog on kicks.
/// Any access outside the guest's RAM and devices stops the guest with a
/// report (address, PC): it is never emulated (docs/architecture.md, trust
/// and failure model).
final class VCPULoop {
    let vcpu: VirtualCPU
    let machine: GuestMachine
    let state: RunState
    let guest: String
    let ramBase: UInt64
    let ramEnd: UInt64
    let hostCPU: Int?
    let startTime: UInt64
    var watchdog: Watchdog

    init(vcpu: VirtualCPU, machine: GuestMachine, state: RunState, guest: String, ramBase: UInt64, ramEnd: UInt64,
         hostCPU: Int?, watchdogThreshold: Int, startTime: UInt64) {
        self.vcpu = vcpu
        self.machine = machine
        self.state = state
        self.guest = guest
        self.ramBase = ramBase
        self.ramEnd = ramEnd
        self.hostCPU = hostCPU
        self.startTime = startTime
        watchdog = Watchdog(threshold: watchdogThreshold)
    }

    func run() {
        let started = Clock.monotonic
        if let cpu = hostCPU, case .failure(let e) = Thread.pinCurrent(to: cpu) {
            state.finish(.error("pinning vcpu \(vcpu.id) to CPU \(cpu): \(e)"))
            return
        }
        var first = vcpu.id == 0
        if first {
            Log.write(.info, guest, "first-run", "vcpu=0 cpu=\(hostCPU ?? -1) t_ms=\(milliseconds(Clock.monotonic - startTime)) thread_to_pinned_ms=\(milliseconds(Clock.monotonic - started)) guest_counter_us=\(counterMicroseconds())")
        }
        while !state.stopping.load(ordering: .sequentiallyConsistent) {
            let exit: VCPUExit
            do throws(KVMError) { exit = try vcpu.runOnce() } catch {
                state.finish(.fault("\(error)"))
                return
            }
            if first {
                first = false
                Log.write(.info, guest, "first-exit", "vcpu=0 t_ms=\(milliseconds(Clock.monotonic - startTime)) exit=\"\(exit)\"")
            }
            switch exit {
            case .mmio(let address, let isWrite, let length, let data):
                // The pvpanic register shares the console's page: looked up first.
                if machine.panic.contains(address) {
                    if !isWrite {
                        vcpu.completeRead(UInt64(machine.panic.read(address)), length: length)
                    } else if let event = machine.panic.write(address, UInt8(truncatingIfNeeded: data)) {
                        report(event)
                    }
                } else if machine.console.contains(address) {
                    if isWrite {
                        machine.console.write(address, UInt8(truncatingIfNeeded: data))
                    } else {
                        vcpu.completeRead(UInt64(machine.console.read(address)), length: length)
                    }
                } else if let p = machine.passthrough, p.traps(address) {
                    // A passed-through window that is not page-aligned: forwarded to the device.
                    if isWrite ? p.write(address, length: length, value: data)
                               : p.read(address, length: length).map({ vcpu.completeRead($0, length: length) }) != nil {
                        continue
                    }
                    state.finish(.fault("passthrough access failed: \(exit) by vcpu \(vcpu.id), \(registers())"))
                } else {
                    state.finish(.fault("unhandled \(exit) by vcpu \(vcpu.id), \(registers())"))
                }
            case .systemEvent(let type, _):
                switch type {
                case VCPUExit.shutdown: state.finish(.poweredOff)
                case VCPUExit.reset: state.finish(.reset)
                case VCPUExit.crash: state.finish(.crashed("KVM system event crash on vcpu \(vcpu.id)"))
                default: state.finish(.fault("\(exit) on vcpu \(vcpu.id)"))
                }
            case .interrupted:
                if state.stopping.load(ordering: .sequentiallyConsistent) { return }
                sampleWatchdog()
            default:
                state.finish(.fault("\(exit) on vcpu \(vcpu.id), \(registers())"))
            }
        }
    }

    /// A pvpanic event: PANICKED ends the run as a crash (exit status 4);
    /// CRASH_LOADED (a kdump kernel takes over) and unknown bits are logged
    /// and the guest goes on.
    private func report(_ event: PanicDevice.Event) {
        switch event {
        case .panicked:
            Log.write(.error, guest, "guest-panic", "vcpu=\(vcpu.id) pvpanic=panicked \(registers())")
            state.finish(.crashed("pvpanic: guest panicked on vcpu \(vcpu.id)"))
        case .crashLoaded:
            Log.write(.warning, guest, "guest-panic", "vcpu=\(vcpu.id) pvpanic=crash-loaded (the guest's kdump kernel takes over; it keeps running)")
        case .unknown(let bits):
            Log.write(.warning, guest, "guest-panic", "vcpu=\(vcpu.id) pvpanic=unknown value=\(hex(UInt64(bits))) (ignored)")
        }
    }

    private func sampleWatchdog() {
        do throws(KVMError) {
            if try vcpu.isStopped() { return }
            let pc = try vcpu.get(.pc)
            let vbar = try vcpu.get(.vbarEL1)
            let mmuOn = try vcpu.get(.sctlrEL1) & 1 != 0
            if let reason = watchdog.sample(pc: pc, vbar: vbar, mmuOn: mmuOn, ramBase: ramBase, ramEnd: ramEnd) {
                state.finish(.stuck("vcpu \(vcpu.id): \(reason), \(registers())"))
            }
        } catch {
            state.finish(.fault("watchdog sample: \(error)"))
        }
    }

    /// The guest's virtual counter in microseconds, "?" when unreadable: with
    /// the counter the guest prints at a marker, the guest's own time from its
    /// first instruction (the harness's overhead benchmark).
    private func counterMicroseconds() -> String {
        do throws(KVMError) {
            let frequency = cleave_counter_frequency()  // the guest's is the host's
            guard frequency > 0 else { return "?" }
            return "\(frequency.dividingFullWidth(try vcpu.get(.timerCount).multipliedFullWidth(by: 1_000_000)).quotient)"
        } catch { return "?" }
    }

    /// A register summary for reports; a failed read shows as "?".
    private func registers() -> String {
        func read(_ r: Register) -> String {
            do throws(KVMError) { return hex(try vcpu.get(r)) } catch { return "?" }
        }
        return "pc=\(read(.pc)) pstate=\(read(.pstate)) esr_el1=\(read(.esrEL1)) far_el1=\(read(.farEL1)) elr_el1=\(read(.elrEL1)) x0=\(read(.x(0)))"
    }
}
