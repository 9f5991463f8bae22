import CFDT

/// A node of one `DeviceTree`: an index into that tree's node table. It stays
/// valid for as long as the tree value it came from (trees are immutable; edits
/// go through `DeviceTreeEditor` and give a new tree).
public struct Node: Hashable, Comparable {
    public let index: Int32
    public static func < (a: Node, b: Node) -> Bool { a.index < b.index }
}

/// A validated, read-only flattened device tree with an index of its nodes,
/// properties and phandles, built in one pass over the structure block.
///
/// Validation is libfdt's `fdt_check_full`, so a malformed, truncated or hostile
/// blob is refused before anything reads it; the index pass bounds-checks again.
public struct DeviceTree {
    struct NodeRecord {
        var nameOffset: Int32        // absolute offset of the name in the blob
        var nameLength: Int32
        var parent: Int32            // -1 for the root
        var firstChild: Int32 = -1
        var nextSibling: Int32 = -1
        var firstProperty: Int32     // index into `props`
        var propertyCount: Int32 = 0
        var structOffset: Int32      // libfdt node offset
    }
    struct PropertyRecord {
        var nameOffset: Int32        // absolute offset of the name in the blob
        var valueOffset: Int32       // absolute offset of the value in the blob
        var length: Int32
        var nameID: Int32 = -1       // index into `names`
    }

    /// Everything below lives in one immutable object, so a `DeviceTree` is a
    /// single reference: copying it (into a `Board`, a device record, a
    /// closure) costs one retain, not one per table.
    final class Index {
        let storage: Storage
        let nodeTable: [NodeRecord]
        let propertyTable: [PropertyRecord]
        /// phandle -> node index for the usual dense numbering (dtc numbers from 1),
        /// so a reference costs an array read, not a hash; empty when the
        /// numbering is sparse, and `phandleTable` holds them instead.
        let phandleArray: [Int32]
        let phandleTable: [UInt32: Int32]
        let maxPhandle: UInt32
        /// Each node's own `#address-cells` and `#size-cells` (the first of
        /// each name): the value, -1 when absent, -2 when not one cell. Every
        /// `reg` and `ranges` decode asks for them.
        let addressCells: [Int64]
        let sizeCells: [Int64]
        let stringsEnd: Int
        /// Every distinct property name, interned once: lookups compare ids, not bytes.
        let names: NameTable
        /// How each name references other nodes (`dependencyRule(for:)`), by name id.
        let rules: [(DependencyKind, PhandleLayout)?]
        /// Whether `rules` has a rule for the name, by name id: a flag to test in
        /// loops over every property.
        let isReference: [Bool]
        /// Ids of the names the library itself looks up on every node.
        let known: KnownNames

        init(storage: Storage, nodeTable: [NodeRecord], propertyTable: [PropertyRecord], phandleArray: [Int32],
             phandleTable: [UInt32: Int32], maxPhandle: UInt32, addressCells: [Int64], sizeCells: [Int64],
             stringsEnd: Int, names: NameTable, rules: [(DependencyKind, PhandleLayout)?]) {
            self.storage = storage
            self.nodeTable = nodeTable
            self.propertyTable = propertyTable
            self.phandleArray = phandleArray
            self.phandleTable = phandleTable
            self.maxPhandle = maxPhandle
            self.addressCells = addressCells
            self.sizeCells = sizeCells
            self.stringsEnd = stringsEnd
            self.names = names
            self.rules = rules
            isReference = rules.map { $0 != nil }
            known = KnownNames(names)
        }
    }

    let index: Index
    var storage: Storage { index.storage }
    var nodeTable: [NodeRecord] { index.nodeTable }
    var propertyTable: [PropertyRecord] { index.propertyTable }
    var names: [String] { index.names.names }
    var rules: [(DependencyKind, PhandleLayout)?] { index.rules }
    var known: KnownNames { index.known }

    /// Size of the blob in bytes (`totalsize`).
    public var size: Int { storage.count }

