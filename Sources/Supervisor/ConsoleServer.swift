import CLinux
import Console
import Synchronization
import Syscalls

/// A guest's console socket (`boot --console-socket PATH`; under the service
/// /run/cleave/guests/NAME.console.sock, mode 0600): keeps the last 64 KiB
/// of the console's output (`ConsoleHistory`) and serves it to console
/// clients (`cleave-boot console`, ConsoleSocketProtocol). One client at a
/// time is attached (the writer): it gets the history, then live output, and
/// its bytes go to the 16550's receive path (`input`, as `--interactive`
/// input does). A second `attach` is refused naming the writer's pid; a
/// `take-over` detaches the writer instead (it gets the output up to that
/// moment, then `ConsoleNotice.takenOver`, then its socket is closed) and
/// becomes the writer. Any number of `follow` clients get what the writer
/// gets but send nothing to the guest (their bytes are read and dropped), and
/// any number of `dump` clients get the history as it is and are closed, up
/// to `maximumClients` connections in all.
///
/// The vCPU threads only append to the history under a lock and, when a
/// client is connected, wake the server's thread through an eventfd (at most
/// once per wake-up). The server's thread does every socket call, each
/// non-blocking: a client that reads too slowly falls behind in the history
/// and is told how many bytes it lost, never waited for. The output still
/// goes to the console log as before (ConsoleSink).
///
/// Owns the listening socket, the eventfd, each connection and its thread:
/// `shutdown` (or deinit) joins the thread, closes them and removes the
/// socket file. A socket file left by a killed VMM (nothing listens on it)
/// is replaced at start; one a live process serves is not.
final class ConsoleServer {
    static let historyCapacity = 64 * 1024
    /// Connections at once, of every kind: a writer, followers, dumps and
    /// clients still sending their request. Each costs a pollfd and a send per
    /// wake-up of the server's thread, never a wait.
    static let maximumClients = 16
    /// How long a client may take to send its request line.
    static let requestTimeout: UInt64 = 2_000_000_000
    /// How long a dump (or a refusal) may take to be read before it is cut.
    static let dumpTimeout: UInt64 = 10_000_000_000
    /// Input waiting for the UART beyond which the attached client is not read.
    static let inputHighWater = 4096
    static let chunk = 16 * 1024

    let path: String
    let guest: String
    /// Where an attached client's bytes go; Supervisor points it at each boot's UART.
    let input = ConsoleInputQueue()
    private let listener: FileDescriptor
    private let wake: FileDescriptor
    private let lock = Lock()
    private var history = ConsoleHistory(capacity: ConsoleServer.historyCapacity)
    private let wakePending = Atomic<Bool>(false)
    private let clientsConnected = Atomic<Bool>(false)
    private let stopping = Atomic<Bool>(false)
    private var thread: Thread? = nil
    /// The server thread's alone.
    private var connections: [Connection] = []
    private var removed = false

    /// Why every request is refused (the guest's console is a passed-through
    /// UART, not this VMM's 16550), nil when the console is served.
    let unavailable: String?

    /// Listens on `path`, replacing a stale socket there.
    init(path: String, guest: String, unavailable: String? = nil) throws(SupervisorError) {
        self.path = path
        self.guest = guest
        self.unavailable = unavailable
        let live = path.withCString { cleave_unix_connect($0) }
        if live >= 0 {
            // The listener's pid, as the kernel recorded it at listen(2).
            let holder = cleave_peer_pid(live)
            _ = cleave_close(live)
            let who = holder > 0 ? FileHolders.describe(holder) : "another process"
            throw .configuration("the console socket \(path) is served by \(who) (a VMM of guest \(guest) still runs?): stop it first")
        }
        if live == -ECONNREFUSED {
            // A socket no process listens on: left by a VMM killed with SIGKILL.
            _ = path.withCString { cleave_unlink($0) }
        }
        let fd = path.withCString { cleave_unix_listen($0, 0o600, Int32(ConsoleServer.maximumClients)) }
        guard fd >= 0 else { throw .system("listening on the console socket \(path)", Errno(-fd)) }
        listener = FileDescriptor(adopting: fd)
        let efd = cleave_eventfd(0)
        guard efd >= 0 else {
            _ = path.withCString { cleave_unlink($0) }
            throw .system("eventfd for the console socket", Errno(-efd))
        }
        wake = FileDescriptor(adopting: efd)
        _ = cleave_set_nonblocking(efd, 1)
    }

