/// Serialises a flattened device tree (Devicetree Specification v0.4, chapter
/// 5: header, memory reservation block, structure block, strings block).
///
/// libfdt's sequential writer looks every property name up in the strings
/// block with a linear search, which dominates rewriting a large tree (10,000
/// properties against 5 KiB of names). This builder interns names in a
/// dictionary and copies property values straight from the source blob. Its
/// output is checked by libfdt (`fdt_check_full`) in the tests.
struct BlobBuilder {
    /// The structure block, grown by doubling; raw memory because appending
    /// bytes to an Array one property at a time costs more than the copy.
    private var structure: UnsafeMutableRawPointer
    private var count = 0
    private var capacity: Int
    private var strings: [UInt8] = []
    private var stringOffsets: [String: UInt32] = [:]
    private var reservations: [(UInt64, UInt64)] = []

    init(capacity: Int) {
        self.capacity = max(capacity, 256)
        structure = UnsafeMutableRawPointer.allocate(byteCount: self.capacity, alignment: 8)
        strings.reserveCapacity(4096)
    }

    /// Frees the structure buffer; `finish` calls it.
    private mutating func release() { structure.deallocate(); capacity = 0 }

    private mutating func ensure(_ extra: Int) {
        guard count + extra > capacity else { return }
        let bigger = max(capacity * 2, count + extra + 256)
        let memory = UnsafeMutableRawPointer.allocate(byteCount: bigger, alignment: 8)
        memory.copyMemory(from: structure, byteCount: count)
        structure.deallocate()
        structure = memory
        capacity = bigger
    }

    private mutating func word(_ value: UInt32) {
        ensure(4)
        structure.storeBytes(of: value.bigEndian, toByteOffset: count, as: UInt32.self)
        count += 4
    }

    private mutating func bytes(_ source: UnsafeRawBufferPointer) {
        let padded = (source.count + 3) & ~3
        ensure(padded)
        if let base = source.baseAddress, source.count > 0 { (structure + count).copyMemory(from: base, byteCount: source.count) }
        if padded > source.count { (structure + count + source.count).initializeMemory(as: UInt8.self, repeating: 0, count: padded - source.count) }
        count += padded
    }

    mutating func reserve(address: UInt64, size: UInt64) { reservations.append((address, size)) }

    mutating func beginNode(_ name: String) {
        word(1)
        var text = name + "\0"
        text.withUTF8 { bytes(UnsafeRawBufferPointer($0)) }
    }

    /// A node whose name is copied from a source blob (`name` has no NUL).
    mutating func beginNode(raw name: UnsafeRawBufferPointer) {
        word(1)
        let padded = (name.count + 1 + 3) & ~3
        ensure(padded)
        if let base = name.baseAddress, name.count > 0 { (structure + count).copyMemory(from: base, byteCount: name.count) }
        (structure + count + name.count).initializeMemory(as: UInt8.self, repeating: 0, count: padded - name.count)
        count += padded
    }

    mutating func endNode() { word(2) }

    /// Appends whole structure-block records copied from a source blob (a
    /// node's properties, back to back) and returns the offset they start at,
    /// for `setWord` and `zero` to adjust them.
    mutating func records(_ source: UnsafeRawBufferPointer) -> Int {
        ensure(source.count)
        let start = count
        if let base = source.baseAddress, source.count > 0 { (structure + count).copyMemory(from: base, byteCount: source.count) }
        count += source.count
        return start
    }

    mutating func setWord(_ value: UInt32, at offset: Int) {
        structure.storeBytes(of: value.bigEndian, toByteOffset: offset, as: UInt32.self)
    }

    mutating func zero(at offset: Int, count length: Int) {
        (structure + offset).initializeMemory(as: UInt8.self, repeating: 0, count: length)
    }

    /// The strings-block offset of `name`, adding it once.
    mutating func nameOffset(_ name: String) -> UInt32 {
        if let offset = stringOffsets[name] { return offset }
        let offset = UInt32(strings.count)
        strings.append(contentsOf: name.utf8)
        strings.append(0)
        stringOffsets[name] = offset
        return offset
    }

