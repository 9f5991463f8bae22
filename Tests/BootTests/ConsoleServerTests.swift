import Foundation
import Testing
import CLinux
import Console
@testable import Supervisor
import Syscalls

/// A guest's console socket on real unix sockets: the history to a dump
/// client, live output and input for the attached one, a second attach
/// refused, read-only followers beside the writer, a forced takeover, a
/// client that does not read told what it lost, a stale socket replaced and
/// a live one left alone, the file removed at shutdown.
@Suite struct ConsoleServerTests {
    static func directory() -> String {
        let dir = NSTemporaryDirectory() + "cleave-console-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
    }

    /// A started server for `guest` on a socket in a directory of its own,
    /// removed with it.
    final class Served {
        let dir = ConsoleServerTests.directory()
        let path: String
        let server: ConsoleServer

        init(_ guest: String, unavailable: String? = nil) throws {
            path = dir + "/\(guest).console.sock"
            server = try ConsoleServer(path: path, guest: guest, unavailable: unavailable)
            try server.start().get()
        }
        deinit { try? FileManager.default.removeItem(atPath: dir) }

        /// A UART the attached client's input goes to.
        func uart() -> UART16550 {
            let uart = UART16550(base: 0, output: { _ in }, setLine: { _ in })
            server.input.attach(uart)
            return uart
        }
    }

    /// A connected client socket that has sent `request`.
    final class Client {
        let fd: Int32
        init(_ path: String, _ request: String) throws {
            fd = path.withCString { cleave_unix_connect($0) }
            try #require(fd >= 0, "connect \(path): \(Errno(-fd))")
            let bytes = Array(request.utf8)
            #expect(bytes.withUnsafeBytes { cleave_write(fd, $0.baseAddress, $0.count) } == bytes.count)
        }
        deinit { _ = cleave_close(fd) }

        /// Sends `text` now (never waits, never raises SIGPIPE); whether all of it went.
        @discardableResult func send(_ text: String) -> Bool {
            let bytes = Array(text.utf8)
            return bytes.withUnsafeBytes { cleave_send_nowait(fd, $0.baseAddress, $0.count) } == bytes.count
        }

        /// What arrives within `seconds` (until EOF, or `until` is seen).
        func read(seconds: Double = 2, until text: String? = nil) -> String {
            var got: [UInt8] = []
            let deadline = Date().addingTimeInterval(seconds)
            var buffer = [UInt8](repeating: 0, count: 65536)
            while Date() < deadline {
                if let text, String(decoding: got, as: UTF8.self).contains(text) { break }
                guard cleave_poll_in(fd, 50) > 0 else { continue }
                let n = buffer.withUnsafeMutableBytes { cleave_read(fd, $0.baseAddress, $0.count) }
                if n <= 0 { break }
                got += buffer[0..<n]
            }
            return String(decoding: got, as: UTF8.self)
        }
    }

    @Test func dumpAttachInputAndRefusal() throws {
        let dir = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/g.console.sock"
        let server = try ConsoleServer(path: path, guest: "g")
        try server.start().get()
        var st = stat()
        #expect(stat(path, &st) == 0)
        #expect(st.st_mode & 0o777 == 0o600)
        for b in "hello\n".utf8 { server.put(b) }

        let dump = try Client(path, "dump\n")
        #expect(dump.read() == "ok g\nhello\n")

        let uart = UART16550(base: 0, output: { _ in }, setLine: { _ in })
        server.input.attach(uart)
        let attached = try Client(path, "attach\nxy")
        #expect(attached.read(until: "hello\n") == "ok g\nhello\n")
        for b in "more".utf8 { server.put(b) }
        #expect(attached.read(until: "more") == "more")
        // The bytes after the request line reached the UART's receive path.
        var received: [UInt8] = []
        for _ in 0..<100 where received.count < 2 {
            while uart.read(5) & 1 != 0 { received.append(uart.read(0)) }
            Thread.sleep(forTimeInterval: 0.01)
        }
        #expect(received == Array("xy".utf8))

        let second = try Client(path, "attach\n")
        let refusal = second.read()
        #expect(refusal == "error guest g's console is attached by another client (pid \(getpid())): detach it first, take it over with --force, or follow it with --read-only\n")
        let unknown = try Client(path, "hello\n")
        #expect(unknown.read() == "error unknown request \"hello\" (send one of \"attach\", \"take-over\", \"follow\", \"dump\")\n")

        server.shutdown()
        #expect(attached.read() == "")            // end of file: the VMM went away
        #expect(access(path, F_OK) != 0)          // the socket file is gone
    }

