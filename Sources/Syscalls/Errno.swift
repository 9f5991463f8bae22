import CLinux

/// A Linux errno value, as the CLinux shims return it (negated).
/// Named for messages: a user reads "EBUSY", not 16.
public struct Errno: Error, Equatable, CustomStringConvertible {
    public var rawValue: Int32
    public init(_ rawValue: Int32) { self.rawValue = rawValue }

    public static let interrupted = Errno(EINTR)
    public static let again = Errno(EAGAIN)

    public var description: String {
        switch rawValue {
        case EPERM: return "EPERM"
        case ENOENT: return "ENOENT"
        case EINTR: return "EINTR"
        case EIO: return "EIO"
        case ENXIO: return "ENXIO"
        case E2BIG: return "E2BIG"
        case EBADF: return "EBADF"
        case EAGAIN: return "EAGAIN"
        case ENOMEM: return "ENOMEM"
        case EACCES: return "EACCES"
        case EFAULT: return "EFAULT"
        case EBUSY: return "EBUSY"
        case EEXIST: return "EEXIST"
        case ENODEV: return "ENODEV"
        case EINVAL: return "EINVAL"
        case ENOSPC: return "ENOSPC"
        case ENOSYS: return "ENOSYS"
        case ENOTTY: return "ENOTTY"
        case EOPNOTSUPP: return "EOPNOTSUPP"
        default: return "errno \(rawValue)"
        }
    }

    /// Interprets a shim result: non-negative is success, negative is -errno.
    @inline(__always)
    public static func check(_ result: Int32) -> Result<Int32, Errno> {
        result < 0 ? .failure(Errno(-result)) : .success(result)
    }
}

/// Retries a shim call while it fails with EINTR (swift-system's rule), returning
/// the value or the errno.
@inline(__always)
public func retryingOnInterrupt(_ call: () -> Int32) -> Result<Int32, Errno> {
    while true {
        let r = call()
        if r == -EINTR { continue }
        return Errno.check(r)
    }
}
