import Foundation
import Testing
import CLinux
import Console
@testable import Service
@testable import Supervisor
import Syscalls

/// `cleave-boot console`'s errors against a service's files in a scratch
/// root (a held lock, its info file, a guest's record) and a real console
/// socket: each names the guest and what to do. Needs root, as the command does.
@Suite(.enabled(if: getuid() == 0, "console is root's")) struct ConsoleClientTests {
    static func service() throws -> (ServicePaths, FileLock) {
        let root = NSTemporaryDirectory() + "cleave-service-\(getpid())-\(UInt32.random(in: 0...UInt32.max))"
        let paths = ServicePaths(root: root)
        for dir in [paths.root, paths.guests, paths.requests] { try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true) }
        let lock = try FileLock(taking: paths.lock)
        try Files.write(Array(ServiceInfo(pid: getpid(), tree: "/t.dtb", guests: ["linux", "rtos"]).text.utf8), to: paths.info)
        return (paths, lock)
    }

    func message(_ paths: ServicePaths, _ guest: String, request: ConsoleRequest = .dump) -> String? {
        do throws(ServiceError) { _ = try ConsoleClient(paths: paths).run(guest: guest, request: request, seconds: 1); return nil } catch {
            return error.description
        }
    }

    @Test func noService() throws {
        let paths = ServicePaths(root: NSTemporaryDirectory() + "cleave-none-\(getpid())")
        #expect(message(paths, "linux")?.hasPrefix("no cleave-boot service is running") == true)
    }

    @Test func unknownAndStoppedGuests() throws {
        let (paths, lock) = try Self.service()
        defer { try? FileManager.default.removeItem(atPath: paths.root) }
        #expect(message(paths, "nosuch")?.hasPrefix("no guest 'nosuch' in the running service (its guests: linux, rtos") == true)
        var record = ServiceRecord(name: "linux")
        record.state = .stopped
        record.reason = "stopped on request"
        try Files.write(Array(record.text.utf8), to: paths.record(of: "linux"))
        #expect(message(paths, "linux") == "guest linux is not running (stopped: stopped on request): start it with `cleave-boot restart linux`")
        record.state = .running
        record.pid = 4242
        try Files.write(Array(record.text.utf8), to: paths.record(of: "linux"))
        #expect(message(paths, "linux")?.hasPrefix("guest linux's VMM (pid 4242) has no console socket at \(paths.consoleSocket(of: "linux"))") == true)
        withExtendedLifetime(lock) {}
    }

    @Test func aSecondAttachIsRefused() throws {
        let (paths, lock) = try Self.service()
        defer { try? FileManager.default.removeItem(atPath: paths.root) }
        let server = try ConsoleServer(path: paths.consoleSocket(of: "rtos"), guest: "rtos")
        try server.start().get()
        let first = paths.consoleSocket(of: "rtos").withCString { cleave_unix_connect($0) }
        try #require(first >= 0)
        defer { _ = cleave_close(first) }
        _ = Array("attach\n".utf8).withUnsafeBytes { cleave_write(first, $0.baseAddress, $0.count) }
        Thread.sleep(forTimeInterval: 0.3)
        #expect(message(paths, "rtos", request: .attach) == "guest rtos's console refused the attach: guest rtos's console is attached by another client (pid \(getpid())): detach it first, take it over with --force, or follow it with --read-only")
        server.shutdown()
        withExtendedLifetime(lock) {}
    }

    /// An attached client another takes the console from (`--force`) ends at
    /// once with status 0, not at its `--timeout`: it knows the server's
    /// notice at the end of its stream. Stdin must not be a terminal (the
    /// client would put it in raw mode); the guest's bytes go to stdout.
    @Test(.enabled(if: isatty(0) == 0, "stdin is a terminal"))
    func anAttachedClientTakenOverEndsAtOnce() throws {
        let (paths, lock) = try Self.service()
        defer { try? FileManager.default.removeItem(atPath: paths.root) }
        let server = try ConsoleServer(path: paths.consoleSocket(of: "rtos"), guest: "rtos")
        try server.start().get()
        final class Outcome: @unchecked Sendable { var status: Int32? = nil; let done = DispatchSemaphore(value: 0) }
        let outcome = Outcome()
        let started = Date()
        Thread.detachNewThread {
            outcome.status = try? ConsoleClient(paths: paths).run(guest: "rtos", request: .attach, seconds: 8)
            outcome.done.signal()
        }
        Thread.sleep(forTimeInterval: 0.5)
        let taker = paths.consoleSocket(of: "rtos").withCString { cleave_unix_connect($0) }
        try #require(taker >= 0)
        defer { _ = cleave_close(taker) }
        _ = Array("take-over\n".utf8).withUnsafeBytes { cleave_write(taker, $0.baseAddress, $0.count) }
        #expect(outcome.done.wait(timeout: .now() + 6) == .success)
        #expect(outcome.status == 0)
        #expect(Date().timeIntervalSince(started) < 5)
        server.shutdown()
        withExtendedLifetime(lock) {}
    }
}
