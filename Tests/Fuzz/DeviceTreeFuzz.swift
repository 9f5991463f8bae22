// libFuzzer target for Sources/DeviceTree. Built by Scripts/fuzz-devicetree
// together with the library's sources (one module, so no import), with
// -sanitize=fuzzer,address.
//
// Each input is opened as a DeviceTree. A refused blob must come back as a
// DeviceTreeError; an accepted one is walked with every read API on every
// node, compared with libfdt's own view of the same bytes, copied through
// DeviceTreeWriter and edited through DeviceTreeEditor, and each result must
// open again byte for byte.
//
// The bugs below were found by this target and are fixed; the masks stay for
// bisecting old revisions (CLEAVE_FUZZ_KNOWN_BUGS=0 masks them again):
//   - interruptParent(of:) never returns when the interrupt-parent walk cycles;
//   - GICInterrupt.intid traps on SPI/ESPI numbers near UInt32.max;
//   - the index gives a property that follows a property-less subnode to the
//     parent, where libfdt ignores it;
//   - DeviceTreeEditor.init double-frees its buffer when fdt_open_into fails.
// Found later and fixed, no mask (the input is in DeviceTrees/fuzz/, replayed by
// FuzzFindingTests and by Scripts/fuzz-devicetree before each run):
//   - the index cut version 16 property names at size_dt_strings, where libfdt
//     reads them up to totalsize (devicetree-names-f5e1d20a.dtb).
import CFDT
#if canImport(Glibc)
import Glibc
#endif

private let unmaskKnownBugs: Bool = {
    guard let value = getenv("CLEAVE_FUZZ_KNOWN_BUGS") else { return true }
    return String(cString: value) != "0"
}()

/// An invariant failure aborts: libFuzzer's SIGABRT handler then writes the
/// input as a crash artifact and exits at once (see `LLVMFuzzerInitialize`).
private func check(_ condition: @autoclosure () -> Bool, _ message: @autoclosure () -> String) {
    if !condition() {
        fputs("DeviceTreeFuzz: invariant failed: \(message())\n", stderr)
        abort()
    }
}

/// Runs before libFuzzer installs its signal handlers. The Swift runtime's
/// backtracer claims SIGABRT, SIGSEGV and the rest at start-up, and libFuzzer
/// leaves a signal alone when a handler is already there: a failing input then
/// went to swift-backtrace, which kept the process alive for over a minute (or
/// died inside ASan) instead of libFuzzer reporting it. The backtracer is only
/// configurable before the runtime starts, so without SWIFT_BACKTRACE the
/// target runs itself again with it off (Scripts/fuzz-devicetree sets it).
@_cdecl("LLVMFuzzerInitialize")
public func deviceTreeFuzzInitialize(_ argc: UnsafeMutablePointer<Int32>,
                                     _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>) -> Int32 {
    guard getenv("SWIFT_BACKTRACE") == nil else { return 0 }
    setenv("SWIFT_BACKTRACE", "enable=no", 1)
    execv("/proc/self/exe", argv.pointee)
    fputs("DeviceTreeFuzz: could not re-run with SWIFT_BACKTRACE=enable=no (errno \(errno)); a failure may hang in swift-backtrace\n", stderr)
    return 0
}

/// The walk interruptParent(of:) performs, with a visited set: true when it
/// would cycle forever.
private func interruptParentChainLoops(_ tree: DeviceTree, from node: Node) -> Bool {
    var seen = Set<Node>()
    var current: Node? = node
    repeat {
        guard let c = current else { return false }
        if !seen.insert(c).inserted { return true }
        if let handle = tree.property("interrupt-parent", of: c)?.u32 {
            guard let target = tree.node(phandle: handle) else { return false }
            current = target
        } else {
            current = tree.parent(of: c)
        }
        if current == node { return false }
    } while current != nil && !tree.hasProperty("#interrupt-cells", of: current!)
    return false
}

