/// The value of one property: a view into the tree's bytes, decoded on demand.
/// Property values are big-endian cells, NUL-terminated strings or raw bytes
/// (Devicetree Specification v0.4, section 2.2.4).
public struct PropertyValue {
    let storage: Storage
    let offset: Int
    /// Length in bytes.
    public let count: Int

    init(storage: Storage, offset: Int, count: Int) {
        self.storage = storage
        self.offset = offset
        self.count = count
    }

    /// Where the value starts in the tree's bytes (`DeviceTree.bytes`): a
    /// value of the same length can be rewritten there in a copy of them.
    public var blobOffset: Int { offset }

    public var isEmpty: Bool { count == 0 }
    public var bytes: [UInt8] { storage.array(offset, count) }

    /// Number of whole 32-bit cells.
    public var cellCount: Int { count / 4 }

    /// Cell `index` (0-based); the caller checks `index < cellCount`.
    public func cell(_ index: Int) -> UInt32 { storage.be32(offset + index * 4) }

    public var cells: [UInt32] {
        var out: [UInt32] = []
        out.reserveCapacity(cellCount)
        for i in 0..<cellCount { out.append(cell(i)) }
        return out
    }

    /// A single u32, if the value is exactly one cell.
    public var u32: UInt32? { count == 4 ? cell(0) : nil }

    /// A u64 given as one or two cells.
    public var u64: UInt64? {
        switch count {
        case 4: return UInt64(cell(0))
        case 8: return UInt64(cell(0)) << 32 | UInt64(cell(1))
        default: return nil
        }
    }

    /// The value as a number of `cells` cells starting at cell `at` (1 or 2 cells
    /// fit; wider numbers keep their low 64 bits).
    public func number(at index: Int, cells width: Int) -> UInt64 {
        var value: UInt64 = 0
        for i in 0..<width { value = value << 32 | UInt64(cell(index + i)) }
        return value
    }

    /// The first string, if the value is NUL-terminated.
    public var string: String? {
        guard count > 0, storage.byte(offset + count - 1) == 0 else { return nil }
        return storage.string(at: offset, limit: offset + count)
    }

    /// All strings of a string list; nil unless NUL-terminated.
    public var strings: [String]? {
        guard count > 0, storage.byte(offset + count - 1) == 0 else { return nil }
        var out: [String] = []
        var start = offset
        let end = offset + count
        while start < end {
            var stop = start
            while stop < end && storage.byte(stop) != 0 { stop += 1 }
            out.append(storage.string(at: start, limit: stop))
            start = stop + 1
        }
        return out
    }

    /// Whether the string list contains `text`, without allocating.
    public func contains(string text: String) -> Bool {
        var text = text
        return text.withUTF8 { want -> Bool in
            var start = offset
            let end = offset + count
            while start < end {
                // `want` and its NUL, within the value.
                if start + want.count < end && storage.byte(start + want.count) == 0 {
                    var k = 0
                    while k < want.count && storage.byte(start + k) == want[k] { k += 1 }
                    if k == want.count { return true }
                }
                while start < end && storage.byte(start) != 0 { start += 1 }
                start += 1
            }
            return false
        }
    }

    /// Whether `predicate` holds for the bytes of any string of the list (split
    /// as `strings` splits it; none unless NUL-terminated). Nothing is
    /// allocated: for matching names in hot loops.
    public func anyString(_ predicate: (UnsafeRawBufferPointer) -> Bool) -> Bool {
        guard count > 0, storage.byte(offset + count - 1) == 0 else { return false }
        var start = offset
        let end = offset + count
        while start < end {
            var stop = start
            while stop < end && storage.byte(stop) != 0 { stop += 1 }
            if predicate(UnsafeRawBufferPointer(start: storage.base + start, count: stop - start)) { return true }
            start = stop + 1
        }
        return false
    }

    /// Whether any string of the list satisfies `predicate`.
    public func containsString(where predicate: (String) -> Bool) -> Bool {
        guard let list = strings else { return false }
        for s in list where predicate(s) { return true }
        return false
    }
}