    /// Opens and validates a blob. The bytes are copied.
    public init(bytes: [UInt8]) throws(DeviceTreeError) {
        guard bytes.count >= 40 else {
            throw .malformed("\(bytes.count) bytes is shorter than a device tree header (40 bytes)")
        }
        let header = Storage(bytes: bytes)
        let magic = header.be32(0)
        guard magic == 0xd00d_feed else {
            throw .malformed("bad magic 0x\(String(magic, radix: 16)) (expected 0xd00dfeed)")
        }
        let total = Int(header.be32(4))
        guard total <= bytes.count else {
            throw .malformed("header says \(total) bytes but only \(bytes.count) are there (truncated?)")
        }
        let version = header.be32(20)
        guard version >= 16 else {
            throw .malformed("version \(version) is too old; convert it with 'dtc -I dtb -O dtb'")
        }
        let storage = total == bytes.count ? header : Storage(bytes: Array(bytes[0..<total]))
        try self.init(checking: storage) { .malformed(fdtErrorString($0)) }
    }

    /// Opens a blob (`storage` holds exactly `totalsize` bytes) that has to
    /// pass `fdt_check_full`. A blob `BlobCheck` and the index pass find
    /// well-formed is not walked by libfdt again; any other goes through
    /// `fdt_check_full` first, whose error (`libfdtError`) wins over the
    /// index's, as when every blob was checked by libfdt first.
    private init(checking storage: Storage, libfdtError: (Int32) -> DeviceTreeError) throws(DeviceTreeError) {
        func libfdtCheck() throws(DeviceTreeError) {
            let status = fdt_check_full(storage.base, storage.count)
            guard status == 0 else { throw libfdtError(status) }
        }
        guard BlobCheck.headerAccepted(storage) else {
            try libfdtCheck()
            index = try DeviceTree.buildIndex(storage).index
            return
        }
        let built: (index: Index, libfdtAccepts: Bool)
        do {
            built = try DeviceTree.buildIndex(storage)
        } catch {
            try libfdtCheck()
            throw error
        }
        if !built.libfdtAccepts { try libfdtCheck() }
        index = built.index
    }

    /// A copy of a blob libfdt just produced (`totalsize` bytes at `blob`),
    /// checked with `fdt_check_full` like any input: what the editor and the
    /// writer return must open again.
    init(checkingCopyOf blob: UnsafeRawPointer, what: String) throws(DeviceTreeError) {
        let size = Int(cleave_fdt_totalsize(blob))
        let copy = UnsafeMutableRawPointer.allocate(byteCount: max(size, 1), alignment: 8)
        copy.copyMemory(from: blob, byteCount: size)
        try self.init(checking: Storage(taking: copy, count: size)) {
            .libfdt(call: "fdt_check_full", code: $0, context: what)
        }
    }

    /// Builds the index over a blob `fdt_check_full` accepted (or one this
    /// library wrote): one pass over the structure block, bounds-checked again.
    init(validated storage: Storage) throws(DeviceTreeError) {
        index = try DeviceTree.buildIndex(storage).index
    }

