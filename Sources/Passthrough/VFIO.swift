import CLinux
import Syscalls

/// A VFIO container (/dev/vfio/vfio; Documentation/driver-api/vfio.rst) in
/// no-IOMMU mode: boards without an SMMU, guests trusted with DMA
/// (docs/architecture.md, trust and failure model). The IOMMU type is set
/// once the first group is attached:
/// VFIO_SET_IOMMU fails before a group sits in the container.
public final class VFIOContainer {
    let fd: FileDescriptor
    private var iommuSet = false

    public init() throws(PassthroughError) {
        do throws(Errno) { fd = try FileDescriptor(opening: "/dev/vfio/vfio", O_RDWR) } catch {
            throw .call("open", context: "/dev/vfio/vfio (vfio.ko loaded?)", errno: error)
        }
        let version = cleave_ioctl_value(fd.rawValue, CLEAVE_VFIO_GET_API_VERSION, 0)
        guard version == VFIO_API_VERSION else { throw .unavailable("VFIO API version \(version), expected \(VFIO_API_VERSION)") }
        guard cleave_ioctl_value(fd.rawValue, CLEAVE_VFIO_CHECK_EXTENSION, CLEAVE_VFIO_NOIOMMU_IOMMU) == 1 else {
            throw .unavailable("VFIO has no no-IOMMU mode (vfio.ko needs CONFIG_VFIO_NOIOMMU and enable_unsafe_noiommu_mode=1; Scripts/build-modules)")
        }
    }

    func adopt(_ group: borrowing FileDescriptor, number: String) throws(PassthroughError) {
        var containerFD = fd.rawValue
        _ = try checked(cleave_ioctl(group.rawValue, CLEAVE_VFIO_GROUP_SET_CONTAINER, &containerFD), "VFIO_GROUP_SET_CONTAINER", "group \(number)")
        if !iommuSet {
            _ = try checked(cleave_ioctl_value(fd.rawValue, CLEAVE_VFIO_SET_IOMMU, CLEAVE_VFIO_NOIOMMU_IOMMU), "VFIO_SET_IOMMU", "type 8 (no-IOMMU)")
            iommuSet = true
        }
    }
}

/// A VFIO group (/dev/vfio/noiommu-N for no-IOMMU groups), attached to a container.
public final class VFIOGroup {
    let fd: FileDescriptor
    public let number: String
    let container: VFIOContainer

    /// The files group `number` may be opened through: a no-IOMMU group's
    /// first, then an IOMMU-backed group's.
    static func paths(_ number: String) -> [String] { ["/dev/vfio/noiommu-\(number)", "/dev/vfio/\(number)"] }

    public init(number: String, container: VFIOContainer) throws(PassthroughError) {
        var opened: FileDescriptor? = nil
        var lastError = Errno(ENOENT)
        for path in VFIOGroup.paths(number) {
            do throws(Errno) { opened = try FileDescriptor(opening: path, O_RDWR); break } catch { lastError = error }
        }
        guard let group = opened.take() else {
            if lastError.rawValue == EBUSY {
                // One process at a time opens a group: name who has it.
                let holders = VFIOGroup.paths(number).flatMap { FileHolders.pids(holding: $0) }
                throw .unavailable("VFIO group \(number) is open in " + (holders.isEmpty ? "another process (not found in /proc)" : holders.map(FileHolders.describe).joined(separator: ", "))
                    + " (open: EBUSY; a group opens in one process at a time): stop that process, or give the device to one guest only")
            }
            throw .call("open", context: "/dev/vfio/noiommu-\(number)", errno: lastError)
        }
        var status = vfio_group_status()
        status.argsz = UInt32(MemoryLayout<vfio_group_status>.size)
        _ = try checked(cleave_ioctl(group.rawValue, CLEAVE_VFIO_GROUP_GET_STATUS, &status), "VFIO_GROUP_GET_STATUS", "group \(number)")
        guard status.flags & 1 != 0 else { // VFIO_GROUP_FLAGS_VIABLE
            throw .unavailable("VFIO group \(number) is not viable: every device in it must be bound to a VFIO driver")
        }
        try container.adopt(group, number: number)
        fd = group
        self.number = number
        self.container = container
    }
}

/// A device opened through its group (VFIO_GROUP_GET_DEVICE_FD): its MMIO
/// regions and interrupt vectors.
public final class VFIODevice {
    public struct Region {
        public var index: UInt32
        public var size: UInt64
        /// Offset of the region in the device fd (for mmap, pread, pwrite).
        public var offset: UInt64
        public var mappable: Bool
    }

    public struct IRQ {
        public var index: UInt32
        public var count: UInt32
        public var flags: UInt32
        public var automasked: Bool { flags & 4 != 0 } // VFIO_IRQ_INFO_AUTOMASKED
    }