/// libfdt's list of (name, value) for the node at `offset`.
private func libfdtProperties(_ fdt: UnsafeRawPointer, _ offset: Int32) -> [(String, [UInt8])] {
    var out: [(String, [UInt8])] = []
    var property = fdt_first_property_offset(fdt, offset)
    while property >= 0 {
        var name: UnsafePointer<CChar>? = nil
        var length: Int32 = 0
        if let value = fdt_getprop_by_offset(fdt, property, &name, &length), let name, length >= 0 {
            out.append((String(cString: name), [UInt8](UnsafeRawBufferPointer(start: value, count: Int(length)))))
        }
        property = fdt_next_property_offset(fdt, property)
    }
    return out
}

/// Whether the index and libfdt agree on names, children and properties of every node.
private func compareWithLibfdt(_ tree: DeviceTree) {
    tree.withUnsafeBlob { fdt in
        for node in tree.allNodes {
            let offset = tree.structOffset(of: node)
            var length: Int32 = 0
            let name = fdt_get_name(fdt, offset, &length).map { String(cString: $0) }
            check(name == tree.name(of: node) || (node == tree.root && length == 0),
                  "name of \(tree.path(of: node)): libfdt \(name ?? "nil")")
            var libfdtChildren: [Int32] = []
            var child = fdt_first_subnode(fdt, offset)
            while child >= 0 { libfdtChildren.append(child); child = fdt_next_subnode(fdt, child) }
            check(libfdtChildren == tree.children(of: node).map { tree.structOffset(of: $0) },
                  "children of \(tree.path(of: node))")
            let ours = tree.properties(of: node).map { ($0.name, $0.value.bytes) }
            let theirs = libfdtProperties(fdt, offset)
            let same = ours.count == theirs.count && zip(ours, theirs).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
            // Known bug: a property after a property-less subnode (libfdt sees fewer).
            if !same && !unmaskKnownBugs && theirs.count < ours.count
                && zip(ours, theirs).allSatisfy({ $0.0 == $1.0 && $0.1 == $1.1 }) { continue }
            check(same, "properties of \(tree.path(of: node)): index \(ours.map(\.0)) libfdt \(theirs.map(\.0))")
        }
    }
}

