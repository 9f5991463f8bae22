import Testing
import CLinux
import Syscalls
@testable import Supervisor

/// A vCPU thread outlives a boot: it runs one boot's loop, then the next
/// one's, on the same thread, and stops when asked.
@Suite struct VCPUThreadTests {
    final class Seen {
        let lock = Lock()
        var ids: [UInt] = []
        func add() { lock.withLock { ids.append(UInt(bitPattern: Int(cleaveThreadID()))) } }
    }

    @Test func twoBootsRunOnOneThread() throws {
        let worker = try VCPUThread.start().get()
        let seen = Seen()
        worker.run { seen.add() }
        worker.waitDone()
        worker.run { seen.add() }
        worker.waitDone()
        worker.stop()
        #expect(seen.ids.count == 2)
        #expect(Set(seen.ids).count == 1)
    }

    /// `then` runs once the work has returned: the thread is no longer
    /// running and a wait for it returns at once (the supervising thread,
    /// woken by it, finds the vCPU done).
    @Test func thenComesAfterTheWorkIsDone() throws {
        let worker = try VCPUThread.start().get()
        let woken = Wakeup()
        final class Saw { var running = true }
        let saw = Saw()
        worker.run({ usleep(20_000) }, then: {
            saw.running = worker.isRunning
            woken.post()
        })
        #expect(woken.wait(nanoseconds: 10_000_000_000))
        #expect(!saw.running && !worker.isRunning)
        worker.waitDone()
        worker.stop()
    }

    /// The next loop comes after the thread stopped polling for it (it
    /// sleeps then): it still runs, on the same thread.
    @Test func aLoopHandedOverAfterThePollRuns() throws {
        let worker = try VCPUThread.start().get()
        let seen = Seen()
        worker.run { seen.add() }
        worker.waitDone()
        usleep(UInt32(VCPUThread.pollNanoseconds / 1000) * 3)
        worker.run { seen.add() }
        worker.waitDone()
        worker.stop()
        #expect(seen.ids.count == 2)
        #expect(Set(seen.ids).count == 1)
    }
}

/// The calling thread's kernel id (gettid).
private func cleaveThreadID() -> Int32 { cleave_gettid() }
