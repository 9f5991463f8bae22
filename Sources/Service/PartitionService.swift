import CLinux
import PartitionRecord
import Supervisor
import Syscalls

/// `cleave-boot start`: the partition service, in the foreground. Starts
/// every guest of the host tree's carve record as its own VMM process
/// (`/proc/self/exe boot --guest NAME`), so a crash of one cannot take down
/// another or the service; applies the restart policy to processes killed by
/// a signal (GuestProcess); serves `stop` and `restart` requests (files under
/// /run/cleave/requests, polled every tick); tells an init system when every
/// guest runs (ServiceNotifier); on SIGTERM/SIGINT stops every guest within
/// `stopTimeout`, SIGKILLs what is left, reaps all and returns.
/// One instance at a time: /run/cleave/service.lock.
public final class PartitionService {
    let treePath: String
    let paths: ServicePaths
    let backoff: RestartBackoff
    /// `start --kmsg`: each guest's VMM logs to /dev/kmsg too (`boot --kmsg`).
    let kmsg: Bool
    /// SIGTERM to SIGKILL, for a stop and for the shutdown.
    let stopTimeout: UInt64 = 10_000_000_000
    static let tick: UInt64 = 100_000_000
    private var guests: [GuestProcess] = []
    private let notifier = ServiceNotifier()
    private let executable = "/proc/self/exe"

    public init(treePath: String, paths: ServicePaths = ServicePaths(), backoff: RestartBackoff = RestartBackoff(), kmsg: Bool = false) {
        self.treePath = treePath
        self.kmsg = kmsg
        self.paths = paths
        self.backoff = backoff
    }

    /// Runs until SIGTERM/SIGINT; throws before starting any guest when the
    /// record cannot be read, the files cannot be made or another service runs.
    public func run() throws(ServiceError) {
        let record: PartitionsRecord
        do throws(SupervisorError) { record = try HostTreeGuest.record(treePath: treePath) } catch {
            throw ServiceError("\(error)")
        }
        guard !record.guests.isEmpty else {
            throw ServiceError("\(treePath): \(PartitionsRecord.path) has no guests: carve a plan with at least one guest")
        }
        for dir in [paths.root, paths.guests, paths.requests] {
            let r = dir.withCString { cleave_mkdir($0, 0o700) }
            if r < 0 && r != -EEXIST { throw ServiceError("cannot create \(dir): \(Errno(-r)) (the service runs as root)") }
        }
        let lock: FileLock
        do throws(FileLock.Failure) { lock = try FileLock(taking: paths.lock) } catch {
            if case .held(_, let pid) = error {
                throw ServiceError("another cleave-boot service is running (\(paths.lock) is held by " + (pid.map { "pid \($0)" } ?? "another process") + "): stop it first" + (pid.map { " (kill -TERM \($0))" } ?? ""))
            }
            throw ServiceError("\(error)")
        }
        guests = record.guests.map(GuestProcess.init)
        // What an earlier service left (killed, say) must not pass for this one's.
        for g in guests {
            for r in ServiceRequest.allCases { _ = paths.request(r, of: g.name).withCString { cleave_unlink($0) } }
            _ = paths.status(of: g.name).withCString { cleave_unlink($0) }
            removeConsoleSocket(g)
            g.record.reason = "not started yet"
            save(g)
        }
        write(ServiceInfo(pid: ChildProcess.currentID, tree: treePath, guests: guests.map { $0.name }).text, to: paths.info)
        Log.write(.info, "service", "start", "pid=\(ChildProcess.currentID) tree=\(treePath) guests=\(guests.map { $0.name }.joined(separator: ",")) notify=\(notifier.enabled) watchdog_ms=\(notifier.watchdogInterval.map { "\($0 / 1_000_000)" } ?? "-")")
        for g in guests { start(g) }
        while Signals.received == nil {
            serveOnce()
            Clock.sleep(nanoseconds: PartitionService.tick)
        }
        shutdown()
        _ = paths.info.withCString { cleave_unlink($0) }
        withExtendedLifetime(lock) {}
    }

    /// One tick: reap, serve requests, start what is due, kill what overstayed, tell init.
    private func serveOnce() {
        let now = Clock.monotonic
        reap()
        for g in guests { serveRequests(g) }
        for g in guests {
            if let at = g.startAt, now >= at { g.startAt = nil; start(g) }
            if let deadline = g.killDeadline, now >= deadline, let pid = g.pid {
                Log.write(.warning, g.name, "service-kill", "pid=\(pid) did not stop within \(stopTimeout / 1_000_000_000) s of SIGTERM: SIGKILL")
                ChildProcess.signal(pid, SIGKILL)
                g.killDeadline = nil
            }
        }
        tellInit(now: now)
    }

    private func start(_ g: GuestProcess) {
        let statusPath = paths.status(of: g.name)
        _ = statusPath.withCString { cleave_unlink($0) }
        let arguments = ["cleave-boot", "boot", "--guest", g.name, "--tree", treePath,
                         "--status-file", statusPath, "--console-log", paths.console(of: g.name),
                         "--console-socket", paths.consoleSocket(of: g.name)] + (kmsg ? ["--kmsg"] : [])
        switch ChildProcess.spawn(executable, arguments, parentDeathSignal: SIGTERM) {
        case .success(let pid):
            g.record.state = .running
            g.record.pid = pid
            g.record.since = Clock.boottime
            g.record.backoffMilliseconds = 0
            Log.write(.info, g.name, "service-started", "pid=\(pid) restarts=\(g.record.restarts)")
        case .failure(let e):
            g.record.state = .failed
            g.record.reason = "fork/exec of \(executable) failed: \(e)"
            Log.write(.error, g.name, "service-start-failed", "error=\(e)")
        }
        save(g)
    }