    /// The index pass; also says whether the structure block keeps the rules
    /// `fdt_check_full` checks beyond what indexing needs (see `BlobCheck`).
    static func buildIndex(_ storage: Storage) throws(DeviceTreeError) -> (index: Index, libfdtAccepts: Bool) {
        let structStart = Int(storage.be32(8))
        let stringsStart = Int(storage.be32(12))
        // size_dt_struct exists from version 17. A v16 structure block ends at
        // its FDT_END tag wherever that is: libfdt then walks up to totalsize,
        // and so does the index, so both see the same nodes.
        let structEnd = storage.be32(20) >= 17 ? structStart + Int(storage.be32(36)) : storage.count
        // Where a property name must end (libfdt 1.6.1's fdt_get_string): inside
        // size_dt_strings from version 17, anywhere before totalsize in version
        // 16, which libfdt reads past size_dt_strings (a v16 name cut by
        // size_dt_strings is read whole, as libfdt reads it).
        let stringsEnd = storage.be32(20) >= 17 ? stringsStart + Int(storage.be32(32)) : storage.count
        var nodes: [NodeRecord] = []
        var props: [PropertyRecord] = []
        let size = structEnd - structStart
        nodes.reserveCapacity(size / 96 + 8)
        props.reserveCapacity(size / 20 + 8)
        // (phandle, node) in tree order. A phandle given twice resolves to the
        // last node carrying it, as it always has here.
        var phandles: [(handle: UInt32, node: Int32)] = []
        var maxPhandle: UInt32 = 0
        var stack: [Int32] = []
        var lastChild: [Int32] = []   // per open node: its last child so far (-1: none yet)
        var openProperties: Int32 = 0 // properties of the innermost open node so far
        // Names are interned as they are met, by strings-block offset and then by
        // content (dtc shares equal names in the strings block; a producer that
        // does not still gets one id per name).
        var idByOffset = [Int32](repeating: -1, count: max(stringsEnd - stringsStart, 0))
        var names = NameTable(base: UnsafeRawPointer(storage.base))
        var rules: [(DependencyKind, PhandleLayout)?] = []
        var phandleIDs: (Int32, Int32) = (-2, -2)
        var cellsIDs: (address: Int32, size: Int32) = (-2, -2)
        var addressCells: [Int64] = []
        var sizeCells: [Int64] = []
        addressCells.reserveCapacity(size / 96 + 8)
        sizeCells.reserveCapacity(size / 96 + 8)
        var position = structStart
        // fdt_check_full's rules beyond the index's (see BlobCheck).
        var libfdtAccepts = true
        var sawEnd = false
        var rootClosed = false

        func fail(_ why: String) -> DeviceTreeError { .malformed("structure block at offset \(position): \(why)") }

        while position + 4 <= structEnd {
            let tag = storage.be32(position)
            let tagOffset = position
            position += 4
            // Only FDT_END may follow the root node.
            if rootClosed && tag != 9 { libfdtAccepts = false }
            switch tag {
            case 1: // FDT_BEGIN_NODE
                var end = position
                while end < structEnd && storage.byte(end) != 0 { end += 1 }
                guard end < structEnd else { throw fail("unterminated node name") }
                if nodes.isEmpty && end != position { libfdtAccepts = false }   // the root's name is empty
                let parent = stack.last ?? -1
                let index = Int32(nodes.count)
                if parent >= 0 {
                    if lastChild[lastChild.count - 1] < 0 { nodes[Int(parent)].propertyCount = openProperties }
                } else if index != 0 {
                    throw fail("more than one root node")
                }
                nodes.append(NodeRecord(nameOffset: Int32(position), nameLength: Int32(end - position),
                                        parent: parent, firstProperty: Int32(props.count),
                                        structOffset: Int32(tagOffset - structStart)))
                if parent >= 0 {
                    let previous = lastChild[lastChild.count - 1]
                    if previous < 0 { nodes[Int(parent)].firstChild = index }
                    else { nodes[Int(previous)].nextSibling = index }
                    lastChild[lastChild.count - 1] = index
                }
                addressCells.append(-1)
                sizeCells.append(-1)
                stack.append(index)
                lastChild.append(-1)
                openProperties = 0
                position = (end + 1 + 3) & ~3
            case 2: // FDT_END_NODE
                guard let node = stack.popLast() else { throw fail("END_NODE without BEGIN_NODE") }
                if lastChild.removeLast() < 0 { nodes[Int(node)].propertyCount = openProperties }
                if stack.isEmpty { rootClosed = true }
            case 3: // FDT_PROP
                guard !stack.isEmpty, position + 8 <= structEnd else { throw fail("property outside a node") }
                let length = Int(storage.be32(position))
                let nameOffset = stringsStart + Int(storage.be32(position + 4))
                let value = position + 8
                guard value + length <= structEnd, nameOffset < stringsEnd else { throw fail("property out of bounds") }
                // Properties of a node precede its children.
                guard lastChild[lastChild.count - 1] < 0 else { throw fail("property after a subnode") }
                var id = idByOffset[nameOffset - stringsStart]
                if id < 0 {
                    var end = nameOffset
                    while end < stringsEnd && storage.byte(end) != 0 { end += 1 }
                    if end == stringsEnd { libfdtAccepts = false }   // no NUL before the names' end
                    let (interned, isNew) = names.intern(at: nameOffset, length: end - nameOffset)
                    id = interned
                    if isNew {
                        let name = names.utf8(id)
                        rules.append(DeviceTree.dependencyRule(bytes: name))
                        if name.equals("phandle") { phandleIDs.0 = id }
                        if name.equals("linux,phandle") { phandleIDs.1 = id }
                        if name.equals("#address-cells") { cellsIDs.address = id }
                        if name.equals("#size-cells") { cellsIDs.size = id }
                    }
                    idByOffset[nameOffset - stringsStart] = id
                }
                props.append(PropertyRecord(nameOffset: Int32(nameOffset), valueOffset: Int32(value),
                                            length: Int32(length), nameID: id))
                openProperties += 1
                if id == cellsIDs.address || id == cellsIDs.size {
                    let node = Int(stack[stack.count - 1])
                    let value: Int64 = length == 4 ? Int64(storage.be32(value)) : -2
                    if id == cellsIDs.address { if addressCells[node] == -1 { addressCells[node] = value } }
                    else if sizeCells[node] == -1 { sizeCells[node] = value }
                }
                if length == 4 && (id == phandleIDs.0 || id == phandleIDs.1) {
                    let handle = storage.be32(value)
                    if handle != 0 && handle != 0xffff_ffff {
                        phandles.append((handle, stack[stack.count - 1]))
                        maxPhandle = max(maxPhandle, handle)
                    }
                }
                position = (value + length + 3) & ~3
            case 4: // FDT_NOP
                continue
            case 9: // FDT_END
                if !stack.isEmpty { libfdtAccepts = false }
                sawEnd = true
                position = structEnd
            default:
                throw fail("unknown tag 0x\(String(tag, radix: 16))")
            }
        }
        guard !nodes.isEmpty else { throw .malformed("no root node") }
        var dense: [Int32] = []
        var sparse: [UInt32: Int32] = [:]
        if maxPhandle > 0 && maxPhandle <= UInt32(4 * nodes.count + 64) {
            dense = [Int32](repeating: -1, count: Int(maxPhandle) + 1)
            for (handle, node) in phandles { dense[Int(handle)] = node }
        } else {
            sparse.reserveCapacity(phandles.count)
            for (handle, node) in phandles { sparse[handle] = node }
        }
        let index = Index(storage: storage, nodeTable: nodes, propertyTable: props, phandleArray: dense, phandleTable: sparse,
                          maxPhandle: maxPhandle, addressCells: addressCells, sizeCells: sizeCells, stringsEnd: stringsEnd,
                          names: names, rules: rules)
        return (index, libfdtAccepts && sawEnd)
    }

