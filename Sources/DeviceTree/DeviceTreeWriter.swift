import CFDT

/// Builds a new tree node by node, as kvmtool builds its guest trees with
/// libfdt's sequential-write API (`fdt_create`, `fdt_begin_node`,
/// `fdt_property`, ..., `fdt_finish`), and writes the same bytes that API
/// writes.
///
/// The layout is libfdt's: the reservation map at offset 48, the structure
/// block after it, then the strings block with the newest name first; a name is
/// shared with any earlier name that ends with it (`fdt_find_add_string_`).
/// libfdt finds names by trying every offset of the strings block for every
/// property, which dominated building a guest tree; here the candidates are
/// only the names added so far, checked newest first, which finds the same
/// offset (the lowest address that holds the name).
///
/// Calls are recorded as they come; the first failure is kept and thrown by
/// `finish()`, so a generator reads as a straight list of nodes.
public final class DeviceTreeWriter {
    /// The structure block and names so far, in one value so each call is one
    /// access to the object.
    private var blob = Blocks()
    private var reservations: [(address: UInt64, size: UInt64)] = []
    private var failure: DeviceTreeError? = nil
    private var reservationsDone = false
    private var finished = false
    private var depth = 0
    /// The header's `boot_cpuid_phys`.
    public var bootCPU: UInt32 = 0

    /// The header and reservation-map offset libfdt's `fdt_create` uses: the
    /// 40-byte header aligned to a reservation entry (16 bytes).
    fileprivate static let reservationMapOffset = 48

    public init(capacity: Int = 16384) {
        blob.structure.reserveCapacity(max(capacity, 1024))
    }

    /// A /memreserve/ entry; only before the first node.
    public func reserve(address: UInt64, size: UInt64) {
        guard !reservationsDone else {
            if failure == nil { failure = .malformed("memory reservation added after the first node") }
            return
        }
        reservations.append((address, size))
    }

    public func beginNode(_ name: String) {
        reservationsDone = true
        depth += 1
        guard failure == nil, !finished else { return }
        blob.beginNode(name)
    }

    public func endNode() {
        depth -= 1
        guard failure == nil, !finished else { return }
        blob.appendWord(2)   // FDT_END_NODE
    }

    public func property(_ name: String, bytes: [UInt8]) {
        guard failure == nil, !finished else { return }
        blob.property(name, bytes)
    }

    public func property(_ name: String) { property(name, bytes: []) }
    public func property(_ name: String, string: String) { property(name, bytes: Array(string.utf8) + [0]) }
    public func property(_ name: String, u32: UInt32) { property(name, bytes: encodeCells([u32])) }
    public func property(_ name: String, cells: [UInt32]) { property(name, bytes: encodeCells(cells)) }
    public func property(_ name: String, u64: UInt64) { property(name, bytes: encodeCells(numberCells(u64, count: 2))) }

    public func property(_ name: String, strings: [String]) {
        var bytes: [UInt8] = []
        for s in strings { bytes += Array(s.utf8); bytes.append(0) }
        property(name, bytes: bytes)
    }

    /// Finishes the tree and returns it packed and validated.
    public func finish() throws(DeviceTreeError) -> DeviceTree {
        if let failure { throw failure }
        guard depth == 0 else { throw .malformed("DeviceTreeWriter: \(depth) node(s) left open") }
        // libfdt refuses to finish a tree whose reservation map is still open
        // (no node was begun) or that it finished already.
        guard reservationsDone, !finished else { throw .libfdt(call: "fdt_finish", code: -FDT_ERR_BADSTATE, context: "") }
        finished = true
        blob.appendWord(9)   // FDT_END
        return try blob.finish(reservations: reservations, bootCPU: bootCPU)
    }
}

/// The bytes a `DeviceTreeWriter` has written so far.
private struct Blocks {
    /// The structure block so far.
    var structure: [UInt8] = []
    /// Every name added, in the order added, each with its NUL; the blob holds
    /// them in the reverse order.
    var strings: [UInt8] = []
    /// Where each added name ends in `strings` (one past its NUL).
    var stringEnds: [Int] = []
    /// Offsets in `structure` of each property's name offset, which is kept
    /// relative to the end of the strings block until `finish()` (as libfdt).
    var nameFields: [Int] = []

    mutating func beginNode(_ name: String) {
        appendWord(1)   // FDT_BEGIN_NODE
        withCString(name) { appendPadded($0, terminated: true) }
    }

    mutating func property(_ name: String, _ bytes: [UInt8]) {
        let offset = withCString(name) { nameOffset($0) }
        appendWord(3)   // FDT_PROP
        appendWord(UInt32(bytes.count))
        nameFields.append(structure.count)
        appendWord(UInt32(bitPattern: offset))
        bytes.withUnsafeBytes { appendPadded($0, terminated: false) }
    }

