import Testing
import Console
@testable import Supervisor

/// The console socket's pieces that need no guest: the history ring, the
/// request and reply lines, and the kernel-log record of a log line.
@Suite struct ConsoleHistoryTests {
    @Test func holdsEverythingBelowCapacity() {
        var h = ConsoleHistory(capacity: 8)
        #expect(h.count == 0 && h.start == 0 && h.end == 0)
        #expect(h.bytes(from: 0, limit: 100) == [])
        h.append(contentsOf: Array("hello".utf8))
        #expect(h.start == 0 && h.end == 5 && h.count == 5)
        #expect(h.bytes(from: 0, limit: 100) == Array("hello".utf8))
        #expect(h.bytes(from: 3, limit: 100) == Array("lo".utf8))
        #expect(h.bytes(from: 1, limit: 2) == Array("el".utf8))
        #expect(h.bytes(from: 5, limit: 10) == [])
        #expect(h.bytes(from: 99, limit: 10) == [])
    }

    @Test func keepsTheLastCapacityBytesAcrossTheWrap() {
        var h = ConsoleHistory(capacity: 8)
        h.append(contentsOf: Array("0123456789abc".utf8))
        #expect(h.end == 13 && h.start == 5 && h.count == 8)
        #expect(h.bytes(from: 0, limit: 100) == Array("56789abc".utf8)) // a lost reader starts at `start`
        #expect(h.bytes(from: 6, limit: 4) == Array("6789".utf8))
        #expect(h.bytes(from: 7, limit: 100) == Array("789abc".utf8))   // across the ring's end
        for n in 0..<100 { h.append(UInt8(n)) }
        #expect(h.end == 113 && h.bytes(from: 105, limit: 8) == (92..<100).map { UInt8($0) })
    }

    @Test func aReaderThatKeepsUpSeesEveryByteOnce() {
        var h = ConsoleHistory(capacity: 16)
        var position: UInt64 = 0
        var seen: [UInt8] = []
        for round in 0..<50 {
            h.append(contentsOf: (0..<(round % 13)).map { UInt8(truncatingIfNeeded: $0 + round) })
            let chunk = h.bytes(from: position, limit: 5)
            seen += chunk
            position += UInt64(chunk.count)
            let rest = h.bytes(from: position, limit: 100)
            seen += rest
            position += UInt64(rest.count)
        }
        #expect(position == h.end && UInt64(seen.count) == h.end)
    }

    @Test func requestAndReplyLines() {
        #expect(ConsoleRequest.attach.line == Array("attach\n".utf8))
        #expect(ConsoleRequest(line: Array("dump".utf8)) == .dump)
        #expect(ConsoleRequest(line: Array("attach\r".utf8)) == .attach)
        #expect(ConsoleRequest(line: Array("atach".utf8)) == nil)
        #expect(ConsoleRequest(line: Array("follow".utf8)) == .follow)
        #expect(ConsoleRequest(line: Array("take-over\r".utf8)) == .takeOver)
        #expect(ConsoleRequest.takeOver.line == Array("take-over\n".utf8))
        #expect(ConsoleRequest.all.filter(\.writes) == [.attach, .takeOver])
        #expect(ConsoleRequest.all.filter { !$0.follows } == [.dump])
        #expect(ConsoleReply.accepted(guest: "linux").line == Array("ok linux\n".utf8))
        #expect(ConsoleReply(line: Array("ok linux".utf8)) == .accepted(guest: "linux"))
        let refused = ConsoleReply.refused("busy\nnow")
        #expect(refused.line == Array("error busy now\n".utf8))
        #expect(ConsoleReply(line: Array("error busy now".utf8)) == .refused("busy now"))
        #expect(ConsoleReply(line: Array("hello".utf8)) == nil)
        #expect(ConsoleReply.refused(String(repeating: "x", count: 2000)).line.count <= ConsoleReply.maximumLine)
    }

    /// The takeover notice a server writes is the one a client recognises,
    /// only at the very end of what it received.
    @Test func noticesReadBack() {
        let notice = ConsoleNotice.takenOver(guest: "linux", pid: 4321)
        #expect(notice.text == "[cleave: guest linux's console was taken over by pid 4321 (console --force): detached]")
        #expect(ConsoleNotice.takenOver(endOf: Array("guest output".utf8) + notice.bytes) == 4321)
        #expect(ConsoleNotice.takenOver(endOf: notice.bytes + Array("more".utf8)) == nil)
        #expect(ConsoleNotice.takenOver(endOf: Array(notice.bytes.dropFirst(40))) == nil)
        #expect(ConsoleNotice.takenOver(endOf: Array("taken over by pid  (console --force): detached]\r\n".utf8)) == nil)
        #expect(ConsoleNotice.dropped(guest: "g", bytes: 9).bytes == Array("\r\n[cleave: 9 bytes of guest g's console dropped: this client read too slowly]\r\n".utf8))
    }

    @Test func kmsgRecordsCarryTheLevelAndAreBounded() {
        #expect(KmsgLine(level: .error, text: "cleave-boot: error guest=a event=b").bytes == Array("<3>cleave-boot: error guest=a event=b\n".utf8))
        #expect(KmsgLine(level: .warning, text: "x").bytes == Array("<4>x\n".utf8))
        #expect(KmsgLine(level: .info, text: "a\nb").bytes == Array("<6>a b\n".utf8))
        let long = KmsgLine(level: .info, text: String(repeating: "é", count: 1000)).bytes
        #expect(long.count <= KmsgLine.maximumBytes)
        #expect(Array(long.suffix(4)) == Array("...\n".utf8))
        // Cut between characters: what is left decodes without replacement characters.
        let text = String(decoding: long, as: UTF8.self)
        #expect(!text.contains("\u{FFFD}"))
    }
}
