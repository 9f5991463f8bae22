import CLinux

/// KVM capabilities Cleave relies on (api.rst section 8 and 4.4,
/// KVM_CHECK_EXTENSION). The numbers come from <linux/kvm.h>; each names
/// itself in "missing capability" errors.
public struct Capability: Equatable, CustomStringConvertible {
    public let rawValue: Int32
    public let description: String

    init(_ rawValue: Int32, _ name: String) {
        self.rawValue = rawValue
        description = name
    }

    public static let userMemory = Capability(KVM_CAP_USER_MEMORY, "KVM_CAP_USER_MEMORY")
    public static let irqfd = Capability(KVM_CAP_IRQFD, "KVM_CAP_IRQFD")
    public static let nrMemslots = Capability(KVM_CAP_NR_MEMSLOTS, "KVM_CAP_NR_MEMSLOTS")
    public static let nrVCPUs = Capability(KVM_CAP_NR_VCPUS, "KVM_CAP_NR_VCPUS")
    public static let maxVCPUs = Capability(KVM_CAP_MAX_VCPUS, "KVM_CAP_MAX_VCPUS")
    public static let oneReg = Capability(KVM_CAP_ONE_REG, "KVM_CAP_ONE_REG")
    public static let deviceControl = Capability(KVM_CAP_DEVICE_CTRL, "KVM_CAP_DEVICE_CTRL")
    public static let armPSCI02 = Capability(KVM_CAP_ARM_PSCI_0_2, "KVM_CAP_ARM_PSCI_0_2")
    public static let armVMIPASize = Capability(KVM_CAP_ARM_VM_IPA_SIZE, "KVM_CAP_ARM_VM_IPA_SIZE")
    public static let immediateExit = Capability(KVM_CAP_IMMEDIATE_EXIT, "KVM_CAP_IMMEDIATE_EXIT")
    public static let irqfdResample = Capability(KVM_CAP_IRQFD_RESAMPLE, "KVM_CAP_IRQFD_RESAMPLE")
    /// A guest PMUv3 (vCPU feature KVM_ARM_VCPU_PMU_V3): KVM has it when the
    /// host kernel drives a PMUv3 (docs/kernel-facts.md §25).
    public static let armPMUv3 = Capability(KVM_CAP_ARM_PMU_V3, "KVM_CAP_ARM_PMU_V3")
    /// SVE for the guest (vCPU feature KVM_ARM_VCPU_SVE; docs/kernel-facts.md §26).
    public static let armSVE = Capability(KVM_CAP_ARM_SVE, "KVM_CAP_ARM_SVE")
    /// Address and generic pointer authentication for the guest (vCPU features
    /// KVM_ARM_VCPU_PTRAUTH_ADDRESS and _GENERIC, asked for together): KVM has
    /// both when the host CPUs have both (docs/kernel-facts.md §27).
    public static let armPtrAuthAddress = Capability(KVM_CAP_ARM_PTRAUTH_ADDRESS, "KVM_CAP_ARM_PTRAUTH_ADDRESS")
    public static let armPtrAuthGeneric = Capability(KVM_CAP_ARM_PTRAUTH_GENERIC, "KVM_CAP_ARM_PTRAUTH_GENERIC")
}
