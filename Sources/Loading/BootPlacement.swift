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
    /// Where a raw binary loads above the RAM base by default: kvmtool's and
    /// QEMU's default for arm64 raw kernels, booting.rst's historical
    /// text_offset.
    public static let rawLoadOffset: UInt64 = 0x80000
    /// booting.rst: "The Image must be placed text_offset bytes from a 2MB
    /// aligned base address".
    public static let kernelBaseAlignment: UInt64 = 0x20_0000

    public enum Kind: Equatable {
        /// A Linux Image with its parsed header.
        case linux(ArmImageHeader)
        /// A raw binary loaded at base + offset.
        case raw(offset: UInt64)
    }

    /// Places the images in RAM made of `banks` (sorted, each contiguous):
    /// the kernel at the base of the lowest bank it fits in, the DTB and initrd
    /// at the top of the highest bank with room for them above the kernel.
    public static func plan(banks: [(base: UInt64, size: UInt64)], kind: Kind, kernelFileSize: Int,
                            initrdSize: Int?) -> Result<BootPlacement, LoadError> {
        let offset: UInt64
        var kernelSpan = UInt64(kernelFileSize)
        // booting.rst: the Image goes text_offset bytes above a 2 MiB aligned
        // base; a raw binary goes at its offset from the bank base as is.
        var alignment: UInt64 = 1
        switch kind {
        case .linux(let header):
            if header.isBigEndian { return .failure(.unsupported("big-endian kernel image")) }
            offset = header.textOffset
            kernelSpan = max(header.imageSize, kernelSpan)
            alignment = kernelBaseAlignment
        case .raw(let o):
            offset = o
        }
        kernelSpan = (kernelSpan + 0xfff) & ~UInt64(0xfff)
        let topNeeds = dtbWindow + ((UInt64(initrdSize ?? 0) + 0xfff) & ~UInt64(0xfff))
        func kernelBase(_ bank: (base: UInt64, size: UInt64)) -> UInt64 { (bank.base + alignment - 1) & ~(alignment - 1) }
        guard let kernelBank = banks.firstIndex(where: { kernelBase($0) + offset + kernelSpan <= $0.base + $0.size }) else {
            return .failure(.doesNotFit("kernel of 0x\(String(kernelSpan, radix: 16)) bytes at offset 0x\(String(offset, radix: 16)) fits in no RAM bank"))
        }
        let kernelAddress = kernelBase(banks[kernelBank]) + offset
        let kernelEnd = kernelAddress + kernelSpan
        for i in banks.indices.reversed() {
            let end = banks[i].base + banks[i].size
            let floor = i == kernelBank ? kernelEnd : banks[i].base
            guard end >= floor + topNeeds else { continue }
            let dtbAddress = end - dtbWindow
            var initrdAddress: UInt64? = nil
            var initrdEnd: UInt64? = nil
            if let initrdSize {
                let start = (dtbAddress - UInt64(initrdSize)) & ~UInt64(0xfff)
                initrdAddress = start
                initrdEnd = start + UInt64(initrdSize)
            }
            return .success(BootPlacement(kernelAddress: kernelAddress, kernelEnd: kernelEnd, initrdAddress: initrdAddress,
                                          initrdEnd: initrdEnd, dtbAddress: dtbAddress))
        }
        return .failure(.doesNotFit("kernel (0x\(String(kernelSpan, radix: 16)) bytes), initrd (\(initrdSize ?? 0) bytes) and a 2 MiB DTB window do not fit in RAM of \(banks.count) bank(s)"))
    }

    /// One contiguous bank.
    public static func plan(ramBase: UInt64, ramSize: UInt64, kind: Kind, kernelFileSize: Int,
                            initrdSize: Int?) -> Result<BootPlacement, LoadError> {
        plan(banks: [(ramBase, ramSize)], kind: kind, kernelFileSize: kernelFileSize, initrdSize: initrdSize)
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
