/// How the boot-time side takes a device from the host: the plan device's
/// `passthrough`, recorded under /chosen/cleave/<guest>/devices/<label>
/// (Boards/README.md says what each method does).
public enum PassthroughMethod: String, Equatable, CaseIterable {
    /// VFIO, else UIO; a device without interrupts falls back to devmem.
    case auto
    case vfio
    case uio
    /// /dev/mem windows, no interrupts.
    case devmem

    /// "auto, vfio, uio or devmem", for messages.
    public static let listed = "auto, vfio, uio or devmem"
}
