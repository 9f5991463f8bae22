import Testing
@testable import DeviceTree

/// Shaped like the Raspberry Pi 4 tree (bcm2711.dtsi): a /soc bus whose 32-bit
/// VideoCore addresses 0x7e000000.. map to ARM physical 0xfe000000.., an I2C
/// controller (a bus without ranges), an /emmc2bus with nested ranges, and a
/// /scb bus with an empty (identity) ranges.
let rpi4Source = """
/dts-v1/;
/ {
    #address-cells = <2>;
    #size-cells = <1>;
    soc {
        compatible = "simple-bus";
        #address-cells = <1>;
        #size-cells = <1>;
        ranges = <0x7e000000 0x0 0xfe000000 0x01800000>,
                 <0x7c000000 0x0 0xfc000000 0x02000000>,
                 <0x40000000 0x0 0xff800000 0x00800000>;
        uart0: serial@7e201000 { compatible = "arm,pl011"; reg = <0x7e201000 0x200>; };
        gpio@7e200000 { compatible = "brcm,bcm2711-gpio"; reg = <0x7e200000 0xb4>; };
        local_intc@40000000 { compatible = "brcm,bcm2836-l1-intc"; reg = <0x40000000 0x100>; };
        two-regs@7e300000 { reg = <0x7e300000 0x100>, <0x7c001000 0x20>; };
        outside@7a000000 { reg = <0x7a000000 0x100>; };
        i2c@7e804000 {
            compatible = "brcm,bcm2711-i2c";
            reg = <0x7e804000 0x1000>;
            #address-cells = <1>;
            #size-cells = <0>;
            eeprom@50 { compatible = "atmel,24c32"; reg = <0x50>; };
        };
    };
    emmc2bus: emmc2bus {
        compatible = "simple-bus";
        #address-cells = <2>;
        #size-cells = <1>;
        ranges = <0x0 0x7e000000 0x0 0xfe000000 0x01800000>;
        dma-ranges = <0x0 0xc0000000 0x0 0x00000000 0x40000000>;
        emmc2@7e340000 { compatible = "brcm,bcm2711-emmc2"; reg = <0x0 0x7e340000 0x100>; };
        inner-bus@7e400000 {
            #address-cells = <1>;
            #size-cells = <1>;
            ranges = <0x0 0x0 0x7e400000 0x10000>;
            leaf@100 { reg = <0x100 0x10>; };
        };
    };
    scb {
        compatible = "simple-bus";
        #address-cells = <2>;
        #size-cells = <2>;
        ranges;
        pcie@7d500000 { reg = <0x0 0xfd500000 0x0 0x9310>; };
        ethernet@7d580000 { reg = <0x0 0xfd580000 0x0 0x10000>; };
    };
    memory@0 { device_type = "memory"; reg = <0x0 0x0 0x3b400000>, <0x0 0x40000000 0xbc000000>; };
    no-reg { compatible = "gpio-leds"; };
};
"""

@Suite("reg decoding and ranges translation")
struct AddressTests {
    let tree: DeviceTree
    init() throws { tree = try DeviceTree(bytes: compileDTS(rpi4Source)) }

    func mmio(_ path: String) throws -> [PhysicalRange] {
        guard case .mmio(let ranges) = try tree.deviceAddress(of: tree.node(path)) else {
            Issue.record("\(path) is not memory-mapped: \(try tree.deviceAddress(of: tree.node(path)))")
            return []
        }
        return ranges
    }

    @Test func cellDefaults() throws {
        // Devicetree Specification 2.3.5: #address-cells defaults to 2, #size-cells to 1.
        let t = try openDTS("/dts-v1/; / { bus { reg-holder { }; }; };")
        #expect(t.addressCells(of: t.root) == 2)
        #expect(t.sizeCells(of: t.root) == 1)
        #expect(t.addressCells(of: try t.node("/bus")) == 2)
        #expect(t.sizeCells(of: try t.node("/bus")) == 1)
        #expect(tree.addressCells(of: try tree.node("/soc")) == 1)
        #expect(tree.sizeCells(of: try tree.node("/soc/i2c@7e804000")) == 0)
        #expect(tree.sizeCells(of: try tree.node("/scb")) == 2)
    }

