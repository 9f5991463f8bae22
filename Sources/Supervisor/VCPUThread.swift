import Synchronization
import Syscalls

/// The thread of one vCPU index for the whole process, reused by every boot:
/// a restart hands it the next boot's run loop (`VCPULoop.run`) instead of
/// starting a new thread that must first be moved onto its isolated CPU
/// (2-10 ms of a restart on the emulated board, docs/kernel-facts.md §31; the
/// loop pins it only when its CPU differs, `pinnedCPU`). It waits for work, runs it, says so, and
/// waits again until `stop`. The supervising thread kicks it with a signal
/// as it did a per-boot thread.
///
/// After a boot's loop returns it polls for the next one for up to
/// `pollNanoseconds` before it sleeps: a restart hands the next loop over
/// within that time, and a thread that polls on its (isolated, otherwise
/// idle) CPU starts it without the wake-up of a sleeping thread on another
/// CPU (docs/kernel-facts.md §31).
final class VCPUThread {
    static let pollNanoseconds: UInt64 = 20_000_000
    private let lock = Lock()
    /// Set by `run` before the wake-up: what the polling thread watches.
    private let pending = Atomic<Bool>(false)
    /// From `run` until its work has returned.
    private let running = Atomic<Bool>(false)
    /// The host CPU the thread was pinned to, nil before: a later boot's
    /// loop pins it again only for another CPU. The thread's own.
    var pinnedCPU: Int? = nil
    private let wake = Wakeup()
    private let done = Wakeup()
    private var job: (() -> Void)? = nil
    private var then: (() -> Void)? = nil
    private var quit = false
    private var thread: Thread? = nil

    private init() {}

    static func start() -> Result<VCPUThread, Errno> {
        let worker = VCPUThread()
        switch Thread.start({ worker.main() }) {
        case .success(let thread):
            worker.thread = thread
            return .success(worker)
        case .failure(let e):
            return .failure(e)
        }
    }

    private func main() {
        var polling = false
        while true {
            if polling {
                let until = Clock.monotonic + VCPUThread.pollNanoseconds
                while !pending.load(ordering: .acquiring) && Clock.monotonic < until {}
                polling = false
            }
            if !pending.load(ordering: .acquiring) { wake.wait(nanoseconds: 1_000_000_000) }
            pending.store(false, ordering: .releasing)
            let (next, notify, stopping): ((() -> Void)?, (() -> Void)?, Bool) = lock.withLock {
                let taken = (job, then)
                job = nil
                then = nil
                return (taken.0, taken.1, quit)
            }
            if let next {
                next()
                running.store(false, ordering: .releasing)
                done.post()
                notify?()
                polling = true
            }
            if stopping { return }
        }
    }

    /// Runs `body` on the thread (which must be idle), then `notify` once
    /// `isRunning` is false and `waitDone` would return at once.
    func run(_ body: @escaping () -> Void, then notify: @escaping () -> Void = {}) {
        running.store(true, ordering: .releasing)
        lock.withLock {
            job = body
            then = notify
        }
        pending.store(true, ordering: .releasing)
        wake.post()
    }

    /// Whether the work `run` gave it has not returned yet.
    var isRunning: Bool { running.load(ordering: .acquiring) }

    /// Waits until the work `run` gave it has returned.
    func waitDone() {
        while !done.wait(nanoseconds: 1_000_000_000) {}
    }

    /// Sends `signal` to the thread (a kick out of KVM_RUN).
    func kill(_ signal: Int32) { thread?.kill(signal) }

    /// Ends the thread once its work has returned, and joins it.
    func stop() {
        lock.withLock { quit = true }
        pending.store(true, ordering: .releasing)
        wake.post()
        thread?.join()
    }
}
