import CLinux
import Console
import Supervisor
import Syscalls

/// `cleave-boot console GUEST`: the client of a guest's console socket
/// (ConsoleServer in the guest's VMM, ConsoleSocketProtocol). Attached, it
/// copies the guest's output (the history first) to stdout and stdin to the
/// guest. On a terminal stdin is put in raw mode (restored however the client
/// ends but SIGKILL) and Ctrl-] detaches; without a terminal the bytes pass
/// as they are, stdin's end only stops input, and `--timeout` (or a signal)
/// detaches. `--force` attaches by taking the console from an attached
/// client, which the server detaches with a notice; a client detached so
/// says which pid took over. `--read-only` follows the output and sends
/// nothing: on a terminal Ctrl-], Ctrl-C and Ctrl-D (raw mode gives them as
/// bytes) end it; without one stdin is not read (a follower in the
/// background with stdin at its end keeps following). `--no-follow` prints
/// the history and exits.
public struct ConsoleClient {
    let paths: ServicePaths
    /// Ctrl-]: telnet's and virsh console's escape; a guest rarely needs it.
    public static let detachKey: UInt8 = 0x1d
    static let replyTimeout: UInt64 = 5_000_000_000
    static let dumpTimeout: UInt64 = 20_000_000_000

    public init(paths: ServicePaths = ServicePaths()) { self.paths = paths }

    /// How an attached session ended.
    public enum Ending: Equatable {
        case detached, timedOut, signalled(Int32), terminalClosed
        /// The server detached this client: the process `pid` took the console over.
        case takenOver(by: Int32)
        /// Stdout cannot be written any more (a pipe's reader ended).
        case outputClosed
        /// The VMM closed the socket: the guest stopped or its VMM ended.
        case consoleClosed
    }

    /// Connects to `guest`'s console and makes `request`; returns the exit
    /// status (0, or 1 when the console closed under a following client).
    /// Errors name the guest and what to do: no service, an unknown guest
    /// (naming the known ones), a guest that is not running, a refused request.
    public func run(guest name: String, request: ConsoleRequest, seconds: UInt64?) throws(ServiceError) -> Int32 {
        guard ChildProcess.userID == 0 else {
            throw ServiceError("console is for root only (uid \(ChildProcess.userID)): run it as root")
        }
        let control = ServiceControl(paths: paths)
        let info = try control.running()
        let guest = try control.guest(name, of: info)
        let socket = try connect(guest)
        try send(socket, request.line, guest: guest)
        switch try readReply(socket, guest: guest) {
        case .refused(let why):
            // A VMM started before this client learned the request.
            let older = why.hasPrefix("unknown request") ? " (the guest's VMM is older than this cleave-boot: restart the guest to use this option)" : ""
            throw ServiceError("guest \(guest)'s console refused the \(ConsoleClient.name(of: request)): \(why)\(older)")
        case .accepted: break
        }
        guard request.follows else { try dump(socket, guest: guest); return 0 }
        let ending = attach(socket, guest: guest, writes: request.writes, seconds: seconds)
        switch ending {
        case .takenOver(let pid):
            say("\r\n[cleave: detached from guest \(guest)'s console: pid \(pid) took it over; the guest keeps running]")
            return 0
        case .consoleClosed:
            say("\r\n[cleave: guest \(guest)'s console closed: the guest stopped or its VMM ended; see cleave-boot status]")
            return 1
        case .terminalClosed, .outputClosed: return 0
        case .detached, .timedOut, .signalled:
            say("\r\n[cleave: detached from guest \(guest)'s console; the guest keeps running]")
            return 0
        }
    }

    /// The request as the user asked for it, for messages.
    static func name(of request: ConsoleRequest) -> String {
        switch request {
        case .attach: return "attach"
        case .takeOver: return "attach --force"
        case .follow: return "read-only attach"
        case .dump: return "read"
        }
    }

    private func connect(_ guest: String) throws(ServiceError) -> FileDescriptor {
        let path = paths.consoleSocket(of: guest)
        let fd = path.withCString { cleave_unix_connect($0) }
        if fd >= 0 { return FileDescriptor(adopting: fd) }
        let record = (try? Files.readText(paths.record(of: guest))).flatMap { ServiceRecord(text: $0) }
        if let record, record.state == .running {
            throw ServiceError("guest \(guest)'s VMM (pid \(record.pid)) has no console socket at \(path) (\(Errno(-fd))): it may still be starting; try again")
        }
        let state = record.map { "\($0.state.rawValue): \($0.reason)" } ?? "no record"
        throw ServiceError("guest \(guest) is not running (\(state)): start it with `cleave-boot restart \(guest)`")
    }

