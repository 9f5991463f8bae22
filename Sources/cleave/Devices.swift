import ArgumentParser
import DeviceTree
import Partitioning

struct Devices: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "List every device of a board tree with its MMIO, INTIDs, dependencies and whether a guest can own it.")

    @Argument(help: "The board's device tree blob (.dtb).")
    var board: String

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        let tree: DeviceTree
        do { tree = try loadBoard(board) } catch { throw failUnusable(error) }
        let inventory = Board(tree)
        printOut(json ? Render.devicesJSON(inventory) + "\n" : Render.devices(inventory))
    }
}
