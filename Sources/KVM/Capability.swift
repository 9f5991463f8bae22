import CLinux

/// KVM capabilities Cleave relies on (api.rst section 8 and 4.4,
/// KVM_CHECK_EXTENSION). Each names itself in "missing capability" errors.
public enum Capability: Int32, CustomStringConvertible {
    case userMemory = 3            // KVM_CAP_USER_MEMORY
    case irqfd = 32                // KVM_CAP_IRQFD
    case nrMemslots = 10           // KVM_CAP_NR_MEMSLOTS
    case nrVCPUs = 9               // KVM_CAP_NR_VCPUS
    case maxVCPUs = 66             // KVM_CAP_MAX_VCPUS
    case oneReg = 70               // KVM_CAP_ONE_REG
    case deviceControl = 89        // KVM_CAP_DEVICE_CTRL
    case armPSCI02 = 102           // KVM_CAP_ARM_PSCI_0_2
    case armVMIPASize = 165        // KVM_CAP_ARM_VM_IPA_SIZE
    case immediateExit = 136       // KVM_CAP_IMMEDIATE_EXIT
    case irqfdResample = 82        // KVM_CAP_IRQFD_RESAMPLE

    public var description: String {
        switch self {
        case .userMemory: return "KVM_CAP_USER_MEMORY"
        case .irqfd: return "KVM_CAP_IRQFD"
        case .nrMemslots: return "KVM_CAP_NR_MEMSLOTS"
        case .nrVCPUs: return "KVM_CAP_NR_VCPUS"
        case .maxVCPUs: return "KVM_CAP_MAX_VCPUS"
        case .oneReg: return "KVM_CAP_ONE_REG"
        case .deviceControl: return "KVM_CAP_DEVICE_CTRL"
        case .armPSCI02: return "KVM_CAP_ARM_PSCI_0_2"
        case .armVMIPASize: return "KVM_CAP_ARM_VM_IPA_SIZE"
        case .immediateExit: return "KVM_CAP_IMMEDIATE_EXIT"
        case .irqfdResample: return "KVM_CAP_IRQFD_RESAMPLE"
        }
    }
}
