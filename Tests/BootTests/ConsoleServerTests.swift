import Foundation
import Testing
import CLinux
import Console
@testable import Supervisor
import Syscalls

/// A guest's console socket on real unix sockets: the history to a dump
/// client, live output and input for the attached one, a second attach
/// refused, a client that does not read told what it lost, a stale socket
/// replaced and a live one left alone, the file removed at shutdown.
@Suite struct ConsoleServerTests {
    static func directory() -> String {
        let dir = NSTemporaryDirectory() + "cleave-console-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        try? FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        return dir
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
        #expect(refusal.hasPrefix("error guest g's console is attached by another client (pid \(getpid()))"))
        let unknown = try Client(path, "hello\n")
        #expect(unknown.read().hasPrefix("error unknown request \"hello\""))

        server.shutdown()
        #expect(attached.read() == "")            // end of file: the VMM went away
        #expect(access(path, F_OK) != 0)          // the socket file is gone
    }

    @Test func aClientThatDoesNotReadIsToldWhatItLost() throws {
        let dir = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/slow.console.sock"
        let server = try ConsoleServer(path: path, guest: "slow")
        try server.start().get()
        let client = try Client(path, "attach\n")
        #expect(client.read(until: "ok slow\n") == "ok slow\n")
        // Far more than the socket buffers and the history hold; put never waits.
        let started = Date()
        for i in 0..<(4 << 20) { server.put(UInt8(ascii: "a") + UInt8(i % 26)) }
        #expect(Date().timeIntervalSince(started) < 30)
        let got = client.read(seconds: 5, until: "console dropped: this client read too slowly]")
        #expect(got.contains("bytes of guest slow's console dropped: this client read too slowly]"))
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
        #expect(throws: SupervisorError.self) { _ = try ConsoleServer(path: path, guest: "stale") }
        let dump = try Client(path, "dump\n")
        #expect(dump.read() == "ok stale\n")
        server.shutdown()
    }

    @Test func aPassedThroughUARTConsoleIsRefusedSayingWhere() throws {
        let dir = Self.directory()
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let path = dir + "/uart.console.sock"
        let server = try ConsoleServer(path: path, guest: "uart", unavailable: "guest uart's console is the passed-through UART /pl011@9000000")
        try server.start().get()
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
