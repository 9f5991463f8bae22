import CLinux
import KVM
import Platform
import Syscalls

/// Guest RAM at guest physical == host physical, from hugetlb pages
/// (docs/kernel-facts.md §5): each page's physical address comes from
/// /proc/self/pagemap, contiguity is checked on the sorted physical addresses,
/// and every run whose virtual order matches its physical order becomes one KVM
/// memory slot. A boot-time pool is handed out in descending physical order, so
/// that is one slot per page in the worst case (KVM allows 32767).
///
/// Two ways to fewer slots were measured on the emulated board and dropped:
/// moving the pages into physical order with mremap costs 0.7 ms a page (each
/// move flushes TLBs), more than the slots it saves (7-11 ms for 121); faulting
/// page by page (MADV_POPULATE_WRITE) in the direction the pool hands pages out
/// gave 3 slots from a fresh pool, but once guests had come and gone the pool's
/// order was mixed (110-122 slots for 256 MiB), and 16 MiB guests took 25 ms
/// rather than 13 in A/B runs of the two binaries in one board boot.
///
/// Owns its mapping: the pages go back to the pool when this object dies, or
/// when the process does (even on SIGKILL).
public final class IdentityMappedRAM {
    /// One memory slot: `size` bytes at guest (== host) physical `guestAddress`,
    /// backed by the mapping at `offset`.
    public struct Run: Equatable {
        public let guestAddress: UInt64
        public let offset: Int
        public let size: Int
    }

    /// A physically contiguous part of guest RAM (one `reg` entry of the
    /// guest's memory node).
    public struct Bank: Equatable {
        public let base: UInt64
        public let size: UInt64
        public var end: UInt64 { base + size }
    }

    /// Lowest physical address and total size.
    public let base: UInt64
    public let size: UInt64
    /// Contiguous banks, sorted by address: one when the pool was contiguous.
    public let banks: [Bank]
    public let pageSize: HugePageSize
    public let runs: [Run]
    let mapping: Mapping

    private init(size: UInt64, pageSize: HugePageSize, runs: [Run], mapping: Mapping) {
        var banks: [Bank] = []
        for run in runs {
            if let last = banks.last, last.end == run.guestAddress {
                banks[banks.count - 1] = Bank(base: last.base, size: last.size + UInt64(run.size))
            } else {
                banks.append(Bank(base: run.guestAddress, size: UInt64(run.size)))
            }
        }
        self.banks = banks
        self.base = banks.first?.base ?? 0
        self.size = size
        self.pageSize = pageSize
        self.runs = runs
        self.mapping = mapping
    }

    /// Time the last `allocate` spent in mmap (faulting, which makes the
    /// kernel zero each hugepage) and in reading pagemap: the two costs of
    /// identity-mapped RAM at start-up, for the supervisor's timing line.
    public static var lastMapNanoseconds: UInt64 = 0
    public static var lastPagemapNanoseconds: UInt64 = 0

    /// Free pages in the pool of `pageSize` (sysfs free_hugepages).
    public static func freePages(_ pageSize: HugePageSize) -> UInt64 {
        guard let text = try? Files.readText(pageSize.sysfsDirectory + "/free_hugepages") else { return 0 }
        return UInt64(text.filter { $0 != "\n" }) ?? 0
    }

    /// Takes `size` bytes of hugepages, at `fixedBase` if given, into one
    /// reserved address range: the pages needed first, then more a batch at a
    /// time, until the pages taken hold a physically contiguous window; the
    /// rest go back to the pool. Every page taken costs its zeroing by the
    /// kernel, so the search stops as soon as it can (measured on the emulated
    /// board: a 4 MiB guest after a Linux guest had reordered the pool took
    /// 555 ms when the whole 256 MiB pool was mapped at once). When the pool
    /// has no such window (measured: a 128-page boot-time pool whose longest
    /// run was 85 pages once the host initramfs held a 30 MB kernel) and
    /// `allowBanks` is set, the pages become several memory banks, each still
    /// identity-mapped (one `reg` entry each in the guest's memory node).
    public static func allocate(size: UInt64, pageSize: HugePageSize, fixedBase: UInt64? = nil,
                                allowBanks: Bool = true) throws(MemoryError) -> IdentityMappedRAM {
        let ps = pageSize.rawValue
        lastMapNanoseconds = 0
        lastPagemapNanoseconds = 0
        guard size > 0, size % ps == 0 else { throw .invalidSize(size, pageSize) }
        if let fixedBase, fixedBase % ps != 0 { throw .fixedBase(base: fixedBase, size: size) }
        let needed = size / ps
        let free = freePages(pageSize)
        guard free >= needed else { throw .pool(size: pageSize, free: free, needed: needed) }

        let pool = try HugePageReservation(pages: free, pageSize)
        var pages: [(pa: UInt64, offset: Int)] = []
        while pool.taken < free {
            let batch = pool.taken == 0 ? needed : min(max(needed, 8), free - pool.taken)
            pages += try pool.take(batch)
            pages.sort { $0.pa < $1.pa }
            if let ram = window(pages, needed: needed, base: fixedBase, mapping: pool.mapping, pageSize) { return ram }
        }
        if let fixedBase { throw .fixedBase(base: fixedBase, size: size) }
        if allowBanks {
            // Keep the `needed` pages forming the fewest banks: the longest runs first.
            return banked(pages, needed: needed, mapping: pool.mapping, pageSize)
        }
        throw .notContiguous(size: pageSize, needed: needed, longestRun: longestRun(pages, pageSize))
    }