@discardableResult
private func exerciseEveryAPI(_ tree: DeviceTree) -> Int {
    let resolveInterrupts = unmaskKnownBugs || !tree.allNodes.contains { interruptParentChainLoops(tree, from: $0) }
    var work = tree.nodeCount &+ tree.size &+ Int(tree.maxPhandle & 0xff)
    if let gic = tree.gic() { work &+= gic.regions.count &+ (gic.cpuInterface == nil ? 0 : 1) &+ gic.version.description.utf8.count }
    for node in tree.allNodes {
        if let parent = tree.parent(of: node) {
            check(parent < node, "parent after child")
            check(tree.children(of: parent).contains(node), "child missing from its parent")
            check(tree.isDescendant(node, of: parent), "isDescendant")
            check(tree.depth(of: node) == tree.depth(of: parent) + 1, "depth")
        }
        let path = tree.path(of: node)
        work &+= path.utf8.count &+ tree.baseName(of: node).utf8.count &+ (tree.unitAddress(of: node)?.utf8.count ?? 0)
        work &+= tree.lookup(path: path) == nil ? 0 : 1
        work &+= tree.resolve(path) == nil ? 0 : 1
        work &+= tree.resolve(tree.name(of: node)) == nil ? 0 : 1
        work &+= tree.labels(of: node).count &+ tree.aliases(of: node).count
        work &+= tree.compatible(of: node).count &+ (tree.isCompatible(node, with: "simple-bus") ? 1 : 0)
        let enabled = tree.isEnabled(node)
        let ancestor = tree.disabledAncestor(of: node)
        check(enabled == (tree.isEnabledItself(node) && ancestor == nil), "isEnabled vs disabledAncestor")
        work &+= Int(tree.phandle(of: node) ?? 0) & 1
        if let handle = tree.phandle(of: node), handle != 0, handle != 0xffff_ffff {
            work &+= tree.node(phandle: handle) == nil ? 0 : 1
        }
        work &+= tree.addressCells(of: node) &+ tree.sizeCells(of: node)
        for (name, value) in tree.properties(of: node) {
            check(tree.hasProperty(name, of: node), "hasProperty(\(name))")
            work &+= name.utf8.count &+ value.count &+ value.cellCount &+ value.bytes.count &+ value.cells.count
            work &+= (value.string?.utf8.count ?? 0) &+ (value.strings?.count ?? 0)
            work &+= Int(value.u32 ?? 0) & 1 &+ Int(truncatingIfNeeded: value.u64 ?? 0) & 1
            if value.cellCount >= 2 { work &+= Int(truncatingIfNeeded: value.number(at: 0, cells: 2) & 1) }
            work &+= value.contains(string: "okay") ? 1 : 0
            work &+= value.containsString(where: { $0.hasPrefix("arm,") }) ? 1 : 0
        }
        if let entries = try? tree.regEntries(of: node) { work &+= entries.count }
        switch try? tree.deviceAddress(of: node) {
        case .mmio(let ranges)?:
            for r in ranges { work &+= Int(r.end & 1) &+ (r.overlaps(r) ? 1 : 0) &+ r.description.utf8.count }
        case .notCPUAddressable(let bus, let reason)?: work &+= bus.utf8.count &+ reason.utf8.count
        case .none?, nil: break
        }
        work &+= tree.isGIC(node) ? 1 : 0
        work &+= tree.gicVersion(of: node)?.description.utf8.count ?? 0
        if resolveInterrupts {
            work &+= tree.interruptParent(of: node) == nil ? 0 : 1
            for interrupt in tree.interrupts(of: node) {
                switch interrupt {
                case .gic(let g):
                    work &+= g.specifier.count &+ g.trigger.description.utf8.count &+ g.kind.name.utf8.count
                    work &+= (g.isShared ? 1 : 0) &+ (g.trigger.isLevel ? 1 : 0)
                    if unmaskKnownBugs || g.number < 0xffff_0000 { work &+= Int(g.intid & 1) &+ g.description.utf8.count }
                case .otherController(let path, let specifier): work &+= path.utf8.count &+ specifier.count
                case .unresolved(let reason): work &+= reason.utf8.count
                }
            }
        }
        let (dependencies, problems) = tree.dependencies(of: node)
        for d in dependencies {
            work &+= d.kind.description.utf8.count &+ d.arguments.count &+ d.entry &+ tree.path(of: d.provider).utf8.count
        }
        work &+= problems.count
    }
    return work
}

/// The same nodes and properties, in the same order.
private func sameStructure(_ a: DeviceTree, _ b: DeviceTree) -> Bool {
    guard a.nodeCount == b.nodeCount else { return false }
    for (x, y) in zip(a.allNodes, b.allNodes) {
        guard a.name(of: x) == b.name(of: y), a.parent(of: x)?.index == b.parent(of: y)?.index else { return false }
        let px = a.properties(of: x), py = b.properties(of: y)
        guard px.count == py.count else { return false }
        for (p, q) in zip(px, py) where p.name != q.name || p.value.bytes != q.value.bytes { return false }
    }
    return true
}

/// Writes `tree` again with DeviceTreeWriter: the copy must read back the same.
private func writerCopy(_ tree: DeviceTree) {
    let writer = DeviceTreeWriter(capacity: 1024)
    let reservations = tree.withUnsafeBlob { fdt -> [(UInt64, UInt64)] in
        var out: [(UInt64, UInt64)] = []
        for i in 0..<max(0, fdt_num_mem_rsv(fdt)) {
            var address: UInt64 = 0, size: UInt64 = 0
            if fdt_get_mem_rsv(fdt, i, &address, &size) == 0 { out.append((address, size)) }
        }
        return out
    }
    for (address, size) in reservations { writer.reserve(address: address, size: size) }
    func emit(_ node: Node) {
        writer.beginNode(tree.name(of: node))
        for (name, value) in tree.properties(of: node) { writer.property(name, bytes: value.bytes) }
        for child in tree.children(of: node) { emit(child) }
        writer.endNode()
    }
    emit(tree.root)
    do throws(DeviceTreeError) {
        let copy = try writer.finish()
        check(sameStructure(tree, copy), "writer copy differs")
        let reopened = try DeviceTree(bytes: copy.bytes)
        check(reopened.bytes == copy.bytes, "writer copy re-opened differs")
        let copied = copy.withUnsafeBlob { fdt_num_mem_rsv($0) }
        check(Int(copied) == reservations.count, "writer copy lost memory reservations")
    } catch {
        check(false, "writer copy failed: \(error)")
    }
}

