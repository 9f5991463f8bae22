import Testing
import CLinux
@testable import Syscalls
@testable import Supervisor

/// The start of a VMM whose guest's last VMM was killed and may still be
/// exiting (docs/kernel-facts.md §33, §34): reading how far a process is in
/// exiting, the decision, the pidfd wait, and the one-VMM-per-guest lock.
@Suite struct PredecessorTests {
    static func status(_ state: String, threads: Int, sigpnd: String = "0000000000000000", shdpnd: String = "0000000000000000") -> String {
        "Name:\tcleave-boot\nUmask:\t0022\nState:\t\(state)\nTgid:\t812\nPid:\t812\nPPid:\t1\nThreads:\t\(threads)\nSigQ:\t0/7795\nSigPnd:\t\(sigpnd)\nShdPnd:\t\(shdpnd)\nSigBlk:\t0000000000000000\n"
    }
    static func stat(flags: UInt64, comm: String = "cleave-boot") -> String {
        "812 (\(comm)) S 1 812 812 0 -1 \(flags) 3400 0 0 0 12 40 0 0 20 0 3 0 5512 1234567 100\n"
    }

    @Test func aZombieLeaderWithAnotherThreadIsStillExiting() {
        // §33: the leader shows Z while the vCPU thread still closes the VM.
        #expect(ProcessExitState.parse(status: Self.status("Z (zombie)", threads: 2), stat: nil) == .exiting(state: "Z", threads: 2))
        #expect(ProcessExitState.parse(status: Self.status("Z (zombie)", threads: 1), stat: nil) == .done)
        #expect(ProcessExitState.parse(status: Self.status("X (dead)", threads: 1), stat: nil) == .done)
        #expect(ProcessExitState.parse(status: nil, stat: nil) == .gone)
        #expect(ProcessExitState.parse(status: "", stat: nil) == .gone)
    }

    @Test func aRunningLeaderIsExitingWhenKilledOrInDoExit() {
        let plain = PredecessorTests.stat(flags: 0x40_0140)
        #expect(ProcessExitState.parse(status: Self.status("S (sleeping)", threads: 5), stat: plain) == .running(state: "S", threads: 5))
        // SIGKILL pending (bit 8), process-wide or for the thread.
        #expect(ProcessExitState.parse(status: Self.status("R (running)", threads: 5, shdpnd: "0000000000000100"), stat: plain) == .exiting(state: "R", threads: 5))
        #expect(ProcessExitState.parse(status: Self.status("D (disk sleep)", threads: 2, sigpnd: "0000000000000100"), stat: plain) == .exiting(state: "D", threads: 2))
        // Another pending signal (SIGTERM, bit 14) is not a kill.
        #expect(ProcessExitState.parse(status: Self.status("S (sleeping)", threads: 5, shdpnd: "0000000000004000"), stat: plain) == .running(state: "S", threads: 5))
        // Dumping core (the status's CoreDumping line, Linux 4.15).
        #expect(ProcessExitState.parse(status: Self.status("S (sleeping)", threads: 1) + "CoreDumping:\t1\n", stat: plain) == .exiting(state: "S", threads: 1))
        #expect(ProcessExitState.parse(status: Self.status("S (sleeping)", threads: 1) + "CoreDumping:\t0\n", stat: plain) == .running(state: "S", threads: 1))
        // PF_EXITING (0x4) in stat's flags.
        #expect(ProcessExitState.parse(status: Self.status("R (running)", threads: 1), stat: PredecessorTests.stat(flags: 0x40_0144)) == .exiting(state: "R", threads: 1))
    }

    @Test func theStatFlagsAreCountedAfterTheLastParenthesis() {
        #expect(ProcessExitState.flags(stat: PredecessorTests.stat(flags: 0x40_0144, comm: "a) b c d e f g")) == 0x40_0144)
        #expect(ProcessExitState.flags(stat: "812 (x) S 1") == nil)
        #expect(ProcessExitState.flags(stat: nil) == nil)
    }

    @Test func decisions() {
        let deadline: UInt64 = 5_000_000_000
        let exiting = ProcessExitState.exiting(state: "Z", threads: 2)
        let running = ProcessExitState.running(state: "S", threads: 4)
        #expect(PredecessorDecision.decide(lockHeld: false, state: .gone, now: 0, deadline: deadline) == .proceed)
        #expect(PredecessorDecision.decide(lockHeld: false, state: .done, now: 0, deadline: deadline) == .proceed)
        // The lock is free and the pid in its file runs: a reused pid, not ours.
        #expect(PredecessorDecision.decide(lockHeld: false, state: running, now: 0, deadline: deadline) == .proceed)
        #expect(PredecessorDecision.decide(lockHeld: true, state: running, now: 0, deadline: deadline) == .refuseLive)
        // Exiting: waits what is left of the bound (rounded up, at least 1 ms),
        // whether or not its lock is already free (§34: it may close the lock first).
        #expect(PredecessorDecision.decide(lockHeld: true, state: exiting, now: 0, deadline: deadline) == .wait(milliseconds: 5000))
        #expect(PredecessorDecision.decide(lockHeld: false, state: exiting, now: 4_999_500_000, deadline: deadline) == .wait(milliseconds: 1))
        #expect(PredecessorDecision.decide(lockHeld: false, state: exiting, now: deadline, deadline: deadline) == .refuseStillExiting)
        #expect(PredecessorDecision.decide(lockHeld: true, state: exiting, now: deadline + 1, deadline: deadline) == .refuseStillExiting)
        // Held, the file's pid gone: a new holder not done writing its pid.
        #expect(PredecessorDecision.decide(lockHeld: true, state: .gone, now: 0, deadline: deadline) == .retake)
        #expect(PredecessorDecision.decide(lockHeld: true, state: .done, now: deadline, deadline: deadline) == .refuseLive)
    }

