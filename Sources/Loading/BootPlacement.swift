/// Where the kernel, initrd and device tree go in guest RAM, by the rules of
/// Documentation/arch/arm64/booting.rst:
///
/// ```
///   base (2 MiB aligned, the hugepage base)
///   +-- base + text_offset ............ Linux Image (image_size bytes incl. BSS)
///   |   or base + load offset ......... raw binary (default offset 0x80000)
///   |
///   +-- initrd (page aligned) ......... just below the device tree
///   +-- end - 2 MiB ................... device tree (8-byte aligned, <= 2 MiB)
///   end = base + size
/// ```
/// The DTB and initrd sit at the top so the kernel's BSS and early
/// allocations at the bottom never overwrite them.
public struct BootPlacement: Equatable {
    public let kernelAddress: UInt64
    public let kernelEnd: UInt64
    public let initrdAddress: UInt64?
    public let initrdEnd: UInt64?
    public let dtbAddress: UInt64
    public static let dtbWindow: UInt64 = 0x20_0000

    public enum Kind: Equatable {
        /// A Linux Image with its parsed header.
        case linux(ArmImageHeader)
        /// A raw binary loaded at base + offset.
        case raw(offset: UInt64)
    }

    /// Returns nil and a reason when the pieces do not fit.
    public static func plan(ramBase: UInt64, ramSize: UInt64, kind: Kind, kernelFileSize: Int,
                            initrdSize: Int?) -> Result<BootPlacement, LoadError> {
        let end = ramBase + ramSize
        guard ramSize > dtbWindow * 2 else { return .failure(.doesNotFit("RAM of 0x\(String(ramSize, radix: 16)) bytes is too small (needs more than 4 MiB)")) }
        let kernelAddress: UInt64
        var kernelEnd: UInt64
        switch kind {
        case .linux(let header):
            if header.isBigEndian { return .failure(.unsupported("big-endian kernel image")) }
            kernelAddress = ramBase + header.textOffset
            kernelEnd = kernelAddress + max(header.imageSize, UInt64(kernelFileSize))
        case .raw(let offset):
            kernelAddress = ramBase + offset
            kernelEnd = kernelAddress + UInt64(kernelFileSize)
        }
        let dtbAddress = end - dtbWindow
        var initrdAddress: UInt64? = nil
        var initrdEnd: UInt64? = nil
        var floor = dtbAddress
        if let initrdSize {
            let start = (dtbAddress - UInt64(initrdSize)) & ~UInt64(0xfff)
            initrdAddress = start
            initrdEnd = start + UInt64(initrdSize)
            floor = start
        }
        kernelEnd = (kernelEnd + 0xfff) & ~UInt64(0xfff)
        guard kernelEnd <= floor, UInt64(initrdSize ?? 0) < ramSize else {
            return .failure(.doesNotFit("kernel (0x\(String(kernelAddress, radix: 16))-0x\(String(kernelEnd, radix: 16))), initrd (\(initrdSize ?? 0) bytes) and DTB do not fit in RAM 0x\(String(ramBase, radix: 16))-0x\(String(end, radix: 16))"))
        }
        return .success(BootPlacement(kernelAddress: kernelAddress, kernelEnd: kernelEnd, initrdAddress: initrdAddress,
                                      initrdEnd: initrdEnd, dtbAddress: dtbAddress))
    }
}

public enum LoadError: Error, Equatable, CustomStringConvertible {
    case doesNotFit(String)
    case unsupported(String)
    case read(path: String, reason: String)

    public var description: String {
        switch self {
        case .doesNotFit(let s): return "guest images do not fit: \(s)"
        case .unsupported(let s): return "unsupported guest image: \(s)"
        case .read(let path, let reason): return "cannot read \(path): \(reason)"
        }
    }
}