    /// What the UART's receive path got within `seconds`.
    static func received(_ uart: UART16550, seconds: Double = 1) -> String {
        var bytes: [UInt8] = []
        let deadline = Date().addingTimeInterval(seconds)
        while Date() < deadline {
            while uart.read(5) & 1 != 0 { bytes.append(uart.read(0)) }
            Thread.sleep(forTimeInterval: 0.01)
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// Two read-only followers and the writer at once: each gets the history
    /// and the live output; only the writer's bytes reach the UART (a
    /// follower's, even those right after its request line, are dropped).
    @Test func followersBesideTheWriterGetLiveOutputAndSendNothing() throws {
        let served = try Served("f")
        let (path, server) = (served.path, served.server)
        let uart = served.uart()
        for b in "boot\n".utf8 { server.put(b) }
        let first = try Client(path, "follow\nzz")
        let writer = try Client(path, "attach\n")
        let second = try Client(path, "follow\n")
        for c in [first, writer, second] { #expect(c.read(until: "boot\n") == "ok f\nboot\n") }
        // The writer is still the one: a plain attach is refused, naming it and the options.
        let refused = try Client(path, "attach\n")
        #expect(refused.read() == "error guest f's console is attached by another client (pid \(getpid())): detach it first, take it over with --force, or follow it with --read-only\n")

        #expect(first.send("ff") && second.send("ss") && writer.send("ww"))
        for b in "live\n".utf8 { server.put(b) }
        for c in [first, writer, second] { #expect(c.read(until: "live\n") == "live\n") }
        #expect(Self.received(uart) == "ww")
        server.shutdown()
        for c in [first, writer, second] { #expect(c.read() == "") }
    }

    /// `take-over` with a writer attached: the old writer gets the output up
    /// to then, the notice naming the new client's pid, and its end of file;
    /// its bytes no longer reach the UART, the new writer's do, and the new
    /// writer (not the old) gets the output after the takeover.
    @Test func aTakeOverDetachesTheWriterWithANotice() throws {
        let served = try Served("t")
        let (path, server) = (served.path, served.server)
        let uart = served.uart()
        let old = try Client(path, "attach\n")
        let follower = try Client(path, "follow\n")
        for b in "before\n".utf8 { server.put(b) }
        #expect(old.read(until: "before\n") == "ok t\nbefore\n")
        #expect(old.send("o1"))
        #expect(Self.received(uart, seconds: 0.5) == "o1")

        let new = try Client(path, "take-over\nn1")
        #expect(new.read(until: "before\n") == "ok t\nbefore\n")
        // The old writer is told who took over, then its socket ends.
        #expect(old.read(seconds: 3) == "\r\n[cleave: guest t's console was taken over by pid \(getpid()) (console --force): detached]\r\n")
        old.send("o2")
        #expect(new.send("n2"))
        #expect(Self.received(uart) == "n1n2")
        for b in "after\n".utf8 { server.put(b) }
        #expect(new.read(until: "after\n") == "after\n")
        #expect(follower.read(until: "after\n") == "ok t\nbefore\nafter\n")
        // The new writer holds the console: a plain attach names it.
        let refused = try Client(path, "attach\n")
        #expect(refused.read().hasPrefix("error guest t's console is attached by another client (pid \(getpid()))"))
        server.shutdown()
    }

    @Test func aTakeOverWithNoWriterAttaches() throws {
        let served = try Served("n")
        let (path, server) = (served.path, served.server)
        let uart = served.uart()
        let client = try Client(path, "take-over\nk")
        #expect(client.read(until: "ok n\n") == "ok n\n")
        #expect(Self.received(uart, seconds: 0.5) == "k")
        server.shutdown()
    }

    @Test func aClientThatDoesNotReadIsToldWhatItLost() throws {
        let served = try Served("slow")
        let (path, server) = (served.path, served.server)
        let client = try Client(path, "attach\n")
        #expect(client.read(until: "ok slow\n") == "ok slow\n")
        let follower = try Client(path, "follow\n")
        #expect(follower.read(until: "ok slow\n") == "ok slow\n")
        // Far more than the socket buffers and the history hold; put never waits.
        let started = Date()
        for i in 0..<(4 << 20) { server.put(UInt8(ascii: "a") + UInt8(i % 26)) }
        #expect(Date().timeIntervalSince(started) < 30)
        for reader in [client, follower] {
            let got = reader.read(seconds: 5, until: "console dropped: this client read too slowly]")
            #expect(got.contains("bytes of guest slow's console dropped: this client read too slowly]"))
        }
        server.shutdown()
    }

    @Test func aStaleSocketIsReplacedALiveOneIsNot() throws {
        let dir = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/stale.console.sock"
        // A socket file nothing listens on, as a VMM killed with SIGKILL leaves it.
        let fd = path.withCString { cleave_unix_listen($0, 0o600, 1) }
        try #require(fd >= 0)
        _ = cleave_close(fd)
        #expect(access(path, F_OK) == 0)
        let server = try ConsoleServer(path: path, guest: "stale")
        try server.start().get()
        // A live one is left alone, and the error names who serves it.
        let refused = #expect(throws: SupervisorError.self) { _ = try ConsoleServer(path: path, guest: "stale") }
        #expect("\(refused.map { "\($0)" } ?? "")".contains("served by pid \(getpid()) ("))
        let dump = try Client(path, "dump\n")
        #expect(dump.read() == "ok stale\n")
        server.shutdown()
    }

    @Test func aPassedThroughUARTConsoleIsRefusedSayingWhere() throws {
        let served = try Served("uart", unavailable: "guest uart's console is the passed-through UART /pl011@9000000")
        let (path, server) = (served.path, served.server)
        let client = try Client(path, "attach\n")
        #expect(client.read() == "error guest uart's console is the passed-through UART /pl011@9000000\n")
        server.shutdown()
    }

    /// A VMM started again by the service: its history begins with what the
    /// guest's console log holds (the rotated half, then the current one),
    /// cut to the history's size, and live output follows it.
    @Test func aRestartedVMMSeedsItsHistoryFromTheConsoleLog() throws {
        let dir = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let logPath = dir + "/g.console"
        do {
            // A small cap: "older\n" fills its half, so "newer" starts a new file.
            let log = try ConsoleLog(path: logPath, cap: 12)
            for b in "older\nnewer\n".utf8 { log.put(b) }
        }
        #expect(FileManager.default.contents(atPath: logPath + ".1") == Data("older\n".utf8))
        #expect(ConsoleLog.tail(of: logPath, limit: 1 << 16) == Array("older\nnewer\n".utf8))
        #expect(ConsoleLog.tail(of: logPath, limit: 4) == Array("wer\n".utf8))
        #expect(ConsoleLog.tail(of: dir + "/none.console", limit: 16).isEmpty)

        let path = dir + "/g.console.sock"
        let server = try ConsoleServer(path: path, guest: "g")
        server.seed(ConsoleLog.tail(of: logPath, limit: ConsoleServer.historyCapacity))
        try server.start().get()
        for b in "live\n".utf8 { server.put(b) }
        let dump = try Client(path, "dump\n")
        #expect(dump.read() == "ok g\nolder\nnewer\nlive\n")
        server.shutdown()
    }
}
