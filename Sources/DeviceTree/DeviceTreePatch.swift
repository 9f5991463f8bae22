import CFDT

/// A set of edits applied to a tree in one pass: the tree is rewritten from its
/// index with the edits folded in.
///
/// `DeviceTreeEditor` looks every path up again for each write (libfdt offsets
/// move on every write), which costs a walk of the structure block per edit;
/// a patch resolves each path once against the read-only index and writes the
/// result in a single linear pass, so dozens of edits on a 120 KiB tree cost
/// about as much as one copy. Property order is kept; new properties follow the
/// existing ones, new nodes follow existing children, in the order added.
public struct DeviceTreePatch {
    enum Change { case set([UInt8]), delete }
    struct NewNode {
        var path: String
        var name: String
        var parent: String
        var properties: [(String, [UInt8])] = []
    }

    var changes: [String: [(name: String, change: Change)]] = [:]
    var deletedNodes: [String] = []
    var newNodes: [NewNode] = []

    public init() {}

    public func hasNewNode(_ path: String) -> Bool { newNodes.contains { $0.path == path } }

    public mutating func set(_ path: String, _ name: String, bytes: [UInt8]) {
        if let i = newNodes.firstIndex(where: { $0.path == path }) {
            if let j = newNodes[i].properties.firstIndex(where: { $0.0 == name }) { newNodes[i].properties[j].1 = bytes }
            else { newNodes[i].properties.append((name, bytes)) }
            return
        }
        changes[path, default: []].removeAll { $0.name == name }
        changes[path, default: []].append((name, .set(bytes)))
    }

    public mutating func set(_ path: String, _ name: String, string: String) { set(path, name, bytes: Array(string.utf8) + [0]) }
    public mutating func set(_ path: String, _ name: String, cells: [UInt32]) { set(path, name, bytes: encodeCells(cells)) }
    public mutating func set(_ path: String, _ name: String, strings: [String]) {
        var bytes: [UInt8] = []
        for s in strings { bytes += Array(s.utf8); bytes.append(0) }
        set(path, name, bytes: bytes)
    }

    public mutating func delete(_ path: String, _ name: String) {
        changes[path, default: []].removeAll { $0.name == name }
        changes[path, default: []].append((name, .delete))
    }

    /// Adds node `name` under `parent` (an existing node or one added before)
    /// and returns its path.
    @discardableResult
    public mutating func addNode(_ parent: String, _ name: String) -> String {
        let path = parent == "/" ? "/" + name : parent + "/" + name
        if !hasNewNode(path) { newNodes.append(NewNode(path: path, name: name, parent: parent)) }
        return path
    }

    public mutating func deleteNode(_ path: String) { deletedNodes.append(path) }

    /// Writes `tree` with the edits applied. Every path must name an existing
    /// node or one the patch adds; otherwise nothing is written.
    public func apply(to tree: DeviceTree) throws(DeviceTreeError) -> DeviceTree {
        var out = try write(tree)
        let (blob, size) = out.finish(bootCPU: tree.withUnsafeBlob { cleave_fdt_boot_cpuid_phys($0) })
        return try DeviceTree(validated: Storage(taking: blob, count: size))
    }

    /// The blob `apply(to:)` gives, without opening it as a tree: for a caller
    /// that only stores or sends the bytes, indexing them again is wasted.
    public func bytes(applyingTo tree: DeviceTree) throws(DeviceTreeError) -> [UInt8] {
        var out = try write(tree)
        return out.finishBytes(bootCPU: tree.withUnsafeBlob { cleave_fdt_boot_cpuid_phys($0) })
    }

