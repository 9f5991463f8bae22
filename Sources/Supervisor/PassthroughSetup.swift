import Passthrough
import Platform
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
                                      forwardingRuledOut: Supervisor.forwardingRuledOut(config),
                                      log: { event, detail in Log.write(.info, name, event, detail) })
        } catch {
            throw .configuration("passthrough: \(error)")
        }
    }

    /// Why `config`'s SPIs must not be forwarded, nil when they may. A
    /// forwarded SPI is steered to vCPU 0's CPU, and its deactivation is the
    /// guest's EOI on whichever vCPU the guest routed it to. A GICv2 may keep
    /// an SPI's active state per CPU (QEMU 7.2's does, docs/kernel-facts.md
    /// §24, "Which CPU"): an EOI from another CPU then leaves it active and
    /// the line dead. So on GICv2 only a one-vCPU guest forwards; `auto`
    /// falls back to irqfd, an explicit `forward` is a setup error naming this.
    static func forwardingRuledOut(_ config: GuestConfiguration) -> String? {
        guard case .v2 = config.gic, config.hostCPUs.count > 1 else { return nil }
        return "GICv2 with \(config.hostCPUs.count) vCPUs: the guest may route a forwarded SPI to a vCPU on another CPU than the one that takes it, and a GICv2 that keeps SPI active state per CPU (QEMU 7.2's) never sees that EOI; forwarding on GICv2 needs a one-vCPU guest"
    }
}
