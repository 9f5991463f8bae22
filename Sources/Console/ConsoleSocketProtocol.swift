/// What a console client and a guest's console socket (ConsoleServer) say
/// before the console's bytes flow: the client sends one request line, the
/// server answers one reply line, then raw bytes follow in both directions.
///
/// ```
/// client -> server   "attach\n"        the history, then live output; the client's bytes are input
///                                       (refused while another client is attached)
///                    "take-over\n"     as attach; an attached client is detached (ConsoleNotice.takenOver)
///                    "follow\n"        the history, then live output; the client's bytes are dropped
///                    "dump\n"          the history as it is now, then the server closes
/// server -> client   "ok GUEST\n"      accepted: raw console bytes follow
///                    "error TEXT\n"    refused (TEXT says why and what to do); the server closes
/// ```
///
/// A server that predates a request refuses it as unknown, naming the ones
/// it has: a client tells its user so rather than guessing.
public enum ConsoleRequest: String, Equatable {
    case attach
    case takeOver = "take-over"
    case follow
    case dump

    /// The longest request line a server reads before it gives up on a client.
    public static let maximumLine = 64

    /// Every request, as a server lists them in a refusal.
    public static let all: [ConsoleRequest] = [.attach, .takeOver, .follow, .dump]

    public var line: [UInt8] { Array((rawValue + "\n").utf8) }

    /// Whether the client's bytes go to the guest (one such client at a time).
    public var writes: Bool { self == .attach || self == .takeOver }

    /// Whether live output follows the history.
    public var follows: Bool { self != .dump }

    /// The request in `line` (without its newline; a trailing CR is allowed).
    public init?(line: [UInt8]) {
        var text = line
        if text.last == 13 { text.removeLast() }
        guard let value = ConsoleRequest(rawValue: String(decoding: text, as: UTF8.self)) else { return nil }
        self = value
    }
}

public enum ConsoleReply: Equatable {
    case accepted(guest: String)
    case refused(String)

    /// The longest reply line a client waits for.
    public static let maximumLine = 512

    public var line: [UInt8] {
        switch self {
        case .accepted(let guest): return Array("ok \(guest)\n".utf8)
        case .refused(let text): return Array("error \(ConsoleReply.oneLine(text))\n".utf8)
        }
    }

    /// The reply in `line` (without its newline), nil when it is neither.
    public init?(line: [UInt8]) {
        let text = String(decoding: line, as: UTF8.self)
        if text.hasPrefix("ok ") {
            self = .accepted(guest: String(text.dropFirst(3)))
        } else if text.hasPrefix("error ") {
            self = .refused(String(text.dropFirst(6)))
        } else {
            return nil
        }
    }

    /// `text` on one line, cut to fit the reply.
    static func oneLine(_ text: String) -> String {
        var bytes = Array(text.utf8).map { $0 == 10 || $0 == 13 ? UInt8(ascii: " ") : $0 }
        let room = maximumLine - 7
        if bytes.count > room { bytes = Array(bytes[0..<room]) }
        return String(decoding: bytes, as: UTF8.self)
    }
}
