import Testing
@testable import DeviceTree

let editorBaseSource = """
/dts-v1/;
/ {
    #address-cells = <1>;
    #size-cells = <1>;
    model = "base";
    aliases { serial0 = "/soc/serial@1000"; };
    soc {
        #address-cells = <1>;
        #size-cells = <1>;
        ranges;
        uart: serial@1000 { compatible = "ns16550a"; reg = <0x1000 0x100>; status = "okay"; clocks = <&clk>; };
        serial@2000 { compatible = "ns16550a"; reg = <0x2000 0x100>; status = "disabled"; };
        clk: clock { #clock-cells = <0>; };
    };
};
"""

@Suite("DeviceTreeEditor")
struct EditorTests {
    let base: DeviceTree
    init() throws { base = try DeviceTree(bytes: compileDTS(editorBaseSource)) }

    /// Edits a copy and checks the result against the same tree written as DTS.
    @Test func editsMatchTheEquivalentDTS() throws {
        let editor = try DeviceTreeEditor(base)
        try editor.setProperty("/", "model", string: "edited and longer than before")
        try editor.setProperty("/soc/serial@2000", "status", string: "okay")
        try editor.setProperty("/soc/serial@2000", "reg", cells: [0x2000, 0x200])
        try editor.setProperty("/soc/serial@2000", "compatible", strings: ["vendor,uart", "ns16550a"])
        try editor.setProperty("/soc/serial@2000", "wakeup-source", empty: ())
        try editor.setProperty("/soc/serial@2000", "raw", bytes: [1, 2, 3])
        #expect(try editor.deleteProperty("/soc/serial@1000", "status"))
        #expect(try !editor.deleteProperty("/soc/serial@1000", "status"), "already gone")
        let added = try editor.addNode("/soc", "gpio@3000")
        #expect(added == "/soc/gpio@3000")
        try editor.setProperty(added, "reg", cells: [0x3000, 0x100])
        try editor.setProperty(added, "gpio-controller", empty: ())
        #expect(try editor.addNode("/", "chosen") == "/chosen")
        try editor.setProperty("/chosen", "bootargs", string: "console=ttyS0")
        let edited = try editor.finish()

        let expected = """
        /dts-v1/;
        / {
            #address-cells = <1>;
            #size-cells = <1>;
            model = "edited and longer than before";
            aliases { serial0 = "/soc/serial@1000"; };
            soc {
                #address-cells = <1>;
                #size-cells = <1>;
                ranges;
                uart: serial@1000 { compatible = "ns16550a"; reg = <0x1000 0x100>; clocks = <&clk>; };
                serial@2000 { compatible = "vendor,uart", "ns16550a"; reg = <0x2000 0x200>; status = "okay";
                              wakeup-source; raw = [01 02 03]; };
                clk: clock { #clock-cells = <0>; };
                gpio@3000 { reg = <0x3000 0x100>; gpio-controller; };
            };
            chosen { bootargs = "console=ttyS0"; };
        };
        """
        #expect(try canonicalDTS(edited.bytes) == canonicalDTS(source: expected))
        // The base tree is untouched.
        #expect(base.property("model", of: base.root)?.string == "base")
        #expect(try base.node("/soc/serial@1000") == base.lookup(path: "/soc/serial@1000"))
        #expect(base.lookup(path: "/chosen") == nil)
    }

    @Test func resultRevalidatesAndRoundTrips() throws {
        let editor = try DeviceTreeEditor(base)
        try editor.setProperty("/soc/serial@1000", "current-speed", cells: [115_200])
        try editor.deleteNode("/soc/serial@2000")
        let edited = try editor.finish()
        let reopened = try DeviceTree(bytes: edited.bytes)      // fdt_check_full again
        #expect(reopened.bytes == edited.bytes)
        #expect(reopened.size == edited.size)
        #expect(edited.lookup(path: "/soc/serial@2000") == nil)
        #expect(edited.nodeCount == base.nodeCount - 1)
        let uart = try edited.node("/soc/serial@1000")
        #expect(edited.property("current-speed", of: uart)?.u32 == 115_200)
        // Phandles survive edits: the uart's clock still resolves.
        #expect(edited.dependencies(of: uart).dependencies.map { edited.path(of: $0.provider) } == ["/soc/clock"])
        #expect(edited.resolve("serial0") == uart)
        exerciseEveryAPI(edited, includeIntid: true)
    }

    @Test func noEditsGiveTheSameBlob() throws {
        let editor = try DeviceTreeEditor(base, extraSpace: 0)
        let same = try editor.finish()
        #expect(same.bytes == base.bytes, "fdt_open_into + fdt_pack of a packed dtc blob changes nothing")
    }

