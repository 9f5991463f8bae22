import CLinux
import DeviceTree
import Loading

/// The guest tree one boot loaded, kept for the next. A restart whose
/// images land where they did (the same `placement` in the same RAM) gets
/// this tree again with new seeds (/chosen/rng-seed and kaslr-seed rewritten
/// in place from getrandom, as a new tree's are) instead of a tree built
/// again, which cost 6-13 ms of a restart on the emulated board
/// (docs/kernel-facts.md §31): nothing else in it depends on the boot.
struct BootTree {
    private(set) var bytes: [UInt8]
    let placement: BootPlacement
    /// Where the seeds' values are in `bytes`, when the tree has them.
    let seeds: [Range<Int>]

    init(_ tree: DeviceTree, placement: BootPlacement) {
        bytes = tree.bytes
        self.placement = placement
        var seeds: [Range<Int>] = []
        if let chosen = tree.lookup(path: "/chosen") {
            for name in ["rng-seed", "kaslr-seed"] {
                if let value = tree.property(name, of: chosen) { seeds.append(value.blobOffset..<(value.blobOffset + value.count)) }
            }
        }
        self.seeds = seeds
    }

    /// The same tree with new random seeds.
    func reseeded() -> BootTree {
        var copy = self
        copy.bytes.withUnsafeMutableBytes { blob in
            for range in seeds { _ = cleave_getrandom(blob.baseAddress! + range.lowerBound, range.count) }
        }
        return copy
    }
}
