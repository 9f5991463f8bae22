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
        // A class whose stored properties are all set runs deinit when init
        // throws: deinit frees the buffer.
        guard status == 0 else {
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

    /// The current offset of the node at `path`, or `-FDT_ERR_NOTFOUND`.
    ///
    /// Unlike `fdt_path_offset`, which takes the first child whose name
    /// matches either exactly or up to its `@`, an exact name wins over an
    /// earlier `name@unit` (tegra210 has `/timer@60005000` before `/timer`);
    /// a name without a unit address matches `name@unit` only when no child is
    /// called exactly that. Paths not starting with `/` are aliases.
    static func resolve(_ fdt: UnsafeRawPointer, _ path: String) -> Int32 {
        guard path.utf8.first == UInt8(ascii: "/") else { return fdt_path_offset(fdt, path) }
        var node: Int32 = 0
        for component in path.split(separator: "/") {
            let want = Array(component.utf8)
            let hasUnit = want.contains(UInt8(ascii: "@"))
            var exact: Int32 = -1
            var loose: Int32 = -1
            var child = fdt_first_subnode(fdt, node)
            while child >= 0 && exact < 0 {
                var length: Int32 = 0
                if let name = fdt_get_name(fdt, child, &length) {
                    let bytes = UnsafeRawBufferPointer(start: name, count: Int(length))
                    if bytes.elementsEqual(want) {
                        exact = child
                    } else if !hasUnit && loose < 0, let at = bytes.firstIndex(of: UInt8(ascii: "@")),
                              bytes[..<at].elementsEqual(want) {
                        loose = child
                    }
                }
                child = fdt_next_subnode(fdt, child)
            }
            node = exact >= 0 ? exact : loose
            if node < 0 { return -FDT_ERR_NOTFOUND }
        }
        return node
    }

    private func offset(_ path: String) throws(DeviceTreeError) -> Int32 {
        let result = DeviceTreeEditor.resolve(buffer, path)
        if result == -FDT_ERR_NOTFOUND || result == -FDT_ERR_BADPATH { throw .noSuchNode(path) }
        guard result >= 0 else { throw .libfdt(call: "fdt_path_offset", code: result, context: path) }
        return result
    }

    public func hasNode(_ path: String) -> Bool { DeviceTreeEditor.resolve(buffer, path) >= 0 }

    public func setProperty(_ path: String, _ name: String, bytes: [UInt8]) throws(DeviceTreeError) {
        _ = try offset(path)
        _ = try write("fdt_setprop", "\(path): \(name)", needs: bytes.count + name.utf8.count + 16) { fdt in
            let node = DeviceTreeEditor.resolve(fdt, path)
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
        let existing = DeviceTreeEditor.resolve(buffer, childPath)
        if existing >= 0 {
            var length: Int32 = 0
            if let found = fdt_get_name(buffer, existing, &length),
               UnsafeRawBufferPointer(start: found, count: Int(length)).elementsEqual(Array(name.utf8)) {
                return childPath
            }
        }
        _ = try offset(parent)
        do throws(DeviceTreeError) {
            _ = try write("fdt_add_subnode", childPath, needs: name.utf8.count + 16) { fdt in
                let node = DeviceTreeEditor.resolve(fdt, parent)
                guard node >= 0 else { return node }
                return fdt_add_subnode(fdt, node, name)
            }
        } catch .libfdt(_, let code, _) where code == -FDT_ERR_EXISTS {
            // libfdt takes `serial` to exist when `serial@1000` does; the
            // tree is rewritten with the node added instead.
            try rewrite(adding: name, under: parent)
        }
        return childPath
    }

    private func rewrite(adding name: String, under parent: String) throws(DeviceTreeError) {
        let size = Int(cleave_fdt_totalsize(buffer))
        let copy = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
        copy.copyMemory(from: buffer, byteCount: size)
        let current = try DeviceTree(validated: Storage(taking: copy, count: size))
        var patch = DeviceTreePatch()
        patch.addNode(parent, name)
        let rebuilt = try patch.apply(to: current)
        let status = rebuilt.withUnsafeBlob { fdt_open_into($0, buffer, Int32(capacity)) }
        if status == -FDT_ERR_NOSPACE {
            try grow(rebuilt.size)
            let retry = rebuilt.withUnsafeBlob { fdt_open_into($0, buffer, Int32(capacity)) }
            guard retry == 0 else { throw .libfdt(call: "fdt_open_into", code: retry, context: "adding \(name)") }
        } else if status != 0 {
            throw .libfdt(call: "fdt_open_into", code: status, context: "adding \(name)")
        }
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
        return try DeviceTree(checkingCopyOf: buffer, what: "the edited tree")
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
