import DeviceTree

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