    let fd: FileDescriptor
    public let name: String
    let group: VFIOGroup
    public private(set) var regions: [Region] = []
    public private(set) var irqs: [IRQ] = []

    public init(name: String, group: VFIOGroup) throws(PassthroughError) {
        let result = name.withCString { cleave_ioctl(group.fd.rawValue, CLEAVE_VFIO_GROUP_GET_DEVICE_FD, UnsafeMutableRawPointer(mutating: $0)) }
        let raw = try checked(result, "VFIO_GROUP_GET_DEVICE_FD", name)
        fd = FileDescriptor(adopting: raw)
        self.name = name
        self.group = group
        var info = vfio_device_info()
        info.argsz = UInt32(MemoryLayout<vfio_device_info>.size)
        _ = try checked(cleave_ioctl(fd.rawValue, CLEAVE_VFIO_DEVICE_GET_INFO, &info), "VFIO_DEVICE_GET_INFO", name)
        for i in 0..<info.num_regions {
            var r = vfio_region_info()
            r.argsz = UInt32(MemoryLayout<vfio_region_info>.size)
            r.index = i
            _ = try checked(cleave_ioctl(fd.rawValue, CLEAVE_VFIO_DEVICE_GET_REGION_INFO, &r), "VFIO_DEVICE_GET_REGION_INFO", "\(name) region \(i)")
            regions.append(Region(index: i, size: r.size, offset: r.offset, mappable: r.flags & 4 != 0)) // VFIO_REGION_INFO_FLAG_MMAP
        }
        for i in 0..<info.num_irqs {
            var q = vfio_irq_info()
            q.argsz = UInt32(MemoryLayout<vfio_irq_info>.size)
            q.index = i
            _ = try checked(cleave_ioctl(fd.rawValue, CLEAVE_VFIO_DEVICE_GET_IRQ_INFO, &q), "VFIO_DEVICE_GET_IRQ_INFO", "\(name) irq \(i)")
            irqs.append(IRQ(index: i, count: q.count, flags: q.flags))
        }
    }

    /// mmaps a region (MAP_SHARED: the device's registers, uncached).
    public func map(_ region: Region) throws(PassthroughError) -> Mapping {
        do throws(Errno) {
            return try Mapping(length: Int(region.size), protection: PROT_READ | PROT_WRITE, flags: MAP_SHARED,
                               fd: fd.rawValue, offset: Int64(region.offset))
        } catch {
            throw .call("mmap", context: "\(name) region \(region.index)", errno: error)
        }
    }

    /// VFIO_DEVICE_SET_IRQS, ACTION_TRIGGER with an eventfd: the host handler
    /// signals it on each interrupt (and masks a level one until unmasked).
    public func setTrigger(irq: UInt32, eventfd: Int32) throws(PassthroughError) {
        _ = try checked(cleave_vfio_set_irq(fd.rawValue, irq, UInt32(VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER), eventfd),
                        "VFIO_DEVICE_SET_IRQS", "\(name) irq \(irq) trigger")
    }

    /// ACTION_UNMASK with an eventfd: a write to it unmasks the vector (in the
    /// kernel, through virqfd), so KVM's resamplefd can re-arm a level IRQ.
    public func setUnmask(irq: UInt32, eventfd: Int32) throws(PassthroughError) {
        _ = try checked(cleave_vfio_set_irq(fd.rawValue, irq, UInt32(VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK), eventfd),
                        "VFIO_DEVICE_SET_IRQS", "\(name) irq \(irq) unmask eventfd")
    }

    /// ACTION_UNMASK now (DATA_NONE): re-arms a vector a previous guest left masked.
    public func unmask(irq: UInt32) throws(PassthroughError) {
        _ = try checked(cleave_vfio_set_irq(fd.rawValue, irq, UInt32(VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_UNMASK), -1),
                        "VFIO_DEVICE_SET_IRQS", "\(name) irq \(irq) unmask")
    }

    /// A trapped MMIO read forwarded to the region (pread on the device fd).
    public func read(_ region: Region, offset: UInt64, length: Int) -> Result<UInt64, Errno> {
        var value: UInt64 = 0
        let n = withUnsafeMutableBytes(of: &value) { cleave_pread(fd.rawValue, $0.baseAddress, length, Int64(region.offset + offset)) }
        if n != length { return .failure(Errno(n < 0 ? Int32(-n) : EIO)) }
        return .success(UInt64(littleEndian: value))
    }

    /// A trapped MMIO write forwarded to the region (pwrite on the device fd).
    public func write(_ region: Region, offset: UInt64, length: Int, value: UInt64) -> Result<Void, Errno> {
        var v = value.littleEndian
        let n = withUnsafeBytes(of: &v) { cleave_pwrite(fd.rawValue, $0.baseAddress, length, Int64(region.offset + offset)) }
        if n != length { return .failure(Errno(n < 0 ? Int32(-n) : EIO)) }
        return .success(())
    }
}
