import Testing
import KVM

/// ID_AA64ISAR1_EL1's pointer-authentication fields, decoded as the
/// supervisor logs them and the test guest prints them (docs/kernel-facts.md §27).
@Suite struct PointerAuthFieldsTests {
    @Test func theFourFieldsAmongTheirNeighbours() {
        // DPB 1 (3:0), JSCVT 1 (15:12), FCMA 1 (19:16), LRCPC 2 (23:20) and
        // the fields above GPI set, around APA 5 (QARMA5, FPACCOMBINE) and GPA 1.
        let qarma = PointerAuthFields(isar1: 0x1111_1111_0121_1051)
        #expect(qarma == PointerAuthFields(apa: 5, api: 0, gpa: 1, gpi: 0))
        #expect(qarma.address && qarma.generic)
        #expect(qarma.description == "apa=0x5 api=0x0 gpa=0x1 gpi=0x0")
        // The IMPLEMENTATION DEFINED algorithm: API and GPI.
        let impdef = PointerAuthFields(isar1: 0x1000_0500 | 0x0021_1001)
        #expect(impdef == PointerAuthFields(apa: 0, api: 5, gpa: 0, gpi: 1))
        #expect(impdef.address && impdef.generic)
        #expect(impdef.description == "apa=0x0 api=0x5 gpa=0x0 gpi=0x1")
    }

    @Test func noneWhenKVMHidesThem() {
        let none = PointerAuthFields(isar1: 0xffff_ffff_00ff_f00f)
        #expect(!none.address && !none.generic)
        #expect(none.description == "apa=0x0 api=0x0 gpa=0x0 gpi=0x0")
        #expect(PointerAuthFields(isar1: 0xf0).address && !PointerAuthFields(isar1: 0xf0).generic)
        #expect(PointerAuthFields(isar1: 0xf000_0000).generic && !PointerAuthFields(isar1: 0xf000_0000).address)
    }
}
