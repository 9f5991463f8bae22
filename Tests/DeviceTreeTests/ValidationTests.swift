import Foundation
import Testing
@testable import DeviceTree

/// A small tree touching every decoder: buses with ranges, interrupts through a
/// nexus, phandle-bearing properties, aliases and labels.
let smallTreeSource = """
/dts-v1/;
/memreserve/ 0x48000000 0x1000;
/ {
    #address-cells = <2>;
    #size-cells = <1>;
    interrupt-parent = <&gic>;
    compatible = "test,small";
    aliases { serial0 = &uart; };
    gic: interrupt-controller@1000 {
        compatible = "arm,cortex-a15-gic";
        interrupt-controller;
        #interrupt-cells = <3>;
        reg = <0 0x1000 0x1000>, <0 0x2000 0x2000>;
    };
    clk: clock { compatible = "fixed-clock"; #clock-cells = <0>; clock-frequency = <24000000>; };
    soc {
        compatible = "simple-bus";
        #address-cells = <1>;
        #size-cells = <1>;
        ranges = <0x7e000000 0x0 0xfe000000 0x1000000>;
        uart: serial@7e201000 {
            compatible = "arm,pl011", "arm,primecell";
            reg = <0x7e201000 0x200>;
            interrupts = <0 121 4>;
            clocks = <&clk>;
            status = "okay";
        };
        nexus: nexus {
            #interrupt-cells = <1>;
            #address-cells = <0>;
            interrupt-map-mask = <3>;
            interrupt-map = <1 &gic 0 5 1>, <2 &gic 1 6 8>;
            dev { interrupt-parent = <&nexus>; interrupts = <2>; };
        };
    };
};
"""

@Suite("Validation: hostile blobs throw, never crash")
struct ValidationTests {
    static let small: [UInt8] = (try? compileDTS(smallTreeSource, symbols: true)) ?? []

    @Test func smallTreeOpens() throws {
        let tree = try DeviceTree(bytes: Self.small)
        #expect(tree.size == Self.small.count)
        #expect(tree.bytes == Self.small)
        #expect(tree.nodeCount > 8)
        #expect(exerciseEveryAPI(tree, includeIntid: true) > 0)
    }

