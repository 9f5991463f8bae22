/// The pointer-authentication fields of ID_AA64ISAR1_EL1 (the Arm ARM's
/// "AArch64 Instruction Set Attribute Register 1"; docs/kernel-facts.md §27): APA
/// bits 7:4 and GPA 27:24 say the QARMA5 algorithm, API 11:8 and GPI 31:28 an
/// IMPLEMENTATION DEFINED one (QEMU's `pauth-impdef=on`). A non-zero APA or
/// API is address authentication (PACIA, AUTIA, ...), its value the feature
/// level (1 PAuth, 2 EPAC, 3 PAuth2, 4 FPAC, 5 FPACCOMBINE); GPA or GPI is
/// generic authentication (PACGA). KVM shows the guest the host's values when
/// the vCPU has pointer authentication and 0 in all four otherwise.
public struct PointerAuthFields: Equatable, CustomStringConvertible {
    public var apa: UInt8
    public var api: UInt8
    public var gpa: UInt8
    public var gpi: UInt8

    public init(apa: UInt8, api: UInt8, gpa: UInt8, gpi: UInt8) {
        self.apa = apa
        self.api = api
        self.gpa = gpa
        self.gpi = gpi
    }

    public init(isar1: UInt64) {
        apa = UInt8(truncatingIfNeeded: isar1 >> 4 & 0xf)
        api = UInt8(truncatingIfNeeded: isar1 >> 8 & 0xf)
        gpa = UInt8(truncatingIfNeeded: isar1 >> 24 & 0xf)
        gpi = UInt8(truncatingIfNeeded: isar1 >> 28 & 0xf)
    }

    /// PACIA and the other address instructions (either algorithm).
    public var address: Bool { apa != 0 || api != 0 }
    /// PACGA (either algorithm).
    public var generic: Bool { gpa != 0 || gpi != 0 }

    /// `apa=0x5 api=0x0 gpa=0x1 gpi=0x0`, as the log and the test guest print them.
    public var description: String {
        "apa=0x\(String(apa, radix: 16)) api=0x\(String(api, radix: 16)) gpa=0x\(String(gpa, radix: 16)) gpi=0x\(String(gpi, radix: 16))"
    }
}

extension VirtualCPU {
    /// The pointer-authentication fields of the vCPU's ID_AA64ISAR1_EL1, as
    /// KVM will show them to the guest (KVM_GET_ONE_REG of the ID register;
    /// valid after `initialize`, which decides them).
    public func pointerAuthFields() throws(KVMError) -> PointerAuthFields {
        PointerAuthFields(isar1: try get(.idAA64ISAR1EL1))
    }
}
