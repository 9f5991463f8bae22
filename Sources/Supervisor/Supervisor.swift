import CLinux
import Console
import GPIO
import GuestMemory
import KVM
import Loading
import PartitionRecord
import Passthrough
import Platform
import Synchronization
import Syscalls

/// Boots one guest and keeps it running: identity-mapped RAM taken once, a
/// fresh `GuestMachine` per boot (its VM built while the boot before ran),
/// one pinned thread per vCPU, the watchdog,
/// SIGTERM/SIGINT teardown, PSCI SYSTEM_OFF/RESET and the restart policy.
/// `run()` returns how the guest finally ended; its `exitStatus` is the
/// process's.
public final class Supervisor {
    let config: GuestConfiguration
    let startTime: UInt64
    let mainTime: UInt64

    /// `startTime`: CLOCK_MONOTONIC at the process's exec (or entry), for
    /// timing lines; `mainTime`: at the top of main, when known.
    public init(_ config: GuestConfiguration, startTime: UInt64, mainTime: UInt64? = nil) {
        self.config = config
        self.startTime = startTime
        self.mainTime = mainTime ?? startTime
    }

    /// The guest's status file, when the service asked for one.
    private var statusFile: GuestStatusFile? = nil
    /// The last boot's machine, kept from its stop until the next boot's
    /// vCPU threads run, then closed (`runMachine`).
    private var retired: GuestMachine? = nil
    /// The VM the next boot takes, being built on its own thread while this
    /// boot runs (`StandbyVM`); nil before the first boot runs.
    private var standby: StandbyVM? = nil
    /// The guest tree the last boot loaded, for the next boot to reuse with
    /// new seeds when the images land where they did (`BootTree`).
    private var bootTree: BootTree? = nil
    /// One per vCPU index, started at the first boot and reused by every
    /// later one; stopped when the supervisor finishes.
    private var vcpuThreads: [VCPUThread] = []

    public func run() -> Outcome {
        let name = config.name
        Log.write(.info, name, "start", "t_ms=\(milliseconds(Clock.monotonic - startTime)) exec_to_main_ms=\(milliseconds(mainTime - startTime)) faults=\(cleave_minor_faults())")
        if let uart = config.consoleUART {
            Log.write(.info, name, "console", "device=\(uart) passed through: the guest drives the UART itself (no virtual 16550: no console input or log here, and the console socket refuses attach)")
        }
        if let path = config.statusPath {
            var status = GuestStatus(name: name)
            status.pid = ChildProcess.currentID
            status.cpus = config.hostCPUs.compactMap { $0 }
            status.startedAt = Clock.boottime
            statusFile = GuestStatusFile(path: path, status: status)
        }
        let outcome = supervise()
        statusFile?.update {
            $0.state = outcome.isFailure ? .failed : .stopped
            $0.reason = "\(outcome)"
            $0.exitStatus = outcome.exitStatus
        }
        return outcome
    }