    /// A child of this process: its pid, from a shell that runs `script`.
    static func spawn(_ script: String) -> Int32? {
        guard case .success(let pid) = ChildProcess.spawn("/bin/sh", ["sh", "-c", script], parentDeathSignal: SIGKILL) else { return nil }
        return pid
    }

    /// Up to 5 s for `condition`, looked at every 10 ms.
    static func eventually(_ condition: () -> Bool) -> Bool {
        let end = Clock.monotonic + 5_000_000_000
        while !condition() {
            if Clock.monotonic > end { return false }
            Clock.sleep(nanoseconds: 10_000_000)
        }
        return true
    }

    @Test func thePidfdIsReadyOnlyOnceTheProcessHasExited() throws {
        let pid = try #require(Self.spawn("exec sleep 30"))
        #expect(Self.eventually { ProcessExitState.read(pid: pid) == .running(state: "S", threads: 1) })
        let watch = try ProcessExitWatch.open(pid: pid).get()
        #expect(watch.wait(milliseconds: 50) == .success(false))
        #expect(ChildProcess.signal(pid, SIGKILL))
        #expect(watch.wait(milliseconds: 5000) == .success(true))
        // Not reaped here (another test's reapAny may): a zombie alone, or gone.
        #expect(ProcessExitState.read(pid: pid).isDone)
        #expect(ProcessExitState.read(pid: Int32.max) == .gone)
        #expect(ProcessExitWatch.open(pid: Int32.max).map { _ in 0 } == .failure(Errno(ESRCH)))
    }

    @Test func aLiveHolderIsRefusedByPidAndAKilledOneIsWaitedFor() throws {
        let dir = "/tmp/cleave-vmm-lock-test-\(ChildProcess.currentID)-\(Clock.monotonic)"
        _ = dir.withCString { cleave_mkdir($0, 0o700) }
        let path = "\(dir)/g.vmm.lock"
        // A holder as a VMM holds it: the flock, its pid written in place.
        let pid = try #require(Self.spawn("exec 9>>\(path); flock 9; echo $$ > \(path); exec sleep 30"))
        #expect(Self.eventually { FileLock.holder(path) == .some(pid) })
        do {
            _ = try VMMLock.take(guest: "g", directory: dir, bound: 200_000_000)
            Issue.record("a live holder was not refused")
        } catch {
            #expect("\(error)".contains("another VMM of it holds \(path) (pid \(pid), running"))
            #expect("\(error)".contains("kill \(pid)"))
        }
        // Killed: the start right after it takes the lock once it is gone.
        #expect(ChildProcess.signal(pid, SIGKILL))
        try VMMLock.take(guest: "g", directory: dir, bound: 5_000_000_000)
        // Held by this process now, until it ends (flock is per open file: the probe's own open is refused).
        #expect(FileLock.holder(path) == .some(ChildProcess.currentID))
        #expect(Sysfs.read(path) == "\(ChildProcess.currentID)")
        // Taken again by this process: at once, not refused as another VMM's.
        try VMMLock.take(guest: "g", directory: dir, bound: 200_000_000)
        _ = path.withCString { cleave_unlink($0) }
    }
}

@Suite struct FileHoldersTests {
    @Test func theProcessThatHasAFileOpenIsNamed() throws {
        let path = "/tmp/cleave-file-holders-\(ChildProcess.currentID)-\(Clock.monotonic)"
        try Files.write(Array("x".utf8), to: path)
        let pid = try #require(PredecessorTests.spawn("exec 7<\(path); exec sleep 30"))
        #expect(PredecessorTests.eventually { FileHolders.pids(holding: path).contains(pid) })
        // The shell opened it, then became sleep (exec): named by what it runs now.
        #expect(PredecessorTests.eventually { FileHolders.describe(pid) == "pid \(pid) (sleep)" })
        #expect(ChildProcess.signal(pid, SIGKILL))
        #expect(PredecessorTests.eventually { !FileHolders.pids(holding: path).contains(pid) })
        #expect(FileHolders.pids(holding: path + ".none").isEmpty)
        _ = path.withCString { cleave_unlink($0) }
    }
}
