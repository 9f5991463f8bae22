import Testing
import DeviceTree
import GuestTree
import Loading
@testable import Supervisor

/// A restart loads the last boot's tree again with new seeds: only the
/// bytes of /chosen/rng-seed and kaslr-seed may change, and the result is
/// the same tree otherwise.
@Suite struct BootTreeTests {
    @Test func reseedingChangesTheSeedsAndNothingElse() throws {
        let spec = GuestTreeSpec(cpuAffinities: [0, 1], gic: .v3(distributor: 0x0800_0000, redistributor: 0x080a_0000),
                                 consoleBase: 0x09ff_f000, consoleINTID: 33, bootargs: "console=ttyS0", its: 0x0808_0000)
        let facts = BootFacts(ramBanks: [(0x4000_0000, 0x100_0000)], bootargs: nil, initrd: nil, console: (0x09ff_f000, 33),
                              rngSeed: [UInt8](repeating: 0xaa, count: 64), kaslrSeed: 0x5555_5555_5555_5555)
        let tree = try GuestTreeGenerator.generate(spec, facts: facts)
        let placement = try BootPlacement.plan(banks: [(0x4000_0000, 0x100_0000)], kind: .raw(offset: 0x80000),
                                               kernelFileSize: 0x1000, initrdSize: nil).get()
        let first = BootTree(tree, placement: placement)
        #expect(first.bytes == tree.bytes)
        #expect(first.seeds.map { $0.count } == [64, 8])
        let second = first.reseeded()
        #expect(second.bytes.count == first.bytes.count)
        var changed = Set<Int>()
        for i in first.bytes.indices where first.bytes[i] != second.bytes[i] { changed.insert(i) }
        #expect(!changed.isEmpty)
        #expect(changed.allSatisfy { i in first.seeds.contains { $0.contains(i) } })
        let reread = try DeviceTree(bytes: second.bytes)
        let chosen = try #require(reread.lookup(path: "/chosen"))
        #expect(reread.property("rng-seed", of: chosen)?.bytes != [UInt8](repeating: 0xaa, count: 64))
        #expect(reread.property("kaslr-seed", of: chosen)?.u64 != 0x5555_5555_5555_5555)
        #expect(reread.property("bootargs", of: chosen)?.string == tree.property("bootargs", of: try #require(tree.lookup(path: "/chosen")))?.string)
    }
}
