import Supervisor

/// The running service as its control commands see it: its pid, the host
/// tree it read and its guests' names, in /run/cleave/service.info.
public struct ServiceInfo: Equatable {
    public var pid: Int32
    public var tree: String
    public var guests: [String]

    public init(pid: Int32, tree: String, guests: [String]) {
        self.pid = pid
        self.tree = tree
        self.guests = guests
    }

    public var text: String {
        KeyValueLines.text([("pid", "\(pid)"), ("tree", tree), ("guests", guests.joined(separator: ","))])
    }

    public init?(text: String) {
        var pid: Int32? = nil
        var tree = ""
        var guests: [String] = []
        for (key, value) in KeyValueLines.pairs(text) {
            switch key {
            case "pid": pid = Int32(value)
            case "tree": tree = value
            case "guests": guests = value.split(separator: ",").map(String.init)
            default: break
            }
        }
        guard let pid else { return nil }
        self.init(pid: pid, tree: tree, guests: guests)
    }
}
