import Platform
import Syscalls

/// An emulated pvpanic device on MMIO, QEMU's `qemu,pvpanic-mmio` (Linux:
/// Documentation/devicetree/bindings/misc/qemu,pvpanic-mmio.yaml and
/// drivers/misc/pvpanic/; docs/specs/pvpanic.rst in QEMU's source tree). One byte register at
/// `base`: a read returns the events the device supports, and the guest's
/// panic notifier writes one event to it. Bits (include/uapi/misc/pvpanic.h):
///
/// - PVPANIC_PANICKED (bit 0): the guest panicked and the host should act;
///   here the run ends with `Outcome.crashed` (exit status 4).
/// - PVPANIC_CRASH_LOADED (bit 1): the guest panicked and a kdump kernel it
///   loaded is about to take over; the host records it and lets the guest run.
///
/// The model decodes only; the vCPU loop turns an event into a log line and
/// the outcome. It holds no state, so vCPU threads share it without a lock.
public struct PanicDevice {
    public static let panicked: UInt8 = 1 << 0
    public static let crashLoaded: UInt8 = 1 << 1
    /// What a read returns: Linux's probe keeps the events it knows that the
    /// device reports here (`capability &= ioread8(base)`).
    public static let supported: UInt8 = panicked | crashLoaded
    /// The window QEMU's own pvpanic-mmio device decodes (PVPANIC_MMIO_SIZE).
    public static let size: UInt64 = ConsolePage.pvpanicSize

    /// What one write of the guest means.
    public enum Event: Equatable {
        case panicked
        case crashLoaded
        /// Bits this device does not offer (a newer guest's PVPANIC_SHUTDOWN,
        /// say): reported and ignored, as QEMU does.
        case unknown(UInt8)
    }

    public let base: UInt64

    public init(base: UInt64) { self.base = base }

    /// A read of the register returns the supported events; the rest of the window reads 0.
    public func read(_ address: UInt64) -> UInt8 { address == base ? PanicDevice.supported : 0 }

    /// The event a write of `value` reports, nil when it reports none (zero,
    /// or the byte past the register). PANICKED wins over CRASH_LOADED when
    /// both are set, as in QEMU's handler.
    public func write(_ address: UInt64, _ value: UInt8) -> Event? {
        guard address == base, value != 0 else { return nil }
        if value & PanicDevice.panicked != 0 { return .panicked }
        if value & PanicDevice.crashLoaded != 0 { return .crashLoaded }
        return .unknown(value)
    }
}

extension PanicDevice {
    /// Serves the register on `bus`: a read returns the supported events;
    /// PANICKED stops the run as a crash (exit status 4), CRASH_LOADED (a kdump
    /// kernel takes over), unknown bits and a write to the byte past the
    /// register are counted in `conduct` (the first of each logged) and the
    /// guest goes on: a guest that writes them in a loop cannot flood the log.
    public func register(on bus: MMIOBus, conduct: GuestConduct) throws(MMIOBus.Failure) {
        let device = self
        try bus.register(base: base, size: PanicDevice.size, name: "pvpanic",
                         read: { address, _, _ in .value(UInt64(device.read(address))) },
                         write: { address, _, value, vcpu in
                             if address != device.base {
                                 conduct.note("pvpanic-beyond-register", "vcpu=\(vcpu) write at \(hex(address)) value=\(hex(value)) (dropped)")
                                 return .done
                             }
                             switch device.write(address, UInt8(truncatingIfNeeded: value)) {
                             case nil:
                                 return .done
                             case .panicked?:
                                 return .stop(.crashed("pvpanic: guest panicked on vcpu \(vcpu)"), event: "guest-panic",
                                              detail: "vcpu=\(vcpu) pvpanic=panicked")
                             case .crashLoaded?:
                                 conduct.note("pvpanic-crash-loaded", "vcpu=\(vcpu) pvpanic=crash-loaded (the guest's kdump kernel takes over; it keeps running)")
                                 return .done
                             case .unknown(let bits)?:
                                 conduct.note("pvpanic-unknown-bits", "vcpu=\(vcpu) pvpanic=unknown value=\(hex(UInt64(bits))) (ignored)")
                                 return .done
                             }
                         })
    }
}
