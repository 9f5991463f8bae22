import KVM
import Syscalls

/// Why a device could not be passed through. Each case names the device (its
/// board-tree path) and the step that failed, with the errno where there is one.
public enum PassthroughError: Error, CustomStringConvertible {
    /// A syscall or ioctl failed: `call` names it, `context` what it was applied to.
    case call(String, context: String, errno: Errno)
    /// The host cannot do what the plan asks (no module, no host device, ...).
    case unavailable(String)
    /// The plan forbids the step (e.g. a host driver claims the device and
    /// `allow-unbind` is absent).
    case refused(String)
    case kvm(KVMError)

    public var description: String {
        switch self {
        case .call(let call, let context, let errno): return "\(call) (\(context)) failed: \(errno)"
        case .unavailable(let s): return s
        case .refused(let s): return s
        case .kvm(let e): return "KVM: \(e)"
        }
    }
}

@inline(__always)
func checked(_ result: Int32, _ call: String, _ context: String) throws(PassthroughError) -> Int32 {
    if result < 0 { throw .call(call, context: context, errno: Errno(-result)) }
    return result
}
