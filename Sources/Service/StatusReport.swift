import JSON
import Supervisor
import Syscalls

/// `cleave-boot status [--json]`: per guest of the running service, its
/// state (the guest's own `GuestStatus` while its process runs, else the
/// service's `ServiceRecord`), pid, CPUs, RAM, devices with their methods,
/// boots, restarts by the service, last exit and reason, uptime, and the
/// host's interrupt count of each passed-through INTID.
public struct StatusReport {
    public struct Entry {
        public var name: String
        public var record: ServiceRecord
        /// The guest's file, when it belongs to the current (or last) process.
        public var status: GuestStatus?
        public var state: String
        public var reason: String
        public var uptimeSeconds: UInt64?
        /// How the last process ended: the service's record once it reaped
        /// it; before that, for a process whose guest has ended and that is
        /// exiting, the exit status the process wrote in its file.
        public var lastExit: String
    }

    public var service: ServiceInfo
    public var entries: [Entry]
    public var interrupts: HostInterruptCounts

    /// Reads the files of the running service at `paths`.
    public static func read(_ info: ServiceInfo, paths: ServicePaths = ServicePaths(),
                            procInterrupts: String = "/proc/interrupts") -> StatusReport {
        let now = Clock.boottime
        var entries: [Entry] = []
        for name in info.guests {
            let record = (try? Files.readText(paths.record(of: name))).flatMap { ServiceRecord(text: $0) } ?? ServiceRecord(name: name)
            let status = (try? Files.readText(paths.status(of: name))).flatMap { GuestStatus(text: $0) }
            entries.append(entry(name: name, record: record, status: status, now: now))
        }
        let text = (try? Files.readText(procInterrupts)) ?? ""
        return StatusReport(service: info, entries: entries, interrupts: HostInterruptCounts(procInterrupts: text))
    }

    /// Merges what the service and the guest's process say (pure).
    public static func entry(name: String, record: ServiceRecord, status: GuestStatus?, now: UInt64) -> Entry {
        var state: String
        var reason = record.reason
        var uptime: UInt64? = nil
        var lastExit = record.lastExit
        switch record.state {
        case .running:
            // A file left by an earlier process says nothing about this one.
            let current = status?.pid == record.pid ? status : nil
            state = current?.state.rawValue ?? "starting"
            if let current, !current.reason.isEmpty { reason = current.reason }
            if let current, current.state == .running || current.state == .starting {
                uptime = now >= record.since ? (now - record.since) / 1_000_000_000 : 0
            }
            // Its guest ended and it is exiting: the service has not reaped it
            // yet, but the process already said its status (Supervisor.run).
            if let current, current.state == .stopped || current.state == .failed, let code = current.exitStatus {
                lastExit = ChildProcess.Ending.exited(code).description
            }
            return Entry(name: name, record: record, status: current ?? status, state: state, reason: reason,
                         uptimeSeconds: uptime, lastExit: lastExit)
        case .waiting: state = "restarting"
        case .stopped: state = "stopped"
        case .failed: state = "failed"
        }
        return Entry(name: name, record: record, status: status, state: state, reason: reason,
                     uptimeSeconds: uptime, lastExit: lastExit)
    }

    /// One `guest ...` line per guest and one `  device ...` line per device.
    public var text: String {
        var out = "service pid=\(service.pid) tree=\(service.tree) guests=\(entries.count)\n"
        for e in entries {
            let s = e.status
            let pid = e.record.state == .running ? "\(e.record.pid)" : "-"
            out += "guest \(e.name) state=\(e.state) pid=\(pid) cpus=\(s.map { $0.cpus.map { "\($0)" }.joined(separator: ",") } ?? "-")"
            out += " ram=" + (s.map { $0.ramSize > 0 ? "\(hex($0.ramBase))+\(hex($0.ramSize))" : "-" } ?? "-")
            out += " uptime_s=\(e.uptimeSeconds.map { "\($0)" } ?? "-") boots=\(s?.boots ?? 0) restarts=\(e.record.restarts)"
            out += " last_exit=\"\(e.lastExit)\" reason=\"\(e.reason)\""
            if e.record.state == .waiting { out += " backoff_ms=\(e.record.backoffMilliseconds)" }
            out += "\n"
            for d in s?.devices ?? [] {
                let delivered = d.intidNumbers.map { "\($0):" + (interrupts.count($0).map { "\($0)" } ?? "-") }
                out += "  device \(d.path) method=\(d.method) intids=\(d.intids) delivered=\(delivered.isEmpty ? "-" : delivered.joined(separator: ","))\n"
            }
        }
        return out
    }

    public var json: String {
        var w = JSONWriter()
        w.beginObject()
        w.beginObject("service")
        w.number("pid", Int(service.pid))
        w.string("tree", service.tree)
        w.endObject()
        w.beginArray("guests")
        for e in entries {
            let s = e.status
            w.beginObject()
            w.string("name", e.name)
            w.string("state", e.state)
            w.string("reason", e.reason)
            if e.record.state == .running { w.number("pid", Int(e.record.pid)) } else { w.null("pid") }
            w.beginArray("cpus")
            for c in s?.cpus ?? [] { w.number(nil, c) }
            w.endArray()
            if let s, s.ramSize > 0 {
                w.beginObject("ram")
                w.number("base", s.ramBase)
                w.number("size", s.ramSize)
                w.endObject()
            } else { w.null("ram") }
            if let u = e.uptimeSeconds { w.number("uptime_seconds", u) } else { w.null("uptime_seconds") }
            w.number("boots", s?.boots ?? 0)
            w.number("restarts", e.record.restarts)
            w.string("last_exit", e.lastExit)
            w.string("last_outcome", s?.lastOutcome ?? "")
            w.number("backoff_ms", e.record.backoffMilliseconds)
            w.beginArray("devices")
            for d in s?.devices ?? [] {
                w.beginObject()
                w.string("path", d.path)
                w.string("method", d.method)
                w.beginArray("interrupts")
                for spec in d.intids.split(separator: ",") {
                    let f = spec.split(separator: "/").map(String.init)
                    guard f.count == 3, let intid = UInt32(f[0]) else { continue }
                    w.beginObject()
                    w.number("intid", Int(intid))
                    w.string("trigger", f[1])
                    w.string("method", f[2])
                    if let n = interrupts.count(intid) { w.number("delivered", n) } else { w.null("delivered") }
                    w.endObject()
                }
                w.endArray()
                w.endObject()
            }
            w.endArray()
            w.endObject()
        }
        w.endArray()
        w.endObject()
        return w.text + "\n"
    }
}