    /// The tree's bytes (exactly `totalsize`).
    public var bytes: [UInt8] { storage.array(0, storage.count) }

    /// Calls `body` with the blob, for libfdt calls that only read.
    public func withUnsafeBlob<R>(_ body: (UnsafeRawPointer) -> R) -> R {
        body(UnsafeRawPointer(storage.base))
    }

    // MARK: Nodes

    public var root: Node { Node(index: 0) }
    public var nodeCount: Int { nodeTable.count }
    /// Every node in tree order (parents before children).
    public var allNodes: [Node] { (0..<Int32(nodeTable.count)).map { Node(index: $0) } }

    public func name(of node: Node) -> String {
        let record = nodeTable[Int(node.index)]
        return storage.string(at: Int(record.nameOffset), limit: Int(record.nameOffset + record.nameLength))
    }

    /// The node name without its unit address (`serial@fe201000` -> `serial`).
    public func baseName(of node: Node) -> String {
        let full = name(of: node)
        guard let at = full.utf8.firstIndex(of: UInt8(ascii: "@")) else { return full }
        return String(full[..<at])
    }

    /// The unit address part of the name, if any.
    public func unitAddress(of node: Node) -> String? {
        let full = name(of: node)
        guard let at = full.utf8.firstIndex(of: UInt8(ascii: "@")) else { return nil }
        return String(full[full.index(after: at)...])
    }

