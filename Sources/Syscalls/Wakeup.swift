import CLinux

/// A one-shot wake-up between threads: `post` from any thread, `wait` from
/// one, which returns at once when a post came first (none is lost) or after
/// at most `nanoseconds` (a pthread condition variable on CLOCK_MONOTONIC).
/// A class: the mutex and the condition must not move.
public final class Wakeup {
    private let mutex: UnsafeMutablePointer<pthread_mutex_t>
    private let condition: UnsafeMutablePointer<pthread_cond_t>
    private var posted = false

    public init() {
        mutex = .allocate(capacity: 1)
        condition = .allocate(capacity: 1)
        pthread_mutex_init(mutex, nil)
        cleave_cond_init_monotonic(condition)
    }

    deinit {
        pthread_cond_destroy(condition)
        pthread_mutex_destroy(mutex)
        condition.deallocate()
        mutex.deallocate()
    }

    public func post() {
        pthread_mutex_lock(mutex)
        posted = true
        pthread_cond_signal(condition)
        pthread_mutex_unlock(mutex)
    }

    /// Waits for a post or `nanoseconds`; returns whether a post came (and takes it).
    @discardableResult
    public func wait(nanoseconds: UInt64) -> Bool {
        pthread_mutex_lock(mutex)
        defer { pthread_mutex_unlock(mutex) }
        if !posted { _ = cleave_cond_wait_ns(condition, mutex, nanoseconds) }
        let was = posted
        posted = false
        return was
    }
}
