import Syscalls

/// What a starting VMM does about the last VMM of its guest (the pid in the
/// guest's `VMMLock` file), given whether that lock is held, how far that
/// process is in exiting and how long it may still wait. Pure: `VMMLock`
/// reads the state and acts on the answer (docs/kernel-facts.md §34).
enum PredecessorDecision: Equatable {
    /// Nothing of it is held any more (or it is not ours: a pid reused by a
    /// running process while the lock is free): go on.
    case proceed
    /// The lock is held but the pid in its file has exited fully: a new
    /// holder between its flock and the write of its pid. Take it again in
    /// a moment.
    case retake
    /// It is exiting: wait up to this many milliseconds for its thread group.
    case wait(milliseconds: Int32)
    /// The lock is held by a process that is not exiting: another live VMM
    /// of this guest.
    case refuseLive
    /// It is still exiting at the deadline.
    case refuseStillExiting

    /// `lockHeld`: the lock could not be taken; `now` and `deadline` in
    /// nanoseconds of CLOCK_MONOTONIC.
    static func decide(lockHeld: Bool, state: ProcessExitState, now: UInt64, deadline: UInt64) -> PredecessorDecision {
        switch state {
        case .gone, .done:
            return lockHeld ? (now < deadline ? .retake : .refuseLive) : .proceed
        case .running:
            return lockHeld ? .refuseLive : .proceed
        case .exiting:
            guard now < deadline else { return .refuseStillExiting }
            // At least 1 ms, so that a wait never spins on a zero timeout.
            return .wait(milliseconds: Int32(max(1, (deadline - now + 999_999) / 1_000_000)))
        }
    }
}
