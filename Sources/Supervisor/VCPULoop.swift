import CLinux
import KVM
import Synchronization
import Syscalls

/// The run loop of one vCPU thread: pin, KVM_RUN, decode the exit, serve the
/// MMIO exits through the machine's bus (console, pvpanic, trapped passthrough
/// windows), turn PSCI system events and guest panics
/// into outcomes, sample the watchdog on kicks.
/// Any access outside the guest's RAM and devices stops the guest with a
/// report (address, PC): it is never emulated (docs/architecture.md, trust
/// and failure model), unless an ad-hoc run asked to ignore them
/// (`run --unmapped-mmio ignore`: reads give 0, writes are dropped, each
/// address logged once with the PC).
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

    /// Runs on `thread`, pinned to the vCPU's host CPU (unless the thread
    /// is there from an earlier boot), until the boot's outcome.
    func run(on thread: VCPUThread) {
        let started = Clock.monotonic
        if let cpu = hostCPU, thread.pinnedCPU != cpu {
            if case .failure(let e) = Thread.pinCurrent(to: cpu) {
                state.finish(.error("pinning vcpu \(vcpu.id) to CPU \(cpu): \(e)"))
                return
            }
            thread.pinnedCPU = cpu
        }
        var first = vcpu.id == 0
        // Only the clock and the counter here: the supervising thread reports
        // the entry (`first-run`, `restarted`), off the guest's way in.
        if first { state.enter(started: started) }
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
                switch machine.bus.access(address, isWrite: isWrite, length: length, value: data, vcpu: vcpu.id) {
                case .value(let v)?: if !isWrite { vcpu.completeRead(v, length: length) }
                case .done?: break
                case .failed(let reason)?: state.finish(.fault("\(reason): \(exit) by vcpu \(vcpu.id), \(registers())"))
                case .stop(let outcome, let event, let detail)?:
                    Log.write(.error, guest, event, "\(detail) \(registers())")
                    state.finish(outcome)
                case .ignored(let first)?:
                    if !isWrite { vcpu.completeRead(0, length: length) }
                    if first { Log.write(.warning, guest, "unmapped-mmio", "ignored \(exit) by vcpu \(vcpu.id) (reads give 0, writes are dropped; logged once per address), \(registers())") }
                case nil: state.finish(.fault("unhandled \(exit) by vcpu \(vcpu.id), \(registers())"))
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

    private func sampleWatchdog() {
        do throws(KVMError) {
            if try vcpu.isStopped() {
                // Every vCPU off for the watchdog's threshold: the guest can
                // never run again (nothing is left to CPU_ON one), but KVM_RUN
                // just sleeps, so the supervisor ends it as stuck.
                let allOff = state.sampleOff(vcpu.id, off: true)
                if allOff >= watchdog.threshold {
                    state.finish(.stuck("every vCPU is powered off (PSCI CPU_OFF) for \(allOff) consecutive samples: nothing can start one again"))
                }
                return
            }
            _ = state.sampleOff(vcpu.id, off: false)
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

    /// A register summary for reports; a failed read shows as "?".
    private func registers() -> String {
        func read(_ r: Register) -> String {
            do throws(KVMError) { return hex(try vcpu.get(r)) } catch { return "?" }
        }
        return "pc=\(read(.pc)) pstate=\(read(.pstate)) esr_el1=\(read(.esrEL1)) far_el1=\(read(.farEL1)) elr_el1=\(read(.elrEL1)) x0=\(read(.x(0)))"
    }
}
