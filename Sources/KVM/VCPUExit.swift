/// Why KVM_RUN returned (api.rst 5, "The kvm_run structure", exit_reason).
public enum VCPUExit: CustomStringConvertible {
    /// KVM_EXIT_MMIO: a data access to an IPA with no memory slot. For a read,
    /// call `completeRead` before the next run.
    case mmio(address: UInt64, isWrite: Bool, length: Int, data: UInt64)
    /// KVM_EXIT_SYSTEM_EVENT: PSCI SYSTEM_OFF (shutdown), SYSTEM_RESET (reset),
    /// crash, ... `type` is KVM_SYSTEM_EVENT_*.
    case systemEvent(type: UInt32, data: UInt64)
    /// KVM_RUN returned EINTR: a signal (a kick from the watchdog or teardown).
    case interrupted
    /// KVM_EXIT_INTERNAL_ERROR with its suberror.
    case internalError(suberror: UInt32)
    /// KVM_EXIT_FAIL_ENTRY: hardware refused entry; reason is arch specific.
    case failEntry(reason: UInt64, cpu: UInt32)
    /// KVM_EXIT_ARM_NISV: a data abort without valid syndrome (api.rst 5).
    case armNoSyndrome(esr: UInt64, faultIPA: UInt64)
    /// Any other exit reason, reported as is.
    case other(reason: UInt32)

    public static let shutdown: UInt32 = 1 // KVM_SYSTEM_EVENT_SHUTDOWN
    public static let reset: UInt32 = 2    // KVM_SYSTEM_EVENT_RESET
    public static let crash: UInt32 = 3    // KVM_SYSTEM_EVENT_CRASH

    public var description: String {
        switch self {
        case .mmio(let a, let w, let l, let d):
            return "mmio \(w ? "write" : "read") \(l) bytes at 0x\(String(a, radix: 16))" + (w ? " data 0x\(String(d, radix: 16))" : "")
        case .systemEvent(let t, let d):
            let name = t == VCPUExit.shutdown ? "shutdown" : t == VCPUExit.reset ? "reset" : t == VCPUExit.crash ? "crash" : "type \(t)"
            return "system event \(name) (data 0x\(String(d, radix: 16)))"
        case .interrupted: return "interrupted"
        case .internalError(let s): return "internal error, suberror \(s)"
        case .failEntry(let r, let c): return "fail entry, reason 0x\(String(r, radix: 16)) on cpu \(c)"
        case .armNoSyndrome(let esr, let ipa):
            return "data abort without syndrome at IPA 0x\(String(ipa, radix: 16)), ESR 0x\(String(esr, radix: 16))"
        case .other(let r): return "exit reason \(r)"
        }
    }
}
