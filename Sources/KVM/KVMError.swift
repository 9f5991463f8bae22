import Syscalls

/// Every failure of the KVM layer names what failed: the ioctl, the register
/// or capability involved, and the errno the kernel gave.
public enum KVMError: Error, CustomStringConvertible {
    /// An ioctl or syscall failed: `call` is its name (e.g. "KVM_CREATE_VM"),
    /// `context` what it was applied to (a register id, a slot, an address).
    case call(String, context: String, errno: Errno)
    /// A capability the operation needs is absent (KVM_CHECK_EXTENSION returned 0).
    case missingCapability(String, needed: String)
    /// KVM_GET_API_VERSION is not 12 (api.rst 4.1: "the value returned ... is 12").
    case apiVersion(Int32)
    /// A request that cannot work on this host, with the reason.
    case unsupported(String)

    public var description: String {
        switch self {
        case .call(let name, let context, let errno):
            return context.isEmpty ? "\(name) failed: \(errno)" : "\(name) (\(context)) failed: \(errno)"
        case .missingCapability(let cap, let needed):
            return "the kernel lacks \(cap), needed for \(needed)"
        case .apiVersion(let v):
            return "KVM API version \(v), expected 12"
        case .unsupported(let what):
            return what
        }
    }
}

@inline(__always)
func checked(_ result: Int32, _ call: String, _ context: String = "") throws(KVMError) -> Int32 {
    if result < 0 { throw .call(call, context: context, errno: Errno(-result)) }
    return result
}