    @Test func everyTruncationThrows() throws {
        let bytes = Self.small
        try #require(bytes.count > 100)
        for length in 0..<bytes.count {
            #expect(throws: DeviceTreeError.self, "length \(length)") {
                try DeviceTree(bytes: Array(bytes[0..<length]))
            }
        }
    }

    /// Truncated, but with `totalsize` rewritten to match: the header no longer
    /// gives the truncation away, so libfdt's structure checks must.
    @Test func everyTruncationWithConsistentTotalsizeIsRefusedOrSafe() throws {
        let bytes = Self.small
        var opened = 0
        for length in 40..<bytes.count {
            var cut = Array(bytes[0..<length])
            cut.replaceSubrange(4..<8, with: encodeCells([UInt32(length)]))
            do throws(DeviceTreeError) {
                let tree = try DeviceTree(bytes: cut)
                exerciseEveryAPI(tree, includeIntid: true)
                opened += 1
            } catch {
                #expect(!error.description.isEmpty)
            }
        }
        // Only cuts inside the strings block's slack could survive; the structure
        // block ends with FDT_END, so most cuts must be refused.
        #expect(opened < 8)
    }

    @Test func shorterThanHeader() {
        #expect(throws: DeviceTreeError.malformed("0 bytes is shorter than a device tree header (40 bytes)")) {
            try DeviceTree(bytes: [])
        }
        #expect(throws: DeviceTreeError.self) { try DeviceTree(bytes: [UInt8](repeating: 0, count: 39)) }
    }

    @Test func badMagic() throws {
        var bytes = Self.small
        bytes[0] = 0xde
        #expect(throws: DeviceTreeError.malformed("bad magic 0xde0dfeed (expected 0xd00dfeed)")) {
            try DeviceTree(bytes: bytes)
        }
        #expect(throws: DeviceTreeError.self) { try DeviceTree(bytes: [UInt8](repeating: 0xff, count: 4096)) }
        // Little-endian magic (a blob byte-swapped by mistake).
        var swapped = Self.small
        swapped.replaceSubrange(0..<4, with: [0xed, 0xfe, 0x0d, 0xd0])
        #expect(throws: DeviceTreeError.self) { try DeviceTree(bytes: swapped) }
    }

    @Test func totalsizeLargerThanBuffer() throws {
        var bytes = Self.small
        bytes.replaceSubrange(4..<8, with: encodeCells([UInt32(bytes.count + 1)]))
        #expect(throws: DeviceTreeError.malformed(
            "header says \(bytes.count + 1) bytes but only \(bytes.count) are there (truncated?)")) {
            try DeviceTree(bytes: bytes)
        }
    }

    @Test func trailingBytesAfterTotalsizeAreIgnored() throws {
        let bytes = Self.small + [UInt8](repeating: 0xa5, count: 123)
        let tree = try DeviceTree(bytes: bytes)
        #expect(tree.size == Self.small.count)
        #expect(tree.bytes == Self.small)
    }

    @Test func oldVersionsAreRefused() throws {
        for version: UInt32 in [1, 2, 3, 15] {
            var bytes = Self.small
            bytes.replaceSubrange(20..<24, with: encodeCells([version]))
            #expect(throws: DeviceTreeError.self, "version \(version)") { try DeviceTree(bytes: bytes) }
        }
        var future = Self.small
        future.replaceSubrange(24..<28, with: encodeCells([18]))   // last_comp_version beyond 17
        #expect(throws: DeviceTreeError.self) { try DeviceTree(bytes: future) }
    }

    /// The header's offsets and sizes, each set to values that point outside the
    /// blob, overlap each other or wrap around.
    @Test(arguments: [8, 12, 16, 32, 36])
    func corruptHeaderField(offset: Int) throws {
        let original = Self.small
        let count = UInt32(original.count)
        let field = Int(UInt32(original[offset]) << 24 | UInt32(original[offset + 1]) << 16
                        | UInt32(original[offset + 2]) << 8 | UInt32(original[offset + 3]))
        let values: [UInt32] = [0, 1, 3, 39, count - 1, count, count + 1, 0x7fff_ffff, 0x8000_0000,
                                0xffff_fff0, 0xffff_ffff, UInt32(field) &+ 4, UInt32(field) &- 4]
        for value in values where value != UInt32(field) {
            var bytes = original
            bytes.replaceSubrange(offset..<(offset + 4), with: encodeCells([value]))
            do throws(DeviceTreeError) {
                let tree = try DeviceTree(bytes: bytes)
                exerciseEveryAPI(tree, includeIntid: true)
            } catch {
                #expect(!error.description.isEmpty)
            }
        }
        // Pointing the structure block into the header must be refused outright.
        if offset == 8 {
            var bytes = original
            bytes.replaceSubrange(8..<12, with: encodeCells([0]))
            #expect(throws: DeviceTreeError.self) { try DeviceTree(bytes: bytes) }
        }
    }

    @Test func corruptStructureTags() throws {
        let tree = try DeviceTree(bytes: Self.small)
        let structStart = Int(Self.small[8]) << 24 | Int(Self.small[9]) << 16 | Int(Self.small[10]) << 8 | Int(Self.small[11])
        // Overwrite the root's FDT_BEGIN_NODE with an unknown tag, then with FDT_END.
        for tag: UInt32 in [0, 5, 9, 0xffff_ffff, 2] {
            var bytes = Self.small
            bytes.replaceSubrange(structStart..<(structStart + 4), with: encodeCells([tag]))
            #expect(throws: DeviceTreeError.self, "tag \(tag)") { try DeviceTree(bytes: bytes) }
        }
        // A property length that runs past the structure block.
        let root = tree.root
        let firstProperty = Int(tree.structOffset(of: root)) + structStart + 8   // tag + empty name padded
        #expect(Array(Self.small[firstProperty..<(firstProperty + 4)]) == encodeCells([3]))
        var bytes = Self.small
        bytes.replaceSubrange((firstProperty + 4)..<(firstProperty + 8), with: encodeCells([0x7fff_fff0]))
        #expect(throws: DeviceTreeError.self) { try DeviceTree(bytes: bytes) }
        // A property name offset past the strings block.
        bytes = Self.small
        bytes.replaceSubrange((firstProperty + 8)..<(firstProperty + 12), with: encodeCells([0x00ff_ffff]))
        #expect(throws: DeviceTreeError.self) { try DeviceTree(bytes: bytes) }
    }

    /// Properties must precede subnodes (Devicetree Specification 5.4.1).
    /// fdt_check_full lets `/ { a { }; x = <1>; }` (x after the subnode) through;
    /// libfdt's own readers then never see x (fdt_getprop on the root stops at
    /// the subnode and says NOTFOUND), while the index gives x to the root: the
    /// reader and the libfdt-based editor disagree about the same bytes. The
    /// index's "property after a subnode" check only fires when the subnode had
    /// properties of its own.
    @Test
    func propertyAfterAnEmptySubnode() throws {
        let w = DeviceTreeWriter()
        w.beginNode(""); w.beginNode("a"); w.endNode(); w.property("x", u32: 1); w.endNode()
        // Refused by the writer's finishing check or, if it let the bytes
        // through, by opening them: either way never accepted.
        var refusedBy = "nobody"
        do throws(DeviceTreeError) {
            let bytes = try w.finish().bytes
            do throws(DeviceTreeError) { _ = try DeviceTree(bytes: bytes) } catch { refusedBy = "opening" }
        } catch {
            refusedBy = "the writer"
        }
        #expect(refusedBy != "nobody", "a property after an empty subnode was accepted")
    }

    /// Seeded single and multi-byte corruption anywhere in the blob: each result
    /// either throws a DeviceTreeError or opens and survives every read API.
    @Test(arguments: [1 as UInt64, 2, 3, 4])
    func randomByteFlips(seed: UInt64) throws {
        let original = Self.small
        let progress = Progress()
        let finished = finishes(within: 120) {
            var random = SplitMix64(seed: seed)
            for round in 0..<1500 {
                var bytes = original
                let flips = round % 3 == 0 ? 1 : Int.random(in: 1...8, using: &random)
                for _ in 0..<flips {
                    let at = Int.random(in: 0..<bytes.count, using: &random)
                    switch Int.random(in: 0..<3, using: &random) {
                    case 0: bytes[at] ^= UInt8(1) << UInt8.random(in: 0..<8, using: &random)
                    case 1: bytes[at] = UInt8.random(in: 0...255, using: &random)
                    default: bytes[at] = [0, 0xff, 0x7f, 0x80, 1][Int.random(in: 0..<5, using: &random)]
                    }
                }
                progress.record(round: round, bytes: bytes)
                do throws(DeviceTreeError) {
                    let tree = try DeviceTree(bytes: bytes)
                    progress.opened()
                    exerciseEveryAPI(tree, includeIntid: false)
                } catch {
                    progress.refused(error)
                }
            }
        }
        #expect(finished, "seed \(seed): round \(progress.round) did not finish; input saved to \(progress.save())")
        #expect(progress.refusals > 0)
        #expect(progress.openings > 0)
    }
}

/// Shared state between a mutation loop on its own thread and the test.
final class Progress: @unchecked Sendable {
    private let lock = NSLock()
    private var current: (Int, [UInt8]) = (0, [])
    private var counts = (opened: 0, refused: 0)

    func record(round: Int, bytes: [UInt8]) { lock.withLock { current = (round, bytes) } }
    func opened() { lock.withLock { counts.opened += 1 } }
    func refused(_ error: DeviceTreeError) { lock.withLock { counts.refused += 1 } }
    var round: Int { lock.withLock { current.0 } }
    var openings: Int { lock.withLock { counts.opened } }
    var refusals: Int { lock.withLock { counts.refused } }

    /// Writes the input in flight to /tmp so a hang can be reproduced.
    func save() -> String {
        let (round, bytes) = lock.withLock { current }
        let path = "/tmp/devicetree-hang-\(round)-\(UUID().uuidString.prefix(8)).dtb"
        _ = FileManager.default.createFile(atPath: path, contents: Data(bytes))
        return path
    }
}
