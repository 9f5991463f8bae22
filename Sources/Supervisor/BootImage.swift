import CLinux
import Loading
import Syscalls

/// One image file a guest boots (its kernel, or its initrd), kept open
/// across the guest's boots in one VMM. Every boot reads the image through
/// the descriptor held, after one stat of the path says the file there is
/// still the one opened; a file replaced or written since (another inode,
/// or size, mtime or ctime changed) is opened again. So a reset still boots
/// what the path holds, without paying for an open, an fstat and a read of
/// the header on its path (docs/kernel-facts.md §31).
final class BootImage {
    /// The file as one open found it.
    final class Opened {
        let file: FileDescriptor
        let identity: cleave_file_identity
        var size: Int { Int(identity.size) }
        /// Up to `headCount` bytes from its start (the arm64 Image header).
        let head: [UInt8]

        fileprivate init(_ path: String, headCount: Int) throws(SupervisorError) {
            let opened = try Opened.open(path)
            var identity = cleave_file_identity()
            let r = cleave_fstat_identity(opened.rawValue, &identity)
            guard r == 0 else { throw .load(.read(path: path, reason: "\(Errno(-r))")) }
            var head = [UInt8](repeating: 0, count: min(headCount, Int(identity.size)))
            if !head.isEmpty, case .failure(let e) = head.withUnsafeMutableBytes({ opened.readExactly(into: $0, at: 0) }) {
                throw .load(.read(path: path, reason: "\(e)"))
            }
            self.identity = identity
            self.head = head
            file = opened
        }

        private static func open(_ path: String) throws(SupervisorError) -> FileDescriptor {
            do throws(Errno) { return try FileDescriptor(opening: path, O_RDONLY) } catch {
                throw .load(.read(path: path, reason: "\(error)"))
            }
        }
    }

    let path: String
    private let headCount: Int
    private var opened: Opened? = nil

    /// `headCount`: how many bytes of its start `Opened.head` keeps.
    init(path: String, headCount: Int = 0) {
        self.path = path
        self.headCount = headCount
    }

    /// The file the path holds now: the one held when the path still names
    /// it unchanged, else the path opened again.
    func current() throws(SupervisorError) -> Opened {
        if let opened {
            var now = cleave_file_identity()
            let r = path.withCString { cleave_stat_identity($0, &now) }
            guard r == 0 else { throw .load(.read(path: path, reason: "\(Errno(-r))")) }
            if BootImage.same(now, opened.identity) { return opened }
        }
        let fresh = try Opened(path, headCount: headCount)
        opened = fresh
        return fresh
    }

    static func same(_ a: cleave_file_identity, _ b: cleave_file_identity) -> Bool {
        a.device == b.device && a.inode == b.inode && a.size == b.size && a.modified_ns == b.modified_ns && a.changed_ns == b.changed_ns
    }
}

/// The images of a guest's boots: its kernel, with the bytes of its arm64
/// Image header kept, and its initrd when it has one.
struct BootImages {
    let kernel: BootImage
    let initrd: BootImage?

    init(_ config: GuestConfiguration) {
        kernel = BootImage(path: config.kernelPath, headCount: 64)
        initrd = config.initrdPath.map { BootImage(path: $0) }
    }
}
