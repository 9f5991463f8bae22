import CFDT
import Testing
@testable import DeviceTree

/// Opening a blob skips libfdt's `fdt_check_full` when the index pass finds the
/// blob well formed (BlobCheck). That must never let through a blob libfdt
/// refuses, and must give the same tree or the same error as running
/// `fdt_check_full` first, as opening did before. Checked here against libfdt
/// itself on many damaged blobs: bytes flipped, header fields and cells set to
/// edge values, tags swapped, cuts with a consistent totalsize.
@Suite("Opening skips fdt_check_full only where libfdt accepts")
struct CheckEquivalenceTests {
    /// How opening behaved when every blob went through fdt_check_full first.
    static func openedTheOldWay(_ bytes: [UInt8]) -> Result<[UInt8], DeviceTreeError> {
        do throws(DeviceTreeError) {
            guard bytes.count >= 40 else { return .success(try DeviceTree(bytes: bytes).bytes) }
            let total = Int(UInt32(bytes[4]) << 24 | UInt32(bytes[5]) << 16 | UInt32(bytes[6]) << 8 | UInt32(bytes[7]))
            let magic = UInt32(bytes[0]) << 24 | UInt32(bytes[1]) << 16 | UInt32(bytes[2]) << 8 | UInt32(bytes[3])
            let version = UInt32(bytes[20]) << 24 | UInt32(bytes[21]) << 16 | UInt32(bytes[22]) << 8 | UInt32(bytes[23])
            // The pre-checks before libfdt are unchanged: let them throw as they do.
            guard magic == 0xd00d_feed, total <= bytes.count, version >= 16 else {
                return .success(try DeviceTree(bytes: bytes).bytes)
            }
            let storage = Storage(bytes: Array(bytes[0..<total]))
            let status = fdt_check_full(storage.base, total)
            guard status == 0 else { throw .malformed(fdtErrorString(status)) }
            return .success(try DeviceTree(validated: storage).bytes)
        } catch {
            return .failure(error)
        }
    }

    static func opened(_ bytes: [UInt8]) -> Result<[UInt8], DeviceTreeError> {
        do throws(DeviceTreeError) { return .success(try DeviceTree(bytes: bytes).bytes) } catch { return .failure(error) }
    }

    static func libfdtAccepts(_ bytes: [UInt8]) -> Bool {
        guard bytes.count >= 8 else { return false }
        let total = Int(UInt32(bytes[4]) << 24 | UInt32(bytes[5]) << 16 | UInt32(bytes[6]) << 8 | UInt32(bytes[7]))
        guard total >= 40, total <= bytes.count else { return false }
        let storage = Storage(bytes: Array(bytes[0..<total]))
        return fdt_check_full(storage.base, total) == 0
    }

    /// Whether the blob opened.
    @discardableResult
    func expectSame(_ bytes: [UInt8], _ what: String) -> Bool {
        let new = Self.opened(bytes)
        let old = Self.openedTheOldWay(bytes)
        switch (new, old) {
        case (.success(let a), .success(let b)): #expect(a == b, "\(what): different trees")
        case (.failure(let a), .failure(let b)): #expect(a == b, "\(what): \(a) vs \(b)")
        default: Issue.record("\(what): opened \(new), the old way \(old)")
        }
        guard case .success = new else { return false }
        if bytes.count >= 40 { #expect(Self.libfdtAccepts(bytes), "\(what): accepted what libfdt refuses") }
        return true
    }

    /// The undamaged trees, committed under DeviceTrees/: a missing one fails the test.
    static func seeds(sourceLocation: SourceLocation = #_sourceLocation) throws -> [[UInt8]] {
        try ["qemu-virt-gicv3", "qemu-virt-gicv2", "sun50i-a64-pine64-plus"].map { name in
            try #require(repositoryFile("DeviceTrees/\(name).dtb"),
                         "DeviceTrees/\(name).dtb is committed to the repository and missing", sourceLocation: sourceLocation)
        }
    }

