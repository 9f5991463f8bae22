/// Where the partition service keeps its files (all under /run/cleave,
/// mode 0700: root only, like the host-state files beside them):
///
/// ```
/// /run/cleave/service.lock          flock held by the running service; its pid
/// /run/cleave/service.info          the service's pid, tree and guest names (ServiceInfo)
/// /run/cleave/guests/NAME.status    written by the guest's VMM process (GuestStatus)
/// /run/cleave/guests/NAME.service   written by the service (ServiceRecord)
/// /run/cleave/guests/NAME.console   the guest's console, bounded (ConsoleLog, with NAME.console.1)
/// /run/cleave/guests/NAME.console.sock  the guest's console socket (ConsoleServer, mode 0600)
/// /run/cleave/requests/NAME.stop    a `stop` request, removed once done
/// /run/cleave/requests/NAME.restart a `restart` request, removed once done
/// ```
public struct ServicePaths {
    public let root: String

    public init(root: String = "/run/cleave") { self.root = root }

    public var lock: String { root + "/service.lock" }
    public var info: String { root + "/service.info" }
    public var guests: String { root + "/guests" }
    public var requests: String { root + "/requests" }

    public func status(of guest: String) -> String { "\(guests)/\(guest).status" }
    public func record(of guest: String) -> String { "\(guests)/\(guest).service" }
    public func console(of guest: String) -> String { "\(guests)/\(guest).console" }
    public func consoleSocket(of guest: String) -> String { "\(guests)/\(guest).console.sock" }
    public func request(_ request: ServiceRequest, of guest: String) -> String { "\(requests)/\(guest).\(request.rawValue)" }
}

/// What `cleave-boot stop` and `restart` ask of the service.
public enum ServiceRequest: String, CaseIterable {
    case stop, restart
}