    public func parent(of node: Node) -> Node? {
        let p = nodeTable[Int(node.index)].parent
        return p < 0 ? nil : Node(index: p)
    }

    public func children(of node: Node) -> [Node] {
        var out: [Node] = []
        var child = nodeTable[Int(node.index)].firstChild
        while child >= 0 {
            out.append(Node(index: child))
            child = nodeTable[Int(child)].nextSibling
        }
        return out
    }

    /// Whether `node` lies inside the subtree rooted at `ancestor` (or is it).
    public func isDescendant(_ node: Node, of ancestor: Node) -> Bool {
        var current: Node? = node
        while let n = current {
            if n == ancestor { return true }
            current = parent(of: n)
        }
        return false
    }

    public func depth(of node: Node) -> Int {
        var depth = 0
        var current = parent(of: node)
        while let n = current { depth += 1; current = parent(of: n) }
        return depth
    }

    /// The full path, e.g. `/soc/serial@fe201000`.
    public func path(of node: Node) -> String {
        if node.index == 0 { return "/" }
        // Two walks up the parent chain (one to size the path, one to write it
        // from the end) instead of collecting the chain: carving asks for
        // hundreds of paths, and the chain array was most of each one's cost.
        let table = index.nodeTable
        var length = 0
        var current = node.index
        while current > 0 {
            length += Int(table[Int(current)].nameLength) + 1
            current = table[Int(current)].parent
        }
        let bytes = [UInt8](unsafeUninitializedCapacity: length) { buffer, initialized in
            var end = length
            var current = node.index
            while current > 0 {
                let record = table[Int(current)]
                let count = Int(record.nameLength)
                end -= count
                if count > 0 {
                    UnsafeMutableRawPointer(buffer.baseAddress! + end)
                        .copyMemory(from: storage.base + Int(record.nameOffset), byteCount: count)
                }
                end -= 1
                buffer[end] = UInt8(ascii: "/")
                current = record.parent
            }
            initialized = length
        }
        return String(decoding: bytes, as: UTF8.self)
    }

    /// libfdt's offset of the node in the structure block, for libfdt calls on
    /// this same, unmodified blob.
    public func structOffset(of node: Node) -> Int32 { nodeTable[Int(node.index)].structOffset }

    /// The child named `name`: an exact match, or, when `name` has no unit
    /// address, the first child whose base name matches (libfdt's rule, except
    /// that an exact match anywhere wins). Compares bytes in place.
    public func child(of node: Node, named name: String) -> Node? {
        var query = name
        return query.withUTF8 { child(of: node, named: UnsafeRawBufferPointer($0)) }
    }

    private func child(of node: Node, named want: UnsafeRawBufferPointer) -> Node? {
        let hasUnit = want.contains(UInt8(ascii: "@"))
        var loose: Node? = nil
        var child = nodeTable[Int(node.index)].firstChild
        while child >= 0 {
            let record = nodeTable[Int(child)]
            let bytes = UnsafeRawBufferPointer(start: storage.base + Int(record.nameOffset), count: Int(record.nameLength))
            if bytes.count == want.count && bytes.elementsEqual(want) { return Node(index: child) }
            if !hasUnit && loose == nil && bytes.count > want.count && bytes[want.count] == UInt8(ascii: "@")
                && bytes[0..<want.count].elementsEqual(want) {
                loose = Node(index: child)
            }
            child = record.nextSibling
        }
        return loose
    }

    /// Resolves an absolute path (`/soc/serial@1`), an alias (`serial1`, or
    /// `serial1/child`) or, when the tree has `__symbols__`, a label.
    public func resolve(_ reference: String) -> Node? {
        guard let first = reference.utf8.first else { return nil }
        if first == UInt8(ascii: "/") { return lookup(path: reference) }
        var head = reference
        var rest = ""
        if let slash = reference.utf8.firstIndex(of: UInt8(ascii: "/")) {
            head = String(reference[..<slash])
            rest = String(reference[slash...])
        }
        for table in ["/aliases", "/__symbols__"] {
            if let holder = lookup(path: table), let target = property(head, of: holder)?.string,
               target.utf8.first == UInt8(ascii: "/"), let node = lookup(path: target + rest) {
                return node
            }
        }
        return nil
    }

