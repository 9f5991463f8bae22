import Passthrough
import Syscalls

/// Issue 4's part of the supervisor: bringing up the passthrough of the
/// assigned devices (Sources/Passthrough).
extension Supervisor {
    /// Takes the configured devices from the host (nil when there are none).
    func preparePassthrough() throws(SupervisorError) -> PassthroughSet? {
        guard !config.passthroughDevices.isEmpty else { return nil }
        let name = config.name
        do throws(PassthroughError) {
            return try PassthroughSet(guest: name, devices: config.passthroughDevices,
                                      hostCPU: config.hostCPUs.first ?? nil,
                                      log: { event, detail in Log.write(.info, name, event, detail) })
        } catch {
            throw .configuration("passthrough: \(error)")
        }
    }
}