    /// An address range sized for the whole free pool, PROT_NONE until
    /// hugepages are mapped into it (`take`), aligned to the page size as
    /// MAP_FIXED hugetlb mappings must be.
    private final class HugePageReservation {
        let mapping: Mapping
        let pageSize: HugePageSize
        /// Offset of the first aligned page in `mapping`.
        let start: Int
        private(set) var taken: UInt64 = 0

        init(pages: UInt64, _ pageSize: HugePageSize) throws(MemoryError) {
            let ps = Int(pageSize.rawValue)
            do throws(Errno) {
                mapping = try Mapping(length: Int(pages) * ps + ps, protection: PROT_NONE,
                                      flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE)
            } catch {
                throw .map(size: pageSize, pages: pages, errno: error)
            }
            let address = Int(mapping.address)
            start = (address + ps - 1) / ps * ps - address
            self.pageSize = pageSize
        }

        /// Maps and faults in `count` more pages (MAP_POPULATE: the kernel
        /// zeroes each); returns their physical addresses and offsets. One
        /// thread on purpose: faulting from the guest's idle CPU as well was
        /// measured 6x slower on the emulated board (256 MiB: 994 ms against
        /// 168 ms; images 391 against 54 ms), where concurrent faults may make
        /// QEMU synchronise its vCPUs for every TLB flush.
        func take(_ count: UInt64) throws(MemoryError) -> [(pa: UInt64, offset: Int)] {
            let ps = Int(pageSize.rawValue)
            let offset = start + Int(taken) * ps
            let began = Clock.monotonic
            let r = mapping.map(at: offset, length: Int(count) * ps, protection: PROT_READ | PROT_WRITE,
                                flags: MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | MAP_POPULATE | pageSize.mmapFlag)
            lastMapNanoseconds += Clock.monotonic - began
            if case .failure(let e) = r { throw .map(size: pageSize, pages: count, errno: e) }
            taken += count
            let read = Clock.monotonic
            defer { lastPagemapNanoseconds += Clock.monotonic - read }
            let pagemap = try Pagemap()
            var pages: [(pa: UInt64, offset: Int)] = []
            for k in 0..<Int(count) {
                let at = offset + k * ps
                pages.append((try pagemap.physicalAddress(of: mapping.address + UInt64(at)), at))
            }
            return pages
        }
    }

    private static func longestRun(_ pages: [(pa: UInt64, offset: Int)], _ pageSize: HugePageSize) -> UInt64 {
        var best: UInt64 = pages.isEmpty ? 0 : 1
        var current: UInt64 = 1
        for i in pages.indices.dropFirst() {
            current = pages[i].pa == pages[i - 1].pa + pageSize.rawValue ? current + 1 : 1
            best = max(best, current)
        }
        return best
    }

    /// Keeps `needed` pages (all when nil), preferring long runs, releases the
    /// rest; the result has one bank per contiguous run.
    private static func banked(_ pages: [(pa: UInt64, offset: Int)], needed: UInt64? = nil, mapping: Mapping,
                               _ pageSize: HugePageSize) -> IdentityMappedRAM {
        let ps = pageSize.rawValue
        var groups: [[(pa: UInt64, offset: Int)]] = []
        for page in pages {
            if let last = groups.last?.last, page.pa == last.pa + ps { groups[groups.count - 1].append(page) } else { groups.append([page]) }
        }
        groups.sort { $0.count > $1.count }
        var kept: [(pa: UInt64, offset: Int)] = []
        let want = Int(needed ?? UInt64(pages.count))
        for group in groups {
            for page in group {
                if kept.count < want { kept.append(page) } else { mapping.release(offset: page.offset, length: Int(ps)) }
            }
        }
        kept.sort { $0.pa < $1.pa }
        return IdentityMappedRAM(size: UInt64(kept.count) * ps, pageSize: pageSize, runs: runs(kept, pageSize), mapping: mapping)
    }

    private static func runs(_ chosen: [(pa: UInt64, offset: Int)], _ pageSize: HugePageSize) -> [Run] {
        let ps = Int(pageSize.rawValue)
        var runs: [Run] = []
        for page in chosen {
            if let last = runs.last, last.offset + last.size == page.offset,
               last.guestAddress + UInt64(last.size) == page.pa {
                runs[runs.count - 1] = Run(guestAddress: last.guestAddress, offset: last.offset, size: last.size + ps)
            } else {
                runs.append(Run(guestAddress: page.pa, offset: page.offset, size: ps))
            }
        }
        return runs
    }