    deinit { shutdown() }

    /// Puts what an earlier VMM of the guest wrote (its console log's tail)
    /// in the history before the thread starts, so that a client of a VMM
    /// the service started again still sees the output before it.
    func seed(_ bytes: [UInt8]) {
        lock.withLock { history.append(contentsOf: bytes) }
    }

    func start() -> Result<Void, Errno> {
        switch Thread.start({ [self] in self.run() }) {
        case .success(let t): thread = t; return .success(())
        case .failure(let e): return .failure(e)
        }
    }

    /// One byte of console output (a vCPU thread, under ConsoleSink). Never
    /// blocks on a client: a locked append, and an eventfd write when a
    /// client is connected and the server is not already woken.
    func put(_ byte: UInt8) {
        lock.withLock { history.append(byte) }
        guard clientsConnected.load(ordering: .relaxed) else { return }
        if !wakePending.exchange(true, ordering: .acquiringAndReleasing) { signalWake() }
    }

    /// Stops the thread (within one poll), closes every connection and
    /// removes the socket file; idempotent.
    func shutdown() {
        stopping.store(true, ordering: .sequentiallyConsistent)
        if let thread {
            signalWake()
            thread.join()
            self.thread = nil
        }
        connections.removeAll()
        clientsConnected.store(false, ordering: .relaxed)
        if !removed {
            removed = true
            _ = path.withCString { cleave_unlink($0) }
        }
    }

    private func signalWake() {
        var one: UInt64 = 1
        _ = withUnsafeBytes(of: &one) { cleave_write(wake.rawValue, $0.baseAddress, 8) }
    }

    // MARK: The server's thread

    /// One client connection and where it is in the protocol.
    private final class Connection {
        enum Phase: Equatable {
            case request
            /// The writer: output, and its bytes are the guest's input.
            case attached
            /// Output only: its bytes are read and dropped.
            case following
            /// Sending the history up to this position, then `farewell`, then closing.
            case dump(end: UInt64)
            /// Sending what is in `outbox`, then closing.
            case closing
        }
        let fd: FileDescriptor
        let pid: Int32
        /// For its request line; then for a dump's (or a refusal's) last byte,
        /// counting `ConsoleServer.dumpTimeout` from it.
        var deadline: UInt64
        var phase = Phase.request
        var requestLine: [UInt8] = []
        /// Protocol lines and loss notices, sent before more history.
        var outbox: [UInt8] = []
        /// Sent after the last byte of a `dump` phase (a detached writer's notice).
        var farewell: [UInt8] = []
        /// The next history position this client gets.
        var position: UInt64 = 0
        /// The client shut its sending side: its input ended, its output goes on.
        var inputOpen = true
        /// The last send met a full socket buffer: wait for POLLOUT.
        var blocked = false
        var closed = false

        init(fd: consuming FileDescriptor, pid: Int32, deadline: UInt64) {
            self.fd = fd
            self.pid = pid
            self.deadline = deadline
        }
    }