    private func supervise() -> Outcome {
        let name = config.name
        // Every way out writes the lines a restart held back and ends the vCPU threads.
        defer {
            Log.finish()
            for t in vcpuThreads { t.stop() }
            vcpuThreads = []
            standby?.discard()
            standby = nil
            retired = nil
        }
        do throws(SupervisorError) { try checkHost() } catch { return fail(error) }
        // One VMM per guest, kept until the process ends; a killed one of this guest still exiting is waited for (§34).
        do throws(SupervisorError) { try VMMLock.take(guest: name) } catch { return fail(error) }
        var timer = PhaseTimer()
        let kvm: KVMSystem
        let ram: IdentityMappedRAM
        do throws(KVMError) {
            kvm = try KVMSystem()
            try kvm.require(.userMemory, for: "guest RAM")
            try kvm.require(.oneReg, for: "vCPU registers")
        } catch {
            return fail(.kvm(error))
        }
        timer.mark("kvm")
        do throws(MemoryError) {
            let poolLock = RAMPoolLock.take(guest: name)
            ram = try IdentityMappedRAM.allocate(size: config.memorySize, pageSize: config.pageSize, fixedBase: config.fixedBase)
            withExtendedLifetime(poolLock) {}
        } catch {
            return fail(.memory(error))
        }
        timer.mark("ram")
        Log.write(.info, name, "timing", timer.text + " (ram: hugepage mmap, fault and kernel zeroing " + milliseconds(IdentityMappedRAM.lastMapNanoseconds) + ", pagemap " + milliseconds(IdentityMappedRAM.lastPagemapNanoseconds) + ")")
        statusFile?.update {
            $0.ramBase = ram.base
            $0.ramSize = ram.size
        }
        let passthrough: PassthroughSet?
        do throws(SupervisorError) { passthrough = try preparePassthrough() } catch { return fail(error) }
        defer { passthrough?.teardown() }
        let gpio: GuestGPIO?
        do throws(SupervisorError) { gpio = try prepareGPIO() } catch { return fail(error) }
        defer { gpio?.stop() }
        // Reset asserted and power off from here; power off again (after
        // reset) when the supervisor finishes, however it does.
        let control: ControlLines?
        do throws(SupervisorError) { control = try prepareControlLines() } catch { return fail(error) }
        defer { control?.run(.finished) }
        Log.write(.info, name, "ram", "base=\(hex(ram.base)) size=\(hex(ram.size)) banks=\(ram.banks.map { "\(hex($0.base))+\(hex($0.size))" }.joined(separator: ",")) pages=\(config.pageSize) slots=\(ram.runs.count) t_ms=\(milliseconds(Clock.monotonic - startTime))")

        var consoleLog: ConsoleLog? = nil
        if let path = config.consoleLogPath {
            do throws(Errno) { consoleLog = try ConsoleLog(path: path) } catch { return fail(.system("opening the console log \(path)", error)) }
        }
        var consoleServer: ConsoleServer? = nil
        if let path = config.consoleSocketPath {
            // A passed-through UART console has no 16550 here: clients are told where the console is.
            let elsewhere = config.consoleUART.map { "guest \(name)'s console is the passed-through UART \($0), which the guest drives itself: use that serial line" }
            do throws(SupervisorError) { consoleServer = try ConsoleServer(path: path, guest: name, unavailable: elsewhere) } catch { return fail(error) }
            // A VMM the service started again: its clients see the output before it.
            if let logPath = config.consoleLogPath, elsewhere == nil {
                consoleServer!.seed(ConsoleLog.tail(of: logPath, limit: ConsoleServer.historyCapacity))
            }
            if case .failure(let e) = consoleServer!.start() { return fail(.system("starting the console socket's thread", e)) }
            Log.write(.info, name, "console-socket", "path=\(path) history_bytes=\(ConsoleServer.historyCapacity)")
        }
        defer { consoleServer?.shutdown() }
        let sink = ConsoleSink(guest: name, marker: config.consoleMarker, startTime: startTime, file: consoleLog, server: consoleServer)
        defer { sink.flush() }
        let input = config.interactive ? ConsoleInput(guest: name) : nil
        if let input, case .failure(let e) = input.start() { return fail(.system("starting the console input thread", e)) }
        defer { input?.shutdown() }
        let images = BootImages(config)
        var boots = 0
        // The previous boot's end, for the restart's timing line: when its
        // outcome was recorded (the vCPU exit) and the phases since.
        var restart: RestartTiming? = nil
        while true {
            boots += 1
            if boots > 1 {
                // A reset reuses this process's RAM: the same pages, never
                // handed back to the pool in between (docs/kernel-facts.md §31).
                if config.ramScrub == .zero { ram.zero() }
                restart?.mark("scrub")
            }
            control?.run(.boot)
            let machine: GuestMachine
            do throws(SupervisorError) {
                let prebuilt = standby?.take()
                standby = nil
                restart?.mark("standby")
                machine = try GuestMachine(config, kvm: kvm, ram: ram, images: images, prebuilt: prebuilt?.vm,
                                           tree: prebuilt?.tree ?? bootTree?.reseeded(), output: { sink.put($0) })
                bootTree = machine.bootTree
            } catch {
                return fail(error)
            }
            restart?.mark("machine")
            if let passthrough {
                do throws(PassthroughError) { try passthrough.attach(machine.vm) } catch { return fail(.configuration("passthrough: \(error)")) }
                do throws(MMIOBus.Failure) { try machine.attach(passthrough) } catch { return fail(.configuration("passthrough: \(error)")) }
            }
            if let gpio {
                do throws(MMIOBus.Failure) { try machine.attach(gpio, guest: name) } catch { return fail(.configuration("gpio-lines: \(error)")) }
            }
            defer {
                passthrough?.detach()
                for c in gpio?.controllers ?? [] { c.detach() }
            }
            restart?.mark("attach")
            // A restart's changes are written once the guest runs (reportEntry).
            let devices = passthrough?.methods.map { GuestStatus.Device(path: $0.path, method: $0.method, intids: $0.intids) } ?? []
            let starting = { (status: inout GuestStatus) in
                status.state = .starting
                status.boots = boots
                status.devices = devices
            }
            if boots == 1 { statusFile?.update(starting) } else { statusFile?.change(starting) }
            let (n, gic, at, startTime) = (boots, config.gic, Clock.monotonic, startTime)
            Log.writeLater(.info, name, "boot") {
                "n=\(n) \(gic) vcpus=\(machine.vcpus.count) kernel=\(hex(machine.placement.kernelAddress)) dtb=\(hex(machine.placement.dtbAddress)) dtb_size=\(hex(machine.treeSize)) dtb_fnv1a=\(hex(machine.treeHash)) t_ms=\(milliseconds(at - startTime))" + (machine.placement.initrdAddress.map { " initrd=\(hex($0))" } ?? "")
            }
            if let console = machine.console {
                input?.attach(console)
                consoleServer?.input.attach(console)
            }
            // RAM, devices and GPIO controllers ready: reset released.
            control?.run(.ready)
            let outcome = runMachine(machine, kvm: kvm, ram: ram, boot: boots, restart: restart)
            // From the outcome to the next boot's vCPU threads, info lines wait
            // (Log.hold): a restart's critical path does not pay for the log.
            Log.hold()
            restart = nil
            control?.run(.stopped)
            input?.attach(nil)
            consoleServer?.input.attach(nil)
            let (ended, conduct) = (outcome.outcome, machine.conduct)
            Log.writeLater(ended.isFailure ? .error : .info, name, "stopped") { "outcome=\"\(ended)\" status=\(ended.exitStatus)" }
            Log.writeLater(.info, name, "conduct") { "n=\(n) \(conduct.summary)" }  // n: this boot's
            let again: Bool
            switch outcome.outcome {
            case .reset: again = true
            case .signalled: again = false
            default:
                switch config.restart {
                case .never: again = false
                case .always: again = true
                case .onFailure: again = outcome.outcome.isFailure
                }
            }
            if !again || !restartAllowed(after: boots) {
                statusFile?.update { $0.lastOutcome = "\(ended)" }
                return outcome.outcome
            }
            statusFile?.change { $0.lastOutcome = "\(ended)" }
            let scrub = config.ramScrub
            Log.writeLater(.info, name, "restart") { "after=\"\(ended)\" ram-scrub=\(scrub.rawValue)" }
            restart = RestartTiming(endedAt: outcome.endedAt, after: outcome.outcome, boot: boots + 1)
            restart?.mark("wake", at: outcome.woken)
            restart?.mark("vcpus", at: outcome.stopped)
            restart?.mark("stop")
            // Closed once the next boot runs (runMachine): the old VM's
            // teardown (its stage-2 tables, vGIC, vCPUs) is off the restart's path.
            retired = machine
        }
    }

