import DeviceTree
import PartitionRecord
import Platform

extension Plan {
    /// A starting plan for a board: one guest on the last CPU with up to
    /// `deviceCount` devices that can be passed through as they are (enabled,
    /// MMIO and GIC SPIs of their own, no SPI shared with another enabled
    /// device). Stand-in clocks get `clockRate`. Used by `cleave suggest`, the
    /// corpus test and the benchmark; nil when the board has fewer than two
    /// CPUs or no GIC.
    public static func suggested(for board: Board, deviceCount: Int = 2, memorySize: UInt64 = 0x1000_0000,
                                 clockRate: UInt32 = 24_000_000) -> Plan? {
        guard board.cpus.count >= 2, board.gic != nil,
              let compatible = board.tree.compatible(of: board.tree.root).first else { return nil }
        var devices: [DeviceAssignment] = []
        var labels: [String] = []
        for device in board.devices where devices.count < deviceCount {
            guard device.role == .device, device.enabled, !device.mmioRanges.isEmpty, !device.spis.isEmpty,
                  device.addressProblem == nil else { continue }
            if device.interrupts.count != device.spis.count { continue }
            if device.spis.contains(where: { !board.sharers(ofSPI: $0.intid, except: device.node).isEmpty }) { continue }
            // Skip a device inside (or containing) one already chosen.
            if devices.contains(where: { d in
                guard let other = board.resolve(d.reference) else { return false }
                return board.tree.isDescendant(device.node, of: other) || board.tree.isDescendant(other, of: device.node)
            }) { continue }
            var label = board.tree.baseName(of: device.node)
            var n = 1
            while labels.contains(label) { label = board.tree.baseName(of: device.node) + "-\(n)"; n += 1 }
            labels.append(label)
            devices.append(DeviceAssignment(label: label, reference: device.path, clockFrequency: clockRate,
                                            clockFrequencies: [], passthrough: .auto, allowUnbind: false))
        }
        var size = memorySize
        if !board.memory.isEmpty {
            let ram = board.memory.reduce(UInt64(0)) { $0 &+ $1.size }
            while size > 0x20_0000 && (size > ram || ram - size < 0x1000_0000) { size /= 2 }
        }
        let guest = GuestPlan(name: "guest", cpus: [board.cpus[board.cpus.count - 1].logical], memorySize: size,
                              memoryBase: nil, hugepageSize: .twoMiB, kernel: "/guest/Image", initrd: nil,
                              bootargs: "console=ttyS0", console: .virtual, restart: .never, maxRestarts: 0,
                              devices: devices, gpioLines: [])
        return Plan(board: compatible, guests: [guest])
    }
}
