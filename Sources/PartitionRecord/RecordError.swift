import DeviceTree

/// Why a record under /chosen/cleave cannot be read: the node, the property
/// (nil when the node itself is the problem) and what is wrong with it.
public struct RecordError: Error, Equatable, CustomStringConvertible {
    /// The node's path, e.g. /chosen/cleave/linux/devices/rtc.
    public var node: String
    public var property: String?
    /// "is missing", "is 6 bytes, not 4 (one u32 cell)", ...
    public var problem: String

    public init(node: String, property: String?, problem: String) {
        self.node = node
        self.property = property
        self.problem = problem
    }

    public var description: String {
        property.map { "\(node): '\($0)' \(problem)" } ?? "\(node) \(problem)"
    }
}

/// One node of a record being read: each accessor names the node and the
/// property in the error it throws.
struct RecordNode {
    let tree: DeviceTree
    let node: Node
    let path: String

    init(_ tree: DeviceTree, _ node: Node) {
        self.tree = tree
        self.node = node
        self.path = tree.path(of: node)
    }

    var name: String { tree.name(of: node) }
    var children: [RecordNode] { tree.children(of: node).map { RecordNode(tree, $0) } }
    func child(_ name: String) -> RecordNode? { tree.child(of: node, named: name).map { RecordNode(tree, $0) } }

    func error(_ property: String?, _ problem: String) -> RecordError {
        RecordError(node: path, property: property, problem: problem)
    }

    func has(_ name: String) -> Bool { tree.hasProperty(name, of: node) }

    func value(_ name: String) throws(RecordError) -> PropertyValue {
        guard let value = tree.property(name, of: node) else { throw error(name, "is missing") }
        return value
    }

    /// A NUL-terminated string.
    func string(_ name: String) throws(RecordError) -> String {
        guard let text = try value(name).string else { throw error(name, "is not a NUL-terminated string") }
        return text
    }

    func optionalString(_ name: String) throws(RecordError) -> String? {
        has(name) ? try string(name) : nil
    }

    /// A string list; an empty value is an empty list.
    func strings(_ name: String) throws(RecordError) -> [String] {
        let v = try value(name)
        if v.isEmpty { return [] }
        guard let list = v.strings else { throw error(name, "is not a list of NUL-terminated strings") }
        return list
    }

    /// Exactly one cell.
    func u32(_ name: String) throws(RecordError) -> UInt32 {
        let v = try value(name)
        guard let n = v.u32 else { throw error(name, "is \(v.count) bytes, not 4 (one u32 cell)") }
        return n
    }

    /// One or two cells (written as two).
    func u64(_ name: String) throws(RecordError) -> UInt64 {
        let v = try value(name)
        guard let n = v.u64 else { throw error(name, "is \(v.count) bytes, not 8 (a u64 in two cells)") }
        return n
    }

    /// A flag: true when present, which it may only be with an empty value.
    func flag(_ name: String) throws(RecordError) -> Bool {
        guard let value = tree.property(name, of: node) else { return false }
        guard value.isEmpty else { throw error(name, "is \(value.count) bytes, not empty (a flag)") }
        return true
    }

    func optionalU32(_ name: String) throws(RecordError) -> UInt32? {
        has(name) ? try u32(name) : nil
    }

    func optionalU64(_ name: String) throws(RecordError) -> UInt64? {
        has(name) ? try u64(name) : nil
    }

    /// Cells in groups of `group` (`what` names one group for the message).
    func cells(_ name: String, group: Int, _ what: String) throws(RecordError) -> [UInt32] {
        let v = try value(name)
        guard v.count % (4 * group) == 0 else {
            throw error(name, "is \(v.count) bytes, not a whole number of \(what) (\(group) cell\(group == 1 ? "" : "s") each)")
        }
        return v.cells
    }

    /// A u64 from two cells at `index`.
    static func u64(_ cells: [UInt32], _ index: Int) -> UInt64 {
        UInt64(cells[index]) << 32 | UInt64(cells[index + 1])
    }
}