    /// Looks up an absolute path only.
    public func lookup(path: String) -> Node? {
        var path = path
        return path.withUTF8 { utf8 -> Node? in
            let bytes = UnsafeRawBufferPointer(utf8)
            var node = root
            var start = 0
            // Each non-empty component between slashes, as split(separator: "/").
            while start < bytes.count {
                var end = start
                while end < bytes.count && bytes[end] != UInt8(ascii: "/") { end += 1 }
                if end > start {
                    guard let next = child(of: node, named: UnsafeRawBufferPointer(rebasing: bytes[start..<end])) else { return nil }
                    node = next
                }
                start = end + 1
            }
            return node
        }
    }

    /// The node carrying `phandle`, if any.
    public func node(phandle: UInt32) -> Node? {
        let dense = index.phandleArray
        if !dense.isEmpty {
            guard Int(phandle) < dense.count, dense[Int(phandle)] >= 0 else { return nil }
            return Node(index: dense[Int(phandle)])
        }
        return index.phandleTable[phandle].map { Node(index: $0) }
    }

    /// The node's own phandle, if it has one.
    public func phandle(of node: Node) -> UInt32? {
        (property(known.phandle, of: node) ?? property(known.linuxPhandle, of: node))?.u32
    }

    /// The largest phandle in use (0 when none), for allocating new ones.
    public var maxPhandle: UInt32 { index.maxPhandle }

    // MARK: Properties

    /// Scans the node's properties comparing each name's length and first
    /// byte, then bytes where both match: cheaper than hashing the name for the
    /// few properties a node has.
    public func property(_ name: String, of node: Node) -> PropertyValue? {
        var name = name
        return name.withUTF8 { utf8 -> PropertyValue? in
            let wanted = UnsafeRawBufferPointer(utf8)
            let key = NameTable.key(wanted)
            let names = index.names
            let record = nodeTable[Int(node.index)]
            var i = Int(record.firstProperty)
            let end = i + Int(record.propertyCount)
            while i < end {
                let p = propertyTable[i]
                if names.keys[Int(p.nameID)] == key && names.isName(p.nameID, wanted) {
                    return PropertyValue(storage: storage, offset: Int(p.valueOffset), count: Int(p.length))
                }
                i += 1
            }
            return nil
        }
    }

    /// A property name looked up once in this tree, for code that asks every
    /// node for it: `property(_:of:)` with it compares integers, not bytes.
    /// Only meaningful with the tree that gave it.
    public struct PropertyName {
        let id: Int32
    }

    /// The tree's id for `name` (one that no property has when none has it).
    public func propertyName(_ name: String) -> PropertyName {
        PropertyName(id: index.names.id(of: name) ?? -1)
    }

    public func property(_ name: PropertyName, of node: Node) -> PropertyValue? { property(name.id, of: node) }

    public func hasProperty(_ name: PropertyName, of node: Node) -> Bool { property(name.id, of: node) != nil }

    /// A property by interned name id (`known` or `NameTable.id(of:)`): an integer
    /// compare per property of the node, no string work.
    func property(_ id: Int32, of node: Node) -> PropertyValue? {
        guard id >= 0 else { return nil }
        let record = nodeTable[Int(node.index)]
        var i = Int(record.firstProperty)
        let end = i + Int(record.propertyCount)
        while i < end {
            let p = propertyTable[i]
            if p.nameID == id { return PropertyValue(storage: storage, offset: Int(p.valueOffset), count: Int(p.length)) }
            i += 1
        }
        return nil
    }

    func hasProperty(_ id: Int32, of node: Node) -> Bool { property(id, of: node) != nil }

    public func hasProperty(_ name: String, of node: Node) -> Bool { property(name, of: node) != nil }

