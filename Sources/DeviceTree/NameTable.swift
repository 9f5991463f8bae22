/// The distinct property names of one tree, interned: each gets an id, and a
/// property is then found by comparing ids. Names are hashed and compared as
/// bytes in the blob, so opening a tree builds one String per distinct name
/// (`names`) and no dictionary keyed by String.
struct NameTable {
    /// Each name as a String, by id.
    private(set) var names: [String] = []
    /// Where each name's bytes are in the blob, by id.
    private var starts: [Int32] = []
    private var lengths: [Int32] = []
    /// Length << 8 | first byte of each name (`key(_:)`): a property looked up
    /// by string is compared only where both match.
    private(set) var keys: [UInt32] = []
    /// Whether the name's String has exactly the name's bytes: true unless the
    /// bytes are not valid UTF-8 (the String then holds U+FFFD instead). Names
    /// are compared and written as their Strings were before names were
    /// interned by bytes, so such a name still matches its String.
    private(set) var isUTF8: [Bool] = []
    /// Open addressing by FNV-1a hash: an id, or -1 for an empty slot.
    private var slots: [Int32]
    /// The blob the names are in; the owning `DeviceTree.Index` keeps it alive.
    private let base: UnsafeRawPointer

    init(base: UnsafeRawPointer) {
        self.base = base
        slots = [Int32](repeating: -1, count: 64)
    }

    var count: Int { names.count }

    private static func hash(_ bytes: UnsafeRawBufferPointer) -> Int {
        var h: UInt32 = 2_166_136_261
        for byte in bytes { h = (h ^ UInt32(byte)) &* 16_777_619 }
        return Int(h)
    }

    private static func same(_ a: UnsafeRawBufferPointer, _ b: UnsafeRawBufferPointer) -> Bool {
        var i = 0
        while i < a.count {
            if a[i] != b[i] { return false }
            i += 1
        }
        return true
    }

    private func bytes(of id: Int32) -> UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + Int(starts[Int(id)]), count: Int(lengths[Int(id)]))
    }

    /// The slot holding `name`, or the empty slot where it would go.
    private func slot(for name: UnsafeRawBufferPointer) -> Int {
        let mask = slots.count - 1
        var i = NameTable.hash(name) & mask
        while true {
            let id = slots[i]
            if id < 0 { return i }
            if lengths[Int(id)] == name.count && NameTable.same(bytes(of: id), name) { return i }
            i = (i + 1) & mask
        }
    }

    /// The id of the `length` bytes at `offset` of the blob, added when new.
    mutating func intern(at offset: Int, length: Int) -> (id: Int32, isNew: Bool) {
        let name = UnsafeRawBufferPointer(start: base + offset, count: length)
        let i = slot(for: name)
        if slots[i] >= 0 { return (slots[i], false) }
        let id = Int32(names.count)
        var text = String(decoding: name, as: UTF8.self)
        let exact = text.withUTF8 { $0.count == name.count && NameTable.same(UnsafeRawBufferPointer($0), name) }
        names.append(text)
        starts.append(Int32(offset))
        lengths.append(Int32(length))
        isUTF8.append(exact)
        keys.append(exact ? NameTable.key(name) : text.withUTF8 { NameTable.key(UnsafeRawBufferPointer($0)) })
        slots[i] = id
        if names.count * 2 > slots.count { grow() }
        return (id, true)
    }

    private mutating func grow() {
        slots = [Int32](repeating: -1, count: slots.count * 2)
        for id in 0..<Int32(names.count) { slots[slot(for: bytes(of: id))] = id }
    }

    static func key(_ name: UnsafeRawBufferPointer) -> UInt32 {
        UInt32(truncatingIfNeeded: name.count) << 8 | UInt32(name.first ?? 0)
    }

    /// Whether name `id` is `name`, by bytes.
    func isName(_ id: Int32, _ name: UnsafeRawBufferPointer) -> Bool {
        if isUTF8[Int(id)] { return lengths[Int(id)] == name.count && NameTable.same(bytes(of: id), name) }
        var text = names[Int(id)]
        return text.withUTF8 { $0.count == name.count && NameTable.same(UnsafeRawBufferPointer($0), name) }
    }

    /// The id of `name`, if the tree has a property so named.
    func id(of name: String) -> Int32? {
        var name = name
        return name.withUTF8 { utf8 -> Int32? in
            let id = slots[slot(for: UnsafeRawBufferPointer(utf8))]
            return id >= 0 ? id : nil
        }
    }

    /// The bytes of name `id`, in place.
    func utf8(_ id: Int32) -> UnsafeRawBufferPointer { bytes(of: id) }
}
