/// How long the service waits before it starts a guest again after its VMM
/// process died: doubling from `first` with each restart the service made,
/// capped at `cap`, so a guest that dies at once cannot spin the host.
public struct RestartBackoff: Equatable {
    public var first: UInt64 = 500_000_000
    public var cap: UInt64 = 30_000_000_000

    public init() {}
    public init(first: UInt64, cap: UInt64) {
        self.first = first
        self.cap = cap
    }

    /// The wait (ns) before restart number `restart` (1 for the first).
    public func delay(beforeRestart restart: Int) -> UInt64 {
        var d = first
        var n = 1
        while n < restart && d < cap {
            d = d > cap / 2 ? cap : d * 2
            n += 1
        }
        return min(d, cap)
    }
}