    private func run() {
        var buffer = [UInt8](repeating: 0, count: 512)
        while !stopping.load(ordering: .sequentiallyConsistent) {
            input.deliver()
            let attached = connections.first { $0.phase == .attached }
            let reading = input.waiting < ConsoleServer.inputHighWater
            var fds = [pollfd(fd: wake.rawValue, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: listener.rawValue, events: Int16(POLLIN), revents: 0)]
            for c in connections {
                var events: Int32 = 0
                if c.phase == .request || (c.phase == .attached && c.inputOpen && reading)
                    || (c.phase == .following && c.inputOpen) { events |= Int32(POLLIN) }
                if c.blocked { events |= Int32(POLLOUT) }
                fds.append(pollfd(fd: c.fd.rawValue, events: Int16(events), revents: 0))
            }
            // Waiting input is offered again every 20 ms, as the guest reads the UART.
            let timeout: Int32 = input.waiting > 0 && attached != nil ? 20 : 250
            let ready = fds.withUnsafeMutableBufferPointer { cleave_poll($0.baseAddress, UInt($0.count), timeout) }
            if ready < 0 && ready != -EINTR {
                Log.write(.warning, guest, "console-socket", "poll: \(Errno(-ready))")
                Clock.sleep(nanoseconds: 100_000_000)
                continue
            }
            wakePending.store(false, ordering: .sequentiallyConsistent)
            if ready > 0 {
                if fds[0].revents & Int16(POLLIN) != 0 {
                    var count: UInt64 = 0
                    _ = withUnsafeMutableBytes(of: &count) { cleave_read(wake.rawValue, $0.baseAddress, 8) }
                }
                if fds[1].revents & Int16(POLLIN) != 0 { acceptWaiting() }
                for (i, c) in connections.enumerated() where i + 2 < fds.count {
                    let revents = Int32(fds[i + 2].revents)
                    if revents & Int32(POLLOUT) != 0 { c.blocked = false }
                    if revents & Int32(POLLIN) != 0 { receive(c, &buffer) }
                    if !c.closed && revents & Int32(POLLIN) == 0 && revents & Int32(POLLHUP | POLLERR) != 0 { close(c, "the client closed its socket") }
                }
            }
            let now = Clock.monotonic
            for c in connections where !c.closed {
                if c.phase == .request && now >= c.deadline {
                    refuse(c, "no request within \(ConsoleServer.requestTimeout / 1_000_000_000) s (send one of \(ConsoleServer.requestNames) and a newline)")
                }
                if c.phase != .request && c.phase != .attached && c.phase != .following && now >= c.deadline + ConsoleServer.dumpTimeout { close(c, "not read within \(ConsoleServer.dumpTimeout / 1_000_000_000) s") }
                if !c.blocked { send(c) }
            }
            connections.removeAll { $0.closed }
            clientsConnected.store(!connections.isEmpty, ordering: .relaxed)
        }
    }

    private func acceptWaiting() {
        while true {
            let fd = cleave_accept(listener.rawValue)
            if fd == -EINTR { continue }
            guard fd >= 0 else {
                if fd != -EAGAIN { Log.write(.warning, guest, "console-socket", "accept: \(Errno(-fd))") }
                return
            }
            let owned = FileDescriptor(adopting: fd)
            let pid = cleave_peer_pid(fd)
            let c = Connection(fd: owned, pid: pid, deadline: Clock.monotonic + ConsoleServer.requestTimeout)
            connections.append(c)
            if connections.count > ConsoleServer.maximumClients {
                refuse(c, "guest \(guest)'s console has \(ConsoleServer.maximumClients) clients already: try again later")
            }
        }
    }

    /// Reads what a client sent: its request line, or input for the guest.
    private func receive(_ c: Connection, _ buffer: inout [UInt8]) {
        let room: Int
        switch c.phase {
        case .request: room = ConsoleRequest.maximumLine + 1 - c.requestLine.count
        case .attached: room = min(buffer.count, ConsoleServer.inputHighWater - input.waiting)
        case .following, .dump, .closing: room = buffer.count
        }
        guard room > 0 else { return }
        let n = buffer.withUnsafeMutableBytes { cleave_read(c.fd.rawValue, $0.baseAddress, min(room, $0.count)) }
        if n == -Int(EINTR) || n == -Int(EAGAIN) { return }
        if n < 0 { close(c, "read: \(Errno(Int32(-n)))"); return }
        if n == 0 {
            // End of the client's input; a client still reading stays until it hangs up.
            if c.phase == .request { close(c, "closed before its request") } else { c.inputOpen = false }
            return
        }
        let bytes = Array(buffer[0..<n])
        switch c.phase {
        case .request: request(c, bytes)
        case .attached: input.offer(bytes)
        case .following, .dump, .closing: break
        }
    }

    /// The requests, as a refusal lists them.
    static let requestNames = ConsoleRequest.all.map { "\"\($0.rawValue)\"" }.joined(separator: ", ")

