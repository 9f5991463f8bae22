import Syscalls

/// The thread of one vCPU index for the whole process, reused by every boot:
/// a restart hands it the next boot's run loop (`VCPULoop.run`) instead of
/// starting a new thread that must first be moved onto its isolated CPU
/// (2-10 ms of a restart on the emulated board, docs/kernel-facts.md §31; the
/// loop's pin is then a no-op). It waits for work, runs it, says so, and
/// waits again until `stop`. The supervising thread kicks it with a signal
/// as it did a per-boot thread.
final class VCPUThread {
    private let lock = Lock()
    private let wake = Wakeup()
    private let done = Wakeup()
    private var job: (() -> Void)? = nil
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
        while true {
            wake.wait(nanoseconds: 1_000_000_000)
            let (next, stopping): ((() -> Void)?, Bool) = lock.withLock {
                let taken = job
                job = nil
                return (taken, quit)
            }
            if let next {
                next()
                done.post()
            }
            if stopping { return }
        }
    }

    /// Runs `body` on the thread (which must be idle).
    func run(_ body: @escaping () -> Void) {
        lock.withLock { job = body }
        wake.post()
    }

    /// Waits until the work `run` gave it has returned.
    func waitDone() {
        while !done.wait(nanoseconds: 1_000_000_000) {}
    }

    /// Sends `signal` to the thread (a kick out of KVM_RUN).
    func kill(_ signal: Int32) { thread?.kill(signal) }

    /// Ends the thread once its work has returned, and joins it.
    func stop() {
        lock.withLock { quit = true }
        wake.post()
        thread?.join()
    }
}
