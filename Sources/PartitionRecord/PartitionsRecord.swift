import DeviceTree

/// The carve-to-boot record: /chosen/cleave, compatible
/// "cleave,partitions-v1", one child per guest (Boards/README.md, "What
/// carving adds to the host tree"). `cleave carve` writes it into the host
/// tree; `cleave boot` reads it back from the live one.
public struct PartitionsRecord: Equatable {
    public static let path = "/chosen/cleave"
    public static let compatible = "cleave,partitions-v1"

    public var guests: [GuestRecord]

    public init(guests: [GuestRecord]) { self.guests = guests }

    /// Adds /chosen/cleave to `patch`; /chosen must exist in the tree or the
    /// patch, and an earlier /chosen/cleave must have been deleted. Returns
    /// the node's path.
    @discardableResult
    public func write(into patch: inout DeviceTreePatch) -> String {
        let root = patch.addNode("/chosen", "cleave")
        patch.set(root, "compatible", string: PartitionsRecord.compatible)
        for guest in guests { guest.write(into: &patch, under: root) }
        return root
    }

    /// The record of `tree`; throws naming the node and property that is
    /// missing or malformed (the node /chosen/cleave itself when the tree has
    /// no record).
    public static func read(from tree: DeviceTree) throws(RecordError) -> PartitionsRecord {
        guard let node = tree.lookup(path: path) else {
            throw RecordError(node: path, property: nil, problem: "is missing")
        }
        let root = RecordNode(tree, node)
        guard tree.isCompatible(node, with: compatible) else {
            throw root.error("compatible", "is not \"\(compatible)\"")
        }
        var guests: [GuestRecord] = []
        for child in root.children { guests.append(try GuestRecord.read(from: child)) }
        return PartitionsRecord(guests: guests)
    }
}