    private func request(_ c: Connection, _ bytes: [UInt8]) {
        c.requestLine.append(contentsOf: bytes)
        guard let newline = c.requestLine.firstIndex(of: 10) else {
            if c.requestLine.count > ConsoleRequest.maximumLine { refuse(c, "the request line is too long (send one of \(ConsoleServer.requestNames) and a newline)") }
            return
        }
        let rest = Array(c.requestLine[(newline + 1)...])
        guard let request = ConsoleRequest(line: Array(c.requestLine[..<newline])) else {
            refuse(c, "unknown request \"\(String(decoding: c.requestLine[..<newline], as: UTF8.self))\" (send one of \(ConsoleServer.requestNames))")
            return
        }
        if let unavailable { refuse(c, unavailable); return }
        let held = lock.withLock { (history.start, history.end) }
        switch request {
        case .dump:
            c.outbox = ConsoleReply.accepted(guest: guest).line
            c.position = held.0
            c.phase = .dump(end: held.1)
        case .attach, .takeOver:
            if let writer = connections.first(where: { $0.phase == .attached }) {
                guard request == .takeOver else {
                    refuse(c, "guest \(guest)'s console is attached by another client (pid \(writer.pid)): detach it first, take it over with --force, or follow it with --read-only")
                    return
                }
                detach(writer, takenOverBy: c.pid, at: held.1)
            }
            c.outbox = ConsoleReply.accepted(guest: guest).line
            c.position = held.0
            c.phase = .attached
            Log.write(.info, guest, "console-attach", "pid=\(c.pid) history_bytes=\(held.1 - held.0) request=\(request.rawValue)")
            // Bytes typed right after the request line are input already.
            if !rest.isEmpty { input.offer(rest) }
        case .follow:
            c.outbox = ConsoleReply.accepted(guest: guest).line
            c.position = held.0
            c.phase = .following
            Log.write(.info, guest, "console-follow", "pid=\(c.pid) history_bytes=\(held.1 - held.0)")
        }
    }

    /// A writer another client takes the console from: it gets the output
    /// up to `end` (as a dump, within `dumpTimeout` from now), then the
    /// notice naming `pid`, then its socket closes; its bytes are no longer read.
    private func detach(_ writer: Connection, takenOverBy pid: Int32, at end: UInt64) {
        writer.phase = .dump(end: end)
        writer.farewell = ConsoleNotice.takenOver(guest: guest, pid: pid).bytes
        writer.deadline = Clock.monotonic
        Log.write(.info, guest, "console-detach", "pid=\(writer.pid) (taken over by pid \(pid))")
    }

    private func refuse(_ c: Connection, _ why: String) {
        c.outbox = ConsoleReply.refused(why).line
        c.phase = .closing
        Log.write(.warning, guest, "console-refused", "pid=\(c.pid) reason=\"\(why)\"")
    }

    private func close(_ c: Connection, _ why: String) {
        guard !c.closed else { return }
        c.closed = true
        if c.phase == .attached { Log.write(.info, guest, "console-detach", "pid=\(c.pid) (\(why))") }
        if c.phase == .following { Log.write(.info, guest, "console-unfollow", "pid=\(c.pid) (\(why))") }
    }

    /// Sends what the client is owed until its socket is full or it has all.
    private func send(_ c: Connection) {
        while !c.closed {
            if !c.outbox.isEmpty {
                guard let n = sendSome(c, c.outbox) else { return }
                c.outbox.removeFirst(n)
                continue
            }
            switch c.phase {
            case .request: return
            case .closing: close(c, "refused"); return
            case .attached, .following, .dump: break
            }
            var limit = ConsoleServer.chunk
            if case .dump(let end) = c.phase {
                guard c.position < end else {
                    guard !c.farewell.isEmpty else { close(c, "dump sent"); return }
                    c.outbox = c.farewell
                    c.farewell = []
                    c.phase = .closing
                    continue
                }
                limit = min(limit, Int(end - c.position))
            }
            let (start, bytes) = lock.withLock { (history.start, history.bytes(from: c.position, limit: limit)) }
            if c.position < start {
                let lost = start - c.position
                c.position = start
                c.outbox = ConsoleNotice.dropped(guest: guest, bytes: lost).bytes
                continue
            }
            guard !bytes.isEmpty else { return }
            guard let n = sendSome(c, bytes) else { return }
            c.position += UInt64(n)
        }
    }

    /// One non-blocking send: the bytes taken, or nil when the socket is full
    /// (the client is then polled for POLLOUT) or the client is gone.
    private func sendSome(_ c: Connection, _ bytes: [UInt8]) -> Int? {
        let n = bytes.withUnsafeBytes { cleave_send_nowait(c.fd.rawValue, $0.baseAddress, $0.count) }
        if n >= 0 { return n }
        if n == -Int(EAGAIN) || n == -Int(EINTR) { c.blocked = n == -Int(EAGAIN); return nil }
        close(c, n == -Int(EPIPE) || n == -Int(ECONNRESET) ? "the client closed its socket" : "send: \(Errno(Int32(-n)))")
        return nil
    }
}
