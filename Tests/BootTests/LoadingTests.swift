import Foundation
import Testing
import Loading

/// The arm64 Image header and where images go (Documentation/arch/arm64/booting.rst).
@Suite struct ArmImageHeaderTests {
    @Test func fields() throws {
        let header = try #require(ArmImageHeader(imageHeader(textOffset: 0, imageSize: 0x200_0000, flags: 0xa)))
        #expect(header.textOffset == 0)
        #expect(header.imageSize == 0x200_0000)
        #expect(!header.isBigEndian)
        #expect(header.pageSizeCode == 1) // 4K
        #expect(header.placementAnywhere)
        let be = try #require(ArmImageHeader(imageHeader(textOffset: 0x80000, imageSize: 0x10_0000, flags: 0x1 | 3 << 1)))
        #expect(be.isBigEndian && be.pageSizeCode == 3 && !be.placementAnywhere)
        #expect(be.textOffset == 0x80000)
    }

    @Test func zeroImageSizeMeansTextOffset0x80000() throws {
        // booting.rst: "Where image_size is zero, text_offset can be assumed to be 0x80000."
        let header = try #require(ArmImageHeader(imageHeader(textOffset: 0, imageSize: 0, flags: 0)))
        #expect(header.textOffset == 0x80000)
    }

    @Test func notAnImage() {
        #expect(ArmImageHeader(imageHeader(textOffset: 0, imageSize: 0x1000, flags: 0, magic: 0x1234_5678)) == nil)
        #expect(ArmImageHeader(Array(imageHeader(textOffset: 0, imageSize: 0x1000, flags: 0)[0..<63])) == nil)
        #expect(ArmImageHeader([]) == nil)
    }

    @Test(.enabled(if: debianKernelImage != nil, "Debian's kernel is not fetched (Scripts/fetch-debian-kernel)"))
    func debianKernel() throws {
        let path = try #require(debianKernelImage)
        let file = try FileHandle(forReadingFrom: URL(fileURLWithPath: path))
        defer { try? file.close() }
        let head = [UInt8](file.readData(ofLength: 64))
        let size = try #require(FileManager.default.attributesOfItem(atPath: path)[.size] as? Int)
        let header = try #require(ArmImageHeader(head), "\(path) has no arm64 Image header")
        #expect(header.textOffset == 0)          // 0 since Linux 5.8 (was 0x80000)
        #expect(header.imageSize > UInt64(size)) // image_size counts the BSS
        #expect(!header.isBigEndian)
        #expect(header.pageSizeCode == 1)         // Debian arm64: 4 KiB pages
        #expect(header.placementAnywhere)
        let placed = try BootPlacement.plan(ramBase: 0x4000_0000, ramSize: 0x1000_0000, kind: .linux(header),
                                            kernelFileSize: size, initrdSize: 2_550_272).get()
        #expect(placed.kernelAddress == 0x4000_0000)
        #expect(placed.kernelEnd >= 0x4000_0000 + header.imageSize)
        #expect((placed.initrdAddress ?? 0) >= placed.kernelEnd)
    }
}

@Suite struct BootPlacementTests {
    let mib: UInt64 = 0x10_0000

    func linux(textOffset: UInt64 = 0, imageSize: UInt64, flags: UInt64 = 0xa) -> BootPlacement.Kind {
        .linux(ArmImageHeader(imageHeader(textOffset: textOffset, imageSize: imageSize, flags: flags))!)
    }

    @Test func linuxImageAtTheBaseDTBAndInitrdAtTheTop() throws {
        let p = try BootPlacement.plan(ramBase: 0x4000_0000, ramSize: 64 * mib, kind: linux(imageSize: 24 * mib),
                                       kernelFileSize: 20 * Int(mib) + 5, initrdSize: 3 * Int(mib) + 17).get()
        #expect(p.kernelAddress == 0x4000_0000)
        #expect(p.kernelEnd == 0x4000_0000 + 24 * mib) // image_size, not the file size: the BSS is free
        let end: UInt64 = 0x4000_0000 + 64 * mib
        #expect(p.dtbAddress == end - 2 * mib)
        #expect(p.dtbAddress % 8 == 0 && p.dtbAddress % (2 * mib) == 0) // 8-byte aligned, its own 2 MiB block
        let initrd = try #require(p.initrdAddress as UInt64?)
        #expect(initrd % 0x1000 == 0)
        #expect(p.initrdEnd == initrd + 3 * mib + 17)
        #expect((p.initrdEnd ?? .max) <= p.dtbAddress)
        #expect(initrd >= p.kernelEnd)
    }

