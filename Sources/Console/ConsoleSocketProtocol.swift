/// What a console client and a guest's console socket (ConsoleServer) say
/// before the console's bytes flow: the client sends one request line, the
/// server answers one reply line, then raw bytes follow in both directions.
///
/// ```
/// client -> server   "attach\n"        the history, then live output; the client's bytes are input
///                    "dump\n"          the history as it is now, then the server closes
/// server -> client   "ok GUEST\n"      accepted: raw console bytes follow
///                    "error TEXT\n"    refused (TEXT says why and what to do); the server closes
/// ```
public enum ConsoleRequest: String, Equatable {
    case attach
    case dump

    /// The longest request line a server reads before it gives up on a client.
    public static let maximumLine = 64

    public var line: [UInt8] { Array((rawValue + "\n").utf8) }

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