    @Test func realTreesOpenTheSame() throws {
        for seed in try Self.seeds() { #expect(expectSame(seed, "unchanged"), "an undamaged tree did not open") }
    }

    @Test(arguments: [11 as UInt64, 12, 13, 14, 15, 16])
    func damagedTreesOpenTheSame(seed: UInt64) throws {
        let seeds = try Self.seeds()
        var random = SplitMix64(seed: seed)
        let edgeWords: [UInt32] = [0, 1, 2, 3, 4, 9, 0x10, 0x11, 0x12, 0x28, 0x30, 0x38, 0x7fff_ffff, 0x8000_0000, 0xffff_fff8, 0xffff_ffff]
        var opened = 0
        for round in 0..<400 {
            var bytes = seeds[round % seeds.count]
            let structStart = Int(UInt32(bytes[8]) << 24 | UInt32(bytes[9]) << 16 | UInt32(bytes[10]) << 8 | UInt32(bytes[11]))
            switch random.next() % 5 {
            case 0:   // flip a few bytes anywhere
                for _ in 0..<(1 + Int(random.next() % 4)) {
                    let at = Int(random.next() % UInt64(bytes.count))
                    bytes[at] ^= UInt8(truncatingIfNeeded: random.next() | 1)
                }
            case 1:   // a header field to an edge value
                let field = Int(random.next() % 10) * 4
                let word = edgeWords[Int(random.next() % UInt64(edgeWords.count))]
                bytes.replaceSubrange(field..<(field + 4), with: encodeCells([word]))
            case 2:   // a word of the structure block to an edge value (tags, lengths, name offsets)
                let words = (bytes.count - structStart) / 4
                let at = structStart + Int(random.next() % UInt64(max(words, 1))) * 4
                let word = edgeWords[Int(random.next() % UInt64(edgeWords.count))]
                if at + 4 <= bytes.count { bytes.replaceSubrange(at..<(at + 4), with: encodeCells([word])) }
            case 3:   // cut, with totalsize saying so
                let cut = 40 + Int(random.next() % UInt64(bytes.count - 40))
                bytes = Array(bytes[0..<cut])
                bytes.replaceSubrange(4..<8, with: encodeCells([UInt32(cut)]))
            default:  // a strings-block byte to NUL or not (names losing their terminator)
                let strings = Int(UInt32(bytes[12]) << 24 | UInt32(bytes[13]) << 16 | UInt32(bytes[14]) << 8 | UInt32(bytes[15]))
                if strings < bytes.count {
                    let at = strings + Int(random.next() % UInt64(bytes.count - strings))
                    bytes[at] = bytes[at] == 0 ? UInt8(ascii: "x") : 0
                }
            }
            if expectSame(bytes, "seed \(seed) round \(round)") { opened += 1 }
        }
        // Both outcomes are exercised: damage that libfdt tolerates, and not.
        #expect(opened > 20 && opened < 380, "\(opened) of 400 damaged blobs opened")
    }
}

/// Names are interned by their bytes; one that is not valid UTF-8 must still
/// be found by the String the tree reports for it (with U+FFFD), and a patch
/// writes it as that String, as when names were interned as Strings.
@Suite("Property names that are not UTF-8")
struct NonUTF8NameTests {
    @Test func foundByItsStringAndWrittenAsIt() throws {
        var bytes = try compileDTS("/dts-v1/;\n/ { compatible = \"test\"; abc-x = <1>; };\n")
        let strings = Int(UInt32(bytes[12]) << 24 | UInt32(bytes[13]) << 16 | UInt32(bytes[14]) << 8 | UInt32(bytes[15]))
        let at = try #require((strings..<bytes.count).first { bytes[$0 - 4..<$0 + 1].elementsEqual(Array("abc-x".utf8)) })
        bytes[at] = 0xff
        let tree = try DeviceTree(bytes: bytes)
        let name = "abc-\u{FFFD}"
        #expect(tree.properties(of: tree.root).map(\.name).contains(name))
        #expect(tree.property(name, of: tree.root)?.u32 == 1)
        var patch = DeviceTreePatch()
        patch.set("/", "status", string: "okay")
        let out = try patch.apply(to: tree)
        #expect(out.property(name, of: out.root)?.u32 == 1)
        #expect(out.bytes.indices.contains { out.bytes[$0...].starts(with: Array(name.utf8) + [0]) })
    }
}
