import CFDT

/// Builds a new tree with libfdt's sequential-write API (`fdt_create`,
/// `fdt_begin_node`, `fdt_property`, ...), as kvmtool builds its guest trees.
///
/// Calls are recorded as they come; the first failure is kept and thrown by
/// `finish()`, so a generator reads as a straight list of nodes. Running out of
/// room grows the buffer with `fdt_resize` and retries.
public final class DeviceTreeWriter {
    private var buffer: UnsafeMutableRawPointer
    private var capacity: Int
    private var failure: DeviceTreeError? = nil
    private var reservationsDone = false
    private var depth = 0
    /// The header's `boot_cpuid_phys`.
    public var bootCPU: UInt32 = 0

    public init(capacity: Int = 16384) {
        self.capacity = max(capacity, 1024)
        buffer = UnsafeMutableRawPointer.allocate(byteCount: self.capacity, alignment: 8)
        buffer.initializeMemory(as: UInt8.self, repeating: 0, count: self.capacity)
        let status = fdt_create(buffer, Int32(self.capacity))
        if status != 0 { failure = .libfdt(call: "fdt_create", code: status, context: "") }
    }

    deinit { buffer.deallocate() }

    private func run(_ call: String, _ context: String, _ body: (UnsafeMutableRawPointer) -> Int32) {
        guard failure == nil else { return }
        var result = body(buffer)
        var attempts = 0
        while result == -FDT_ERR_NOSPACE && attempts < 16 {
            let newCapacity = capacity * 2
            let bigger = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 8)
            bigger.initializeMemory(as: UInt8.self, repeating: 0, count: newCapacity)
            let status = fdt_resize(buffer, bigger, Int32(newCapacity))
            guard status == 0 else {
                bigger.deallocate()
                failure = .libfdt(call: "fdt_resize", code: status, context: context)
                return
            }
            buffer.deallocate()
            buffer = bigger
            capacity = newCapacity
            result = body(buffer)
            attempts += 1
        }
        if result < 0 { failure = .libfdt(call: call, code: result, context: context) }
    }

    /// A /memreserve/ entry; only before the first node.
    public func reserve(address: UInt64, size: UInt64) {
        guard !reservationsDone else {
            if failure == nil { failure = .malformed("memory reservation added after the first node") }
            return
        }
        run("fdt_add_reservemap_entry", "0x\(String(address, radix: 16))") { fdt_add_reservemap_entry($0, address, size) }
    }

    public func beginNode(_ name: String) {
        if !reservationsDone {
            reservationsDone = true
            run("fdt_finish_reservemap", "") { fdt_finish_reservemap($0) }
        }
        depth += 1
        run("fdt_begin_node", name) { fdt_begin_node($0, name) }
    }

    public func endNode() {
        depth -= 1
        run("fdt_end_node", "") { fdt_end_node($0) }
    }

    public func property(_ name: String, bytes: [UInt8]) {
        run("fdt_property", name) { fdt in
            bytes.withUnsafeBytes { fdt_property(fdt, name, $0.baseAddress, Int32(bytes.count)) }
        }
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
        run("fdt_finish", "") { fdt_finish($0) }
        if let failure { throw failure }
        cleave_fdt_set_boot_cpuid_phys(buffer, bootCPU)
        return try DeviceTree(checkingCopyOf: buffer, what: "the written tree")
    }
}
