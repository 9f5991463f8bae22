/// An 8-byte-aligned copy of a device tree blob. libfdt requires the alignment
/// (`-FDT_ERR_ALIGNMENT`), and reading through one stable pointer lets the index
/// and property views share the bytes without copying them.
final class Storage {
    let base: UnsafeMutableRawPointer
    let count: Int

    init(bytes: [UInt8], capacity: Int? = nil) {
        let size = max(capacity ?? bytes.count, bytes.count, 1)
        let memory = UnsafeMutableRawPointer.allocate(byteCount: size, alignment: 8)
        memory.initializeMemory(as: UInt8.self, repeating: 0, count: size)
        bytes.withUnsafeBytes { source in
            if let from = source.baseAddress { memory.copyMemory(from: from, byteCount: bytes.count) }
        }
        base = memory
        count = size
    }

    init(taking pointer: UnsafeMutableRawPointer, count: Int) {
        base = pointer
        self.count = count
    }

    deinit { base.deallocate() }

    @inline(__always) func byte(_ offset: Int) -> UInt8 {
        base.load(fromByteOffset: offset, as: UInt8.self)
    }

    /// A big-endian 32-bit word; the caller has bounds-checked `offset + 4`.
    @inline(__always) func be32(_ offset: Int) -> UInt32 {
        UInt32(bigEndian: base.loadUnaligned(fromByteOffset: offset, as: UInt32.self))
    }

    func array(_ offset: Int, _ length: Int) -> [UInt8] {
        Storage.array(copying: UnsafeRawPointer(base + offset), count: length)
    }

    /// `count` bytes at `source` as an Array, in one copy (the generic
    /// Collection initialiser copies byte by byte).
    static func array(copying source: UnsafeRawPointer, count: Int) -> [UInt8] {
        [UInt8](unsafeUninitializedCapacity: count) { buffer, initialized in
            if count > 0 { UnsafeMutableRawPointer(buffer.baseAddress!).copyMemory(from: source, byteCount: count) }
            initialized = count
        }
    }

    /// The NUL-terminated string at `offset`, reading no further than `limit`.
    func string(at offset: Int, limit: Int) -> String {
        var end = offset
        while end < limit && byte(end) != 0 { end += 1 }
        return String(decoding: UnsafeRawBufferPointer(start: base + offset, count: end - offset), as: UTF8.self)
    }

    /// Whether the NUL-terminated bytes at `offset` equal `text` exactly.
    func equals(at offset: Int, limit: Int, _ text: String) -> Bool {
        var index = offset
        for unit in text.utf8 {
            guard index < limit, byte(index) == unit else { return false }
            index += 1
        }
        return index < limit && byte(index) == 0
    }
}
