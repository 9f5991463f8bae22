import Console
import Syscalls

/// Input on its way to a guest's 16550: bytes wait here while the UART's
/// receive buffer is full or no machine is attached (between a reset and the
/// next boot), so nothing offered is dropped. Fed by `ConsoleInput` (stdin)
/// and `ConsoleServer` (a console client); both call `deliver` as they poll.
/// Thread safe (one lock; the UART takes its own inside it).
final class ConsoleInputQueue {
    private let lock = Lock()
    private var target: UART16550? = nil
    private var pending: [UInt8] = []

    /// Directs input to `uart` (nil while no machine runs); delivers what waited.
    func attach(_ uart: UART16550?) {
        lock.withLock { target = uart }
        deliver()
    }

    func offer(_ bytes: [UInt8]) {
        lock.withLock { pending.append(contentsOf: bytes) }
        deliver()
    }

    /// Bytes not yet taken by the UART (a feeder stops reading while this is high).
    var waiting: Int { lock.withLock { pending.count } }

    /// Moves waiting input into the attached UART, as much as it has room for.
    func deliver() {
        lock.withLock {
            guard let uart = target, !pending.isEmpty else { return }
            let n = min(uart.receiveRoom, pending.count)
            guard n > 0 else { return }
            uart.receive(Array(pending[0..<n]))
            pending.removeFirst(n)
        }
    }
}
