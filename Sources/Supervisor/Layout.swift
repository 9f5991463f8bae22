/// Guest physical layout facts the supervisor chooses (everything else is the
/// board's: GIC addresses, passed-through devices, and the identity-mapped RAM).
///
/// ```
///   0x0800_0000  GICD (board)          0x0900_0000  board UART (host's)
///   0x080a_0000  GICR (board, GICv3)   0x09ff_f000  virtual 16550 console
///   0x0801_0000  GICC (board, GICv2)   0x09ff_f800  virtual pvpanic (same page)
///                                      0x0a00_0000  virtio-mmio (board)
///   RAM base .. base + size            hugepages, guest physical == host physical
/// ```
public enum Layout {
    /// The virtual console: the last 4 KiB page below QEMU virt's virtio-mmio
    /// window. Nothing on that board decodes it, and a guest owns only the
    /// devices its plan assigns, so it is free in every guest's address space
    /// unless a passed-through device claims it (boot then refuses).
    public static let consoleBase: UInt64 = 0x09ff_f000
    /// INTID 33 (SPI 1): the board UART's, which stays with the host; in the
    /// guest's own vGIC it is free unless a passed-through device uses it.
    public static let consoleINTID: UInt32 = 33
    /// Raw binaries load here above the RAM base (kvmtool and QEMU's default
    /// for arm64 raw kernels, booting.rst's historical text_offset).
    public static let rawLoadOffset: UInt64 = 0x80000
}
