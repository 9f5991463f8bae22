/// How GIC interrupts are numbered and written in device trees.
///
/// INTIDs: 0-15 SGIs, 16-31 PPIs (per CPU), 32-1019 SPIs (docs/kernel-facts.md
/// §4). The 3-cell GIC specifier is <type number flags> with type 0 = SPI
/// (number = INTID - 32) and 1 = PPI (number = INTID - 16), flags the trigger
/// (Documentation/devicetree/bindings/interrupt-controller/arm,gic.yaml and
/// arm,gic-v3.yaml); a GICv2 PPI's flags also carry a CPU mask in bits 8-15.
public enum GICCells {
    public static let spi: UInt32 = 0
    public static let ppi: UInt32 = 1
    public static let edgeRising: UInt32 = 1
    public static let levelHigh: UInt32 = 4
    public static let levelLow: UInt32 = 8
    /// The trigger bits of `flags` (the rest is the GICv2 PPI CPU mask).
    public static let triggerMask: UInt32 = 0xf
    /// The first SPI's INTID.
    public static let firstSPI: UInt32 = 32
    /// The last SPI's INTID (1020-1023 are special).
    public static let lastSPI: UInt32 = 1019

    /// `<0 SPI flags>` for an INTID.
    public static func spi(intid: UInt32, flags: UInt32 = levelHigh) -> [UInt32] {
        [spi, intid - firstSPI, flags]
    }

    /// A GICv2 PPI's flags with the CPU mask naming the first `cpus` CPUs (at
    /// most 8: GICv2 has eight CPU interfaces); the trigger bits are kept.
    public static func v2PPIFlags(_ flags: UInt32, cpus: Int) -> UInt32 {
        (flags & 0xff) | ((UInt32(1) << UInt32(min(max(cpus, 0), 8))) - 1) << 8
    }

    /// Whether a specifier's flags say level-sensitive (high or low).
    public static func isLevel(_ flags: UInt32) -> Bool { flags & (levelHigh | levelLow) != 0 }
}

/// How many interrupts a vGIC implements (KVM_DEV_ARM_VGIC_GRP_NR_IRQS): the
/// 32 private ones plus every SPI up to the highest INTID the guest is given,
/// rounded up to a multiple of 32, and at least 64. As kvmtool does (arm/gic.c
/// sizes it from the lines it allocated); KVM refuses fewer than 64, more than
/// 1024 or a count that is not a multiple of 32 (vgic-kvm-device.c). A guest's
/// GICD_TYPER then reports only the lines that exist.
public enum VGICLines {
    public static let minimum: UInt32 = 64
    public static let maximum: UInt32 = 1024

    /// nil when an INTID is beyond what a GIC can have (> 1019).
    public static func count(for intids: [UInt32]) -> UInt32? {
        var highest: UInt32 = 0
        for intid in intids {
            guard intid <= GICCells.lastSPI else { return nil }
            highest = max(highest, intid)
        }
        let lines = (highest + 1 + 31) / 32 * 32
        return max(minimum, lines)
    }
}
