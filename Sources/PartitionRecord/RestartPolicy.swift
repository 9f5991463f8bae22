/// When a guest that ended is started again: the plan's `restart`, recorded
/// under /chosen/cleave/<guest> and `cleave run --restart`.
public enum RestartPolicy: String, Equatable, CaseIterable {
    case never, always
    case onFailure = "on-failure"

    /// "never, always or on-failure", for messages.
    public static let listed = "never, always or on-failure"
}
