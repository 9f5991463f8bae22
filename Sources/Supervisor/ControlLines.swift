import GPIO
import PartitionRecord
import Syscalls

/// A guest's control lines (issue 12): host lines the supervisor drives
/// around the guest's life, requested once for the supervisor's life as
/// outputs with "<guest>:<role>" as consumer, all or none (a chip the live
/// host lacks or a line it holds names both, before anything starts).
/// `ControlSequence` says what changes at each event; this type drives the
/// lines, waits, runs the heartbeat thread and logs every transition
/// (`event=control-line role=... level=...`). The kernel releases the lines
/// when the process ends, SIGKILL included.
final class ControlLines {
    private let guest: String
    private let startTime: UInt64
    private let lines: [(record: ControlLineRecord, line: HostGPIOLine)]
    private var sequence: ControlSequence
    private var resetAssertedAt: UInt64
    private var heartbeat: Heartbeat? = nil

    init(guest: String, records: [ControlLineRecord], startTime: UInt64) throws(GPIOError) {
        var chips = HostGPIOChips()
        var lines: [(record: ControlLineRecord, line: HostGPIOLine)] = []
        for r in records {
            let asserted = ControlSequence.requestedAsserted(r.role)
            lines.append((r, try chips.chip(r.chip).request(offset: r.line, output: true, level: r.level(asserted: asserted),
                                                             consumer: "\(guest):\(r.role.rawValue)")))
        }
        self.guest = guest
        self.startTime = startTime
        self.lines = lines
        sequence = ControlSequence(records)
        resetAssertedAt = Clock.monotonic
        for (r, _) in lines {
            log(r, asserted: ControlSequence.requestedAsserted(r.role), "chip=\(r.chip) line=\(r.line) \(r.role.delayProperty)=\(r.delay) requested")
        }
    }

    /// Takes the steps `event` calls for.
    func run(_ event: ControlSequence.Event) {
        for step in sequence.steps(event) {
            switch step {
            case .drive(let role, let asserted):
                guard let (r, line) = lines.first(where: { $0.record.role == role }) else { continue }
                let failure = line.drive(r.level(asserted: asserted))
                if role == .reset && asserted { resetAssertedAt = Clock.monotonic }
                log(r, asserted: asserted, failure.map { "drive=failed error=\"\($0)\" line=\"\(line.name)\"" } ?? "", failed: failure != nil)
            case .wait(let ms):
                Clock.sleep(nanoseconds: UInt64(ms) * 1_000_000)
            case .holdReset(let ms):
                let until = resetAssertedAt + UInt64(ms) * 1_000_000
                let now = Clock.monotonic
                if now < until { Clock.sleep(nanoseconds: until - now) }
            case .heartbeat(true):
                guard let (r, line) = lines.first(where: { $0.record.role == .heartbeat }) else { continue }
                let beat = Heartbeat(record: r, line: line)
                if let e = beat.start() {
                    Log.write(.warning, guest, "control-line", "role=heartbeat error=\"pthread_create: \(e)\"")
                } else {
                    heartbeat = beat
                    Log.write(.info, guest, "control-line", "role=heartbeat level=toggling period_ms=\(r.delay) t_ms=\(milliseconds(Clock.monotonic - startTime))")
                }
            case .heartbeat(false):
                guard let beat = heartbeat else { continue }
                heartbeat = nil
                let (toggles, failures) = beat.stop()
                let failed = failures.first.map { " drive=failed failures=\(failures.count) error=\"\($0)\" line=\"\(beat.line.name)\"" } ?? ""
                log(beat.record, asserted: false, "toggles=\(toggles)" + failed, failed: failures.first != nil)
            }
        }
    }

    /// A failed drive is logged as an error.
    private func log(_ r: ControlLineRecord, asserted: Bool, _ extra: String, failed: Bool = false) {
        Log.write(failed ? .error : .info, guest, "control-line", "role=\(r.role.rawValue) level=\(asserted ? "asserted" : "inactive") value=\(r.level(asserted: asserted) ? 1 : 0)" + (extra.isEmpty ? "" : " " + extra) + " t_ms=\(milliseconds(Clock.monotonic - startTime))")
    }
}

/// The heartbeat line toggled every period by its own thread, until stopped
/// (then left inactive).
private final class Heartbeat {
    let record: ControlLineRecord
    let line: HostGPIOLine
    private let lock = Lock()
    private var stopping = false
    private var toggles = 0
    /// Drives the kernel refused: how many, and the first one's error.
    private var failures: (count: Int, first: Errno?) = (0, nil)
    private var thread: Thread? = nil

    init(record: ControlLineRecord, line: HostGPIOLine) {
        self.record = record
        self.line = line
    }

    func start() -> Errno? {
        switch Thread.start({ [self] in self.run() }) {
        case .success(let t): thread = t; return nil
        case .failure(let e): return e
        }
    }

    /// Stops and joins the thread, leaves the line inactive; how many times
    /// it toggled, and the drives that failed.
    func stop() -> (toggles: Int, failures: (count: Int, first: Errno?)) {
        lock.withLock { stopping = true }
        thread?.join()
        thread = nil
        drive(false)
        return lock.withLock { (toggles, failures) }
    }

    private func drive(_ asserted: Bool) {
        guard let e = line.drive(record.level(asserted: asserted)) else { return }
        lock.withLock {
            if failures.first == nil { failures.first = e }
            failures.count += 1
        }
    }

    private func run() {
        let period = UInt64(record.delay) * 1_000_000
        let slice: UInt64 = 5_000_000
        var asserted = false
        var next = Clock.monotonic + period
        while true {
            // Sleep in slices so a stop waits at most one slice, not a period.
            let now = Clock.monotonic
            if now < next { Clock.sleep(nanoseconds: min(slice, next - now)) }
            if lock.withLock({ stopping }) { return }
            guard Clock.monotonic >= next else { continue }
            asserted.toggle()
            drive(asserted)
            lock.withLock { toggles += 1 }
            next += period
        }
    }
}

extension Supervisor {
    /// The guest's control lines, requested at supervisor start: reset
    /// asserted, power off; nil when the plan gives none.
    func prepareControlLines() throws(SupervisorError) -> ControlLines? {
        guard !config.controlLines.isEmpty else { return nil }
        do throws(GPIOError) {
            return try ControlLines(guest: config.name, records: config.controlLines, startTime: startTime)
        } catch {
            throw .configuration("control-lines: \(error)")
        }
    }
}
