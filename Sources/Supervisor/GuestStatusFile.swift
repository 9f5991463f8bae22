import Syscalls

/// Keeps a guest's `GuestStatus` file current from its VMM process: each
/// change rewrites the whole file through a temporary file and a rename, so a
/// reader never sees half of it. Updates come from the supervising thread and
/// from vCPU 0's thread (first-run), hence the lock. A failed write is logged
/// once and does not stop the guest.
final class GuestStatusFile {
    private let path: String
    private let lock = Lock()
    private var status: GuestStatus
    private var warned = false

    init(path: String, status: GuestStatus) {
        self.path = path
        self.status = status
        save()
    }

    /// Changes the status and rewrites the file.
    func update(_ change: (inout GuestStatus) -> Void) {
        lock.withLock {
            change(&status)
            save()
        }
    }

    /// Changes the status for the next `update` to write: a restart's
    /// changes, kept off its path (the file is written once the guest runs again).
    func change(_ change: (inout GuestStatus) -> Void) {
        lock.withLock { change(&status) }
    }

    private func save() {
        do throws(Errno) { try Files.write(Array(status.text.utf8), to: path) } catch {
            if !warned { Log.write(.warning, status.name, "status-file", "path=\(path) error=\(error)") }
            warned = true
        }
    }
}
