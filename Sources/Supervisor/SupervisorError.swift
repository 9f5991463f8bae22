import DeviceTree
import GuestMemory
import KVM
import Loading
import Syscalls

/// Why a guest could not be set up. Each case keeps the layer's own error.
public enum SupervisorError: Error, CustomStringConvertible {
    case kvm(KVMError)
    case memory(MemoryError)
    case load(LoadError)
    case tree(DeviceTreeError)
    case system(String, Errno)
    case configuration(String)

    public var description: String {
        switch self {
        case .kvm(let e): return "KVM: \(e)"
        case .memory(let e): return "guest RAM: \(e)"
        case .load(let e): return "\(e)"
        case .tree(let e): return "guest device tree: \(e)"
        case .system(let what, let e): return "\(what): \(e)"
        case .configuration(let s): return s
        }
    }
}
