import CLinux
import Syscalls

/// What host preparation changed for one guest, kept in
/// /run/cleave/<guest>.host-state so the next start can undo it after a SIGKILL
/// (docs/architecture.md, trust and failure model: the kernel frees fds, the supervisor restores
/// driver bindings and IRQ affinities). The file is rewritten (temporary file +
/// rename) before each change is made, so it never misses one.
///
/// Lines: `bind <bus> <device> <original-driver or ->` and
/// `affinity <irq> <original smp_affinity_list>`.
final class HostState {
    enum Change {
        case bind(HostDevice, original: String)
        case affinity(irq: Int, list: String)
    }

    let path: String
    private(set) var changes: [Change] = []

    static let directory = "/run/cleave"

    init(guest: String) {
        path = "\(HostState.directory)/\(guest).host-state"
    }

    /// Records a change about to be made.
    func record(_ change: Change) throws(PassthroughError) {
        changes.append(change)
        try save()
    }

    private func save() throws(PassthroughError) {
        _ = "/run".withCString { cleave_mkdir($0, 0o755) }
        _ = HostState.directory.withCString { cleave_mkdir($0, 0o700) }
        var text = ""
        for c in changes {
            switch c {
            case .bind(let d, let original): text += "bind \(d.bus) \(d.name) \(original.isEmpty ? "-" : original)\n"
            case .affinity(let irq, let list): text += "affinity \(irq) \(list)\n"
            }
        }
        do throws(Errno) { try Files.write(Array(text.utf8), to: path) } catch {
            throw .call("write", context: path, errno: error)
        }
    }

    /// Undoes every change, newest first, and removes the file. Returns a line
    /// per problem (best effort: one failure does not stop the rest). A
    /// binding that must not be undone yet (another process holds the device
    /// through VFIO: `HostDevice.restore`) stays, in `changes` and in the
    /// file, for the next start to undo.
    func undo() -> [String] {
        var problems: [String] = []
        var left: [Change] = []
        for c in changes.reversed() {
            switch c {
            case .bind(let d, let original):
                let (p, done) = d.restore(original: original)
                problems += p
                if !done { left.insert(c, at: 0) }
            case .affinity(let irq, let list): if let p = HostInterrupts.restoreAffinity(irq: irq, list: list) { problems.append(p) }
            }
        }
        changes = left
        if left.isEmpty {
            _ = path.withCString { cleave_unlink($0) }
        } else {
            do throws(PassthroughError) { try save() } catch { problems.append("\(error)") }
        }
        return problems
    }

    /// Whether `undo` left a change for a later start.
    var isPending: Bool { !changes.isEmpty }

    /// A state file a killed supervisor left behind, or nil.
    static func leftover(guest: String) -> HostState? {
        let state = HostState(guest: guest)
        guard let text = Sysfs.read(state.path) else { return nil }
        for line in text.split(separator: "\n") {
            let f = line.split(separator: " ").map(String.init)
            if f.count == 4, f[0] == "bind" {
                state.changes.append(.bind(HostDevice(bus: f[1], name: f[2]), original: f[3] == "-" ? "" : f[3]))
            } else if f.count == 3, f[0] == "affinity", let irq = Int(f[1]) {
                state.changes.append(.affinity(irq: irq, list: f[2]))
            }
        }
        return state
    }
}
