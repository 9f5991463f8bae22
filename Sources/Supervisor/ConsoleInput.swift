import CLinux
import Console
import Syscalls
import Synchronization

/// `--interactive`: a thread reading the supervisor's stdin into the guest's
/// emulated 16550 (whose receive path raises its SPI through KVM_IRQ_LINE and
/// sets LSR data-ready). Input waits here while the UART's buffer is full or
/// no machine is attached (between a reset and the next boot), so nothing is
/// dropped. On a terminal, stdin is put in raw mode (restored on shutdown) and
/// Ctrl-A x stops the guest as SIGINT would, kvmtool's and QEMU's escape.
///
/// Owns its thread: `shutdown` (or deinit) stops and joins it.
final class ConsoleInput {
    private let queue = ConsoleInputQueue()
    private let stopping = Atomic<Bool>(false)
    private var thread: Thread? = nil
    private var rawTerminal = false
    private var sawEscape = false
    private let guest: String

    static let escape: UInt8 = 0x01 // Ctrl-A
    static let pollMilliseconds: Int32 = 50

    init(guest: String) { self.guest = guest }

    deinit { shutdown() }

    func start() -> Result<Void, Errno> {
        rawTerminal = cleave_set_raw_terminal(0, 1) == 0
        switch Thread.start({ [self] in self.run() }) {
        case .success(let t): thread = t; return .success(())
        case .failure(let e):
            restoreTerminal()
            return .failure(e)
        }
    }

    /// Directs input to `uart` (nil while no machine runs); flushes what waited.
    func attach(_ uart: UART16550?) { queue.attach(uart) }

    /// Stops the reader and joins it (within one poll period); idempotent.
    func shutdown() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        thread?.join()
        thread = nil
        restoreTerminal()
    }

    private func restoreTerminal() {
        if rawTerminal { _ = cleave_set_raw_terminal(0, 0); rawTerminal = false }
    }

    private func run() {
        var buffer = [UInt8](repeating: 0, count: 256)
        var open = true
        while !stopping.load(ordering: .sequentiallyConsistent) {
            queue.deliver()
            guard open else { Clock.sleep(nanoseconds: UInt64(ConsoleInput.pollMilliseconds) * 1_000_000); continue }
            let ready = cleave_poll_in(0, ConsoleInput.pollMilliseconds)
            if ready == 0 || ready == -EINTR { continue }
            if ready < 0 { Log.write(.warning, guest, "console-input", "poll: \(Errno(-ready))"); open = false; continue }
            let n = buffer.withUnsafeMutableBytes { cleave_read(0, $0.baseAddress, $0.count) }
            if n == -Int(EINTR) || n == -Int(EAGAIN) { continue }
            if n <= 0 {
                // EOF (or an error): the guest keeps running, with no more input.
                if n < 0 { Log.write(.warning, guest, "console-input", "read: \(Errno(Int32(-n)))") }
                open = false
                continue
            }
            var bytes = Array(buffer[0..<n])
            if rawTerminal { bytes = filterEscape(bytes) }
            queue.offer(bytes)
        }
    }

    /// Ctrl-A x quits; Ctrl-A Ctrl-A sends one Ctrl-A; other pairs pass through.
    private func filterEscape(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        for b in bytes {
            if sawEscape {
                sawEscape = false
                if b == UInt8(ascii: "x") {
                    Log.write(.info, guest, "console-input", "Ctrl-A x: stopping the guest")
                    Signals.pending.store(SIGINT, ordering: .relaxed)
                    continue
                }
                if b != ConsoleInput.escape { out.append(ConsoleInput.escape) }
                out.append(b)
            } else if b == ConsoleInput.escape {
                sawEscape = true
            } else {
                out.append(b)
            }
        }
        return out
    }
}
