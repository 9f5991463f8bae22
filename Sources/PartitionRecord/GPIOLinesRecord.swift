import DeviceTree
import Platform

/// One group of GPIO lines a guest is given:
/// /chosen/cleave/<guest>/gpio-lines/<label> {chip, lines, direction}.
public struct GPIOLinesRecord: Equatable {
    /// The plan's node name for the group.
    public var label: String
    /// The GPIO controller's path in the board tree.
    public var chip: String
    /// Line offsets on that controller.
    public var lines: [UInt32]
    public var output: Bool

    public init(label: String, chip: String, lines: [UInt32], output: Bool) {
        self.label = label
        self.chip = chip
        self.lines = lines
        self.output = output
    }

    func write(into patch: inout DeviceTreePatch, under parent: String) {
        let path = patch.addNode(parent, label)
        patch.set(path, "chip", string: chip)
        patch.set(path, "lines", cells: lines)
        patch.set(path, "direction", string: output ? "output" : "input")
    }

    static func read(from node: RecordNode) throws(RecordError) -> GPIOLinesRecord {
        let chip = try node.string("chip")
        let lines = try node.cells("lines", group: 1, "line offsets")
        guard !lines.isEmpty else { throw node.error("lines", "is empty (at least one line offset)") }
        let direction = try node.string("direction")
        guard direction == "input" || direction == "output" else {
            throw node.error("direction", "is \"\(direction)\", not input or output")
        }
        return GPIOLinesRecord(label: node.name, chip: chip, lines: lines, output: direction == "output")
    }
}

/// Where carving put one of a guest's virtual GPIO controllers (an emulated
/// PL061, `VirtualGPIOPage`): its page and SPI. Controller k serves the
/// guest's lines 8k to 8k + 7, counted through the `gpio-lines` groups in
/// order. Recorded as `controllers = <base-hi base-lo spi ...>` on the
/// guest's gpio-lines node.
public struct GPIOControllerRecord: Equatable {
    public var base: UInt64
    /// SPI number (INTID - 32).
    public var spi: UInt32

    public init(base: UInt64, spi: UInt32) {
        self.base = base
        self.spi = spi
    }

    static let property = "controllers"

    static func write(_ controllers: [GPIOControllerRecord], into patch: inout DeviceTreePatch, at path: String) {
        var cells: [UInt32] = []
        for c in controllers { cells += numberCells(c.base, count: 2) + [c.spi] }
        patch.set(path, property, cells: cells)
    }

    /// The controllers of `node` (the gpio-lines node), which must be as
    /// many as `lines` lines need.
    static func read(from node: RecordNode, lines: Int) throws(RecordError) -> [GPIOControllerRecord] {
        let cells = try node.cells(property, group: 3, "base and SPI triples")
        let controllers = stride(from: 0, to: cells.count, by: 3).map {
            GPIOControllerRecord(base: RecordNode.u64(cells, $0), spi: cells[$0 + 2])
        }
        let needed = VirtualGPIOPage.controllers(forLines: lines)
        guard controllers.count == needed else {
            throw node.error(property, "places \(controllers.count) virtual GPIO controllers for \(lines) lines, which need \(needed)")
        }
        for c in controllers where c.base % VirtualGPIOPage.size != 0 {
            throw node.error(property, "has a controller at 0x\(String(c.base, radix: 16)), not 4 KiB aligned")
        }
        return controllers
    }
}
