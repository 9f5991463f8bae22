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
        let (blob, size) = try write(tree)
        return try DeviceTree(validated: Storage(taking: blob, count: size))
    }

    /// The blob `apply(to:)` gives, without opening it as a tree: for a caller
    /// that only stores or sends the bytes, indexing them again is wasted.
    public func bytes(applyingTo tree: DeviceTree) throws(DeviceTreeError) -> [UInt8] {
        let (blob, size) = try write(tree)
        defer { blob.deallocate() }
        return [UInt8](UnsafeRawBufferPointer(start: blob, count: size))
    }

    /// The patched blob, in 8-byte-aligned memory the caller owns.
    private func write(_ tree: DeviceTree) throws(DeviceTreeError) -> (UnsafeMutableRawPointer, Int) {
        // Edits by node index: one array read per node while writing.
        var perNode = [[(name: String, change: Change)]?](repeating: nil, count: tree.nodeCount)
        for (path, list) in changes {
            guard let node = tree.lookup(path: path) else { throw .noSuchNode(path) }
            perNode[Int(node.index)] = list
        }
        var deleted: [Node] = []
        for path in deletedNodes {
            guard let node = tree.lookup(path: path) else { throw .noSuchNode(path) }
            deleted.append(node)
        }
        var addedUnder: [Node: [Int]] = [:]
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
                addedUnder[parent, default: []].append(i)
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
        // Source name id -> output strings offset, filled as names are met.
        var offsets = [UInt32](repeating: UInt32.max, count: tree.names.count)
        func writeNew(_ index: Int) {
            let new = newNodes[index]
            out.beginNode(new.name)
            for (name, bytes) in new.properties { out.property(nameOffset: out.nameOffset(name), bytes: bytes) }
            for child in addedUnderNew[new.path] ?? [] { writeNew(child) }
            out.endNode()
        }
        func write(_ node: Node) {
            if !deleted.isEmpty && deleted.contains(node) { return }
            let record = tree.nodeTable[Int(node.index)]
            out.beginNode(raw: UnsafeRawBufferPointer(start: tree.storage.base + Int(record.nameOffset), count: Int(record.nameLength)))
            let edits = perNode[Int(node.index)]
            let end = Int(record.firstProperty + record.propertyCount)
            for i in Int(record.firstProperty)..<end {
                let p = tree.propertyTable[i]
                let id = Int(p.nameID)
                if let edits, let edit = edits.first(where: { $0.name == tree.names[id] }) {
                    if case .set(let bytes) = edit.change { out.property(nameOffset: out.nameOffset(edit.name), bytes: bytes) }
                    continue
                }
                if offsets[id] == UInt32.max { offsets[id] = out.nameOffset(tree.names[id]) }
                out.property(nameOffset: offsets[id],
                             value: UnsafeRawBufferPointer(start: tree.storage.base + Int(p.valueOffset), count: Int(p.length)))
            }
            if let edits {
                for edit in edits where !tree.hasProperty(edit.name, of: node) {
                    if case .set(let bytes) = edit.change { out.property(nameOffset: out.nameOffset(edit.name), bytes: bytes) }
                }
            }
            var child = record.firstChild
            while child >= 0 {
                write(Node(index: child))
                child = tree.nodeTable[Int(child)].nextSibling
            }
            if !addedUnder.isEmpty { for index in addedUnder[node] ?? [] { writeNew(index) } }
            out.endNode()
        }
        write(tree.root)
        return out.finish(bootCPU: tree.withUnsafeBlob { cleave_fdt_boot_cpuid_phys($0) })
    }
}
