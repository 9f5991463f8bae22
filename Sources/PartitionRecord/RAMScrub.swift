/// Whether a guest's RAM is cleared between two boots in one supervisor (a
/// PSCI SYSTEM_RESET, or a restart by the guest's policy): the plan's
/// `ram-scrub`, recorded under /chosen/cleave/<guest> (Boards/README.md), and
/// `run --ram-scrub`. Either way the next boot runs on the same physical
/// pages (they never go back to the hugepage pool) and its images and tree
/// are loaded again; what differs is everything else the last boot left.
public enum RAMScrub: String, Equatable, CaseIterable {
    /// Every byte zeroed before the next boot: nothing one boot wrote reaches
    /// the next (the default).
    case zero
    /// The RAM is left as the last boot left it: a restart costs no scrub, and
    /// a guest may keep state (a crash log, a boot counter) across it.
    case none

    /// "zero or none", for messages.
    public static let listed = "zero or none"
}
