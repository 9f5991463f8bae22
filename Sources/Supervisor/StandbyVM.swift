import GuestMemory
import KVM
import Syscalls

/// The VM a guest's next boot takes, built on a thread of its own while the
/// current boot runs (`Supervisor.runMachine` starts it): the supervising
/// thread stays free to notice the guest's outcome, and a restart finds
/// KVM_CREATE_VM, the vCPUs, vGIC, PMUs, memory slots and vITS done
/// (docs/kernel-facts.md §31). Given the current boot's tree, it also gets
/// that tree's next seeds and sets the boot registers for its placement:
/// a restart whose images land where they did then only loads them and
/// the tree. The thread inherits the supervising thread's CPUs and blocked
/// signals.
///
/// `reap` joins the thread once it is done (the supervising thread's tick);
/// `take` joins it if it was not (waiting for the rest of the build when a
/// guest resets sooner than its standby was ready) and hands the VM over at
/// the next boot; `discard` joins it at the supervisor's end, so that the
/// thread never outlives it, and closes the VM unused.
final class StandbyVM {
    private let guest: String
    private let lock = Lock()
    private var built: GuestVM? = nil
    private var tree: BootTree? = nil
    private var failure: SupervisorError? = nil
    private var phases = ""
    private var doneAt: UInt64 = 0
    private var thread: Thread? = nil

    /// Starts building; nil (logged) when no thread could be started: the
    /// next boot then builds its own VM.
    static func start(_ config: GuestConfiguration, kvm: KVMSystem, ram: IdentityMappedRAM, after tree: BootTree?) -> StandbyVM? {
        let standby = StandbyVM(guest: config.name)
        switch Thread.start({ standby.build(config, kvm: kvm, ram: ram, after: tree) }) {
        case .success(let t):
            standby.thread = t
            return standby
        case .failure(let e):
            Log.write(.warning, config.name, "standby", "error=\"pthread_create: \(e)\" (the next boot builds its VM itself)")
            return nil
        }
    }

    private init(guest: String) { self.guest = guest }

    private func build(_ config: GuestConfiguration, kvm: KVMSystem, ram: IdentityMappedRAM, after last: BootTree?) {
        var timer = PhaseTimer()
        var vm: GuestVM? = nil
        var next: BootTree? = nil
        var error: SupervisorError? = nil
        do throws(SupervisorError) {
            let made = try GuestVM(config, kvm: kvm, ram: ram, announce: false, timer: &timer)
            if let last {
                next = last.reseeded()
                do throws(KVMError) { try made.setBootRegisters(last.placement) } catch { throw .kvm(error) }
                timer.mark("boot-registers")
            }
            vm = made
        } catch let e {
            error = e
        }
        let text = timer.text
        lock.withLock {
            built = vm
            tree = next
            failure = error
            phases = text
            doneAt = Clock.monotonic
        }
    }

    /// Joins the thread when its build is done, else leaves it: called at
    /// the supervising thread's ticks, so that a restart does not join it.
    func reap() {
        guard thread != nil, lock.withLock({ doneAt != 0 }) else { return }
        thread?.join()
        thread = nil
    }

    /// Waits for the build and closes what it made, unused, saying
    /// nothing: the supervisor is finishing.
    func discard() {
        thread?.join()
        thread = nil
        lock.withLock { built = nil }
    }

    /// Waits for the build and returns its VM, with the last boot's tree
    /// reseeded when one was given, or nil when it failed (said once as a
    /// warning: the next boot builds its own and reports the error if it
    /// recurs). Logs `standby` with the build's phases and how long the
    /// caller waited for it (`waited_us`, 0 when it was ready).
    func take() -> (vm: GuestVM, tree: BootTree?)? {
        let asked = Clock.monotonic
        thread?.join()
        thread = nil
        return lock.withLock {
            let waited = doneAt > asked ? (doneAt - asked) / 1000 : 0
            if let failure {
                Log.write(.warning, guest, "standby", "error=\"\(failure)\" (the next boot builds its VM itself)")
                return nil
            }
            defer {
                built = nil
                tree = nil
            }
            guard let built else { return nil }
            let phases = self.phases
            Log.writeLater(.info, guest, "standby") { "vm built while the last boot ran: \(phases) waited_us=\(waited)" }
            return (built, tree)
        }
    }
}
