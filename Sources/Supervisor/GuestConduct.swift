import Syscalls

/// What a guest did that its emulated devices refused or only put up with
/// (a write to a read-only 16550 register, an access past the registers or
/// wider than a byte, pvpanic bits this device does not offer), counted per
/// kind for one boot. The first access of each kind is logged with its
/// detail, later ones are only counted, and `summary` closes the boot: a
/// hostile guest (Tests/Guests/chaos-guest.S) cannot flood the log, and the
/// supervisor still says what it did. vCPU threads share it, hence the lock.
public final class GuestConduct {
    public let guest: String
    private let lock = Lock()
    /// In the order each kind was first seen.
    private var kinds: [String] = []
    private var counts: [String: Int] = [:]

    public init(guest: String) { self.guest = guest }

    /// Counts one access of `kind`; the first of its kind is logged with `detail`.
    public func note(_ kind: String, _ detail: @autoclosure () -> String) {
        let first: Bool = lock.withLock {
            let n = counts[kind] ?? 0
            if n == 0 { kinds.append(kind) }
            counts[kind] = n + 1
            return n == 0
        }
        if first { Log.write(.warning, guest, "guest-conduct", "kind=\(kind) \(detail()) (the first of its kind; the rest are counted, not logged)") }
    }

    /// The count of `kind` so far.
    public func count(_ kind: String) -> Int { lock.withLock { counts[kind] ?? 0 } }

    /// `refused=<total> <kind>=<count> ...` in first-seen order.
    public var summary: String {
        lock.withLock {
            var total = 0
            var text = ""
            for kind in kinds {
                let n = counts[kind] ?? 0
                total += n
                text += " \(kind)=\(n)"
            }
            return "refused=\(total)" + text
        }
    }
}
