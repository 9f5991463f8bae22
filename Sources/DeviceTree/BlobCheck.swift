/// What libfdt's `fdt_check_full` (libfdt 1.6.1, fdt_check.c) asks of a blob,
/// checked while the index is built, so a well-formed blob is walked once
/// instead of twice (the libfdt walk cost as much as the index).
///
/// The check only ever answers "libfdt accepts this" when it is sure: the
/// header rules below are `fdt_check_header`'s and `fdt_num_mem_rsv`'s, and
/// the index pass records whether the structure block keeps `fdt_check_full`'s
/// rules (an FDT_END at depth 0 ends it, the root's name is empty, nothing but
/// FDT_END follows the root, every property name is NUL-terminated inside the
/// strings block). Anything else, including blobs libfdt may well accept, goes
/// through `fdt_check_full` itself, so its error codes are what a caller sees,
/// exactly as when every blob went through it.
enum BlobCheck {
    /// Whether the header and memory reservation map of `storage` (the whole
    /// blob, `totalsize` bytes) pass `fdt_check_full`'s checks before its
    /// structure walk. Conservative: false for anything it is not sure of.
    static func headerAccepted(_ storage: Storage) -> Bool {
        let total = storage.count
        // A version 17 header is 40 bytes; shorter blobs are libfdt's to judge.
        guard total >= 40, total < Int(Int32.max) else { return false }
        guard storage.be32(0) == 0xd00d_feed, Int(storage.be32(4)) == total else { return false }
        let version = storage.be32(20)
        let lastCompatible = storage.be32(24)
        guard version >= 16, lastCompatible <= 17, version >= lastCompatible else { return false }
        let headerSize = version >= 17 ? 40 : 36
        func offsetInside(_ offset: Int) -> Bool { offset >= headerSize && offset <= total }
        func blockInside(_ base: Int, _ size: Int) -> Bool { offsetInside(base) && offsetInside(base + size) }
        let reservations = Int(storage.be32(16))
        guard offsetInside(reservations) else { return false }
        if version >= 17 {
            guard blockInside(Int(storage.be32(8)), Int(storage.be32(36))) else { return false }
        } else {
            guard offsetInside(Int(storage.be32(8))) else { return false }
        }
        guard blockInside(Int(storage.be32(12)), Int(storage.be32(32))) else { return false }
        // The reservation map ends with an entry of size 0 inside the blob.
        var entry = reservations
        while entry <= total - 16 {
            if storage.be32(entry + 8) == 0 && storage.be32(entry + 12) == 0 { return true }
            entry += 16
        }
        return false
    }
}
