/// Detects a vCPU stuck in an exception loop, which KVM never reports: KVM_RUN
/// just keeps re-entering the guest (docs/kernel-facts.md §7). The supervisor kicks
/// every vCPU out of KVM_RUN periodically with a signal; each kick samples PC.
/// A sample is suspicious when PC lies in the first 0x800 bytes of the vector
/// table (VBAR_EL1), or when the MMU is off and PC is outside guest RAM (an
/// instruction abort on an unmapped IPA, re-taken forever). `threshold`
/// consecutive suspicious samples mean stuck. A guest idling in WFI is not
/// suspicious: its PC sits at the WFI.
public struct Watchdog {
    public let threshold: Int
    private var suspicious = 0

    public init(threshold: Int) { self.threshold = threshold }

    /// Records one sample; returns a reason when the vCPU is now considered stuck.
    public mutating func sample(pc: UInt64, vbar: UInt64, mmuOn: Bool, ramBase: UInt64, ramEnd: UInt64) -> String? {
        let inVectors = pc >= vbar && pc < vbar &+ 0x800
        let outsideRAM = !mmuOn && (pc < ramBase || pc >= ramEnd)
        guard inVectors || outsideRAM else { suspicious = 0; return nil }
        suspicious += 1
        guard suspicious >= threshold else { return nil }
        let why = inVectors ? "PC 0x\(String(pc, radix: 16)) in the exception vectors (VBAR_EL1 0x\(String(vbar, radix: 16)))"
                            : "PC 0x\(String(pc, radix: 16)) outside guest RAM with the MMU off"
        return "\(why) for \(suspicious) consecutive samples"
    }
}