    /// Whether `max-restarts` lets the boot numbered `boots` be followed by
    /// another (a reset or a restart by policy); 0 (or less) sets no bound.
    private func restartAllowed(after boots: Int) -> Bool {
        config.maxRestarts <= 0 || boots <= config.maxRestarts
    }

    private func fail(_ error: SupervisorError) -> Outcome {
        Log.write(.error, config.name, "setup", "error=\"\(error)\"")
        return .error("\(error)")
    }

    /// Runs the vCPU threads until one records an outcome or a signal
    /// arrives; returns the outcome and when it was recorded. The supervising
    /// thread wakes at once when a vCPU records one (`RunState.finish`), else
    /// every 5 ms to look for a signal and to kick the vCPUs for the watchdog.
    /// After starting the vCPU threads it checks, while the guest runs, that
    /// the RAM is still on the pages it was given (`ram-check`, every boot).
    private func runMachine(_ machine: GuestMachine, kvm: KVMSystem, ram: IdentityMappedRAM, boot: Int,
                            restart: RestartTiming?) -> (outcome: Outcome, endedAt: UInt64, woken: UInt64, stopped: UInt64) {
        var restart = restart
        restart?.mark("ready")
        let state = RunState(vcpus: machine.vcpus.count)
        // Held (again, at a first boot) until the vCPUs have their loops and
        // the RAM check is logged: then written at the console's next line start.
        Log.hold()
        var threads: [VCPUThread] = []
        starting: for (index, vcpu) in machine.vcpus.enumerated() {
            let cpu = config.hostCPUs[index]
            let loop = VCPULoop(vcpu: vcpu, machine: machine, state: state, guest: config.name,
                                ramBase: ram.base, ramEnd: ram.base + ram.size,
                                hostCPU: cpu, watchdogThreshold: config.watchdogThreshold, startTime: startTime)
            if index == vcpuThreads.count {
                switch VCPUThread.start() {
                case .success(let t): vcpuThreads.append(t)
                case .failure(let e):
                    state.finish(.error("pthread_create for vcpu \(index): \(e)"))
                    break starting
                }
            }
            let thread = vcpuThreads[index]
            // The supervising thread is woken once the loop has returned: it
            // then finds this thread done, not one it must wait for.
            thread.run({ loop.run(on: thread) }, then: { state.wakeup.post() })
            threads.append(thread)
        }
        // The guest runs (or is about to): the last boot's VM is closed, and
        // what the restart held back goes out, both off its path.
        retired = nil
        checkRAM(ram, boot: boot)
        Log.release()
        // Unless this boot is the last its max-restarts allows.
        if restartAllowed(after: boot) { standby = StandbyVM.start(config, kvm: kvm, ram: ram, after: bootTree) }
        let tick: UInt64 = 5_000_000
        let kickPeriod = UInt64(config.watchdogPeriodMilliseconds) * 1_000_000
        var nextKick = Clock.monotonic + kickPeriod
        var reported = false
        while state.outcome == nil {
            if !reported, let entry = state.entry {
                reportEntry(entry, machine: machine, restart: restart)
                reported = true
            }
            standby?.reap()
            if let s = Signals.received { state.finish(.signalled(s)); break }
            state.wakeup.wait(nanoseconds: tick)
            let now = Clock.monotonic
            if now >= nextKick {
                for t in threads { t.kill(Signals.kick) }
                nextKick = now + kickPeriod
            }
        }
        let woken = Clock.monotonic
        // Stop every vCPU: immediate_exit covers a kick that lands outside KVM_RUN.
        state.stopping.store(true, ordering: .sequentiallyConsistent)
        for vcpu in machine.vcpus { vcpu.requestImmediateExit(true) }
        // A thread whose loop has returned (the one that recorded the outcome) needs no kick.
        for t in threads where t.isRunning { t.kill(Signals.kick) }
        for t in threads { t.waitDone() }
        // A guest that ended within a tick of its entry.
        if !reported, let entry = state.entry { reportEntry(entry, machine: machine, restart: restart) }
        return (state.outcome ?? .error("no outcome"), state.endedAt, woken, Clock.monotonic)
    }

