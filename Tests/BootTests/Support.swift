import Foundation
import DeviceTree
import Partitioning
@_exported import TestSupport   // dtc, temporary folders, tool runs for every file of this target

// The boot side's pure parts, tested on any host (no KVM): inputs are the real
// board trees in DeviceTrees/, the plans in Boards/ compiled by dtc, and
// Debian's arm64 kernel Image when Scripts/fetch-debian-kernel has fetched it.

/// The checkout's root, from this file's path.
let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

func boardPath(_ name: String) -> String { repositoryRoot + "/DeviceTrees/" + name }

func boardTree(_ name: String) throws -> DeviceTree {
    try DeviceTree(bytes: [UInt8](Data(contentsOf: URL(fileURLWithPath: boardPath(name)))))
}

/// `dtc -I dts -O dtb` on a file.
func compilePlan(_ path: String) throws -> [UInt8] { try compileDTSFile(path) }

/// Carves `board` with `Boards/<plan>/plan.dts` and writes the host tree to a
/// temporary file, as the bootloader would hand it to the host (its path is
/// what `cleave boot --tree` reads). Returns the file and its directory.
func carvedHostTree(board: String, plan: String) throws -> (path: String, directory: URL) {
    let planTree = try DeviceTree(bytes: compilePlan(repositoryRoot + "/Boards/\(plan)/plan.dts"))
    guard let parsed = Plan.parse(planTree).plan else { throw ToolFailure(description: "plan \(plan) does not parse") }
    let result = carve(board: try boardTree(board), plan: parsed)
    guard let host = result.host else {
        throw ToolFailure(description: "carve failed: \(result.diagnostics.map { "\($0)" }.joined(separator: "; "))")
    }
    let dir = try temporaryDirectory()
    let path = dir.appendingPathComponent("host.dtb").path
    try Data(host.bytes).write(to: URL(fileURLWithPath: path))
    return (path, dir)
}

/// Debian's arm64 kernel Image (an uncompressed Image named vmlinuz-*), if
/// fetched: from $CLEAVE_KERNEL_ROOT, from $CLEAVE_CORPUS (<root>/usr/lib, as
/// Scripts/test sets it), or from the fetch script's default cache.
let debianKernelImage: String? = {
    var roots: [String] = []
    let env = ProcessInfo.processInfo.environment
    if let root = env["CLEAVE_KERNEL_ROOT"] { roots.append(root) }
    if let corpus = env["CLEAVE_CORPUS"] { roots.append(corpus + "/../..") }
    let cache = env["CLEAVE_CACHE"] ?? (NSHomeDirectory() + "/.cache/cleave")
    roots.append(cache + "/debian-kernel/current")
    for root in roots {
        let boot = root + "/boot"
        guard let names = try? FileManager.default.contentsOfDirectory(atPath: boot) else { continue }
        if let name = names.sorted().first(where: { $0.hasPrefix("vmlinuz-") }) { return boot + "/" + name }
    }
    return nil
}()

/// An arm64 Image header (booting.rst): code0/code1, text_offset, image_size,
/// flags, res2-4, magic "ARM\x64", res5; `fileSize` pads the image.
func imageHeader(textOffset: UInt64, imageSize: UInt64, flags: UInt64, magic: UInt32 = 0x644d_5241,
                 fileSize: Int = 64) -> [UInt8] {
    var bytes = [UInt8](repeating: 0, count: max(64, fileSize))
    func put(_ value: UInt64, at offset: Int, width: Int) {
        for i in 0..<width { bytes[offset + i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
    }
    put(0x1400_0010, at: 0, width: 4) // b +0x40 (code0), as Linux's head.S
    put(textOffset, at: 8, width: 8)
    put(imageSize, at: 16, width: 8)
    put(flags, at: 24, width: 8)
    put(UInt64(magic), at: 56, width: 4)
    return bytes
}

extension DeviceTree {
    /// The string value of `property` at `path`, if both exist.
    func string(_ path: String, _ property: String) -> String? {
        lookup(path: path).flatMap { self.property(property, of: $0)?.string }
    }

    func cells(_ path: String, _ property: String) -> [UInt32]? {
        lookup(path: path).flatMap { self.property(property, of: $0)?.cells }
    }
}

/// 64-bit numbers from a list of cells, `width` cells each.
func numbers(_ cells: [UInt32], width: Int) -> [UInt64] {
    stride(from: 0, to: cells.count - width + 1, by: width).map { i in
        (0..<width).reduce(UInt64(0)) { $0 << 32 | UInt64(cells[i + $1]) }
    }
}

/// A console page and INTID for tests that need one: QEMU virt's page below
/// the virtio-mmio window and SPI 1, what `cleave run` used before it placed
/// the console by the carve's rule.
enum TestConsole {
    static let base: UInt64 = 0x09ff_f000
    static let intid: UInt32 = 33
}
