import Foundation
import Testing
import DeviceTree
import Partitioning
import PartitionRecord
import Supervisor

/// Boards/qemu-virt-two-guests on the 4-CPU QEMU-virt tree it was written
/// for (DeviceTrees/qemu-virt-gicv3-smp4.dtb): carve accepts it without an
/// error, and what the boot side reads back per guest is that guest's own
/// CPU, RAM and devices, none shared, with the host kernel keeping both
/// guests' CPUs off its scheduler and reserving both guests' RAM.
@Suite("Two guests on the 4-CPU QEMU-virt board")
struct TwoGuestPlanTests {
    static let board = "qemu-virt-gicv3-smp4.dtb"
    static let plan = "qemu-virt-two-guests"

    @Test func carveHasNoErrors() throws {
        let planTree = try DeviceTree(bytes: compilePlan(repositoryRoot + "/Boards/\(Self.plan)/plan.dts"))
        let parsed = try #require(Plan.parse(planTree).plan, "\(Plan.parse(planTree).diagnostics)")
        let result = carve(board: try boardTree(Self.board), plan: parsed)
        #expect(!result.diagnostics.hasErrors, "\(result.diagnostics.filter { $0.severity == .error })")
        #expect(result.host != nil)
        #expect(result.report.guests.map(\.name) == ["ctl", "io"])
    }

    @Test func eachGuestGetsItsCPUsRAMAndDevices() throws {
        let host = try carvedHostTree(board: Self.board, plan: Self.plan)
        defer { try? FileManager.default.removeItem(at: host.directory) }
        let record = try HostTreeGuest.record(treePath: host.path)
        #expect(record.guests.map(\.name) == ["ctl", "io"])

        let ctl = try HostTreeGuest.configuration(treePath: host.path, guest: "ctl", iomemPath: "/nonexistent/iomem")
        let io = try HostTreeGuest.configuration(treePath: host.path, guest: "io", iomemPath: "/nonexistent/iomem")
        // CPUs 2 and 3 of the board (MPIDR Aff0 = the CPU number on QEMU virt), one vCPU each.
        #expect(ctl.hostCPUs == [2] && ctl.hostCPUMPIDRs == [0x2])
        #expect(io.hostCPUs == [3] && io.hostCPUMPIDRs == [0x3])
        #expect(ctl.memorySize == 0x800_0000 && io.memorySize == 0x800_0000)
        #expect(ctl.fixedBase == nil && io.fixedBase == nil, "both from the hugepage pool")
        #expect(ctl.restart == .onFailure && io.restart == .onFailure)

        #expect(ctl.passthroughDevices.map(\.path) == ["/pl031@9010000", "/pl061@9030000"])
        #expect(ctl.passthroughDevices.map { $0.interrupts.map(\.intid) } == [[34], [39]])
        #expect(io.passthroughDevices.map(\.path) == ["/virtio_mmio@a003e00", "/virtio_mmio@a003c00"])
        #expect(io.passthroughDevices.map { $0.interrupts.map(\.intid) } == [[79], [78]])
        #expect(io.passthroughDevices.map { $0.mmio.map(\.base) } == [[0x0a00_3e00], [0x0a00_3c00]])

        // The console page is emulated inside each VM: the same free board
        // address and SPI serve both, as nothing physical sits there.
        #expect(ctl.consoleBase == io.consoleBase && ctl.consoleINTID == io.consoleINTID)
        #expect(!(ctl.passthroughDevices + io.passthroughDevices).contains { d in d.interrupts.contains { $0.intid == ctl.consoleINTID } })

        // The host command line: both guests' CPUs isolated, host IRQs on
        // CPUs 0-1, 2 x 128 MiB of 2 MiB hugepages reserved.
        let tree = try DeviceTree(bytes: [UInt8](Data(contentsOf: URL(fileURLWithPath: host.path))))
        let bootargs = try #require(tree.lookup(path: "/chosen").flatMap { tree.property("bootargs", of: $0)?.string })
        let words = bootargs.split(separator: " ").map(String.init)
        for expected in ["isolcpus=managed_irq,domain,2-3", "nohz_full=2-3", "rcu_nocbs=2-3", "irqaffinity=0-1",
                         "hugepagesz=2M", "hugepages=128"] {
            #expect(words.contains(expected), "bootargs \(bootargs) lack \(expected)")
        }
    }
}
