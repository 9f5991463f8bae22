import DeviceTree

/// The guest's console as carving placed it: properties `console`,
/// `console-base` and `console-spi` of /chosen/cleave/<guest>.
public enum ConsoleRecord: Equatable {
    /// The supervisor's 16550 (and pvpanic) page at `base`, interrupting on
    /// SPI `spi` (INTID spi + 32): a page and SPI the board leaves free.
    case virtual(base: UInt64, spi: UInt32)
    /// A passed-through UART, by its path in the board tree.
    case device(path: String)

    func write(into patch: inout DeviceTreePatch, at path: String) {
        switch self {
        case .virtual(let base, let spi):
            patch.set(path, "console", string: "virtual")
            patch.set(path, "console-base", cells: numberCells(base, count: 2))
            patch.set(path, "console-spi", cells: [spi])
        case .device(let device):
            patch.set(path, "console", string: device)
        }
    }

    static func read(from node: RecordNode) throws(RecordError) -> ConsoleRecord {
        let console = try node.string("console")
        guard console == "virtual" else { return .device(path: console) }
        return .virtual(base: try node.u64("console-base"), spi: try node.u32("console-spi"))
    }
}