    private func send(_ socket: borrowing FileDescriptor, _ bytes: [UInt8], guest: String) throws(ServiceError) {
        if case .failure(let e) = bytes.withUnsafeBytes({ socket.writeAll($0) }) {
            throw ServiceError("writing to guest \(guest)'s console socket: \(e)")
        }
    }

    /// The server's reply line, read a byte at a time so no console byte after it is taken.
    private func readReply(_ socket: borrowing FileDescriptor, guest: String) throws(ServiceError) -> ConsoleReply {
        let deadline = Clock.monotonic + ConsoleClient.replyTimeout
        var line: [UInt8] = []
        var byte: UInt8 = 0
        while line.count <= ConsoleReply.maximumLine {
            let now = Clock.monotonic
            guard now < deadline else { throw ServiceError("guest \(guest)'s console socket did not answer within \(ConsoleClient.replyTimeout / 1_000_000_000) s") }
            let ready = cleave_poll_in(socket.rawValue, Int32((deadline - now) / 1_000_000) + 1)
            if ready == 0 || ready == -EINTR { continue }
            let n = withUnsafeMutableBytes(of: &byte) { cleave_read(socket.rawValue, $0.baseAddress, 1) }
            if n == -Int(EINTR) { continue }
            guard n == 1 else { throw ServiceError("guest \(guest)'s console socket closed before answering (its VMM may be stopping)") }
            if byte == 10 {
                guard let reply = ConsoleReply(line: line) else { throw ServiceError("guest \(guest)'s console socket answered \"\(String(decoding: line, as: UTF8.self))\", not a console reply") }
                return reply
            }
            line.append(byte)
        }
        throw ServiceError("guest \(guest)'s console socket sent no reply line")
    }

    /// `--no-follow`: the history to stdout, until the server closes.
    private func dump(_ socket: borrowing FileDescriptor, guest: String) throws(ServiceError) {
        let deadline = Clock.monotonic + ConsoleClient.dumpTimeout
        var buffer = [UInt8](repeating: 0, count: 16 * 1024)
        while Clock.monotonic < deadline {
            let ready = cleave_poll_in(socket.rawValue, 200)
            if ready == 0 || ready == -EINTR { continue }
            let n = buffer.withUnsafeMutableBytes { cleave_read(socket.rawValue, $0.baseAddress, $0.count) }
            if n == -Int(EINTR) { continue }
            if n == 0 { return }
            guard n > 0 else { throw ServiceError("reading guest \(guest)'s console: \(Errno(Int32(-n)))") }
            guard output(buffer, n) else { return }
        }
        throw ServiceError("guest \(guest)'s console history did not arrive within \(ConsoleClient.dumpTimeout / 1_000_000_000) s")
    }

    /// Keys that end a read-only client on a terminal besides the detach key:
    /// Ctrl-C and Ctrl-D, which raw mode passes as bytes.
    static let readOnlyEndKeys: [UInt8] = [0x03, 0x04]

