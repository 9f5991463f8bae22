/// How the boot-time side delivers a device's SPIs to the guest: the plan
/// device's `interrupts`, recorded as `interrupt-method` under
/// /chosen/cleave/<guest>/devices/<label> (Boards/README.md). Independent of
/// how its MMIO is taken (`PassthroughMethod`), except where the kernel makes
/// a pair impossible (`conflict(with:)`).
public enum InterruptMethod: String, Equatable, CaseIterable {
    /// `forward`, else `irqfd`, else `uio`: the first one the host and the
    /// MMIO method allow.
    case auto
    /// The cleave-forward module: the host only drops the priority, the
    /// guest's EOI deactivates the physical SPI (docs/kernel-facts.md §24).
    case forward
    /// VFIO's eventfd into KVM_IRQFD (with a resamplefd for a level SPI).
    case irqfd
    /// uio_pdrv_genirq, relayed by the supervisor.
    case uio

    /// "auto, forward, irqfd or uio", for messages.
    public static let listed = "auto, forward, irqfd or uio"

    /// Why this interrupt method cannot go with MMIO taken by `mmio`, or nil
    /// when the pair can work. `forward` needs the IRQ free: uio_pdrv_genirq
    /// requests it at probe (§24). `irqfd` is VFIO's eventfd, `uio` is
    /// uio_pdrv_genirq's: each needs its own driver bound to the device.
    /// `devmem` binds no driver, so only `forward` gives its SPIs to the guest
    /// (`auto` with devmem keeps devmem's meaning: no interrupts).
    public func conflict(with mmio: PassthroughMethod) -> String? {
        switch (self, mmio) {
        case (.forward, .uio):
            return "uio_pdrv_genirq requests the device's IRQ when it binds, so cleave-forward cannot own it"
        case (.irqfd, .uio):
            return "irqfd is VFIO's interrupt eventfd and needs the device bound to VFIO, not uio_pdrv_genirq"
        case (.irqfd, .devmem):
            return "irqfd is VFIO's interrupt eventfd, and devmem binds no driver to the device"
        case (.uio, .vfio):
            return "uio interrupts need the device bound to uio_pdrv_genirq, not VFIO"
        case (.uio, .devmem):
            return "uio interrupts need the device bound to uio_pdrv_genirq, and devmem binds no driver"
        default:
            return nil
        }
    }
}
