import Testing
import DeviceTree
import GuestTree
import Partitioning
import Supervisor

/// A board's guest gets one timer node whether carving or `cleave run` wrote
/// its tree: both read the board's timer (`TimerInterrupts.of(board:)`) and
/// write it with the same writer.
@Suite struct TimerAgreementTests {
    @Test(arguments: [("qemu-virt-gicv3.dtb", "qemu-virt"), ("qemu-virt-gicv2.dtb", "qemu-virt-gicv2")])
    func carvedAndGeneratedTimersAgree(boardFile: String, plan: String) throws {
        let board = try boardTree(boardFile)
        let planTree = try DeviceTree(bytes: compilePlan(repositoryRoot + "/Boards/\(plan)/plan.dts"))
        let parsed = try #require(Plan.parse(planTree).plan)
        let carved = try #require(carve(board: board, plan: parsed).guests.first).tree
        let vcpus = carved.children(of: try #require(carved.lookup(path: "/cpus"))).count
        let generated = try GuestTreeGenerator.generate(GuestTreeSpec(
            cpuAffinities: (0..<vcpus).map { UInt64($0) }, gic: try BoardGIC.of(board, source: boardFile),
            consoleBase: 0x09ff_f000, consoleINTID: 33, bootargs: "", timer: TimerInterrupts.of(board: board)))
        let timer = try #require(carved.cells("/timer", "interrupts"))
        #expect(generated.cells("/timer", "interrupts") == timer)
        // The board's own node's: same PPIs and triggers (the low flag byte);
        // a GICv2's CPU mask names the guest's vCPUs.
        let own = try #require(board.cells("/timer", "interrupts"))
        #expect(timer.count == own.count)
        let mask: UInt32 = board.gic()?.version == .v2 ? (1 << UInt32(vcpus) - 1) << 8 : 0
        for i in stride(from: 0, to: min(timer.count, own.count), by: 3) {
            #expect(timer[i] == own[i] && timer[i + 1] == own[i + 1])
            #expect(timer[i + 2] == own[i + 2] & 0xff | mask)
        }
    }
}
