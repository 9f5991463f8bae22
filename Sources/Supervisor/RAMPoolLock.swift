import CLinux
import Syscalls

/// One VMM at a time searches the hugepage pool. `IdentityMappedRAM.allocate`
/// maps more pages than it keeps while it looks for a contiguous window and
/// gives the rest back after; a second VMM searching meanwhile (the service
/// starts every guest at once) finds the pool short or interleaved with the
/// first's pages (Boards/qemu-virt-two-guests: two guests of 64 pages
/// each from the 128-page pool). The lock is an exclusive flock on
/// /run/cleave/hugepages.lock, held from before the search until the pages
/// are kept; the kernel drops it when the VMM dies.
enum RAMPoolLock {
    static let path = "/run/cleave/hugepages.lock"

    /// Waits for the lock. Nil (logged) when the lock file cannot be made:
    /// the search then runs unserialised, as a lone VMM's always may.
    static func take(guest: String) -> FileLock? {
        _ = "/run".withCString { cleave_mkdir($0, 0o755) }
        _ = "/run/cleave".withCString { cleave_mkdir($0, 0o700) }
        do throws(FileLock.Failure) { return try FileLock(waitingFor: path) } catch {
            Log.write(.warning, guest, "ram-lock", "error=\"\(error)\": searching the hugepage pool without it (another VMM searching at the same time may find it short)")
            return nil
        }
    }
}
