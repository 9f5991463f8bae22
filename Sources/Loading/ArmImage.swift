/// The arm64 Linux Image header (Documentation/arch/arm64/booting.rst,
/// "Call the kernel image"): 64 bytes at the start of the file,
///   u32 code0, code1; u64 text_offset; u64 image_size; u64 flags;
///   u64 res2, res3, res4; u32 magic = "ARM\x64"; u32 res5.
/// All fields little-endian.
public struct ArmImageHeader: Equatable {
    public let textOffset: UInt64
    /// Effective image size including BSS; 0 for kernels older than 3.17.
    public let imageSize: UInt64
    public let flags: UInt64

    public static let magic: UInt32 = 0x644d_5241 // "ARM\x64"

    /// nil when `bytes` does not start with an arm64 Image header.
    public init?(_ bytes: [UInt8]) {
        guard bytes.count >= 64, ArmImageHeader.le32(bytes, 56) == ArmImageHeader.magic else { return nil }
        var textOffset = ArmImageHeader.le64(bytes, 8)
        let imageSize = ArmImageHeader.le64(bytes, 16)
        // booting.rst: "Where image_size is zero, text_offset can be assumed to be 0x80000."
        if imageSize == 0 { textOffset = 0x80000 }
        self.textOffset = textOffset
        self.imageSize = imageSize
        self.flags = ArmImageHeader.le64(bytes, 24)
    }

    /// Bit 0: kernel endianness (1 = big endian).
    public var isBigEndian: Bool { flags & 1 != 0 }
    /// Bits 1-2: page size (0 unspecified, 1 = 4K, 2 = 16K, 3 = 64K).
    public var pageSizeCode: UInt64 { (flags >> 1) & 3 }
    /// Bit 3: 0 = the 2 MiB aligned base should be as close as possible to the
    /// base of DRAM; 1 = anywhere in physical memory.
    public var placementAnywhere: Bool { flags & 8 != 0 }

    static func le32(_ b: [UInt8], _ at: Int) -> UInt32 {
        UInt32(b[at]) | UInt32(b[at + 1]) << 8 | UInt32(b[at + 2]) << 16 | UInt32(b[at + 3]) << 24
    }
    static func le64(_ b: [UInt8], _ at: Int) -> UInt64 {
        UInt64(le32(b, at)) | UInt64(le32(b, at + 4)) << 32
    }
}
