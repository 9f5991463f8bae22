import Testing
@testable import Passthrough

/// Whether a device may be unbound from its VFIO driver, from what its
/// group's open and /proc showed (docs/kernel-facts.md §36).
@Suite struct VFIOUnbindTests {
    let own: Int32 = 700

    @Test func aGroupThatOpensIsUnbound() {
        #expect(VFIOUnbindDecision.decide(groupBusy: false, holders: [], own: own) == .unbind)
    }

    @Test func aGroupOnlyThisProcessHoldsIsUnbound() {
        #expect(VFIOUnbindDecision.decide(groupBusy: true, holders: [own], own: own) == .unbind)
    }

    @Test func anotherHolderOfTheGroupIsNamedAndNothingIsUnbound() {
        #expect(VFIOUnbindDecision.decide(groupBusy: true, holders: [812], own: own) == .heldBy([812]))
        #expect(VFIOUnbindDecision.decide(groupBusy: true, holders: [own, 812, 813], own: own) == .heldBy([812, 813]))
    }

    /// No holder in /proc: this process's own release still under way (its
    /// device mapping), not taken for another holder.
    @Test func aBusyGroupNoProcessHasOpenIsUnbound() {
        #expect(VFIOUnbindDecision.decide(groupBusy: true, holders: [], own: own) == .unbind)
    }
}