    /// Adds `name` (bytes without the NUL) to the strings block and returns
    /// its offset. No lookup: for a caller that interns names itself, and
    /// never also passes the same name to `nameOffset(_:)`.
    mutating func appendName(_ name: UnsafeRawBufferPointer) -> UInt32 {
        let offset = UInt32(strings.count)
        strings.append(contentsOf: name)
        strings.append(0)
        return offset
    }

    mutating func property(nameOffset: UInt32, value: UnsafeRawBufferPointer) {
        let padded = (value.count + 3) & ~3
        ensure(12 + padded)
        let at = structure + count
        at.storeBytes(of: UInt32(3).bigEndian, toByteOffset: 0, as: UInt32.self)
        at.storeBytes(of: UInt32(value.count).bigEndian, toByteOffset: 4, as: UInt32.self)
        at.storeBytes(of: nameOffset.bigEndian, toByteOffset: 8, as: UInt32.self)
        if let source = value.baseAddress, value.count > 0 { (at + 12).copyMemory(from: source, byteCount: value.count) }
        if padded > value.count { (at + 12 + value.count).initializeMemory(as: UInt8.self, repeating: 0, count: padded - value.count) }
        count += 12 + padded
    }

    mutating func property(nameOffset: UInt32, bytes value: [UInt8]) {
        value.withUnsafeBytes { property(nameOffset: nameOffset, value: $0) }
    }

    /// The finished blob, version 17, with `bootCPU` as boot_cpuid_phys, in
    /// 8-byte-aligned memory the caller owns. The builder is spent.
    mutating func finish(bootCPU: UInt32) -> (UnsafeMutableRawPointer, Int) {
        let total = finishedSize()
        let blob = UnsafeMutableRawPointer.allocate(byteCount: total, alignment: 8)
        write(into: blob, bootCPU: bootCPU)
        return (blob, total)
    }

    /// The finished blob as an Array, written in place (no intermediate
    /// copy of a tree-sized buffer). The builder is spent.
    mutating func finishBytes(bootCPU: UInt32) -> [UInt8] {
        let total = finishedSize()
        return [UInt8](unsafeUninitializedCapacity: total) { buffer, initialized in
            write(into: UnsafeMutableRawPointer(buffer.baseAddress!), bootCPU: bootCPU)
            initialized = total
        }
    }

    private static let reserveOffset = 40   // right after the header, 8-byte aligned

    /// Adds FDT_END and returns the finished blob's size.
    private mutating func finishedSize() -> Int {
        word(9)   // FDT_END
        return BlobBuilder.reserveOffset + (reservations.count + 1) * 16 + count + strings.count
    }

    private mutating func write(into blob: UnsafeMutableRawPointer, bootCPU: UInt32) {
        let reserveOffset = BlobBuilder.reserveOffset
        let structOffset = reserveOffset + (reservations.count + 1) * 16
        let stringsOffset = structOffset + count
        let total = stringsOffset + strings.count
        blob.initializeMemory(as: UInt8.self, repeating: 0, count: structOffset)
        func put(_ value: UInt32, _ at: Int) { blob.storeBytes(of: value.bigEndian, toByteOffset: at, as: UInt32.self) }
        let header: [UInt32] = [0xd00d_feed, UInt32(total), UInt32(structOffset), UInt32(stringsOffset),
                                UInt32(reserveOffset), 17, 16, bootCPU, UInt32(strings.count), UInt32(count)]
        for (i, value) in header.enumerated() { put(value, i * 4) }
        for (i, (address, size)) in reservations.enumerated() {
            let at = reserveOffset + i * 16
            put(UInt32(address >> 32), at); put(UInt32(truncatingIfNeeded: address), at + 4)
            put(UInt32(size >> 32), at + 8); put(UInt32(truncatingIfNeeded: size), at + 12)
        }
        (blob + structOffset).copyMemory(from: structure, byteCount: count)
        strings.withUnsafeBytes { if let base = $0.baseAddress { (blob + stringsOffset).copyMemory(from: base, byteCount: strings.count) } }
        release()
    }
}
