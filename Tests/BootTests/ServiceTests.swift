import Foundation
import Testing
import Options
import Platform
import PartitionRecord
@testable import Service
import Supervisor
import Syscalls

/// The pure parts of the partition service (`cleave-boot start`): its state
/// files round-trip, the status JSON is valid whatever a reason holds, the
/// options, the backoff, the host's interrupt counts and what the service
/// decides when a guest's process ends.
@Suite struct ServiceTests {
    func sampleStatus() -> GuestStatus {
        var s = GuestStatus(name: "linux")
        s.state = .failed
        s.reason = "fault (unhandled mmio write 4 bytes at 0x10000000 by vcpu 0, pc=0x4008) \"quoted\" = and\nnewline"
        s.pid = 1234
        s.cpus = [1, 3]
        s.ramBase = 0x5000_0000
        s.ramSize = 0x1000_0000
        s.devices = [GuestStatus.Device(path: "/pl031@9010000", method: "vfio", intids: "34/level/forward"),
                     GuestStatus.Device(path: "/virtio_mmio@a003e00", method: "uio", intids: "79/edge/uio,80/edge/irqfd")]
        s.boots = 2
        s.lastOutcome = "reset"
        s.exitStatus = 2
        s.startedAt = 123_456_789
        return s
    }

    @Test func guestStatusRoundTrips() throws {
        var s = sampleStatus()
        let read = try #require(GuestStatus(text: s.text))
        // The newline is written as a space, the rest comes back as written.
        s.reason = s.reason.replacingOccurrences(of: "\n", with: " ")
        #expect(read == s)
        #expect(read.devices[1].intidNumbers == [79, 80])
        // 11 keys and one line per device: the newline in the reason added none.
        #expect(s.text.split(separator: "\n").count == 13)
    }

    @Test func guestStatusRefusesOtherText() {
        #expect(GuestStatus(text: "") == nil)
        #expect(GuestStatus(text: "name=linux\nstate=dancing\n") == nil)
        #expect(GuestStatus(text: "state=running\n") == nil)
    }

    @Test func serviceRecordAndInfoRoundTrip() throws {
        var r = ServiceRecord(name: "linux")
        r.state = .waiting
        r.pid = 0
        r.restarts = 2
        r.lastExit = "killed by signal 9 (SIGKILL)"
        r.reason = "restart 2 of 3 after 1000 ms"
        r.backoffMilliseconds = 1000
        r.since = 42
        #expect(ServiceRecord(text: r.text) == r)
        #expect(ServiceRecord(text: "name=linux\n") == nil)
        let info = ServiceInfo(pid: 77, tree: "/sys/firmware/fdt", guests: ["linux", "rtos"])
        #expect(ServiceInfo(text: info.text) == info)
    }

