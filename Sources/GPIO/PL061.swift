/// The register model of an ARM PL061 (PrimeCell GPIO, ARM DDI 0190B, 3.3):
/// eight lines, their directions, masked data access, and interrupt
/// detection on the pads, edge or level, from the registers the guest's
/// gpio-pl061 driver programs. Pure: it says which lines to drive and
/// whether its interrupt output is up; `VirtualGPIO` does the I/O.
///
/// ```
///   0x000-0x3fc GPIODATA  address bits [9:2] mask the access
///   0x400 GPIODIR   1: output        0x414 GPIORIS  raw interrupt status (RO)
///   0x404 GPIOIS    1: level         0x418 GPIOMIS  RIS & IE (RO)
///   0x408 GPIOIBE   1: both edges    0x41c GPIOIC   1: clear an edge (WO)
///   0x40c GPIOIEV   1: rising/high   0x420 GPIOAFSEL kept, no effect
///   0x410 GPIOIE    1: not masked    0xfe0-0xffc peripheral and PrimeCell IDs
/// ```
/// A line the plan gives as an input cannot be made an output (its GPIODIR
/// bit reads 0); a line beyond the plan's lines reads 0 and takes nothing.
public struct PL061: Equatable {
    public enum Register {
        public static let dataEnd: UInt64 = 0x400
        public static let direction: UInt64 = 0x400
        public static let sense: UInt64 = 0x404
        public static let bothEdges: UInt64 = 0x408
        public static let event: UInt64 = 0x40c
        public static let mask: UInt64 = 0x410
        public static let raw: UInt64 = 0x414
        public static let masked: UInt64 = 0x418
        public static let clear: UInt64 = 0x41c
        public static let alternate: UInt64 = 0x420
        public static let identification: UInt64 = 0xfe0
    }

    /// GPIOPeriphID0-3 then GPIOPCellID0-3 (DDI 0190B 3.3.11-12): part
    /// 0x061, designer ARM (0x41), revision 1; the AMBA bus matches the
    /// driver on 0x00041061 and checks the PrimeCell ID 0xb105f00d.
    public static let identification: [UInt8] = [0x61, 0x10, 0x04, 0x00, 0x0d, 0xf0, 0x05, 0xb1]

    /// Lines backed by a host line.
    public let present: UInt8
    /// Lines the plan gives as outputs.
    public let outputs: UInt8

    public private(set) var direction: UInt8 = 0
    public private(set) var sense: UInt8 = 0
    public private(set) var bothEdges: UInt8 = 0
    public private(set) var event: UInt8 = 0
    public private(set) var mask: UInt8 = 0
    public private(set) var raw: UInt8 = 0
    public private(set) var alternate: UInt8 = 0
    /// The level of each line: the host's for inputs, the driven one for outputs.
    public private(set) var pads: UInt8 = 0

    /// `pads`: the lines' levels when the controller comes out of reset.
    public init(present: UInt8, outputs: UInt8, pads: UInt8 = 0) {
        self.present = present
        self.outputs = outputs & present
        self.pads = pads & present
    }

    /// The interrupt output: a level, up while a raw status bit is unmasked.
    public var interrupt: Bool { raw & mask != 0 }

    /// Lines driven as outputs now.
    public var driven: UInt8 { direction & outputs }

    /// A register read (any width; the driver reads bytes).
    public func read(_ offset: UInt64) -> UInt32 {
        if offset < Register.dataEnd { return UInt32(pads & PL061.dataMask(offset)) }
        switch offset {
        case Register.direction: return UInt32(direction)
        case Register.sense: return UInt32(sense)
        case Register.bothEdges: return UInt32(bothEdges)
        case Register.event: return UInt32(event)
        case Register.mask: return UInt32(mask)
        case Register.raw: return UInt32(raw)
        case Register.masked: return UInt32(raw & mask)
        case Register.alternate: return UInt32(alternate)
        case Register.identification..<(Register.identification + 32) where offset % 4 == 0:
            return UInt32(PL061.identification[Int((offset - Register.identification) / 4)])
        default: return 0
        }
    }

    /// A register write. Returns the output lines whose level changed
    /// (`pads` holds the new levels), which the caller drives on the host.
    public mutating func write(_ offset: UInt64, _ value: UInt32) -> UInt8 {
        let byte = UInt8(truncatingIfNeeded: value)
        if offset < Register.dataEnd {
            let lines = PL061.dataMask(offset) & driven
            return setPads((pads & ~lines) | (byte & lines), lines: lines)
        }
        switch offset {
        case Register.direction:
            // A line made an output drives the level it last had.
            direction = byte & outputs
        case Register.sense: sense = byte; levelDetect()
        case Register.bothEdges: bothEdges = byte
        case Register.event: event = byte; levelDetect()
        case Register.mask: mask = byte
        case Register.clear: raw &= ~(byte & ~sense); levelDetect()
        case Register.alternate: alternate = byte
        default: break
        }
        return 0
    }

    /// New levels of `lines` from the host (input lines' events).
    public mutating func hostLevels(_ levels: UInt8, lines: UInt8) {
        let inputs = lines & present & ~driven
        _ = setPads((pads & ~inputs) | (levels & inputs), lines: inputs)
    }

    /// Sets the pads of `lines`, detects edges and levels on them, and
    /// returns the lines whose level changed.
    private mutating func setPads(_ new: UInt8, lines: UInt8) -> UInt8 {
        let changed = (pads ^ new) & lines
        let rising = changed & new, falling = changed & ~new
        pads = new
        let edges = ~sense & ((bothEdges & changed) | (~bothEdges & ((event & rising) | (~event & falling))))
        raw |= edges & present
        levelDetect()
        return changed
    }

    /// Level-sensitive lines: raw status follows the line (high when IEV is 1).
    private mutating func levelDetect() {
        let level = sense & present & ~(pads ^ event)
        raw = (raw & ~sense) | level
    }

    /// GPIODATA's mask: address bits [9:2] select the lines an access touches.
    static func dataMask(_ offset: UInt64) -> UInt8 { UInt8(truncatingIfNeeded: offset >> 2) }
}
