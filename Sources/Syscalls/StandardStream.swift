import CLinux

/// The process's stdout and stderr, written whole. The supervisor's threads
/// are interrupted all the time (the watchdog's vCPU kick has no SA_RESTART,
/// so a blocked KVM_RUN returns), and a write to a terminal or pipe that the
/// kick interrupts returns EINTR having written nothing: retried here, as are
/// short writes, and EAGAIN (a stream someone set non-blocking) after a short
/// wait, for at most about a second, so a stalled reader cannot hold a vCPU
/// forever. Console bytes and log lines are not dropped otherwise.
public enum StandardStream {
    public static let output: Int32 = 1
    public static let error: Int32 = 2

    public static func write(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) {
        guard let base = bytes.baseAddress else { return }
        var done = 0
        var waits = 0
        while done < bytes.count {
            let n = cleave_write(fd, base + done, bytes.count - done)
            if n == -Int(EINTR) { continue }
            if n == -Int(EAGAIN), waits < 10_000 {
                waits += 1
                Clock.sleep(nanoseconds: 100_000)
                continue
            }
            if n <= 0 { return }
            done += n
        }
    }

    public static func write(_ fd: Int32, _ byte: UInt8) {
        var b = byte
        withUnsafeBytes(of: &b) { write(fd, $0) }
    }
}
