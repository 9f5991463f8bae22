import CFDT
import Testing
@testable import DeviceTree

/// A guest tree as a generator would write it: root cells, memory, one CPU,
/// a GICv3, a timer, a UART with an SPI, and chosen.
func writeGuestTree(capacity: Int = 16384, padding: Int = 0) -> DeviceTreeWriter {
    let w = DeviceTreeWriter(capacity: capacity)
    w.reserve(address: 0x4800_0000, size: 0x1000)
    w.reserve(address: 0x1_0000_0000, size: 0x20_0000)
    w.beginNode("")
    w.property("#address-cells", u32: 2)
    w.property("#size-cells", u32: 2)
    w.property("compatible", strings: ["cleave,guest", "linux,dummy-virt"])
    w.property("interrupt-parent", u32: 1)
    w.property("model", string: "cleave guest")
    if padding > 0 { w.property("padding", bytes: [UInt8](repeating: 0xab, count: padding)) }
    w.beginNode("memory@40000000")
    w.property("device_type", string: "memory")
    w.property("reg", cells: numberCells(0x4000_0000, count: 2) + numberCells(0x1000_0000, count: 2))
    w.endNode()
    w.beginNode("cpus")
    w.property("#address-cells", u32: 1)
    w.property("#size-cells", u32: 0)
    w.beginNode("cpu@0")
    w.property("device_type", string: "cpu")
    w.property("compatible", string: "arm,cortex-a57")
    w.property("reg", u32: 0)
    w.property("enable-method", string: "psci")
    w.endNode()
    w.endNode()
    w.beginNode("intc@8000000")
    w.property("compatible", string: "arm,gic-v3")
    w.property("interrupt-controller")
    w.property("#interrupt-cells", u32: 3)
    w.property("reg", cells: [0, 0x800_0000, 0, 0x1_0000, 0, 0x80a_0000, 0, 0xf6_0000])
    w.property("phandle", u32: 1)
    w.endNode()
    w.beginNode("timer")
    w.property("compatible", string: "arm,armv8-timer")
    w.property("interrupts", cells: [1, 13, 4, 1, 14, 4, 1, 11, 4, 1, 10, 4])
    w.property("always-on")
    w.endNode()
    w.beginNode("pl011@9000000")
    w.property("compatible", strings: ["arm,pl011", "arm,primecell"])
    w.property("reg", cells: [0, 0x900_0000, 0, 0x1000])
    w.property("interrupts", cells: [0, 1, 4])
    w.endNode()
    w.beginNode("chosen")
    w.property("stdout-path", string: "/pl011@9000000")
    w.property("kaslr-seed", u64: 0x0123_4567_89ab_cdef)
    w.endNode()
    w.endNode()
    return w
}

let guestTreeDTS = """
/dts-v1/;
/memreserve/ 0x48000000 0x1000;
/memreserve/ 0x100000000 0x200000;
/ {
    #address-cells = <2>;
    #size-cells = <2>;
    compatible = "cleave,guest", "linux,dummy-virt";
    interrupt-parent = <1>;
    model = "cleave guest";
    memory@40000000 { device_type = "memory"; reg = <0x0 0x40000000 0x0 0x10000000>; };
    cpus { #address-cells = <1>; #size-cells = <0>;
        cpu@0 { device_type = "cpu"; compatible = "arm,cortex-a57"; reg = <0>; enable-method = "psci"; };
    };
    intc@8000000 { compatible = "arm,gic-v3"; interrupt-controller; #interrupt-cells = <3>;
        reg = <0x0 0x8000000 0x0 0x10000 0x0 0x80a0000 0x0 0xf60000>; phandle = <1>; };
    timer { compatible = "arm,armv8-timer"; interrupts = <1 13 4 1 14 4 1 11 4 1 10 4>; always-on; };
    pl011@9000000 { compatible = "arm,pl011", "arm,primecell"; reg = <0x0 0x9000000 0x0 0x1000>; interrupts = <0 1 4>; };
    chosen { stdout-path = "/pl011@9000000"; kaslr-seed = <0x01234567 0x89abcdef>; };
};
"""