    /// A parent without #address-cells/#size-cells decodes `reg` with 2+1 cells.
    @Test func regWithDefaultCells() throws {
        let t = try openDTS("/dts-v1/; / { bus { dev { reg = <0x1 0x2000 0x300>, <0x0 0x10 0x20>; }; }; };")
        #expect(try t.regEntries(of: t.node("/bus/dev")).map { [$0.address, $0.size] }
                == [[0x1_0000_2000, 0x300], [0x10, 0x20]])
        // /bus has no ranges: not CPU-addressable.
        guard case .notCPUAddressable(let bus, _) = try t.deviceAddress(of: t.node("/bus/dev")) else {
            Issue.record("expected notCPUAddressable"); return
        }
        #expect(bus == "/bus")
    }

    @Test func regWithOneAndTwoCells() throws {
        #expect(try tree.regEntries(of: tree.node("/soc/serial@7e201000")).map { [$0.address, $0.size] }
                == [[0x7e20_1000, 0x200]])
        #expect(try tree.regEntries(of: tree.node("/soc/two-regs@7e300000")).map { [$0.address, $0.size] }
                == [[0x7e30_0000, 0x100], [0x7c00_1000, 0x20]])
        #expect(try tree.regEntries(of: tree.node("/scb/pcie@7d500000")).map { [$0.address, $0.size] }
                == [[0xfd50_0000, 0x9310]])
        #expect(try tree.regEntries(of: tree.node("/memory@0")).map { [$0.address, $0.size] }
                == [[0, 0x3b40_0000], [0x4000_0000, 0xbc00_0000]])
        #expect(try tree.regEntries(of: tree.node("/soc/i2c@7e804000/eeprom@50")).map { [$0.address, $0.size] }
                == [[0x50, 0]])
        #expect(try tree.regEntries(of: tree.node("/no-reg")).isEmpty)
        let wide = try openDTS("""
        /dts-v1/; / { #address-cells = <2>; #size-cells = <2>; big { reg = <0x12 0x34567890 0xab 0xcdef0123>; }; };
        """)
        #expect(try wide.regEntries(of: wide.node("/big")).map { [$0.address, $0.size] }
                == [[0x12_3456_7890, 0xab_cdef_0123]])
        #expect(try wide.deviceAddress(of: wide.node("/big")) == .mmio([PhysicalRange(base: 0x12_3456_7890, size: 0xab_cdef_0123)]))
    }

    @Test func rpi4SocRangesTranslate() throws {
        #expect(try mmio("/soc/serial@7e201000") == [PhysicalRange(base: 0xfe20_1000, size: 0x200)])
        #expect(try mmio("/soc/gpio@7e200000") == [PhysicalRange(base: 0xfe20_0000, size: 0xb4)])
        // Picks the matching window of several.
        #expect(try mmio("/soc/local_intc@40000000") == [PhysicalRange(base: 0xff80_0000, size: 0x100)])
        #expect(try mmio("/soc/two-regs@7e300000") == [PhysicalRange(base: 0xfe30_0000, size: 0x100),
                                                       PhysicalRange(base: 0xfc00_1000, size: 0x20)])
    }

    @Test func addressOutsideEveryWindow() throws {
        guard case .notCPUAddressable(let bus, let reason) = try tree.deviceAddress(of: tree.node("/soc/outside@7a000000")) else {
            Issue.record("expected notCPUAddressable"); return
        }
        #expect(bus == "/soc")
        #expect(reason.contains("0x7a000000") && reason.contains("outside"))
    }

    @Test func i2cChildIsNotCPUAddressable() throws {
        #expect(try mmio("/soc/i2c@7e804000") == [PhysicalRange(base: 0xfe80_4000, size: 0x1000)])
        let eeprom = try tree.node("/soc/i2c@7e804000/eeprom@50")
        guard case .notCPUAddressable(let bus, let reason) = try tree.deviceAddress(of: eeprom) else {
            Issue.record("an I2C child must not be memory-mapped"); return
        }
        #expect(bus == "/soc/i2c@7e804000")
        #expect(reason.contains("no 'ranges'"))
    }

    @Test func nestedRanges() throws {
        #expect(try mmio("/emmc2bus/emmc2@7e340000") == [PhysicalRange(base: 0xfe34_0000, size: 0x100)])
        // leaf 0x100 -> inner-bus 0x7e400100 (2-cell) -> emmc2bus -> 0xfe400100.
        #expect(try mmio("/emmc2bus/inner-bus@7e400000/leaf@100") == [PhysicalRange(base: 0xfe40_0100, size: 0x10)])
        #expect(try tree.translate(0x100, from: tree.node("/emmc2bus/inner-bus@7e400000")).value == 0xfe40_0100)
        #expect(try tree.translate(0x10000, from: tree.node("/emmc2bus/inner-bus@7e400000")).isFailure,
                "one past the window's end")
        #expect(try tree.translate(0xffff, from: tree.node("/emmc2bus/inner-bus@7e400000")).value == 0xfe40_ffff)
        #expect(try tree.translate(0x1234, from: tree.root).value == 0x1234, "the root's space is CPU physical")
    }

    @Test func emptyRangesIsIdentity() throws {
        #expect(try mmio("/scb/pcie@7d500000") == [PhysicalRange(base: 0xfd50_0000, size: 0x9310)])
        #expect(try mmio("/scb/ethernet@7d580000") == [PhysicalRange(base: 0xfd58_0000, size: 0x10000)])
    }

    @Test func nodesWithoutReg() throws {
        #expect(try tree.deviceAddress(of: tree.node("/no-reg")) == DeviceAddress.none)
        #expect(try tree.deviceAddress(of: tree.root) == DeviceAddress.none)
        let t = try openDTS("/dts-v1/; / { #address-cells = <1>; #size-cells = <1>; reg = <0x10 0x20>; };")
        #expect(try t.deviceAddress(of: t.root) == .mmio([PhysicalRange(base: 0x10, size: 0x20)]))
    }

    /// A 3-cell PCI child address is matched on its low 64 bits.
    @Test func pciStyleRanges() throws {
        let t = try openDTS("""
        /dts-v1/;
        / {
            #address-cells = <2>;
            #size-cells = <2>;
            pcie@10000000 {
                device_type = "pci";
                #address-cells = <3>;
                #size-cells = <2>;
                ranges = <0x01000000 0x0 0x00000000 0x0 0x3eff0000 0x0 0x10000>,
                         <0x02000000 0x0 0x10000000 0x0 0x10000000 0x0 0x2eff0000>;
                dev@0 { reg = <0x02000000 0x0 0x10001000 0x0 0x1000>; };
            };
        };
        """)
        #expect(try t.deviceAddress(of: t.node("/pcie@10000000/dev@0")) == .mmio([PhysicalRange(base: 0x1000_1000, size: 0x1000)]))
    }

    @Test func undecodableRegAndRangesThrow() throws {
        let t = try openDTS("""
        /dts-v1/;
        / {
            #address-cells = <1>;
            #size-cells = <1>;
            short { reg = <0x1000>; };
            ragged { reg = [00 00 10 00 00 00 01]; };
            wide-bus { #address-cells = <5>; #size-cells = <1>; d { reg = <0 0 0 0 1 2>; }; };
            badsize-bus { #address-cells = <1>; #size-cells = <3>; d { reg = <1 0 0 2>; }; };
            zero-bus { #address-cells = <0>; #size-cells = <0>; d { reg = <>; }; e { reg = <1>; }; };
            bad-ranges { #address-cells = <1>; #size-cells = <1>; ranges = <0x0 0x1000>; d { reg = <0x10 0x4>; }; };
            huge-bus { #address-cells = <0xffffffff>; #size-cells = <1>; d { reg = <1 2>; }; };
            nosize-ranges { #address-cells = <1>; #size-cells = <0>; ranges = <0x0 0x1000>; d { reg = <0x10>; }; };
        };
        """)
        for path in ["/short", "/ragged", "/wide-bus/d", "/badsize-bus/d", "/zero-bus/e", "/bad-ranges/d", "/huge-bus/d",
                     "/nosize-ranges/d", "/zero-bus/d"] {
            #expect(throws: DeviceTreeError.self, "\(path)") { try t.deviceAddress(of: t.node(path)) }
        }
        do {
            _ = try t.regEntries(of: t.node("/short"))
            Issue.record("expected a throw")
        } catch let error as DeviceTreeError {
            #expect(error == .badProperty(node: "/short", property: "reg",
                                          reason: "has 4 bytes, not a multiple of (1+1) cells"))
        }
    }

    @Test func physicalRange() {
        let a = PhysicalRange(base: 0x1000, size: 0x1000)
        let b = PhysicalRange(base: 0x1fff, size: 1)
        let c = PhysicalRange(base: 0x2000, size: 0x10)
        #expect(a.end == 0x2000)
        #expect(a.overlaps(b) && b.overlaps(a))
        #expect(!a.overlaps(c) && !c.overlaps(a), "adjacent windows do not overlap")
        let top = PhysicalRange(base: UInt64.max - 0xf, size: 0x100)
        #expect(top.end == UInt64.max, "end saturates")
        #expect(top.overlaps(PhysicalRange(base: UInt64.max - 1, size: 1)))
        #expect(a < c && a < PhysicalRange(base: 0x1000, size: 0x2000))
        #expect([c, a, b].sorted() == [a, b, c])
        #expect(a.description == "0x1000+0x1000")
    }
}

extension Result {
    var isFailure: Bool { if case .failure = self { return true } else { return false } }
    var value: Success? { if case .success(let v) = self { return v } else { return nil } }
}