    /// Many large properties with the minimum slack: every write past the
    /// buffer's end must grow it (fdt_open_into into a bigger buffer) and retry.
    @Test func growsPastTheInitialBuffer() throws {
        let editor = try DeviceTreeEditor(base, extraSpace: 0)
        var expected: [String: [UInt8]] = [:]
        for i in 0..<64 {
            let bytes = (0..<(4096 + i * 37)).map { UInt8(truncatingIfNeeded: $0 &* 31 &+ i) }
            let node = try editor.addNode("/soc", "blob@\(String(i, radix: 16))")
            try editor.setProperty(node, "data", bytes: bytes)
            try editor.setProperty(node, "name-\(i)-with-a-long-unique-property-name", string: String(repeating: "x", count: i))
            expected[node] = bytes
        }
        // One property bigger than everything so far in one go.
        let huge = [UInt8](repeating: 0x5a, count: 1 << 20)
        try editor.setProperty("/", "huge", bytes: huge)
        let edited = try editor.finish()
        #expect(edited.size > (1 << 20) + 64 * 4096)
        for (path, bytes) in expected {
            let node = try edited.node(path)
            #expect(edited.property("data", of: node)?.bytes == bytes, "\(path)")
        }
        #expect(edited.property("huge", of: edited.root)?.bytes == huge)
        let reopened = try DeviceTree(bytes: edited.bytes)
        #expect(reopened.bytes == edited.bytes)
        #expect(reopened.nodeCount == base.nodeCount + 64)
    }

    @Test func replacingWithSmallerAndLargerValues() throws {
        let editor = try DeviceTreeEditor(base)
        for size in [0, 1, 4000, 3, 100_000, 8] {
            try editor.setProperty("/soc", "resized", bytes: [UInt8](repeating: 7, count: size))
            let tree = try editor.finish()
            #expect(tree.property("resized", of: try tree.node("/soc"))?.count == size)
            #expect(try DeviceTree(bytes: tree.bytes).bytes == tree.bytes)
        }
    }

    @Test func aliasesAreAcceptedAsPaths() throws {
        let editor = try DeviceTreeEditor(base)
        try editor.setProperty("serial0", "current-speed", cells: [9600])
        #expect(editor.hasNode("serial0"))
        let edited = try editor.finish()
        #expect(edited.property("current-speed", of: try edited.node("/soc/serial@1000"))?.u32 == 9600)
    }

    @Test func missingNodesThrow() throws {
        let editor = try DeviceTreeEditor(base)
        #expect(throws: DeviceTreeError.noSuchNode("/nowhere")) { try editor.deleteProperty("/nowhere", "x") }
        #expect(throws: DeviceTreeError.noSuchNode("/nowhere")) { try editor.deleteNode("/nowhere") }
        #expect(throws: DeviceTreeError.noSuchNode("/nowhere")) { try editor.addNode("/nowhere", "child") }
        #expect(throws: DeviceTreeError.self) { try editor.setProperty("/nowhere", "x", cells: [1]) }
        #expect(!editor.hasNode("/nowhere"))
        #expect(editor.hasNode("/soc/serial@1000"))
        // The editor is still usable after errors.
        try editor.setProperty("/", "after-errors", empty: ())
        #expect(try editor.finish().hasProperty("after-errors", of: base.root))
    }

    @Test func addNodeIsIdempotentAndDeleteRemovesSubtrees() throws {
        let editor = try DeviceTreeEditor(base)
        try editor.addNode("/", "a")
        try editor.addNode("/a", "b")
        try editor.setProperty("/a/b", "x", cells: [1])
        #expect(try editor.addNode("/", "a") == "/a")
        #expect(try editor.finish().children(of: base.root).count == base.children(of: base.root).count + 1)
        try editor.deleteNode("/a")
        #expect(!editor.hasNode("/a/b"))
        let edited = try editor.finish()
        #expect(try canonicalDTS(edited.bytes) == canonicalDTS(base.bytes))
    }

    /// libfdt resolves "/soc/serial" to the first serial@...; adding a node
    /// named exactly "serial" next to serial@1000 must still add it.
    @Test
    func addNodeBesideAUnitAddressedSibling() throws {
        let editor = try DeviceTreeEditor(base)
        let path = try editor.addNode("/soc", "serial")
        try editor.setProperty(path, "marker", empty: ())
        let edited = try editor.finish()
        let soc = try edited.node("/soc")
        #expect(edited.children(of: soc).map { edited.name(of: $0) }.contains("serial"))
        #expect(!edited.hasProperty("marker", of: try edited.node("/soc/serial@1000")))
    }

