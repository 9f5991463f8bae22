import CLinux

/// A joinable pthread running a Swift closure. pthread entry points cannot
/// capture context, so the closure travels in an `Unmanaged` box.
public final class Thread {
    private final class Box {
        let body: () -> Void
        init(_ body: @escaping () -> Void) { self.body = body }
    }

    public private(set) var handle: UInt
    private var joined = false

    private init(handle: UInt) { self.handle = handle }

    public static func start(_ body: @escaping () -> Void) -> Result<Thread, Errno> {
        let box = Unmanaged.passRetained(Box(body)).toOpaque()
        var handle: UInt = 0
        let r = cleave_thread_create(&handle, { raw in
            let box = Unmanaged<Box>.fromOpaque(raw!).takeRetainedValue()
            box.body()
            return nil
        }, box)
        if r < 0 {
            Unmanaged<Box>.fromOpaque(box).release()
            return .failure(Errno(-r))
        }
        return .success(Thread(handle: handle))
    }

    /// Sends `signal` to the thread, e.g. to make its KVM_RUN return EINTR.
    public func kill(_ signal: Int32) { _ = cleave_thread_kill(handle, signal) }

    public func join() {
        guard !joined else { return }
        joined = true
        _ = cleave_thread_join(handle)
    }

    /// Pins the calling thread to `cpu` (a Linux logical CPU number).
    public static func pinCurrent(to cpu: Int) -> Result<Void, Errno> {
        Errno.check(cleave_pin_current_thread(Int32(cpu))).map { _ in () }
    }
}
