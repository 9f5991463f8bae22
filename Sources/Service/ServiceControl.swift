import CLinux
import Supervisor
import Syscalls

/// The client side of the service's control: finds the running service
/// (the holder of its lock, `ServiceInfo`), checks a guest name against
/// its guests, and passes `stop`/`restart` as a request file the service
/// polls and removes once done.
public struct ServiceControl {
    let paths: ServicePaths
    /// How long a request may take: the service's SIGTERM-to-SIGKILL bound plus reaping.
    static let requestTimeout: UInt64 = 20_000_000_000

    public init(paths: ServicePaths = ServicePaths()) { self.paths = paths }

    /// The running service, or an error saying there is none and how to start one.
    public func running() throws(ServiceError) -> ServiceInfo {
        guard let holder = FileLock.holder(paths.lock) else {
            throw ServiceError("no cleave-boot service is running (no process holds \(paths.lock)): start one with `cleave-boot start`")
        }
        guard let text = try? Files.readText(paths.info), let info = ServiceInfo(text: text) else {
            throw ServiceError("the service" + (holder.map { " (pid \($0))" } ?? "") + " holds \(paths.lock) but \(paths.info) is missing or unreadable: it may still be starting; try again")
        }
        return info
    }

    /// `guest` checked against the service's guests.
    public func guest(_ guest: String, of info: ServiceInfo) throws(ServiceError) -> String {
        guard info.guests.contains(guest) else {
            throw ServiceError("no guest '\(guest)' in the running service (its guests: \(info.guests.joined(separator: ", ")); from \(info.tree))")
        }
        return guest
    }

    /// Asks the service to stop or restart `guest` and waits until it has;
    /// returns the service's record of the guest afterwards. Root only.
    public func request(_ request: ServiceRequest, guest name: String) throws(ServiceError) -> ServiceRecord {
        guard ChildProcess.userID == 0 else {
            throw ServiceError("\(request.rawValue) is for root only (uid \(ChildProcess.userID)): run it as root")
        }
        let info = try running()
        let guest = try guest(name, of: info)
        let path = paths.request(request, of: guest)
        do throws(Errno) { try Files.write(Array("\(ChildProcess.currentID)\n".utf8), to: path) } catch {
            throw ServiceError("cannot write the request \(path): \(error)")
        }
        let deadline = Clock.monotonic + ServiceControl.requestTimeout
        while path.withCString({ cleave_exists($0) }) == 1 {
            guard Clock.monotonic < deadline else {
                throw ServiceError("the service (pid \(info.pid)) did not act on \(path) within \(ServiceControl.requestTimeout / 1_000_000_000) s; see its log")
            }
            guard ChildProcess.exists(info.pid) else {
                _ = path.withCString { cleave_unlink($0) }
                throw ServiceError("the service (pid \(info.pid)) ended before acting on the request")
            }
            Clock.sleep(nanoseconds: 50_000_000)
        }
        guard let text = try? Files.readText(paths.record(of: guest)), let record = ServiceRecord(text: text) else {
            throw ServiceError("the service acted on the request but \(paths.record(of: guest)) is unreadable")
        }
        return record
    }
}
