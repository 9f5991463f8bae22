import Foundation
import Testing
import DeviceTree
@testable import Partitioning

/// Golden guest trees: `dtc -I dtb -O dts` of the guest carved from the QEMU
/// virt trees with Boards/qemu-virt*/plan.dts, committed under Golden/.
///
/// To regenerate after an intended change to guest trees:
///
///     CLEAVE_UPDATE_GOLDEN=1 swift test --filter PartitioningTests.GoldenTests
///
/// then review `git diff Tests/PartitioningTests/Golden` and commit it.
@Suite("Golden guest trees")
struct GoldenTests {
    static let goldenDirectory = repositoryFile("Tests/PartitioningTests/Golden")

    @Test("the qemu-virt guest tree matches the committed DTS", arguments: [
        ("qemu-virt", "qemu-virt-gicv3", "qemu-virt-linux.dts"),
        ("qemu-virt-gicv2", "qemu-virt-gicv2", "qemu-virt-gicv2-linux.dts"),
    ])
    func golden(_ planName: String, _ treeName: String, _ file: String) throws {
        let (tree, plan) = try RealBoard(plan: planName, tree: treeName).load()
        let (result, _) = try carveOK(tree, plan)
        let guest = try #require(result.guests.first)
        let out = try decompile(guest.tree.bytes)
        #expect(out.status == 0)
        let url = GoldenTests.goldenDirectory.appendingPathComponent(file)
        if ProcessInfo.processInfo.environment["CLEAVE_UPDATE_GOLDEN"] == "1" {
            try FileManager.default.createDirectory(at: GoldenTests.goldenDirectory, withIntermediateDirectories: true)
            try Data(out.dts.utf8).write(to: url)
            return
        }
        guard let expected = try? String(contentsOf: url, encoding: .utf8) else {
            Issue.record("no golden file \(url.path); create it with: CLEAVE_UPDATE_GOLDEN=1 swift test --filter PartitioningTests.GoldenTests")
            return
        }
        if out.dts != expected {
            let a = expected.split(separator: "\n", omittingEmptySubsequences: false)
            let b = out.dts.split(separator: "\n", omittingEmptySubsequences: false)
            let firstDifference = zip(a, b).enumerated().first { $0.element.0 != $0.element.1 }.map { $0.offset } ?? min(a.count, b.count)
            let expectedLine = firstDifference < a.count ? String(a[firstDifference]) : "<end of file>"
            let gotLine = firstDifference < b.count ? String(b[firstDifference]) : "<end of file>"
            Issue.record("""
                guest tree for \(planName) differs from \(url.path) at line \(firstDifference + 1):
                  expected: \(expectedLine)
                  got:      \(gotLine)
                If the change is intended, regenerate with
                  CLEAVE_UPDATE_GOLDEN=1 swift test --filter PartitioningTests.GoldenTests
                and review `git diff Tests/PartitioningTests/Golden` before committing.
                """)
        }
    }
}