    /// Logs vCPU 0's entry into the guest (`first-run`, and `restarted`
    /// after a restart, its phases to that entry) and marks the guest
    /// running in its status file: the supervising thread's work, done at
    /// its first tick after the entry, so that the vCPU thread enters the
    /// guest as soon as it has its loop.
    private func reportEntry(_ entry: RunState.Entry, machine: GuestMachine, restart: RestartTiming?) {
        let name = config.name
        if let restart { Log.write(.info, name, "restarted", restart.text(enteredAt: entry.at)) }
        let offset = machine.kvmObjects.counterOffset
        let guestCounter = machine.kvmObjects.guestMicroseconds(atHost: entry.counter).map { "\($0)" } ?? "?"
        Log.write(.info, name, "first-run", "vcpu=0 cpu=\(config.hostCPUs[0] ?? -1) t_ms=\(milliseconds(entry.at - startTime)) thread_to_pinned_ms=\(milliseconds(entry.at - entry.started)) guest_counter_us=\(guestCounter) counter_offset=\(offset.map { "\(Int64(bitPattern: $0))" } ?? "?") counter_offset_spread=\(machine.kvmObjects.counterOffsetSpread.map { "\($0)" } ?? "?")")
        statusFile?.update { $0.state = .running }
    }

    /// Logs where the RAM is this boot: its base, whether every page is still
    /// at the physical address pagemap gave at allocation, and the pool's
    /// free pages (unchanged across a reset: no page went back or was taken).
    private func checkRAM(_ ram: IdentityMappedRAM, boot: Int) {
        let pages: String
        do throws(MemoryError) {
            if let moved = try ram.movedPage() {
                pages = "moved page=\(hex(moved.expected)) now=\(hex(moved.found))"
            } else {
                pages = "unchanged"
            }
        } catch {
            pages = "unreadable (\(error))"
        }
        Log.write(.info, config.name, "ram-check", "n=\(boot) base=\(hex(ram.base)) size=\(hex(ram.size)) pages=\(pages) pool_free=\(IdentityMappedRAM.freePages(ram.pageSize)) pool_page=\(ram.pageSize)")
    }
}