    /// The patched tree in a builder, ready to finish.
    private func write(_ tree: DeviceTree) throws(DeviceTreeError) -> BlobBuilder {
        // Everything the writer asks per node is an array read by node index:
        // the edits of a node, the nodes added under it, whether it is deleted.
        let nodeCount = tree.nodeCount
        var editLists: [[(name: String, change: Change)]] = []
        var editsOf = [Int32](repeating: -1, count: nodeCount)
        for (path, list) in changes {
            guard let node = tree.lookup(path: path) else { throw .noSuchNode(path) }
            editsOf[Int(node.index)] = Int32(editLists.count)
            editLists.append(list)
        }
        var deleted: [Node] = []
        var isDeletedRoot = [Bool](repeating: false, count: nodeCount)
        for path in deletedNodes {
            guard let node = tree.lookup(path: path) else { throw .noSuchNode(path) }
            deleted.append(node)
            isDeletedRoot[Int(node.index)] = true
        }
        var addedLists: [[Int]] = []
        var addedUnder = [Int32](repeating: -1, count: nodeCount)
        var addedUnderNew: [String: [Int]] = [:]
        func isDeleted(_ node: Node) -> Bool { deleted.contains { tree.isDescendant(node, of: $0) } }
        for (i, new) in newNodes.enumerated() {
            // A parent the patch adds wins over a same-named node it deletes.
            if hasNewNode(new.parent) {
                addedUnderNew[new.parent, default: []].append(i)
            } else if let parent = tree.lookup(path: new.parent), !isDeleted(parent) {
                if let existing = tree.lookup(path: new.path), tree.name(of: existing) == new.name, !isDeleted(existing) {
                    throw .badProperty(node: new.path, property: "", reason: "is added but already exists")
                }
                let slot = Int(parent.index)
                if addedUnder[slot] < 0 { addedUnder[slot] = Int32(addedLists.count); addedLists.append([]) }
                addedLists[Int(addedUnder[slot])].append(i)
            } else {
                throw .noSuchNode(new.parent)
            }
        }
        var out = BlobBuilder(capacity: tree.size + 4096)
        tree.withUnsafeBlob { blob in
            let count = fdt_num_mem_rsv(blob)
            var i: Int32 = 0
            while i < count {
                var address: UInt64 = 0
                var size: UInt64 = 0
                if fdt_get_mem_rsv(blob, i, &address, &size) == 0 { out.reserve(address: address, size: size) }
                i += 1
            }
        }
        let index = tree.index
        let base = index.storage.base
        let nodes = index.nodeTable
        let properties = index.propertyTable
        // Source name id -> output strings offset, filled as names are met. A
        // name is added to the output strings block when first written, so the
        // block lists names in the order the structure block first uses them.
        var offsets = [UInt32](repeating: UInt32.max, count: index.names.count)
        func nameOffset(_ id: Int) -> UInt32 {
            if offsets[id] == UInt32.max {
                // A name that is not valid UTF-8 is written as its String (as
                // before names were interned by bytes), shared with any equal one.
                if index.names.isUTF8[id] {
                    offsets[id] = out.appendName(index.names.utf8(Int32(id)))
                } else if let same = index.names.id(of: index.names.names[id]), Int(same) != id {
                    offsets[id] = nameOffset(Int(same))
                } else {
                    offsets[id] = out.nameOffset(index.names.names[id])
                }
            }
            return offsets[id]
        }
        /// A name given as a String: the source's id when it has that name.
        func nameOffset(_ name: String) -> UInt32 {
            if let id = index.names.id(of: name) { return nameOffset(Int(id)) }
            return out.nameOffset(name)
        }
        /// Whether properties first..<end follow each other with nothing
        /// between them (no FDT_NOP), each record 4-byte aligned.
        func contiguous(_ first: Int, _ end: Int) -> Bool {
            var expected = Int(properties[first].valueOffset) - 12
            for i in first..<end {
                let p = properties[i]
                if Int(p.valueOffset) - 12 != expected { return false }
                expected = (Int(p.valueOffset) + Int(p.length) + 3) & ~3
            }
            return true
        }
        func writeNew(_ index: Int) {
            let new = newNodes[index]
            out.beginNode(new.name)
            for (name, bytes) in new.properties { out.property(nameOffset: nameOffset(name), bytes: bytes) }
            for child in addedUnderNew[new.path] ?? [] { writeNew(child) }
            out.endNode()
        }
        func write(_ node: Int) {
            if isDeletedRoot[node] { return }
            let record = nodes[node]
            out.beginNode(raw: UnsafeRawBufferPointer(start: base + Int(record.nameOffset), count: Int(record.nameLength)))
            let first = Int(record.firstProperty)
            let end = first + Int(record.propertyCount)
            if editsOf[node] < 0 && first < end && contiguous(first, end) {
                // Unedited properties back to back in the source: one copy,
                // then each record's name offset (and padding) rewritten.
                let from = Int(properties[first].valueOffset) - 12
                let last = properties[end - 1]
                let to = (Int(last.valueOffset) + Int(last.length) + 3) & ~3
                let start = out.records(UnsafeRawBufferPointer(start: base + from, count: to - from))
                for i in first..<end {
                    let p = properties[i]
                    let record = start + Int(p.valueOffset) - 12 - from
                    out.setWord(nameOffset(Int(p.nameID)), at: record + 8)
                    let length = Int(p.length)
                    if length & 3 != 0 { out.zero(at: record + 12 + length, count: 4 - length & 3) }
                }
            } else if editsOf[node] < 0 {
                for i in first..<end {
                    let p = properties[i]
                    out.property(nameOffset: nameOffset(Int(p.nameID)),
                                 value: UnsafeRawBufferPointer(start: base + Int(p.valueOffset), count: Int(p.length)))
                }
            } else {
                let edits = editLists[Int(editsOf[node])]
                for i in first..<end {
                    let p = properties[i]
                    let name = index.names.names[Int(p.nameID)]
                    if let edit = edits.first(where: { $0.name == name }) {
                        if case .set(let bytes) = edit.change { out.property(nameOffset: nameOffset(edit.name), bytes: bytes) }
                        continue
                    }
                    out.property(nameOffset: nameOffset(Int(p.nameID)),
                                 value: UnsafeRawBufferPointer(start: base + Int(p.valueOffset), count: Int(p.length)))
                }
                for edit in edits where !tree.hasProperty(edit.name, of: Node(index: Int32(node))) {
                    if case .set(let bytes) = edit.change { out.property(nameOffset: nameOffset(edit.name), bytes: bytes) }
                }
            }
            var child = record.firstChild
            while child >= 0 {
                write(Int(child))
                child = nodes[Int(child)].nextSibling
            }
            if addedUnder[node] >= 0 { for index in addedLists[Int(addedUnder[node])] { writeNew(index) } }
            out.endNode()
        }
        write(0)
        return out
    }
}
