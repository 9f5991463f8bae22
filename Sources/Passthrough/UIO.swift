import CLinux
import Syscalls

/// A device bound to uio_pdrv_genirq (Documentation/driver-api/uio-howto.rst):
/// /dev/uioN, whose read(2) blocks until the interrupt fires (returning the
/// event count) and whose write(2) of a 32-bit 1 re-enables the interrupt the
/// driver's handler disabled (irqcontrol). Its maps are the device's `reg`
/// windows rounded out to pages; map i is mmapped at offset i * page size.
public final class UIODevice {
    public struct Map {
        /// Page-aligned physical address of the map and its size (whole pages).
        public var address: UInt64
        public var size: UInt64
        /// Offset of the device's registers within the first page.
        public var offset: UInt64
    }

    let fd: FileDescriptor
    public let node: String
    public let maps: [Map]

    /// `host` must already be bound to uio_pdrv_genirq.
    public init(host: HostDevice) throws(PassthroughError) {
        guard let node = Sysfs.list(host.sysfs + "/uio").first else {
            throw .unavailable("\(host) has no uio/ node: is it bound to uio_pdrv_genirq?")
        }
        self.node = node
        var maps: [Map] = []
        for m in Sysfs.list("/sys/class/uio/\(node)/maps") where m.hasPrefix("map") {
            let dir = "/sys/class/uio/\(node)/maps/\(m)"
            guard let a = Sysfs.read(dir + "/addr").flatMap(UIODevice.number), let s = Sysfs.read(dir + "/size").flatMap(UIODevice.number) else { continue }
            maps.append(Map(address: a, size: s, offset: Sysfs.read(dir + "/offset").flatMap(UIODevice.number) ?? 0))
        }
        self.maps = maps
        do throws(Errno) { fd = try FileDescriptor(opening: "/dev/\(node)", O_RDWR) } catch {
            throw .call("open", context: "/dev/\(node)", errno: error)
        }
    }

    static func number(_ text: String) -> UInt64? {
        text.hasPrefix("0x") ? UInt64(text.dropFirst(2), radix: 16) : UInt64(text)
    }

    public var rawFD: Int32 { fd.rawValue }

    /// mmaps map `index` (MAP_SHARED, uncached device memory).
    public func map(_ index: Int) throws(PassthroughError) -> Mapping {
        do throws(Errno) {
            return try Mapping(length: Int(maps[index].size), protection: PROT_READ | PROT_WRITE, flags: MAP_SHARED,
                               fd: fd.rawValue, offset: Int64(index) * 4096)
        } catch {
            throw .call("mmap", context: "/dev/\(node) map \(index)", errno: error)
        }
    }

    /// Consumes a pending interrupt: the driver's event count, or nil if none.
    func takeEvent() -> UInt32? {
        var count: UInt32 = 0
        let n = withUnsafeMutableBytes(of: &count) { cleave_read(fd.rawValue, $0.baseAddress, 4) }
        return n == 4 ? count : nil
    }

    /// irqcontrol: re-enables the interrupt (uio_pdrv_genirq disables it in its handler).
    func enableInterrupt() -> Result<Void, Errno> {
        var one: UInt32 = 1
        let n = withUnsafeBytes(of: &one) { cleave_write(fd.rawValue, $0.baseAddress, 4) }
        return n == 4 ? .success(()) : .failure(Errno(n < 0 ? Int32(-n) : EIO))
    }
}