    /// Names and values of every property of `node`, in blob order.
    public func properties(of node: Node) -> [(name: String, value: PropertyValue)] {
        let record = nodeTable[Int(node.index)]
        var out: [(name: String, value: PropertyValue)] = []
        let end = Int(record.firstProperty + record.propertyCount)
        for i in Int(record.firstProperty)..<end {
            let p = propertyTable[i]
            out.append((names[Int(p.nameID)], PropertyValue(storage: storage, offset: Int(p.valueOffset), count: Int(p.length))))
        }
        return out
    }

    /// The `compatible` strings, most specific first.
    public func compatible(of node: Node) -> [String] {
        property(known.compatible, of: node)?.strings ?? []
    }

    public func isCompatible(_ node: Node, with text: String) -> Bool {
        property(known.compatible, of: node)?.contains(string: text) ?? false
    }

    /// The node's own `status`: true for "okay"/"ok" or no status property.
    public func isEnabledItself(_ node: Node) -> Bool {
        guard let value = property(known.status, of: node) else { return true }
        // Empty or not a string: not enabled. The first string, in place.
        guard value.count > 0, storage.byte(value.offset + value.count - 1) == 0 else { return false }
        let end = value.offset + value.count
        return storage.equals(at: value.offset, limit: end, "okay") || storage.equals(at: value.offset, limit: end, "ok")
    }

    /// Enabled as Linux sees it: the node and every ancestor are enabled.
    public func isEnabled(_ node: Node) -> Bool {
        var current: Node? = node
        while let n = current {
            if !isEnabledItself(n) { return false }
            current = parent(of: n)
        }
        return true
    }

    /// The nearest disabled node on the path from the root to `node`, if any.
    public func disabledAncestor(of node: Node) -> Node? {
        var current = parent(of: node)
        while let n = current {
            if !isEnabledItself(n) { return n }
            current = parent(of: n)
        }
        return nil
    }

    /// Labels pointing at `node` from `__symbols__` (empty when the tree has none).
    public func labels(of node: Node) -> [String] {
        guard let symbols = lookup(path: "/__symbols__") else { return [] }
        let target = path(of: node)
        var out: [String] = []
        for (name, value) in properties(of: symbols) where value.string == target { out.append(name) }
        return out
    }

    /// Aliases pointing at `node`.
    public func aliases(of node: Node) -> [String] {
        guard let holder = lookup(path: "/aliases") else { return [] }
        let target = path(of: node)
        var out: [String] = []
        for (name, value) in properties(of: holder) {
            guard let p = value.string else { continue }
            if p == target || resolve(p) == node { out.append(name) }
        }
        return out
    }
}

/// Interned ids of the property names the library reads on every node, looked
/// up once per tree (-1 when the tree has no such name).
struct KnownNames {
    var interruptCells: Int32 = -1
    var addressCells: Int32 = -1
    var compatible: Int32 = -1
    var reg: Int32 = -1
    var interruptParent: Int32 = -1
    var interruptMap: Int32 = -1
    var interruptController: Int32 = -1
    var status: Int32 = -1
    var ranges: Int32 = -1
    var phandle: Int32 = -1
    var interruptsExtended: Int32 = -1
    var interrupts: Int32 = -1
    var interruptMapMask: Int32 = -1
    var gpioHog: Int32 = -1
    var sizeCells: Int32 = -1
    var linuxPhandle: Int32 = -1

    init(_ names: NameTable) {
        func id(_ name: String) -> Int32 { names.id(of: name) ?? -1 }
        interruptCells = id("#interrupt-cells")
        addressCells = id("#address-cells")
        compatible = id("compatible")
        reg = id("reg")
        interruptParent = id("interrupt-parent")
        interruptMap = id("interrupt-map")
        interruptController = id("interrupt-controller")
        status = id("status")
        ranges = id("ranges")
        phandle = id("phandle")
        interruptsExtended = id("interrupts-extended")
        interrupts = id("interrupts")
        interruptMapMask = id("interrupt-map-mask")
        gpioHog = id("gpio-hog")
        sizeCells = id("#size-cells")
        linuxPhandle = id("linux,phandle")
    }
}
