/// A line a guest's console socket (ConsoleServer) puts into a client's
/// stream of console bytes, on a line of its own (CR LF around it: the
/// client's terminal may be raw): what the client lost, or why it is being
/// detached. The server writes it with `bytes`; a client that must tell a
/// takeover from the guest's end reads it back with `takenOver(endOf:)`.
public enum ConsoleNotice: Equatable {
    /// The client read too slowly: `bytes` of output left the history before it got them.
    case dropped(guest: String, bytes: UInt64)
    /// Another client (process `pid`) took the console over with `take-over`;
    /// the server closes this client's socket right after the notice.
    case takenOver(guest: String, pid: Int32)

    public var text: String {
        switch self {
        case .dropped(let guest, let bytes):
            return "[cleave: \(bytes) bytes of guest \(guest)'s console dropped: this client read too slowly]"
        case .takenOver(let guest, let pid):
            return "[cleave: guest \(guest)'s console was taken over by pid \(pid) (console --force): detached]"
        }
    }

    public var bytes: [UInt8] { Array(("\r\n" + text + "\r\n").utf8) }

    /// The pid in a `takenOver` notice that `tail` (the last bytes a client
    /// received before the server closed) ends with, nil when it ends otherwise.
    public static func takenOver(endOf tail: [UInt8]) -> Int32? {
        let lead = Array("'s console was taken over by pid ".utf8)
        let trail = Array(" (console --force): detached]\r\n".utf8)
        guard tail.count > lead.count + trail.count,
              Array(tail[(tail.count - trail.count)...]) == trail else { return nil }
        let end = tail.count - trail.count
        var start = end
        while start > 0, tail[start - 1] >= UInt8(ascii: "0"), tail[start - 1] <= UInt8(ascii: "9") { start -= 1 }
        guard start < end, start >= lead.count, Array(tail[(start - lead.count)..<start]) == lead else { return nil }
        return Int32(String(decoding: tail[start..<end], as: UTF8.self))
    }
}