    @Test func textOffsetIsHonoured() throws {
        let p = try BootPlacement.plan(ramBase: 0x4000_0000, ramSize: 64 * mib, kind: linux(textOffset: 0x80000, imageSize: 8 * mib),
                                       kernelFileSize: Int(6 * mib), initrdSize: nil).get()
        #expect(p.kernelAddress == 0x4008_0000)
        #expect(p.initrdAddress == nil && p.initrdEnd == nil)
    }

    @Test func imageBaseIs2MiBAligned() throws {
        // A bank starting off a 2 MiB boundary: the Image goes text_offset above the next one.
        let p = try BootPlacement.plan(ramBase: 0x4010_0000, ramSize: 64 * mib, kind: linux(imageSize: 8 * mib),
                                       kernelFileSize: Int(8 * mib), initrdSize: nil).get()
        #expect(p.kernelAddress == 0x4020_0000)
        // A raw binary is placed where asked, alignment or not.
        let raw = try BootPlacement.plan(ramBase: 0x4010_0000, ramSize: 64 * mib, kind: .raw(offset: 0x80000),
                                         kernelFileSize: 100, initrdSize: nil).get()
        #expect(raw.kernelAddress == 0x4018_0000)
    }

    @Test func bigEndianImagesAreRefused() {
        let r = BootPlacement.plan(ramBase: 0x4000_0000, ramSize: 64 * mib, kind: linux(imageSize: mib, flags: 1),
                                   kernelFileSize: 4096, initrdSize: nil)
        guard case .failure(.unsupported(let why)) = r else { Issue.record("accepted: \(r)"); return }
        #expect(why.contains("big-endian"))
    }

    @Test func rawBinaryAtTheLoadOffset() throws {
        let p = try BootPlacement.plan(ramBase: 0x5380_0000, ramSize: 4 * mib, kind: .raw(offset: 0x80000),
                                       kernelFileSize: 1234, initrdSize: nil).get()
        #expect(p.kernelAddress == 0x5388_0000)
        #expect(p.kernelEnd == 0x5388_1000) // rounded up to a page
        #expect(p.dtbAddress == 0x5380_0000 + 2 * mib)
        let q = try BootPlacement.plan(ramBase: 0x4000_0000, ramSize: 16 * mib, kind: .raw(offset: 0x20_0000),
                                       kernelFileSize: 4096, initrdSize: nil).get()
        #expect(q.kernelAddress == 0x4020_0000)
    }

    @Test func kernelInTheFirstBankThatHoldsIt() throws {
        // The shape the board's descending pool gave: a lone 2 MiB page, then two runs.
        let banks: [(base: UInt64, size: UInt64)] = [(0x4000_0000, 2 * mib), (0x42c0_0000, 84 * mib), (0x4920_0000, 170 * mib)]
        let p = try BootPlacement.plan(banks: banks, kind: linux(imageSize: 34 * mib), kernelFileSize: Int(31 * mib),
                                       initrdSize: Int(2 * mib)).get()
        #expect(p.kernelAddress == 0x42c0_0000)
        #expect(p.dtbAddress == 0x4920_0000 + 170 * mib - 2 * mib)
        #expect((p.initrdAddress ?? 0) >= 0x4920_0000)
    }

    @Test func dtbFallsBackToALowerBankWithRoom() throws {
        let banks: [(base: UInt64, size: UInt64)] = [(0x4000_0000, 64 * mib), (0x5000_0000, 2 * mib)]
        let p = try BootPlacement.plan(banks: banks, kind: .raw(offset: 0x80000), kernelFileSize: 4096,
                                       initrdSize: Int(mib)).get()
        // 2 MiB DTB window + 1 MiB initrd do not fit the 2 MiB bank.
        #expect(p.dtbAddress == 0x4000_0000 + 62 * mib)
        #expect(p.initrdAddress == 0x4000_0000 + 61 * mib)
    }

    @Test func tooLargeIsAnError() {
        let r = BootPlacement.plan(ramBase: 0x4000_0000, ramSize: 16 * mib, kind: linux(imageSize: 32 * mib),
                                   kernelFileSize: Int(20 * mib), initrdSize: nil)
        guard case .failure(.doesNotFit(let why)) = r else { Issue.record("accepted: \(r)"); return }
        #expect(why.contains("fits in no RAM bank"))
        // Kernel fits, but not with the DTB window and initrd above it.
        let s = BootPlacement.plan(ramBase: 0x4000_0000, ramSize: 16 * mib, kind: linux(imageSize: 12 * mib),
                                   kernelFileSize: Int(12 * mib), initrdSize: Int(4 * mib))
        guard case .failure(.doesNotFit(let other)) = s else { Issue.record("accepted: \(s)"); return }
        #expect(other.contains("2 MiB DTB window"))
    }
}
