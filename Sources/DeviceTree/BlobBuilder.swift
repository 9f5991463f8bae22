/// Serialises a flattened device tree (Devicetree Specification v0.4, chapter
/// 5: header, memory reservation block, structure block, strings block).
///
/// libfdt's sequential writer looks every property name up in the strings
/// block with a linear search, which dominates rewriting a large tree (10,000
/// properties against 5 KiB of names). This builder interns names in a
/// dictionary and copies property values straight from the source blob. Its
/// output is checked by libfdt (`fdt_check_full`) in the tests.
struct BlobBuilder {
    private(set) var structure: [UInt8] = []
    private var strings: [UInt8] = []
    private var stringOffsets: [String: UInt32] = [:]
    private var reservations: [(UInt64, UInt64)] = []

    init(capacity: Int) {
        structure.reserveCapacity(capacity)
        strings.reserveCapacity(4096)
    }

    private mutating func word(_ value: UInt32) {
        withUnsafeBytes(of: value.bigEndian) { structure.append(contentsOf: $0) }
    }

    private mutating func pad() {
        while structure.count & 3 != 0 { structure.append(0) }
    }

    mutating func reserve(address: UInt64, size: UInt64) { reservations.append((address, size)) }

    mutating func beginNode(_ name: String) {
        word(1)
        structure.append(contentsOf: name.utf8)
        structure.append(0)
        pad()
    }

    mutating func endNode() { word(2) }

    /// The strings-block offset of `name`, adding it once.
    mutating func nameOffset(_ name: String) -> UInt32 {
        if let offset = stringOffsets[name] { return offset }
        let offset = UInt32(strings.count)
        strings.append(contentsOf: name.utf8)
        strings.append(0)
        stringOffsets[name] = offset
        return offset
    }

    mutating func property(nameOffset: UInt32, value: UnsafeRawBufferPointer) {
        word(3)
        word(UInt32(value.count))
        word(nameOffset)
        structure.append(contentsOf: value)
        pad()
    }

    mutating func property(nameOffset: UInt32, bytes: [UInt8]) {
        bytes.withUnsafeBytes { property(nameOffset: nameOffset, value: $0) }
    }

    /// The finished blob, version 17, with `bootCPU` as boot_cpuid_phys.
    mutating func finish(bootCPU: UInt32) -> [UInt8] {
        word(9)   // FDT_END
        let headerSize = 40
        let reserveOffset = (headerSize + 7) & ~7
        let structOffset = reserveOffset + (reservations.count + 1) * 16
        let stringsOffset = structOffset + structure.count
        let total = stringsOffset + strings.count
        var blob: [UInt8] = []
        blob.reserveCapacity(total)
        func put(_ value: UInt32) {
            blob.append(UInt8(value >> 24)); blob.append(UInt8((value >> 16) & 0xff))
            blob.append(UInt8((value >> 8) & 0xff)); blob.append(UInt8(value & 0xff))
        }
        put(0xd00d_feed); put(UInt32(total)); put(UInt32(structOffset)); put(UInt32(stringsOffset))
        put(UInt32(reserveOffset)); put(17); put(16); put(bootCPU)
        put(UInt32(strings.count)); put(UInt32(structure.count))
        while blob.count < reserveOffset { blob.append(0) }
        for (address, size) in reservations {
            put(UInt32(address >> 32)); put(UInt32(truncatingIfNeeded: address))
            put(UInt32(size >> 32)); put(UInt32(truncatingIfNeeded: size))
        }
        for _ in 0..<4 { put(0) }
        blob.append(contentsOf: structure)
        blob.append(contentsOf: strings)
        return blob
    }
}
