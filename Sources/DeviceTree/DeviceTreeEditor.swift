import CFDT

/// Edits a copy of a tree in place through libfdt's read-write API.
///
/// Nodes are named by path on every call and looked up afresh: any libfdt write
/// can move other nodes, so no offset is kept across a write. A write that runs
/// out of room (`-FDT_ERR_NOSPACE`) grows the buffer with `fdt_open_into` and is
/// retried. `finish()` packs the result and returns it as a new `DeviceTree`.
public final class DeviceTreeEditor {
    private var buffer: UnsafeMutableRawPointer
    private var capacity: Int

    public init(_ tree: DeviceTree, extraSpace: Int = 16384) throws(DeviceTreeError) {
        capacity = tree.size + max(extraSpace, 1024)
        buffer = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
        buffer.initializeMemory(as: UInt8.self, repeating: 0, count: capacity)
        let status = tree.withUnsafeBlob { fdt_open_into($0, buffer, Int32(capacity)) }
        guard status == 0 else {
            buffer.deallocate()
            throw .libfdt(call: "fdt_open_into", code: status, context: "copying the tree for editing")
        }
    }

    deinit { buffer.deallocate() }

    private func grow(_ needed: Int) throws(DeviceTreeError) {
        let newCapacity = max(capacity * 2, capacity + needed + 1024)
        let bigger = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 8)
        bigger.initializeMemory(as: UInt8.self, repeating: 0, count: newCapacity)
        let status = fdt_open_into(buffer, bigger, Int32(newCapacity))
        guard status == 0 else {
            bigger.deallocate()
            throw .libfdt(call: "fdt_open_into", code: status, context: "growing the tree to \(newCapacity) bytes")
        }
        buffer.deallocate()
        buffer = bigger
        capacity = newCapacity
    }

    /// Runs a libfdt write, growing the buffer and retrying on NOSPACE.
    private func write(_ call: String, _ context: String, needs: Int,
                       _ body: (UnsafeMutableRawPointer) -> Int32) throws(DeviceTreeError) -> Int32 {
        var result = body(buffer)
        var attempts = 0
        while result == -FDT_ERR_NOSPACE && attempts < 8 {
            try grow(needs)
            result = body(buffer)
            attempts += 1
        }
        guard result >= 0 else { throw .libfdt(call: call, code: result, context: context) }
        return result
    }

    /// The current offset of the node at `path` (aliases are accepted too).
    private func offset(_ path: String) throws(DeviceTreeError) -> Int32 {
        let result = fdt_path_offset(buffer, path)
        if result == -FDT_ERR_NOTFOUND || result == -FDT_ERR_BADPATH { throw .noSuchNode(path) }
        guard result >= 0 else { throw .libfdt(call: "fdt_path_offset", code: result, context: path) }
        return result
    }

    public func hasNode(_ path: String) -> Bool { fdt_path_offset(buffer, path) >= 0 }

    public func setProperty(_ path: String, _ name: String, bytes: [UInt8]) throws(DeviceTreeError) {
        _ = try write("fdt_setprop", "\(path): \(name)", needs: bytes.count + name.utf8.count + 16) { fdt in
            let node = fdt_path_offset(fdt, path)
            guard node >= 0 else { return node }
            return bytes.withUnsafeBytes { fdt_setprop(fdt, node, name, $0.baseAddress, Int32(bytes.count)) }
        }
    }

    public func setProperty(_ path: String, _ name: String, string: String) throws(DeviceTreeError) {
        try setProperty(path, name, bytes: Array(string.utf8) + [0])
    }

    public func setProperty(_ path: String, _ name: String, strings: [String]) throws(DeviceTreeError) {
        var bytes: [UInt8] = []
        for s in strings { bytes += Array(s.utf8); bytes.append(0) }
        try setProperty(path, name, bytes: bytes)
    }

    public func setProperty(_ path: String, _ name: String, cells: [UInt32]) throws(DeviceTreeError) {
        try setProperty(path, name, bytes: encodeCells(cells))
    }

    public func setProperty(_ path: String, _ name: String, empty: Void) throws(DeviceTreeError) {
        try setProperty(path, name, bytes: [])
    }

    /// Deletes a property; returns false when it was not there.
    @discardableResult
    public func deleteProperty(_ path: String, _ name: String) throws(DeviceTreeError) -> Bool {
        let node = try offset(path)
        let result = fdt_delprop(buffer, node, name)
        if result == -FDT_ERR_NOTFOUND { return false }
        guard result == 0 else { throw .libfdt(call: "fdt_delprop", code: result, context: "\(path): \(name)") }
        return true
    }

    /// Adds `name` under `parent` (or finds it if it exists) and returns its path.
    @discardableResult
    public func addNode(_ parent: String, _ name: String) throws(DeviceTreeError) -> String {
        let childPath = parent == "/" ? "/" + name : parent + "/" + name
        if hasNode(childPath) { return childPath }
        _ = try offset(parent)
        _ = try write("fdt_add_subnode", childPath, needs: name.utf8.count + 16) { fdt in
            let node = fdt_path_offset(fdt, parent)
            guard node >= 0 else { return node }
            return fdt_add_subnode(fdt, node, name)
        }
        return childPath
    }

    public func deleteNode(_ path: String) throws(DeviceTreeError) {
        let node = try offset(path)
        let result = fdt_del_node(buffer, node)
        guard result == 0 else { throw .libfdt(call: "fdt_del_node", code: result, context: path) }
    }

    /// Packs the edited tree and returns it as a new, validated `DeviceTree`.
    public func finish() throws(DeviceTreeError) -> DeviceTree {
        let status = fdt_pack(buffer)
        guard status == 0 else { throw .libfdt(call: "fdt_pack", code: status, context: "") }
        let size = Int(cleave_fdt_totalsize(buffer))
        let copy = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
        copy.copyMemory(from: buffer, byteCount: size)
        return try DeviceTree(validated: Storage(taking: copy, count: size))
    }
}

/// Big-endian encoding of 32-bit cells.
public func encodeCells(_ cells: [UInt32]) -> [UInt8] {
    var bytes: [UInt8] = []
    bytes.reserveCapacity(cells.count * 4)
    for cell in cells {
        bytes.append(UInt8(cell >> 24)); bytes.append(UInt8((cell >> 16) & 0xff))
        bytes.append(UInt8((cell >> 8) & 0xff)); bytes.append(UInt8(cell & 0xff))
    }
    return bytes
}

/// A number as `count` cells (1 or 2), most significant first.
public func numberCells(_ value: UInt64, count: Int) -> [UInt32] {
    count == 1 ? [UInt32(truncatingIfNeeded: value)]
               : [UInt32(truncatingIfNeeded: value >> 32), UInt32(truncatingIfNeeded: value)]
}
