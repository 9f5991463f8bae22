import CFDT
import Foundation
import Testing
@testable import DeviceTree

/// Inputs Scripts/fuzz-devicetree found (DeviceTrees/fuzz/, see its README): the
/// index must read every node and property of each as libfdt 1.6.1 does, or
/// refuse it as `fdt_check_full` does.
let fuzzFindingFiles: [String] = {
    let dir = repositoryRoot.appendingPathComponent("DeviceTrees/fuzz").path
    return ((try? FileManager.default.contentsOfDirectory(atPath: dir)) ?? []).filter { $0.hasSuffix(".dtb") }.sorted()
}()

/// libfdt's (name, value) list for the node at `offset`, as the fuzz target reads it.
private func libfdtProperties(_ fdt: UnsafeRawPointer, _ offset: Int32) -> [(name: String, value: [UInt8])] {
    var out: [(name: String, value: [UInt8])] = []
    var property = fdt_first_property_offset(fdt, offset)
    while property >= 0 {
        var name: UnsafePointer<CChar>? = nil
        var length: Int32 = 0
        if let value = fdt_getprop_by_offset(fdt, property, &name, &length), let name, length >= 0 {
            out.append((String(cString: name), [UInt8](UnsafeRawBufferPointer(start: value, count: Int(length)))))
        } else {
            out.append(("<libfdt error \(length)>", []))
        }
        property = fdt_next_property_offset(fdt, property)
    }
    return out
}

/// Checks that the index and libfdt see the same names, children and
/// properties on every node of `tree`.
private func expectReadsLikeLibfdt(_ tree: DeviceTree, _ what: String, sourceLocation: SourceLocation = #_sourceLocation) {
    tree.withUnsafeBlob { fdt in
        for node in tree.allNodes {
            let offset = tree.structOffset(of: node)
            let path = tree.path(of: node)
            if node != tree.root {
                let name = fdt_get_name(fdt, offset, nil).map { String(cString: $0) }
                #expect(name == tree.name(of: node), "\(what): name of \(path)", sourceLocation: sourceLocation)
            }
            var children: [Int32] = []
            var child = fdt_first_subnode(fdt, offset)
            while child >= 0 { children.append(child); child = fdt_next_subnode(fdt, child) }
            #expect(children == tree.children(of: node).map { tree.structOffset(of: $0) },
                    "\(what): children of \(path)", sourceLocation: sourceLocation)
            let ours = tree.properties(of: node).map { (name: $0.name, value: $0.value.bytes) }
            let theirs = libfdtProperties(fdt, offset)
            #expect(ours.map(\.name) == theirs.map(\.name), "\(what): property names of \(path)", sourceLocation: sourceLocation)
            #expect(ours.map(\.value) == theirs.map(\.value), "\(what): property values of \(path)", sourceLocation: sourceLocation)
            for (name, _) in theirs {
                #expect(tree.hasProperty(name, of: node), "\(what): \(path) has no '\(name)' by name",
                        sourceLocation: sourceLocation)
            }
        }
    }
}

/// Whether libfdt's `fdt_check_full` accepts the first `totalsize` bytes.
private func libfdtAccepts(_ bytes: [UInt8]) -> Bool {
    guard bytes.count >= 8 else { return false }
    let total = Int(UInt32(bytes[4]) << 24 | UInt32(bytes[5]) << 16 | UInt32(bytes[6]) << 8 | UInt32(bytes[7]))
    guard total >= 40, total <= bytes.count else { return false }
    let storage = Storage(bytes: Array(bytes[0..<total]))
    return fdt_check_full(storage.base, total) == 0
}

private func opened(_ bytes: [UInt8]) -> Result<DeviceTree, DeviceTreeError> {
    do throws(DeviceTreeError) { return .success(try DeviceTree(bytes: bytes)) } catch { return .failure(error) }
}

private func be32(_ bytes: [UInt8], _ at: Int) -> Int {
    Int(UInt32(bytes[at]) << 24 | UInt32(bytes[at + 1]) << 16 | UInt32(bytes[at + 2]) << 8 | UInt32(bytes[at + 3]))
}

private func setBE32(_ bytes: inout [UInt8], _ at: Int, _ value: Int) {
    for i in 0..<4 { bytes[at + i] = UInt8(truncatingIfNeeded: value >> (24 - 8 * i)) }
}

@Suite("Fuzz findings read as libfdt reads them")
struct FuzzFindingTests {
    @Test func findingsAreThere() {
        #expect(fuzzFindingFiles.contains("devicetree-names-f5e1d20a.dtb"), "DeviceTrees/fuzz/*.dtb")
    }

    /// Each finding opens and reads as libfdt reads it, or both refuse it.
    @Test(arguments: fuzzFindingFiles)
    func findingReadsLikeLibfdt(file: String) throws {
        let bytes = try #require(repositoryFile("DeviceTrees/fuzz/" + file))
        switch opened(bytes) {
        case .success(let tree):
            #expect(libfdtAccepts(bytes), "\(file): opened what fdt_check_full refuses")
            expectReadsLikeLibfdt(tree, file)
        case .failure(let error):
            #expect(!libfdtAccepts(bytes), "\(file): refused what fdt_check_full accepts: \(error)")
        }
    }

    /// libfdt 1.6.1's `fdt_get_string` bounds a name by `size_dt_strings` only
    /// from version 17; a version 16 name may run on up to `totalsize`, or even
    /// start past `size_dt_strings` (devicetree-names-f5e1d20a.dtb: the index
    /// cut `interrupt-map-mask` at `size_dt_strings`). Version 17 blobs with
    /// the same cut are refused by both.
    @Test(arguments: [16, 17])
    func namesPastSizeDtStrings(version: Int) throws {
        let whole = try compileDTS("""
            /dts-v1/;
            / { k { compatible = "a"; interrupt-map-mask = <1>; }; };
            """, version: version)
        let stringsStart = be32(whole, 12), stringsSize = be32(whole, 32)
        #expect(stringsStart + stringsSize == whole.count, "dtc puts the strings block last")
        // Cut into the last name, cut at its first byte, cut before it entirely.
        let lastName = "interrupt-map-mask\0".utf8.count
        for cut in [4, lastName, lastName + 3] {
            var bytes = whole
            setBE32(&bytes, 32, stringsSize - cut)
            let what = "v\(version), size_dt_strings cut by \(cut)"
            switch opened(bytes) {
            case .success(let tree):
                #expect(version == 16 && libfdtAccepts(bytes), "\(what): opened")
                expectReadsLikeLibfdt(tree, what)
                let k = try tree.node("/k")
                #expect(tree.properties(of: k).map(\.name) == ["compatible", "interrupt-map-mask"], "\(what)")
                #expect(tree.property("interrupt-map-mask", of: k)?.u32 == 1, "\(what)")
            case .failure(let error):
                #expect(version == 17 && !libfdtAccepts(bytes), "\(what): \(error)")
            }
        }
    }
}
