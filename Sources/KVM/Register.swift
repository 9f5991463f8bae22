import CLinux

/// A KVM_GET/SET_ONE_REG register id for arm64 (api.rst 4.68, "ARM64 registers
/// are mapped using the lower 32 bits"): core registers index `struct kvm_regs`
/// in 32-bit words; system registers encode op0/op1/CRn/CRm/op2.
public struct Register: Equatable, CustomStringConvertible {
    public let id: UInt64
    public let name: String

    static func core(byteOffset: UInt64, _ name: String) -> Register {
        Register(id: CLEAVE_KVM_REG_ARM64 | CLEAVE_KVM_REG_SIZE_U64 | CLEAVE_KVM_REG_ARM_CORE | (byteOffset / 4), name: name)
    }

    /// ARM64_SYS_REG(op0, op1, crn, crm, op2) from <asm/kvm.h>.
    public static func system(_ op0: UInt64, _ op1: UInt64, _ crn: UInt64, _ crm: UInt64, _ op2: UInt64, _ name: String) -> Register {
        Register(id: CLEAVE_KVM_REG_ARM64 | CLEAVE_KVM_REG_SIZE_U64 | CLEAVE_KVM_REG_ARM64_SYSREG
                    | op0 << 14 | op1 << 11 | crn << 7 | crm << 3 | op2, name: name)
    }

    // struct kvm_regs { struct user_pt_regs { u64 regs[31]; u64 sp; u64 pc;
    // u64 pstate; } regs; u64 sp_el1; u64 elr_el1; u64 spsr[5]; ... }
    public static func x(_ n: Int) -> Register {
        precondition(n >= 0 && n < 31)
        return core(byteOffset: UInt64(n) * 8, "x\(n)")
    }
    public static let sp = core(byteOffset: 31 * 8, "sp")
    public static let pc = core(byteOffset: 32 * 8, "pc")
    public static let pstate = core(byteOffset: 33 * 8, "pstate")
    public static let spEL1 = core(byteOffset: 34 * 8, "sp_el1")
    public static let elrEL1 = core(byteOffset: 35 * 8, "elr_el1")
    public static let spsrEL1 = core(byteOffset: 36 * 8, "spsr_el1")

    public static let mpidrEL1 = system(3, 0, 0, 0, 5, "MPIDR_EL1")
    /// Its pointer-authentication fields: `PointerAuthFields`.
    public static let idAA64ISAR1EL1 = system(3, 0, 0, 6, 1, "ID_AA64ISAR1_EL1")
    public static let sctlrEL1 = system(3, 0, 1, 0, 0, "SCTLR_EL1")
    public static let esrEL1 = system(3, 0, 5, 2, 0, "ESR_EL1")
    public static let farEL1 = system(3, 0, 6, 0, 0, "FAR_EL1")
    public static let vbarEL1 = system(3, 0, 12, 0, 0, "VBAR_EL1")
    /// The guest's virtual counter (CNTVCT_EL0). <asm/kvm.h> swaps the
    /// encodings of KVM_REG_ARM_TIMER_CNT and _CVAL for historical reasons:
    /// TIMER_CNT is ARM64_SYS_REG(3, 3, 14, 3, 2).
    public static let timerCount = system(3, 3, 14, 3, 2, "KVM_REG_ARM_TIMER_CNT")

    public var description: String { name }
}
