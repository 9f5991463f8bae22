/// The guest-physical ranges the supervisor serves, kvmtool's
/// `kvm__register_mmio` and crosvm's `Bus` in small: each device (the emulated
/// 16550 and pvpanic, a passed-through window the supervisor traps) registers
/// its range with a read and a write handler, and the vCPU loop only looks an
/// exit's address up. An address no range holds is a guest fault, reported and
/// never emulated (docs/architecture.md, trust and failure model).
///
/// Handlers are closures rather than a protocol: Embedded Swift has no
/// existentials of non-class protocols. Ranges are registered while a boot is
/// set up, before any vCPU thread runs, and only read after that.
public final class MMIOBus {
    /// What one access did.
    public enum Result: Equatable {
        /// A read's value (the vCPU loop truncates it to the access width).
        case value(UInt64)
        /// A write was taken.
        case done
        /// The device could not perform the access: a guest fault with `reason`.
        case failed(String)
        /// The access ends the run (a pvpanic PANICKED): the loop logs `event`
        /// with `detail` and the vCPU's registers, and records `outcome`.
        case stop(Outcome, event: String, detail: String)
    }

    public typealias Read = (_ address: UInt64, _ length: Int, _ vcpu: Int) -> Result
    public typealias Write = (_ address: UInt64, _ length: Int, _ value: UInt64, _ vcpu: Int) -> Result

    public struct Range {
        public let base: UInt64
        public let size: UInt64
        public let name: String
        let read: Read
        let write: Write

        public func contains(_ address: UInt64) -> Bool { address >= base && address - base < size }
    }

    public enum Failure: Error, Equatable, CustomStringConvertible {
        case empty(name: String)
        case overlap(name: String, base: UInt64, size: UInt64, with: String)

        public var description: String {
            switch self {
            case .empty(let name): return "MMIO range '\(name)' has size 0"
            case .overlap(let name, let base, let size, let other):
                return "MMIO range '\(name)' 0x\(String(base, radix: 16))+0x\(String(size, radix: 16)) overlaps '\(other)'"
            }
        }
    }

    /// Sorted by base; no two overlap.
    public private(set) var ranges: [Range] = []

    public init() {}

    /// Adds a device's range; refuses an empty one or one that overlaps a range
    /// already there (two devices answering one address is a layout bug).
    public func register(base: UInt64, size: UInt64, name: String, read: @escaping Read, write: @escaping Write) throws(Failure) {
        guard size > 0 else { throw .empty(name: name) }
        let end = base.addingReportingOverflow(size)
        var index = 0
        while index < ranges.count && ranges[index].base < base { index += 1 }
        for neighbour in [index - 1, index] where neighbour >= 0 && neighbour < ranges.count {
            let other = ranges[neighbour]
            let otherEnd = other.base.addingReportingOverflow(other.size)
            let startsBeforeOtherEnds = otherEnd.overflow || base < otherEnd.partialValue
            let endsAfterOtherStarts = end.overflow || end.partialValue > other.base
            if startsBeforeOtherEnds && endsAfterOtherStarts {
                throw .overlap(name: name, base: base, size: size, with: other.name)
            }
        }
        ranges.insert(Range(base: base, size: size, name: name, read: read, write: write), at: index)
    }

    /// The range that holds `address`, by bisection.
    public func range(at address: UInt64) -> Range? {
        var low = 0
        var high = ranges.count
        while low < high {
            let mid = (low + high) / 2
            if ranges[mid].base <= address { low = mid + 1 } else { high = mid }
        }
        guard low > 0, ranges[low - 1].contains(address) else { return nil }
        return ranges[low - 1]
    }

    /// Performs one access; nil when no range holds `address`.
    public func access(_ address: UInt64, isWrite: Bool, length: Int, value: UInt64, vcpu: Int) -> Result? {
        guard let r = range(at: address) else { return nil }
        return isWrite ? r.write(address, length, value, vcpu) : r.read(address, length, vcpu)
    }
}