    /// "/timer" names the node called exactly "timer" (as in our index and in
    /// Linux's of_find_node_by_path), not an earlier "timer@60005000" that
    /// libfdt's fdt_path_offset picks because its base name matches. Real case:
    /// tegra210-p3450-0000.dtb (see BoardCorpusTests.tegra210EditorDeletesTheRightTimer).
    @Test
    func exactNameWinsOverAnEarlierUnitAddress() throws {
        let t = try openDTS("""
        /dts-v1/; / { timer@60005000 { compatible = "nvidia,tegra210-timer"; }; timer { compatible = "arm,armv8-timer"; }; };
        """)
        let editor = try DeviceTreeEditor(t)
        try editor.setProperty("/timer", "marker", empty: ())
        var edited = try editor.finish()
        #expect(edited.hasProperty("marker", of: try edited.node("/timer")))
        #expect(!edited.hasProperty("marker", of: try edited.node("/timer@60005000")))
        try editor.deleteNode("/timer")
        edited = try editor.finish()
        #expect(edited.lookup(path: "/timer@60005000") != nil)
        #expect(edited.nodeCount == t.nodeCount - 1)
    }

    /// fdt_check_full accepts a reservation map that overlaps the structure
    /// block; read as reservations, a property's bytes give 2000 bogus entries,
    /// so fdt_open_into runs out of room (FDT_ERR_NOSPACE) in the editor's
    /// init. The init then deallocates its buffer and throws, and deinit
    /// deallocates it again: a double free (found by Scripts/fuzz-devicetree).
    /// Refusing the blob, growing and retrying, or throwing are all fine; if
    /// opening refuses it, the editor still gets it the way libfdt accepts it
    /// (so the test keeps exercising the editor's init).
    @Test
    func openIntoFailureDoesNotDoubleFree() throws {
        let hex = [String](repeating: "11", count: 2000 * 16) + [String](repeating: "00", count: 16)
        var bytes = try compileDTS("/dts-v1/; / { pad = [\(hex.joined(separator: " "))]; };")
        let plain = try DeviceTree(bytes: bytes)
        let valueOffset = try #require(plain.property("pad", of: plain.root)).offset
        bytes.replaceSubrange(16..<20, with: encodeCells([UInt32(valueOffset)]))   // off_mem_rsvmap
        try #require(CheckEquivalenceTests.libfdtAccepts(bytes), "fdt_check_full refuses the blob: the case this test is about is gone")
        let tree: DeviceTree
        do throws(DeviceTreeError) {
            tree = try DeviceTree(bytes: bytes)
        } catch {
            tree = try DeviceTree(validated: Storage(bytes: bytes))
        }
        do throws(DeviceTreeError) {
            let edited = try DeviceTreeEditor(tree).finish()
            #expect(try DeviceTree(bytes: edited.bytes).bytes == edited.bytes)
        } catch {
            #expect(!error.description.isEmpty)
        }
    }

    @Test func sameEditsGiveTheSameBytes() throws {
        func edit() throws -> [UInt8] {
            let editor = try DeviceTreeEditor(base, extraSpace: 64)
            try editor.addNode("/", "reserved-memory")
            try editor.setProperty("/reserved-memory", "ranges", empty: ())
            for i in 0..<20 { try editor.setProperty("/soc/serial@1000", "p\(i)", cells: Array(repeating: UInt32(i), count: i * 50)) }
            try editor.deleteProperty("/soc/serial@1000", "p3")
            return try editor.finish().bytes
        }
        #expect(try edit() == edit())
    }

    @Test func editingTheQEMUVirtTree() throws {
        let bytes = try #require(repositoryFile("DeviceTrees/qemu-virt-gicv3.dtb"),
                                 "DeviceTrees/qemu-virt-gicv3.dtb is committed to the repository and missing")
        let board = try DeviceTree(bytes: bytes)
        let editor = try DeviceTreeEditor(board)
        // A PCI device below the host bridge: its INTx goes through the bridge's interrupt-map.
        let device = try editor.addNode("/pcie@10000000", "ethernet@2,0")
        try editor.setProperty(device, "reg", cells: [0x1000, 0, 0, 0, 0])
        try editor.setProperty(device, "interrupts", cells: [1])
        try editor.deleteNode("/pl061@9030000")
        try editor.setProperty("/chosen", "bootargs", string: "console=ttyAMA0")
        let edited = try editor.finish()
        #expect(edited.lookup(path: "/pl061@9030000") == nil)
        // QEMU's map: slot 2 INTA -> GIC SPI 5 (its 2-cell parent unit address skipped).
        #expect(edited.interrupts(of: try edited.node("/pcie@10000000/ethernet@2,0")) ==
                [.gic(GICInterrupt(kind: .spi, number: 5, trigger: .levelHigh, specifier: [0, 5, 4]))])
        // gpio-keys now names a phandle nobody has.
        let keys = edited.dependencies(of: try edited.node("/gpio-keys/poweroff"))
        #expect(keys.dependencies.isEmpty && keys.problems.count == 1)
        #expect(try DeviceTree(bytes: edited.bytes).bytes == edited.bytes)
    }
}
