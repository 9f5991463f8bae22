import CLinux
import Syscalls

/// A passed-through device window the guest cannot reach through stage 2 (it
/// does not fill its pages, so mapping them would expose a neighbour's
/// registers): its accesses exit to the supervisor, which forwards each to
/// the device, through VFIO's region or its own mapping of the page.
public struct TrappedWindow {
    enum Access {
        case vfio(VFIODevice, VFIODevice.Region)
        /// The supervisor's own mapping of the page(s); `offset` of the window in it.
        case mapped(Mapping, offset: UInt64)
    }

    public let base: UInt64
    public let size: UInt64
    /// The device's path in the host tree.
    public let device: String
    let access: Access

    /// Forwards a read of `length` bytes at `address`; nil when the access
    /// leaves the window or the device refused it.
    public func read(_ address: UInt64, length: Int) -> UInt64? {
        guard let offset = offset(address, length) else { return nil }
        switch access {
        case .vfio(let device, let region):
            if case .success(let v) = device.read(region, offset: offset, length: length) { return v }
            return nil
        case .mapped(let m, let start):
            return cleave_mmio_read(m.base + Int(start + offset), Int32(length))
        }
    }

    /// Forwards a write; false when the access leaves the window or the device refused it.
    public func write(_ address: UInt64, length: Int, value: UInt64) -> Bool {
        guard let offset = offset(address, length) else { return false }
        switch access {
        case .vfio(let device, let region):
            if case .success = device.write(region, offset: offset, length: length, value: value) { return true }
            return false
        case .mapped(let m, let start):
            cleave_mmio_write(m.base + Int(start + offset), Int32(length), value)
            return true
        }
    }

    /// `address`'s offset in the window when `length` bytes from it lie inside.
    private func offset(_ address: UInt64, _ length: Int) -> UInt64? {
        guard address >= base, length > 0 else { return nil }
        let offset = address - base
        guard offset < size, UInt64(length) <= size - offset else { return nil }
        return offset
    }
}