/// State shared by one boot's vCPU threads and the supervising thread.
final class RunState {
    /// vCPU 0's way into the guest, as its thread recorded it just before
    /// its first KVM_RUN: when the thread was handed its loop (`started`),
    /// when it was about to enter (`at`, CLOCK_MONOTONIC) and the host's
    /// counter then (for the guest's own clock at its first instruction).
    struct Entry {
        let started: UInt64
        let at: UInt64
        let counter: UInt64
    }

    private let lock = Lock()
    /// Posted by a vCPU thread once its loop has returned (after it
    /// recorded an outcome, or saw `stopping`): the supervising thread wakes
    /// at once, and finds that vCPU done.
    let wakeup = Wakeup()
    private var recorded: Outcome? = nil
    private var recordedAt: UInt64 = 0
    private var entered: Entry? = nil
    /// Consecutive watchdog samples that found each vCPU powered off.
    private var offSamples: [Int]
    let stopping = Atomic<Bool>(false)

    init(vcpus: Int) {
        offSamples = Array(repeating: 0, count: vcpus)
    }

    var outcome: Outcome? { lock.withLock { recorded } }
    /// CLOCK_MONOTONIC when the outcome was recorded.
    var endedAt: UInt64 { lock.withLock { recordedAt } }
    /// vCPU 0's entry, once it is about to run the guest.
    var entry: Entry? { lock.withLock { entered } }

    /// Called by vCPU 0's thread just before its first KVM_RUN: two clock
    /// reads and an uncontended lock, nothing the guest waits for.
    func enter(started: UInt64) {
        let counter = cleave_counter()
        let now = Clock.monotonic
        lock.withLock { entered = Entry(started: started, at: now, counter: counter) }
    }

    /// Records the first outcome; later ones (other vCPUs stopping) are
    /// ignored. A vCPU's loop returns after it; its thread then posts `wakeup`.
    func finish(_ outcome: Outcome) {
        let now = Clock.monotonic
        lock.withLock {
            if recorded == nil {
                recorded = outcome
                recordedAt = now
            }
        }
        stopping.store(true, ordering: .sequentiallyConsistent)
    }

    /// Records one watchdog sample of vCPU `index`: powered off or not.
    /// Returns the count of consecutive samples that found every vCPU off
    /// (the least of theirs), 0 when one is on: a guest that turned all its
    /// CPUs off (PSCI CPU_OFF) can never run again, yet KVM_RUN only sleeps.
    func sampleOff(_ index: Int, off: Bool) -> Int {
        lock.withLock {
            offSamples[index] = off ? offSamples[index] + 1 : 0
            return offSamples.min() ?? 0
        }
    }
}