@Suite("DeviceTreeWriter")
struct WriterTests {
    @Test func generatedTreeReadsBack() throws {
        let tree = try writeGuestTree().finish()
        #expect(try canonicalDTS(tree.bytes) == canonicalDTS(source: guestTreeDTS))
        #expect(try DeviceTree(bytes: tree.bytes).bytes == tree.bytes, "passes fdt_check_full")
        #expect(tree.compatible(of: tree.root) == ["cleave,guest", "linux,dummy-virt"])
        #expect(try tree.deviceAddress(of: tree.node("/memory@40000000")) ==
                .mmio([PhysicalRange(base: 0x4000_0000, size: 0x1000_0000)]))
        #expect(tree.property("kaslr-seed", of: try tree.node("/chosen"))?.u64 == 0x0123_4567_89ab_cdef)
        #expect(tree.property("always-on", of: try tree.node("/timer"))?.isEmpty == true)
        let gic = try #require(tree.gic())
        #expect(gic.version == .v3 && gic.regions.count == 2)
        #expect(tree.interrupts(of: try tree.node("/pl011@9000000")) ==
                [.gic(GICInterrupt(kind: .spi, number: 1, trigger: .levelHigh, specifier: [0, 1, 4]))])
        #expect(tree.resolve(tree.property("stdout-path", of: try tree.node("/chosen"))?.string ?? "") ==
                (try tree.node("/pl011@9000000")))
        // The memory reservations are in the header's map.
        let reservations: [(UInt64, UInt64)] = tree.withUnsafeBlob { fdt in
            (0..<fdt_num_mem_rsv(fdt)).map { i in
                var address: UInt64 = 0, size: UInt64 = 0
                _ = fdt_get_mem_rsv(fdt, i, &address, &size)
                return (address, size)
            }
        }
        #expect(reservations.map { [$0.0, $0.1] } == [[0x4800_0000, 0x1000], [0x1_0000_0000, 0x20_0000]])
    }

    @Test func sameCallsGiveTheSameBytes() throws {
        let a = try writeGuestTree().finish().bytes
        let b = try writeGuestTree().finish().bytes
        #expect(a == b)
    }

    /// The starting capacity does not show in the result: a writer that had to
    /// grow (fdt_resize) many times writes the same bytes as one that did not.
    @Test(arguments: [0, 1, 1000, 5000, 70_000])
    func growthDoesNotChangeTheBlob(padding: Int) throws {
        let grown = try writeGuestTree(capacity: 1024, padding: padding).finish()
        let roomy = try writeGuestTree(capacity: 1 << 20, padding: padding).finish()
        #expect(grown.bytes == roomy.bytes)
        #expect(grown.size == Int(cleave_fdt_totalsize(grown.bytes)))
        if padding > 0 { #expect(grown.property("padding", of: grown.root)?.count == padding) }
    }

    @Test func manyNodesAndStringsThroughGrowth() throws {
        let w = DeviceTreeWriter(capacity: 1024)
        w.beginNode("")
        for i in 0..<500 {
            w.beginNode("node@\(String(i, radix: 16))")
            w.property("prop-\(i % 37)", u32: UInt32(i))
            w.property("shared", string: "value \(i)")
            w.endNode()
        }
        w.endNode()
        let tree = try w.finish()
        #expect(tree.nodeCount == 501)
        for i in stride(from: 0, to: 500, by: 49) {
            let node = try tree.node("/node@\(String(i, radix: 16))")
            #expect(tree.property("prop-\(i % 37)", of: node)?.u32 == UInt32(i))
            #expect(tree.property("shared", of: node)?.string == "value \(i)")
        }
        #expect(try DeviceTree(bytes: tree.bytes).bytes == tree.bytes)
    }

    @Test func misuseIsReportedByFinish() throws {
        let late = DeviceTreeWriter()
        late.beginNode("")
        late.reserve(address: 0, size: 1)
        late.endNode()
        #expect(throws: DeviceTreeError.malformed("memory reservation added after the first node")) { try late.finish() }

        let open = DeviceTreeWriter()
        open.beginNode("")
        open.beginNode("child")
        open.endNode()
        #expect(throws: DeviceTreeError.malformed("DeviceTreeWriter: 1 node(s) left open")) { try open.finish() }

        let empty = DeviceTreeWriter()
        #expect(throws: DeviceTreeError.self) { try empty.finish() }

        let twoRoots = DeviceTreeWriter()
        twoRoots.beginNode(""); twoRoots.endNode()
        twoRoots.beginNode(""); twoRoots.endNode()
        #expect(throws: DeviceTreeError.self) { try twoRoots.finish() }

        let tooManyEnds = DeviceTreeWriter()
        tooManyEnds.beginNode(""); tooManyEnds.endNode(); tooManyEnds.endNode()
        tooManyEnds.beginNode("x")
        #expect(throws: DeviceTreeError.self) { try tooManyEnds.finish() }

        // A property after a subnode breaks the structure-block grammar (see
        // ValidationTests.propertyAfterAnEmptySubnode for the case without
        // properties in the subnode).
        let late2 = DeviceTreeWriter()
        late2.beginNode(""); late2.beginNode("a"); late2.property("y"); late2.endNode(); late2.property("x", u32: 1)
        late2.endNode()
        #expect(throws: DeviceTreeError.self) { try late2.finish() }

        let twice = writeGuestTree()
        _ = try twice.finish()
        #expect(throws: DeviceTreeError.self) { try twice.finish() }
    }

    /// What finish() returns is documented as validated: it must open again
    /// with DeviceTree(bytes:) (fdt_check_full). A root named anything but ""
    /// (a natural slip: beginNode("/")) is accepted by finish() today, and the
    /// blob it returns is then refused.
    @Test
    func finishedTreesReopen() throws {
        let w = DeviceTreeWriter()
        w.beginNode("/")
        w.property("model", string: "x")
        w.endNode()
        do throws(DeviceTreeError) {
            let tree = try w.finish()
            #expect(throws: Never.self) { try DeviceTree(bytes: tree.bytes) }
        } catch {
            // Refusing at finish() is as good as opening again.
        }
    }
}