    mutating func finish(reservations: [(address: UInt64, size: UInt64)], bootCPU: UInt32) throws(DeviceTreeError) -> DeviceTree {
        let structOffset = DeviceTreeWriter.reservationMapOffset + (reservations.count + 1) * 16
        let stringsOffset = structOffset + structure.count
        let total = stringsOffset + strings.count
        let blob = UnsafeMutableRawPointer.allocate(byteCount: total, alignment: 8)
        defer { blob.deallocate() }
        blob.initializeMemory(as: UInt8.self, repeating: 0, count: total)
        func put32(_ value: UInt32, _ at: Int) { blob.storeBytes(of: value.bigEndian, toByteOffset: at, as: UInt32.self) }
        let header: [UInt32] = [0xd00d_feed, UInt32(total), UInt32(structOffset), UInt32(stringsOffset),
                                UInt32(DeviceTreeWriter.reservationMapOffset), 17, 16, bootCPU,
                                UInt32(strings.count), UInt32(structure.count)]
        for (i, value) in header.enumerated() { put32(value, i * 4) }
        for (i, entry) in reservations.enumerated() {
            let at = DeviceTreeWriter.reservationMapOffset + i * 16
            blob.storeBytes(of: entry.address.bigEndian, toByteOffset: at, as: UInt64.self)
            blob.storeBytes(of: entry.size.bigEndian, toByteOffset: at + 8, as: UInt64.self)
        }
        // Name offsets were relative to the end of the strings block.
        for field in nameFields {
            let relative = Int32(bitPattern: UInt32(structure[field]) << 24 | UInt32(structure[field + 1]) << 16
                                 | UInt32(structure[field + 2]) << 8 | UInt32(structure[field + 3]))
            let absolute = UInt32(Int(relative) + strings.count)
            structure[field] = UInt8(absolute >> 24)
            structure[field + 1] = UInt8(truncatingIfNeeded: absolute >> 16)
            structure[field + 2] = UInt8(truncatingIfNeeded: absolute >> 8)
            structure[field + 3] = UInt8(truncatingIfNeeded: absolute)
        }
        structure.withUnsafeBytes { (blob + structOffset).copyMemory(from: $0.baseAddress!, byteCount: $0.count) }
        // Newest name first.
        var at = stringsOffset
        var k = stringEnds.count - 1
        while k >= 0 {
            let start = k == 0 ? 0 : stringEnds[k - 1]
            strings.withUnsafeBytes { (blob + at).copyMemory(from: $0.baseAddress! + start, byteCount: stringEnds[k] - start) }
            at += stringEnds[k] - start
            k -= 1
        }
        return try DeviceTree(checkingCopyOf: blob, what: "the written tree")
    }

    // MARK: Bytes

    /// The bytes libfdt sees of a String passed as a C string: up to the
    /// first NUL.
    private func withCString<R>(_ text: String, _ body: (UnsafeRawBufferPointer) -> R) -> R {
        var text = text
        return text.withUTF8 { utf8 in
            let bytes = UnsafeRawBufferPointer(utf8)
            let end = bytes.firstIndex(of: 0) ?? bytes.count
            return body(UnsafeRawBufferPointer(rebasing: bytes[0..<end]))
        }
    }

    mutating func appendWord(_ value: UInt32) {
        withUnsafeBytes(of: value.bigEndian) { structure.append(contentsOf: $0) }
    }

    /// `bytes` (and a NUL when `terminated`), zero-padded to 4 bytes.
    private mutating func appendPadded(_ bytes: UnsafeRawBufferPointer, terminated: Bool) {
        structure.append(contentsOf: bytes)
        let length = bytes.count + (terminated ? 1 : 0)
        let padded = (length + 3) & ~3
        for _ in bytes.count..<padded { structure.append(0) }
    }

    /// The name's offset relative to the end of the strings block, as libfdt's
    /// sequential writer keeps it: the lowest address where the name and its
    /// NUL already are, or a new entry below every earlier one. A name is
    /// only ever found at the end of an earlier one (names hold no NUL), and
    /// the newest such name is at the lowest address.
    private mutating func nameOffset(_ name: UnsafeRawBufferPointer) -> Int32 {
        var k = stringEnds.count - 1
        while k >= 0 {
            let end = stringEnds[k] - 1   // its NUL
            let start = k == 0 ? 0 : stringEnds[k - 1]
            if end - start >= name.count && strings[(end - name.count)..<end].elementsEqual(name) {
                return Int32(-stringEnds[k] + (end - start - name.count))
            }
            k -= 1
        }
        strings.append(contentsOf: name)
        strings.append(0)
        stringEnds.append(strings.count)
        return Int32(-strings.count)
    }
}