    /// Finds `needed` physically consecutive pages (starting at `base` if
    /// given), releases every other page of the mapping, and builds the runs.
    private static func window(_ pages: [(pa: UInt64, offset: Int)], needed: UInt64, base: UInt64?,
                               mapping: Mapping, _ pageSize: HugePageSize) -> IdentityMappedRAM? {
        let ps = pageSize.rawValue
        let n = Int(needed)
        var start: Int? = nil
        var i = 0
        while i + n <= pages.count {
            if let base, pages[i].pa != base { i += 1; continue }
            var j = i + 1
            while j < i + n && pages[j].pa == pages[j - 1].pa + ps { j += 1 }
            if j == i + n { start = i; break }
            if base != nil { return nil }
            i = j
        }
        guard let start else { return nil }
        let chosen = pages[start..<(start + n)]
        for (k, page) in pages.enumerated() where k < start || k >= start + n {
            mapping.release(offset: page.offset, length: Int(ps))
        }
        return IdentityMappedRAM(size: needed * ps, pageSize: pageSize, runs: runs(Array(chosen), pageSize), mapping: mapping)
    }

    /// Registers one KVM memory slot per run (api.rst 4.35).
    public func register(in vm: VirtualMachine) throws(KVMError) {
        for run in runs {
            try vm.map(mapping, offset: run.offset, size: run.size, at: run.guestAddress)
        }
    }

    /// Zeroes every byte, run by run: the scrub between two boots (`RAMScrub`).
    /// The pages stay mapped, so they stay this RAM's and never go back to the
    /// pool between boots.
    public func zero() {
        for run in runs {
            // The C library's memset, not a Swift loop: a byte loop took 69 ms
            // for 4 MiB under nested TCG (docs/kernel-facts.md §31).
            cleave_zero(mapping.base + run.offset, run.size)
        }
    }

    /// Reads every page's physical address from pagemap again and compares it
    /// with the one recorded at allocation: the proof that a later boot runs
    /// on the very pages the first one had (the supervisor's `ram-check` line).
    /// Returns the first page that moved (its guest address, where it is now),
    /// nil when none did.
    public func movedPage() throws(MemoryError) -> (expected: UInt64, found: UInt64)? {
        let pagemap = try Pagemap()
        let ps = Int(pageSize.rawValue)
        for run in runs {
            for k in stride(from: 0, to: run.size, by: ps) {
                let found = try pagemap.physicalAddress(of: mapping.address + UInt64(run.offset + k))
                if found != run.guestAddress + UInt64(k) { return (run.guestAddress + UInt64(k), found) }
            }
        }
        return nil
    }

    /// Copies `bytes` to guest physical `address`, across pages as needed.
    /// Returns false when the range is outside this RAM.
    @discardableResult
    public func write(_ bytes: UnsafeRawBufferPointer, at address: UInt64) -> Bool {
        guard contains(address, count: bytes.count) else { return false }
        var done = 0
        while done < bytes.count {
            let pa = address + UInt64(done)
            let (host, room) = hostAddress(pa)
            let n = min(room, bytes.count - done)
            host.copyMemory(from: bytes.baseAddress! + done, byteCount: n)
            done += n
        }
        return true
    }

    /// Reads `count` bytes of `file` from its start straight into guest RAM at
    /// `address` (no copy in the supervisor's heap: images do not count in its RSS).
    public func load(_ file: borrowing FileDescriptor, count: Int, at address: UInt64) -> Result<Void, Errno> {
        guard contains(address, count: count) else { return .failure(Errno(ERANGE)) }
        var done = 0
        while done < count {
            let (host, room) = hostAddress(address + UInt64(done))
            let n = min(room, count - done)
            if case .failure(let e) = file.readExactly(into: UnsafeMutableRawBufferPointer(start: host, count: n), at: Int64(done)) {
                return .failure(e)
            }
            done += n
        }
        return .success(())
    }

    /// Reads `count` bytes at guest physical `address` (nil outside RAM).
    public func read(at address: UInt64, count: Int) -> [UInt8]? {
        guard contains(address, count: count) else { return nil }
        var out = [UInt8](repeating: 0, count: count)
        out.withUnsafeMutableBytes { dst in
            var done = 0
            while done < count {
                let (host, room) = hostAddress(address + UInt64(done))
                let n = min(room, count - done)
                (dst.baseAddress! + done).copyMemory(from: host, byteCount: n)
                done += n
            }
        }
        return out
    }

    /// Whether [address, address + count) lies inside one bank.
    public func contains(_ address: UInt64, count: Int) -> Bool {
        banks.contains { address >= $0.base && address + UInt64(count) <= $0.end }
    }

    /// The host pointer for guest physical `pa` and the bytes left in its run.
    private func hostAddress(_ pa: UInt64) -> (UnsafeMutableRawPointer, Int) {
        for run in runs where pa >= run.guestAddress && pa < run.guestAddress + UInt64(run.size) {
            let within = Int(pa - run.guestAddress)
            return (mapping.base + run.offset + within, run.size - within)
        }
        preconditionFailure("address checked against base and size")
    }
}