/// An editor round trip: no-op, then a few edits chosen by the input.
private func editorRoundTrip(_ tree: DeviceTree, seed: [UInt8]) {
    // Known bug: DeviceTreeEditor.init double-frees when fdt_open_into fails
    // (e.g. a reservation map overlapping the structure block).
    if !unmaskKnownBugs {
        let capacity = tree.size + 1024
        let scratch = UnsafeMutableRawPointer.allocate(byteCount: capacity, alignment: 8)
        defer { scratch.deallocate() }
        guard tree.withUnsafeBlob({ fdt_open_into($0, scratch, Int32(capacity)) }) == 0 else { return }
    }
    do throws(DeviceTreeError) {
        let untouched = try DeviceTreeEditor(tree, extraSpace: 0).finish()
        check(sameStructure(tree, untouched), "editor no-op changed the tree")
        let untouchedAgain = try DeviceTree(bytes: untouched.bytes)
        check(untouchedAgain.bytes == untouched.bytes, "editor no-op result re-opened differs")

        let editor = try DeviceTreeEditor(tree, extraSpace: 0)
        let nodes = tree.allNodes
        let pick = nodes[Int(seed.first ?? 0) % nodes.count]
        let path = tree.path(of: pick)
        let value = [UInt8](repeating: seed.last ?? 0, count: 1 + Int(seed.count > 1 ? seed[1] : 0) * 16)
        // Paths with odd characters may not resolve through libfdt: that is an error, not a crash.
        if editor.hasNode(path) {
            try editor.setProperty(path, "cleave,fuzz", bytes: value)
            if let first = tree.properties(of: pick).first { _ = try editor.deleteProperty(path, first.name) }
            _ = try editor.addNode(path, "fuzz-child@\(seed.count)")
        }
        let edited = try editor.finish()
        let reopened = try DeviceTree(bytes: edited.bytes)
        check(reopened.bytes == edited.bytes, "edited tree re-opened differs")
        check(sameStructure(reopened, edited), "edited tree re-opened reads differently")
        if nodes.count > 1 {
            let victim = nodes[1 + Int(seed.count) % (nodes.count - 1)]
            let editor2 = try DeviceTreeEditor(tree, extraSpace: 0)
            if editor2.hasNode(tree.path(of: victim)) {
                try editor2.deleteNode(tree.path(of: victim))
                let smaller = try editor2.finish()
                let smallerAgain = try DeviceTree(bytes: smaller.bytes)
                check(smallerAgain.bytes == smaller.bytes, "tree after deleteNode re-opened differs")
            }
        }
    } catch {
        // libfdt refusing an edit on an odd (but valid) tree is fine.
    }
}

@_cdecl("LLVMFuzzerTestOneInput")
public func deviceTreeFuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> Int32 {
    let bytes = [UInt8](UnsafeBufferPointer(start: data, count: size))
    let tree: DeviceTree
    do throws(DeviceTreeError) {
        tree = try DeviceTree(bytes: bytes)
    } catch {
        check(!error.description.isEmpty, "empty error description")
        return 0
    }
    check(tree.bytes.count == tree.size && tree.size <= size, "size")
    check(tree.nodeCount >= 1 && tree.name(of: tree.root).isEmpty, "root")
    compareWithLibfdt(tree)
    exerciseEveryAPI(tree)
    writerCopy(tree)
    editorRoundTrip(tree, seed: Array(bytes.suffix(4)))
    return 0
}