    @Test func statusJSONIsValidWhateverTheStringsHold() throws {
        var record = ServiceRecord(name: "linux")
        record.state = .running
        record.pid = 1234
        record.since = 1_000_000_000
        record.reason = "a \"quoted\" \\ reason\twith\u{1} control"
        var status = sampleStatus()
        status.state = .running
        let entry = StatusReport.entry(name: "linux", record: record, status: status, now: 11_000_000_000)
        let report = StatusReport(service: ServiceInfo(pid: 7, tree: "/t\"ree", guests: ["linux"]), entries: [entry],
                                  interrupts: HostInterruptCounts(procInterrupts: " 20:  5  7  GICv3  34 Level  vfio\n"))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(report.json.utf8)) as? [String: Any])
        let guests = try #require(object["guests"] as? [[String: Any]])
        #expect(guests[0]["state"] as? String == "running")
        #expect(guests[0]["reason"] as? String == status.reason)
        #expect(guests[0]["uptime_seconds"] as? Int == 10)
        let devices = try #require(guests[0]["devices"] as? [[String: Any]])
        let irqs = try #require(devices[0]["interrupts"] as? [[String: Any]])
        #expect(irqs[0]["intid"] as? Int == 34 && irqs[0]["delivered"] as? Int == 12 && irqs[0]["method"] as? String == "forward")
        #expect((try #require(devices[1]["interrupts"] as? [[String: Any]]))[0]["delivered"] is NSNull)
        #expect(report.text.contains("guest linux state=running pid=1234 cpus=1,3 ram=0x50000000+0x10000000 uptime_s=10"))
        #expect(report.text.contains("  device /pl031@9010000 method=vfio intids=34/level/forward delivered=34:12"))
    }

    @Test func stateMergesServiceAndGuest() {
        var record = ServiceRecord(name: "linux")
        record.state = .running
        record.pid = 10
        var status = GuestStatus(name: "linux")
        status.pid = 9          // left by an earlier process
        status.state = .running
        #expect(StatusReport.entry(name: "linux", record: record, status: status, now: 0).state == "starting")
        status.pid = 10
        #expect(StatusReport.entry(name: "linux", record: record, status: status, now: 0).state == "running")
        record.state = .waiting
        #expect(StatusReport.entry(name: "linux", record: record, status: status, now: 0).state == "restarting")
        record.state = .stopped
        #expect(StatusReport.entry(name: "linux", record: record, status: status, now: 0).state == "stopped")
    }

    /// The guest has ended and its process is exiting, not yet reaped by the
    /// service: the state is the process's, and so is the last exit (the
    /// status it wrote), not an earlier process's or none.
    @Test func anExitingProcessGivesItsOwnLastExit() {
        var record = ServiceRecord(name: "linux")
        record.state = .running
        record.pid = 10
        record.lastExit = "killed by signal 9 (SIGKILL)"   // the process before it
        var status = GuestStatus(name: "linux")
        status.pid = 10
        status.state = .running
        #expect(StatusReport.entry(name: "linux", record: record, status: status, now: 0).lastExit == "killed by signal 9 (SIGKILL)")
        status.state = .stopped
        status.exitStatus = 0
        let ending = StatusReport.entry(name: "linux", record: record, status: status, now: 0)
        #expect(ending.state == "stopped")
        #expect(ending.lastExit == "exit status 0")
        // Reaped: the service's record says it.
        record.state = .stopped
        record.lastExit = "exit status 0"
        #expect(StatusReport.entry(name: "linux", record: record, status: status, now: 0).lastExit == "exit status 0")
    }

    @Test func options() throws {
        #expect(try ServiceOptions.parse("start", []) == .start(tree: "/sys/firmware/fdt", kmsg: false))
        #expect(try ServiceOptions.parse("start", ["--tree", "/t.dtb", "--kmsg"]) == .start(tree: "/t.dtb", kmsg: true))
        #expect(try ServiceOptions.parse("console", ["linux"]) == .console(guest: "linux", request: .attach, seconds: nil))
        #expect(try ServiceOptions.parse("console", ["--no-follow", "linux"]) == .console(guest: "linux", request: .dump, seconds: nil))
        #expect(try ServiceOptions.parse("console", ["linux", "--timeout", "3"]) == .console(guest: "linux", request: .attach, seconds: 3))
        #expect(try ServiceOptions.parse("console", ["linux", "--read-only"]) == .console(guest: "linux", request: .follow, seconds: nil))
        #expect(try ServiceOptions.parse("console", ["-r", "linux", "--timeout", "9"]) == .console(guest: "linux", request: .follow, seconds: 9))
        #expect(try ServiceOptions.parse("console", ["--force", "linux"]) == .console(guest: "linux", request: .takeOver, seconds: nil))
        #expect(ServiceOptions.wantsHelp(["-r", "-h"]) && ServiceOptions.wantsHelp(["linux", "--force", "--help"]))
        #expect(try ServiceOptions.parse("status", ["--json"]) == .status(json: true))
        #expect(try ServiceOptions.parse("status", []) == .status(json: false))
        #expect(try ServiceOptions.parse("stop", ["linux"]) == .stop(guest: "linux"))
        #expect(try ServiceOptions.parse("restart", ["linux"]) == .restart(guest: "linux"))
        func error(_ c: String, _ items: [String]) -> String? {
            do { _ = try ServiceOptions.parse(c, items); return nil } catch { return error.description }
        }
        #expect(error("stop", []) == "stop needs a guest name")
        #expect(error("restart", ["--json"]) == "restart needs a guest name")
        #expect(error("stop", ["a", "b"]) == "unknown arguments: b")
        #expect(error("start", ["--tree"]) == "--tree needs a value")
        #expect(error("status", ["--jsn"]) == "unknown arguments: --jsn")
        #expect(error("console", []) == "console needs a guest name")
        #expect(error("console", ["linux", "--read-only", "--force"]) == "console takes one of --read-only, --force, --no-follow, not --force and --read-only")
        #expect(error("console", ["-r", "--no-follow", "linux"]) == "console takes one of --read-only, --force, --no-follow, not --no-follow and --read-only")
        #expect(error("stop", ["linux", "--force"]) == "unknown arguments: --force")
        #expect(error("console", ["linux", "--timeout", "0"]) == "--timeout needs a whole number of seconds above 0, not 0")
        #expect(error("console", ["linux", "--timeout", "x"]) == "--timeout needs a whole number of seconds above 0, not x")
        #expect(error("stop", ["linux", "--no-follow"]) == "unknown arguments: --no-follow")
        #expect(ServiceOptions.wantsHelp(["--json", "-h"]))
        #expect(ServiceOptions.wantsHelp(["linux", "--no-follow", "-h"]))
        #expect(!ServiceOptions.wantsHelp(["linux", "--timeout", "-h"]))
    }

    @Test func backoffDoublesUpToItsCap() {
        let b = RestartBackoff()
        #expect(b.delay(beforeRestart: 1) == 500_000_000)
        #expect(b.delay(beforeRestart: 2) == 1_000_000_000)
        #expect(b.delay(beforeRestart: 4) == 4_000_000_000)
        #expect(b.delay(beforeRestart: 7) == 30_000_000_000)
        #expect(b.delay(beforeRestart: Int.max) == 30_000_000_000)
        #expect(RestartBackoff(first: 3, cap: 10).delay(beforeRestart: 3) == 10)
    }

    @Test func hostInterruptCounts() {
        let text = """
                   CPU0       CPU1
         11:      12345      67890     GICv3  27 Level     arch_timer
         20:          3          4     GICv3  34 Level     vfio-irq
         21:          0          0     GIC-0  79 Edge      virtio
        IPI0:       100        200       Rescheduling interrupts
        Err:          0
        """
        let c = HostInterruptCounts(procInterrupts: text)
        #expect(c.count(27) == 80235)
        #expect(c.count(34) == 7)
        #expect(c.count(79) == 0)
        #expect(c.count(35) == nil)
    }

    func guest(_ policy: RestartPolicy, max: UInt32) -> GuestProcess {
        let g = GuestRecord(name: "linux", cpus: [1], cpuMPIDRs: [1], memorySize: 1 << 28, memoryBase: nil, hugepageSize: .twoMiB,
                            kernel: "/k", initrd: nil, bootargs: "", console: .virtual(base: 0x9000000, spi: 10),
                            restart: policy, maxRestarts: max, guestTree: [], devices: [], gpioLines: [])
        let p = GuestProcess(g)
        p.record.state = .running
        p.record.pid = 5
        return p
    }

    @Test func aKilledProcessIsRestartedByPolicyWithinItsBound() {
        let b = RestartBackoff()
        let p = guest(.onFailure, max: 2)
        #expect(p.ended(.signalled(9), guestSays: nil, backoff: b) == .startAfter(500_000_000))
        #expect(p.record.state == .waiting && p.record.restarts == 1 && p.record.lastExit == "killed by signal 9 (SIGKILL)")
        p.record.state = .running
        #expect(p.ended(.signalled(11), guestSays: nil, backoff: b) == .startAfter(1_000_000_000))
        p.record.state = .running
        #expect(p.ended(.signalled(11), guestSays: nil, backoff: b) == .stay)
        #expect(p.record.state == .failed)
        #expect(guest(.never, max: 0).ended(.signalled(9), guestSays: nil, backoff: b) == .stay)
    }

    @Test func anExitOrAStopIsNotRestarted() {
        let b = RestartBackoff()
        let exited = guest(.always, max: 0)
        var said = GuestStatus(name: "linux")
        said.reason = "stuck (vcpu 0)"
        #expect(exited.ended(.exited(3), guestSays: said, backoff: b) == .stay)
        #expect(exited.record.state == .failed && exited.record.reason.contains("stuck (vcpu 0)"))
        let stopped = guest(.always, max: 0)
        stopped.stopRequested = true
        #expect(stopped.ended(.signalled(9), guestSays: nil, backoff: b) == .stay)
        #expect(stopped.record.state == .stopped && stopped.record.restarts == 0)
        let restarted = guest(.never, max: 0)
        restarted.stopRequested = true
        restarted.restartRequested = true
        #expect(restarted.ended(.exited(143), guestSays: nil, backoff: b) == .startNow)
        #expect(!restarted.stopRequested && !restarted.restartRequested)
    }
}
