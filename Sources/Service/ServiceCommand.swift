import CLinux
import Options
import Supervisor
import Syscalls

/// The service's commands as both executables run them (`cleave-boot
/// start|status|stop|restart|console`, `cleave status|stop|restart|console`):
/// one function, so they behave alike. Returns the exit status; an error is
/// one log line (`event=COMMAND error="..."`) and status 1.
public enum ServiceCommand {
    public static func run(_ options: ServiceOptions, paths: ServicePaths = ServicePaths()) -> Int32 {
        let control = ServiceControl(paths: paths)
        do throws(ServiceError) {
            switch options {
            case .start(let tree, let kmsg):
                try PartitionService(treePath: tree, paths: paths, kmsg: kmsg).run()
            case .status(let json):
                let report = StatusReport.read(try control.running(), paths: paths)
                print(json ? report.json : report.text, terminator: "")
            case .stop(let guest):
                let record = try control.request(.stop, guest: guest)
                print("\(guest): \(record.state.rawValue) (\(record.reason))")
            case .restart(let guest):
                let record = try control.request(.restart, guest: guest)
                print("\(guest): \(record.state.rawValue) pid=\(record.pid)")
            case .console(let guest, let request, let seconds):
                return try ConsoleClient(paths: paths).run(guest: guest, request: request, seconds: seconds)
            }
        } catch {
            Log.write(.error, "service", options.command, "error=\"\(error)\"")
            return 1
        }
        return 0
    }
}

extension ServiceOptions {
    /// The command's name, for log lines.
    var command: String {
        switch self {
        case .start: return "start"
        case .status: return "status"
        case .stop: return "stop"
        case .restart: return "restart"
        case .console: return "console"
        }
    }
}