    private func reap() {
        while let (pid, ending) = ChildProcess.reapAny() {
            guard let g = guests.first(where: { $0.pid == pid }) else { continue }
            let said = readStatus(g.name)
            // A VMM that ended normally removed it; one killed left it behind.
            removeConsoleSocket(g)
            let next = g.ended(ending, guestSays: said, backoff: backoff)
            Log.write(g.record.state == .failed || g.record.state == .waiting ? .error : .info, g.name, "service-ended",
                      "pid=\(pid) exit=\"\(ending)\" state=\(g.record.state.rawValue) reason=\"\(g.record.reason)\"")
            switch next {
            case .stay: break
            case .startNow: start(g)
            case .startAfter(let delay): g.startAt = Clock.monotonic + delay
            }
            save(g)
            if g.pid == nil || next == .startNow { finishRequest(g) }
        }
    }

    private func serveRequests(_ g: GuestProcess) {
        guard g.pendingRequest == nil else { return }
        for request in ServiceRequest.allCases {
            let path = paths.request(request, of: g.name)
            guard path.withCString({ cleave_exists($0) }) == 1 else { continue }
            g.pendingRequest = path
            Log.write(.info, g.name, "service-request", "request=\(request.rawValue) pid=\(g.pid.map { "\($0)" } ?? "-")")
            if let pid = g.pid {
                g.stopRequested = true
                g.restartRequested = request == .restart
                g.killDeadline = Clock.monotonic + stopTimeout
                ChildProcess.signal(pid, SIGTERM)
            } else {
                g.startAt = nil
                if request == .restart {
                    start(g)
                } else {
                    g.record.state = .stopped
                    g.record.backoffMilliseconds = 0
                    g.record.reason = "stopped on request"
                    save(g)
                }
                finishRequest(g)
            }
            return
        }
    }

    private func finishRequest(_ g: GuestProcess) {
        guard let path = g.pendingRequest else { return }
        _ = path.withCString { cleave_unlink($0) }
        g.pendingRequest = nil
    }

    /// READY=1 once every guest whose process runs has reached `running`
    /// (and none waits for a restart); STATUS= with one line; watchdog pings.
    private func tellInit(now: UInt64) {
        guard notifier.enabled else { return }
        var parts: [String] = []
        var settled = true
        for g in guests {
            let state: String
            switch g.record.state {
            case .running:
                let s = readStatus(g.name)
                let running = s?.state == .running && s?.pid == g.record.pid
                if !running { settled = false }
                state = running ? "running" : (s?.state.rawValue ?? "starting")
            case .waiting: settled = false; state = "restarting"
            case .stopped: state = "stopped"
            case .failed: state = "failed"
            }
            parts.append("\(g.name) \(state)")
        }
        let line = parts.joined(separator: ", ")
        if settled { notifier.readyOnce(status: line) }
        notifier.status(line)
        notifier.tick(now: now)
    }

    private func shutdown() {
        let signal = Signals.received ?? SIGTERM
        notifier.send("STOPPING=1")
        Log.write(.info, "service", "stopping", "signal=\(signal) guests=\(guests.filter { $0.pid != nil }.count)")
        for g in guests {
            g.startAt = nil
            g.restartRequested = false
            guard let pid = g.pid else { continue }
            g.stopRequested = true
            ChildProcess.signal(pid, SIGTERM)
        }
        let deadline = Clock.monotonic + stopTimeout
        var killed = false
        while guests.contains(where: { $0.pid != nil }) {
            reap()
            if !killed && Clock.monotonic >= deadline {
                for g in guests { if let pid = g.pid {
                    Log.write(.warning, g.name, "service-kill", "pid=\(pid) did not stop within \(stopTimeout / 1_000_000_000) s of SIGTERM: SIGKILL")
                    ChildProcess.signal(pid, SIGKILL)
                } }
                killed = true
            }
            // A process that was killed but cannot be reaped (it is not ours any more) is dropped after 5 s more.
            if killed && Clock.monotonic >= deadline + 5_000_000_000 { break }
            Clock.sleep(nanoseconds: 20_000_000)
        }
        for g in guests where g.record.state == .waiting {
            g.record.state = .stopped
            g.record.reason = "the service stopped"
            save(g)
        }
        for g in guests { finishRequest(g) }
        Log.write(.info, "service", "stopped", "guests=\(guests.map { "\($0.name):\($0.record.state.rawValue)" }.joined(separator: ","))")
    }

    private func readStatus(_ guest: String) -> GuestStatus? {
        guard let text = try? Files.readText(paths.status(of: guest)) else { return nil }
        return GuestStatus(text: text)
    }

    private func removeConsoleSocket(_ g: GuestProcess) {
        _ = paths.consoleSocket(of: g.name).withCString { cleave_unlink($0) }
    }

    private func save(_ g: GuestProcess) { write(g.record.text, to: paths.record(of: g.name)) }

    private func write(_ text: String, to path: String) {
        do throws(Errno) { try Files.write(Array(text.utf8), to: path) } catch {
            Log.write(.warning, "service", "write", "path=\(path) error=\(error)")
        }
    }
}
