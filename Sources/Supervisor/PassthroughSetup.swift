import DeviceTree
import Passthrough
import Syscalls

/// Issue 4's part of the supervisor: reading the assigned devices from
/// /chosen/cleave and bringing up their passthrough (Sources/Passthrough).
extension CarvedGuest {
    /// /chosen/cleave/<guest>/devices/<label>: `path`, `device-compatible`,
    /// `mmio` (<base-hi base-lo size-hi size-lo>...), `intids` (<INTID flags>...,
    /// flags 1 edge / 4 level), `passthrough`, `allow-unbind` (HostTree.swift).
    static func passthroughDevices(_ tree: DeviceTree, devices: Node) throws(SupervisorError) -> [PassthroughDevice] {
        var out: [PassthroughDevice] = []
        for node in tree.children(of: devices) {
            let where_ = tree.path(of: node)
            guard let path = tree.property("path", of: node)?.string else { throw .configuration("\(where_): no path") }
            let cells = tree.property("mmio", of: node)?.cells ?? []
            var mmio: [(base: UInt64, size: UInt64)] = []
            var i = 0
            while i + 4 <= cells.count {
                mmio.append((UInt64(cells[i]) << 32 | UInt64(cells[i + 1]), UInt64(cells[i + 2]) << 32 | UInt64(cells[i + 3])))
                i += 4
            }
            let irqCells = tree.property("intids", of: node)?.cells ?? []
            var interrupts: [PassthroughDevice.Interrupt] = []
            i = 0
            while i + 2 <= irqCells.count {
                guard irqCells[i] >= 32, irqCells[i] < 1020 else { throw .configuration("\(where_): intids holds \(irqCells[i]), not an SPI INTID") }
                interrupts.append(.init(intid: irqCells[i], level: irqCells[i + 1] & 0xc != 0))
                i += 2
            }
            let methodText = tree.property("passthrough", of: node)?.string ?? "auto"
            guard let method = PassthroughDevice.Method(rawValue: methodText) else {
                throw .configuration("\(where_): passthrough \"\(methodText)\" (auto, vfio, uio or devmem)")
            }
            out.append(PassthroughDevice(label: tree.name(of: node), path: path,
                                         compatible: tree.property("device-compatible", of: node)?.strings ?? [],
                                         mmio: mmio, interrupts: interrupts, method: method,
                                         allowUnbind: tree.property("allow-unbind", of: node) != nil))
        }
        return out
    }
}

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
