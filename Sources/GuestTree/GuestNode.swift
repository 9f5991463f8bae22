import DeviceTree

/// One node of a guest tree as a value: its name, its properties in the order
/// they are written, and its children. Every node writer of this module
/// returns one, so a node is described once and emitted by whichever tree
/// producer the caller has: the sequential `DeviceTreeWriter` (carving,
/// `cleave run`) or the `DeviceTreeEditor` (boot-time finalisation of a carved
/// tree). A concrete value rather than a protocol both producers conform to:
/// Embedded Swift has no existentials, and a value can be compared in tests.
///
/// ```
///   GuestNode.memory(banks: ...)  -> GuestNode -> write(to: DeviceTreeWriter)
///                                              -> add(to: DeviceTreeEditor)
/// ```
public struct GuestNode {
    public struct Property: Equatable {
        public var name: String
        /// The encoded value (big-endian cells, NUL-terminated strings, bytes).
        public var value: [UInt8]
    }

    /// `name@unit-address`, or `name`.
    public var name: String
    public var properties: [Property] = []
    public var children: [GuestNode] = []

    public init(_ name: String) { self.name = name }

    // Setters named as DeviceTreeWriter's, so a writer reads like the
    // sequential code it replaced.
    public mutating func property(_ name: String, bytes: [UInt8]) { properties.append(Property(name: name, value: bytes)) }
    public mutating func property(_ name: String) { property(name, bytes: []) }
    public mutating func property(_ name: String, string: String) { property(name, bytes: Array(string.utf8) + [0]) }
    public mutating func property(_ name: String, u32: UInt32) { property(name, bytes: encodeCells([u32])) }
    public mutating func property(_ name: String, cells: [UInt32]) { property(name, bytes: encodeCells(cells)) }

    public mutating func property(_ name: String, strings: [String]) {
        var bytes: [UInt8] = []
        for s in strings { bytes += Array(s.utf8); bytes.append(0) }
        property(name, bytes: bytes)
    }

    /// The value of the property `name`, if the node has it.
    public func value(_ name: String) -> [UInt8]? {
        for p in properties where p.name == name { return p.value }
        return nil
    }

    /// Writes the node, its properties in order, then its children, at the
    /// writer's current position.
    public func write(to w: DeviceTreeWriter) {
        w.beginNode(name)
        for p in properties { w.property(p.name, bytes: p.value) }
        for child in children { child.write(to: w) }
        w.endNode()
    }

    /// Adds the node under `parent`, or, when a node of that name is there
    /// already, sets these properties on it; returns the node's path. A
    /// property the node has keeps its place; libfdt puts a new one first
    /// (`fdt_setprop`), so on a new node they come out last to first. Their
    /// order means nothing (devicetree specification 2.2.4), and boot-time
    /// finalisation writes the bytes it always wrote.
    @discardableResult
    public func add(to editor: DeviceTreeEditor, under parent: String = "/") throws(DeviceTreeError) -> String {
        let path = try editor.addNode(parent, name)
        for p in properties { try editor.setProperty(path, p.name, bytes: p.value) }
        try GuestNode.add(children, to: editor, under: path)
        return path
    }

    /// Adds `nodes` under `parent` so that they come out in this order, ahead
    /// of the children already there: libfdt puts a new subnode before its
    /// existing siblings (`fdt_add_subnode`), so they are added last to first.
    public static func add(_ nodes: [GuestNode], to editor: DeviceTreeEditor, under parent: String = "/") throws(DeviceTreeError) {
        for node in nodes.reversed() { try node.add(to: editor, under: parent) }
    }
}

/// `value` in lower-case hexadecimal without a prefix, as unit addresses are
/// written (devicetree specification 2.2.1).
func unitAddress(_ value: UInt64) -> String { String(value, radix: 16) }