    /// Copies the console to stdout and, when `writes`, stdin to the guest.
    private func attach(_ socket: borrowing FileDescriptor, guest: String, writes: Bool, seconds: UInt64?) -> Ending {
        Signals.install()
        let terminal = cleave_isatty(0) == 1
        let raw = terminal && cleave_set_raw_terminal(0, 1) == 0
        defer { if raw { _ = cleave_set_raw_terminal(0, 0) } }
        if writes {
            say("[cleave: attached to guest \(guest)'s console" + (terminal ? "; Ctrl-] detaches" : "") + "]")
        } else {
            say("[cleave: following guest \(guest)'s console, read-only" + (terminal ? "; Ctrl-], Ctrl-C or Ctrl-D detaches" : "") + "]")
        }
        // The last bytes received: a takeover's notice ends them.
        var tail: [UInt8] = []
        _ = cleave_set_nonblocking(socket.rawValue, 1)
        let deadline = seconds.map { Clock.monotonic + $0 * 1_000_000_000 }
        var outgoing: [UInt8] = []
        // A follower without a terminal leaves stdin alone.
        var stdinOpen = writes || terminal
        var buffer = [UInt8](repeating: 0, count: 4096)
        var ending: Ending? = nil
        while ending == nil {
            if let s = Signals.received { ending = .signalled(s); break }
            if let deadline, Clock.monotonic >= deadline { ending = .timedOut; break }
            var fds = [pollfd(fd: socket.rawValue, events: Int16(POLLIN | (outgoing.isEmpty ? 0 : POLLOUT)), revents: 0)]
            // Stdin waits while input is still on its way: the guest sets the pace.
            if stdinOpen && outgoing.isEmpty { fds.append(pollfd(fd: 0, events: Int16(POLLIN), revents: 0)) }
            let ready = fds.withUnsafeMutableBufferPointer { cleave_poll($0.baseAddress, UInt($0.count), 200) }
            if ready <= 0 { continue }
            let socketEvents = Int32(fds[0].revents)
            if socketEvents & Int32(POLLIN) != 0 {
                let n = buffer.withUnsafeMutableBytes { cleave_read(socket.rawValue, $0.baseAddress, $0.count) }
                if n == 0 || (n < 0 && n != -Int(EINTR) && n != -Int(EAGAIN)) { ending = closed(tail); break }
                if n > 0 && !output(buffer, n) { ending = .outputClosed; break }
                if n > 0 {
                    tail.append(contentsOf: buffer[0..<n])
                    if tail.count > ConsoleClient.tailKept { tail.removeFirst(tail.count - ConsoleClient.tailKept) }
                }
            } else if socketEvents & Int32(POLLHUP | POLLERR) != 0 {
                ending = closed(tail)
                break
            }
            if fds.count > 1 && Int32(fds[1].revents) & Int32(POLLIN | POLLHUP) != 0 {
                let n = buffer.withUnsafeMutableBytes { cleave_read(0, $0.baseAddress, $0.count) }
                if n == 0 || (n < 0 && n != -Int(EINTR) && n != -Int(EAGAIN)) {
                    // A terminal that hung up ends the session; a pipe's end only ends input.
                    if terminal { ending = .terminalClosed; break }
                    stdinOpen = false
                } else if n > 0 && !writes {
                    // Only the keys that end it count; nothing goes to the guest.
                    let bytes = buffer[0..<n]
                    if terminal && (bytes.contains(ConsoleClient.detachKey) || bytes.contains(where: { ConsoleClient.readOnlyEndKeys.contains($0) })) {
                        ending = .detached
                    }
                } else if n > 0 {
                    let bytes = Array(buffer[0..<n])
                    if terminal, let key = bytes.firstIndex(of: ConsoleClient.detachKey) {
                        outgoing.append(contentsOf: bytes[..<key])
                        ending = .detached
                    } else {
                        outgoing.append(contentsOf: bytes)
                    }
                }
            }
            flush(&outgoing, socket)
        }
        // What was typed before the detach key still goes (bounded: the server may be full).
        let flushDeadline = Clock.monotonic + 1_000_000_000
        let serverGone: Bool
        switch ending {
        case .consoleClosed, .takenOver: serverGone = true
        default: serverGone = false
        }
        while !outgoing.isEmpty && !serverGone && Clock.monotonic < flushDeadline {
            let before = outgoing.count
            flush(&outgoing, socket)
            if outgoing.count == before { Clock.sleep(nanoseconds: 10_000_000) }
        }
        return ending ?? .detached
    }

    /// How many of the last received bytes are kept to recognise a takeover's notice.
    static let tailKept = 256

    /// How a session ends whose socket the server closed: a takeover when
    /// the last bytes are its notice, else the guest's (or its VMM's) end.
    private func closed(_ tail: [UInt8]) -> Ending {
        if let pid = ConsoleNotice.takenOver(endOf: tail) { return .takenOver(by: pid) }
        return .consoleClosed
    }

    /// The first `count` bytes of `buffer` to stdout, whole; false when stdout
    /// is gone (EPIPE: SIGPIPE is ignored) or broken.
    private func output(_ buffer: [UInt8], _ count: Int) -> Bool {
        var done = 0
        while done < count {
            let n = buffer.withUnsafeBytes { cleave_write(StandardStream.output, $0.baseAddress! + done, count - done) }
            if n == -Int(EINTR) { continue }
            if n == -Int(EAGAIN) { _ = cleave_poll_in(-1, 10); continue }
            guard n > 0 else { return false }
            done += n
        }
        return true
    }

    /// Sends what the socket takes now.
    private func flush(_ outgoing: inout [UInt8], _ socket: borrowing FileDescriptor) {
        guard !outgoing.isEmpty else { return }
        let n = outgoing.withUnsafeBytes { cleave_send_nowait(socket.rawValue, $0.baseAddress, $0.count) }
        if n > 0 { outgoing.removeFirst(n) }
    }

    /// A line for the person at the console, on stderr (CR LF: the terminal
    /// may be raw). The lines after a session start with CR LF too, as the
    /// guest's last line may have no end yet.
    private func say(_ text: String) {
        let bytes = Array((text + "\r\n").utf8)
        bytes.withUnsafeBytes { StandardStream.write(StandardStream.error, $0) }
    }
}
