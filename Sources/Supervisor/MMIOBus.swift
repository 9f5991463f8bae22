import Syscalls

/// What an access that no range of the bus holds gets (`run --unmapped-mmio`).
public enum UnmappedMMIO: String, Equatable {
    /// A guest fault, reported with the address and the PC (status 2): the
    /// trust model's rule and the only policy of a carved partition.
    case fault
    /// kvmtool's behaviour for ad-hoc runs: a read gives 0, a write is dropped,
    /// and the run goes on.
    case ignore

    public static let listed = "fault or ignore"
}

/// The guest-physical ranges the supervisor serves, kvmtool's
/// `kvm__register_mmio` and crosvm's `Bus` in small: each device (the emulated
/// 16550 and pvpanic, a passed-through window the supervisor traps) registers
/// its range with a read and a write handler, and the vCPU loop only looks an
/// exit's address up. An address no range holds is a guest fault, reported and
/// never emulated (docs/architecture.md, trust and failure model), unless an
/// ad-hoc run asked for `UnmappedMMIO.ignore`.
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
        /// No range holds the address and the policy is `ignore`: the loop
        /// completes a read with 0 and drops a write. `first` is true for the
        /// first access to this address (up to `ignoredLogLimit` addresses), which
        /// the loop logs with the PC.
        case ignored(first: Bool)
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

    /// What an access no range holds gets.
    public let unmapped: UnmappedMMIO
    /// The addresses `ignore` has answered, so each is logged once; vCPU
    /// threads share it, hence the lock.
    private var ignoredAddresses: Set<UInt64> = []
    private let ignoredLock = Lock()
    /// At most this many addresses are logged per boot: a guest that sweeps
    /// an unmapped region must not flood the log (or grow the set) without bound.
    public static let ignoredLogLimit = 256

    public init(unmapped: UnmappedMMIO = .fault) {
        self.unmapped = unmapped
    }

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

    /// Performs one access; when no range holds `address`: nil (a fault)
    /// under `fault`, `.ignored` under `ignore`.
    public func access(_ address: UInt64, isWrite: Bool, length: Int, value: UInt64, vcpu: Int) -> Result? {
        guard let r = range(at: address) else {
            guard unmapped == .ignore else { return nil }
            return .ignored(first: firstIgnored(address))
        }
        return isWrite ? r.write(address, length, value, vcpu) : r.read(address, length, vcpu)
    }

    /// Whether `address` is new to `ignore` (and still within the log limit).
    private func firstIgnored(_ address: UInt64) -> Bool {
        ignoredLock.withLock {
            guard ignoredAddresses.count < MMIOBus.ignoredLogLimit else { return false }
            return ignoredAddresses.insert(address).inserted
        }
    }
}
