import Testing
@testable import DeviceTree

/// A GICv2 board: RPi4-like /soc ranges with the GIC-400 inside them, a GPIO
/// controller that is also an interrupt controller, a PCI host bridge with an
/// INTx interrupt-map and a chain of two nexus nodes.
let gicV2Source = """
/dts-v1/;
/ {
    #address-cells = <2>;
    #size-cells = <1>;
    interrupt-parent = <&gic>;
    soc {
        compatible = "simple-bus";
        #address-cells = <1>;
        #size-cells = <1>;
        ranges = <0x7e000000 0x0 0xfe000000 0x01800000>, <0x40000000 0x0 0xff800000 0x00800000>;
        gic: interrupt-controller@40041000 {
            compatible = "arm,gic-400", "arm,cortex-a15-gic";
            interrupt-controller;
            #interrupt-cells = <3>;
            reg = <0x40041000 0x1000>, <0x40042000 0x2000>, <0x40044000 0x2000>, <0x40046000 0x2000>;
            interrupts = <1 9 0xf04>;
        };
        uart@7e201000 { reg = <0x7e201000 0x200>; interrupts = <0 121 4>; };
        gpio: gpio@7e200000 {
            reg = <0x7e200000 0xb4>;
            gpio-controller;
            #gpio-cells = <2>;
            interrupt-controller;
            #interrupt-cells = <2>;
            interrupts = <0 113 4>, <0 114 4>;
        };
        triggers@7e300000 {
            reg = <0x7e300000 0x10>;
            interrupts = <0 0 1>, <0 1 2>, <0 2 3>, <0 3 4>, <0 4 8>, <0 5 0>, <0 6 0xf08>, <0 987 4>;
        };
        kinds@7e300100 { reg = <0x7e300100 0x10>; interrupts = <0 7 4>, <1 14 0xf08>, <2 3 4>, <3 1 1>; };
        bad-kind@7e300200 { reg = <0x7e300200 0x10>; interrupts = <4 1 4>; };
        ragged@7e300300 { reg = <0x7e300300 0x10>; interrupts = <0 1>; };
        extended@7e300400 { reg = <0x7e300400 0x10>; interrupts-extended = <&gic 0 10 4>, <&gpio 3 2>, <&gic 1 13 8>; };
        gpio-irq@7e300500 { reg = <0x7e300500 0x10>; interrupt-parent = <&gpio>; interrupts = <17 8>, <18 2>; };
        both@7e300600 { reg = <0x7e300600 0x10>; interrupts = <0 50 4>; interrupts-extended = <&gpio 4 1>; };
        bad-extended@7e300700 { reg = <0x7e300700 0x10>; interrupts-extended = <&gic 0 10 4>, <0x999 1 2>; };
        short-extended@7e300800 { reg = <0x7e300800 0x10>; interrupts-extended = <&gic 0 10>; };
        sub {
            interrupt-parent = <&gpio>;
            inherits { interrupts = <9 4>; };
            own { interrupt-parent = <&gic>; interrupts = <0 60 4>; };
        };
    };
    pcie@7d500000 {
        device_type = "pci";
        #address-cells = <3>;
        #size-cells = <2>;
        #interrupt-cells = <1>;
        interrupt-map-mask = <0x1800 0 0 7>;
        interrupt-map = <0x0000 0 0 1 &gic 0 143 4>, <0x0000 0 0 2 &gic 0 144 4>,
                        <0x0800 0 0 1 &gic 0 144 4>, <0x0800 0 0 2 &gic 0 145 4>,
                        <0x1000 0 0 1 &gic 0 145 4>, <0x1000 0 0 2 &gic 0 146 4>;
        ranges;
        slot0@0,0 { reg = <0x0000 0 0 0 0>; interrupts = <1>; };
        slot1@1,0 { reg = <0x0800 0 0 0 0>; interrupts = <2>; };
        slot2-fn3@2,3 { reg = <0x1300 0 0 0 0>; interrupts = <1>; };
        slot3@3,0 { reg = <0x1800 0 0 0 0>; interrupts = <1>; };
        slot1-pinD@1,1 { reg = <0x0900 0 0 0 0>; interrupts = <4>; };
    };
    nexus_a: nexus-a {
        #interrupt-cells = <1>;
        #address-cells = <0>;
        interrupt-map = <5 &nexus_b 50>, <6 &gpio 6 1>, <7 &plain 1>;
        leaf { interrupt-parent = <&nexus_a>; interrupts = <5>, <6>, <7>, <8>; };
    };
    nexus_b: nexus-b {
        #interrupt-cells = <1>;
        #address-cells = <0>;
        interrupt-map-mask = <0xff>;
        interrupt-map = <50 &gic 0 70 1>;
    };
    plain: plain { #interrupt-cells = <1>; };
};
"""

@Suite("Interrupt resolution")
struct InterruptTests {
    let tree: DeviceTree
    init() throws {
        tree = try DeviceTree(bytes: compileDTS(gicV2Source))
    }

    func resolved(_ path: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> [ResolvedInterrupt] {
        tree.interrupts(of: try tree.node(path, sourceLocation: sourceLocation))
    }

    func spi(_ n: UInt32, _ trigger: InterruptTrigger, flags: UInt32? = nil) -> ResolvedInterrupt {
        .gic(GICInterrupt(kind: .spi, number: n, trigger: trigger, specifier: [0, n, flags ?? raw(trigger)]))
    }

    func raw(_ trigger: InterruptTrigger) -> UInt32 {
        switch trigger {
        case .edgeRising: return 1
        case .edgeFalling: return 2
        case .edgeBoth: return 3
        case .levelHigh: return 4
        case .levelLow: return 8
        case .unspecified: return 0
        }
    }

    @Test func spiNumberingAndTrigger() throws {
        let uart = try resolved("/soc/uart@7e201000")
        #expect(uart == [spi(121, .levelHigh)])
        guard case .gic(let g) = uart.first else { return }
        #expect(g.intid == 153, "SPI n is INTID n + 32")
        #expect(g.isShared && g.trigger.isLevel)
        #expect(g.description == "SPI 121 (INTID 153, level-high)")
    }

    @Test func triggerDecoding() throws {
        let all = try resolved("/soc/triggers@7e300000")
        #expect(all == [spi(0, .edgeRising), spi(1, .edgeFalling), spi(2, .edgeBoth), spi(3, .levelHigh),
                        spi(4, .levelLow), spi(5, .unspecified), spi(6, .levelLow, flags: 0xf08), spi(987, .levelHigh)])
        let intids = all.compactMap { if case .gic(let g) = $0 { return g.intid } else { return nil } }
        #expect(intids == [32, 33, 34, 35, 36, 37, 38, 1019])
        for (flags, trigger) in [(0, InterruptTrigger.unspecified), (1, .edgeRising), (2, .edgeFalling), (3, .edgeBoth),
                                 (4, .levelHigh), (5, .unspecified), (8, .levelLow), (0xf04, .levelHigh),
                                 (0x104, .levelHigh), (0xff01, .edgeRising), (0xc, .unspecified)] as [(UInt32, InterruptTrigger)] {
            #expect(InterruptTrigger(flags: flags) == trigger, "flags 0x\(String(flags, radix: 16))")
        }
        #expect(InterruptTrigger.levelLow.isLevel && !InterruptTrigger.edgeBoth.isLevel && !InterruptTrigger.unspecified.isLevel)
        #expect(InterruptTrigger.edgeBoth.description == "edge-both")
    }

    @Test func interruptKinds() throws {
        let kinds = try resolved("/soc/kinds@7e300100")
        let gics = kinds.compactMap { if case .gic(let g) = $0 { return g } else { return nil } }
        try #require(gics.count == 4)
        #expect(gics.map(\.kind) == [.spi, .ppi, .extendedSPI, .extendedPPI])
        #expect(gics.map(\.intid) == [39, 30, 4099, 1057], "SPI n+32, PPI n+16, ESPI n+4096, EPPI n+1056")
        #expect(gics.map(\.isShared) == [true, false, true, false])
        #expect(gics.map(\.kind.name) == ["SPI", "PPI", "ESPI", "EPPI"])
        #expect(gics[1].trigger == .levelLow, "the PPI CPU mask in bits 8..15 is not part of the trigger")
        #expect(gics[1].specifier == [1, 14, 0xf08])
    }

    /// The GIC's own `interrupts` (its maintenance PPI) resolve on the GIC:
    /// Linux's of_irq_find_parent walks gic -> / -> interrupt-parent = gic and
    /// returns the GIC itself (only of_irq_init drops a self-parent when
    /// ordering controller probes). Today interruptParent(of:) returns nil
    /// there, so the maintenance interrupt comes back unresolved.
    @Test
    func gicMaintenanceInterrupt() throws {
        #expect(try resolved("/soc/interrupt-controller@40041000") ==
                [.gic(GICInterrupt(kind: .ppi, number: 9, trigger: .levelHigh, specifier: [1, 9, 0xf04]))])
    }

    @Test func malformedSpecifiersAreUnresolved() throws {
        let badKind = try resolved("/soc/bad-kind@7e300200")
        guard case .unresolved(let reason)? = badKind.first, badKind.count == 1 else {
            Issue.record("\(badKind)"); return
        }
        #expect(reason.contains("/soc/bad-kind@7e300200") && reason.contains("type 4"))
        let ragged = try resolved("/soc/ragged@7e300300")
        guard case .unresolved(let why)? = ragged.first, ragged.count == 1 else { Issue.record("\(ragged)"); return }
        #expect(why.contains("#interrupt-cells"))
    }

    /// SPI numbers stop at 987 (INTID 1019), PPIs at 15, ESPIs at 1023, EPPIs at
    /// 63 (GIC architecture spec IHI 0069, 2.2). A larger number in a hostile
    /// tree must not reach `intid`, whose `+` traps on overflow: e.g.
    /// `interrupts = <0 0xffffffff 4>` gives `.gic(SPI 4294967295)` and
    /// `intid`/`description` crash with "arithmetic overflow".
    @Test
    func outOfRangeGICNumbersAreUnresolved() throws {
        let t = try openDTS("""
        /dts-v1/;
        / { interrupt-parent = <&gic>;
            gic: gic { compatible = "arm,gic-v3"; interrupt-controller; #interrupt-cells = <3>; };
            spi { interrupts = <0 0xffffffff 4>; };
            espi { interrupts = <2 0xfffffff0 4>; };
            ppi { interrupts = <1 16 4>; };
            spi988 { interrupts = <0 988 4>; };
        };
        """)
        for path in ["/spi", "/espi", "/ppi", "/spi988"] {
            let result = t.interrupts(of: try t.node(path))
            guard result.count == 1, case .unresolved = result[0] else {
                Issue.record("\(path): \(result.map { if case .gic(let g) = $0 { return "\(g.kind.name) \(g.number)" } else { return "\($0)" } })")
                continue
            }
        }
    }

    @Test func inheritedInterruptParent() throws {
        let gic = try tree.node("/soc/interrupt-controller@40041000")
        let gpio = try tree.node("/soc/gpio@7e200000")
        #expect(tree.interruptParent(of: try tree.node("/soc/uart@7e201000")) == gic, "from the root's interrupt-parent")
        #expect(tree.interruptParent(of: try tree.node("/soc/sub/inherits")) == gpio, "from /soc/sub's interrupt-parent")
        #expect(tree.interruptParent(of: try tree.node("/soc/sub/own")) == gic, "its own interrupt-parent wins")
        #expect(tree.interruptParent(of: try tree.node("/soc/gpio-irq@7e300500")) == gpio)
        #expect(tree.interruptParent(of: try tree.node("/pcie@7d500000/slot0@0,0")) == (try tree.node("/pcie@7d500000")),
                "the nearest ancestor with #interrupt-cells")
        #expect(tree.interruptParent(of: gpio) == gic)
        #expect(try resolved("/soc/sub/inherits") == [.otherController(path: "/soc/gpio@7e200000", specifier: [9, 4])])
        #expect(try resolved("/soc/sub/own") == [spi(60, .levelHigh)])
    }

    @Test func nonGICControllerIsOtherController() throws {
        #expect(try resolved("/soc/gpio-irq@7e300500") == [.otherController(path: "/soc/gpio@7e200000", specifier: [17, 8]),
                                                           .otherController(path: "/soc/gpio@7e200000", specifier: [18, 2])])
        #expect(try resolved("/soc/gpio@7e200000") == [spi(113, .levelHigh), spi(114, .levelHigh)])
    }

    @Test func interruptsExtended() throws {
        #expect(try resolved("/soc/extended@7e300400") == [
            spi(10, .levelHigh),
            .otherController(path: "/soc/gpio@7e200000", specifier: [3, 2]),
            .gic(GICInterrupt(kind: .ppi, number: 13, trigger: .levelLow, specifier: [1, 13, 8])),
        ])
        // interrupts-extended takes precedence over interrupts.
        #expect(try resolved("/soc/both@7e300600") == [.otherController(path: "/soc/gpio@7e200000", specifier: [4, 1])])
        for path in ["/soc/bad-extended@7e300700", "/soc/short-extended@7e300800"] {
            let result = try resolved(path)
            guard result.count == 1, case .unresolved(let reason) = result[0] else { Issue.record("\(path): \(result)"); continue }
            #expect(reason.hasPrefix(path))
        }
    }

    /// PCI INTx through interrupt-map: the key is the child's unit address
    /// (phys.hi/mid/lo) and pin, both masked by interrupt-map-mask.
    @Test func pciInterruptMapWithMask() throws {
        #expect(try resolved("/pcie@7d500000/slot0@0,0") == [spi(143, .levelHigh)])
        #expect(try resolved("/pcie@7d500000/slot1@1,0") == [spi(145, .levelHigh)], "device 1, INTB")
        #expect(try resolved("/pcie@7d500000/slot2-fn3@2,3") == [spi(145, .levelHigh)],
                "the function number (0x300) is masked off")
        let noSlot = try resolved("/pcie@7d500000/slot3@3,0")
        guard noSlot.count == 1, case .unresolved(let reason) = noSlot[0] else { Issue.record("\(noSlot)"); return }
        #expect(reason.contains("no interrupt-map entry") && reason.contains("/pcie@7d500000"))
        let noPin = try resolved("/pcie@7d500000/slot1-pinD@1,1")
        guard noPin.count == 1, case .unresolved = noPin[0] else { Issue.record("\(noPin)"); return }
    }

    /// A nexus may point at another nexus (two hops), at a non-GIC controller,
    /// or at a node that is neither; an unmatched key is reported.
    @Test func nexusChains() throws {
        let result = try resolved("/nexus-a/leaf")
        try #require(result.count == 4)
        #expect(result[0] == spi(70, .edgeRising), "nexus-a -> nexus-b -> GIC")
        #expect(result[1] == .otherController(path: "/soc/gpio@7e200000", specifier: [6, 1]))
        // /plain is neither a controller nor a nexus: like Linux's of_irq_parse_raw
        // the walk moves on to its interrupt parent (the GIC), where a 1-cell
        // specifier does not decode.
        guard case .unresolved(let neither) = result[2] else { Issue.record("\(result[2])"); return }
        #expect(neither.hasPrefix("/nexus-a/leaf") && neither.contains("1 cells"))
        guard case .unresolved(let unmatched) = result[3] else { Issue.record("\(result[3])"); return }
        #expect(unmatched.contains("/nexus-a"))
    }

    @Test func noInterruptParentAnywhere() throws {
        let t = try openDTS("/dts-v1/; / { dev { interrupts = <0 1 4>; }; quiet { }; };")
        let result = t.interrupts(of: try t.node("/dev"))
        guard result.count == 1, case .unresolved(let reason) = result[0] else { Issue.record("\(result)"); return }
        #expect(reason.contains("no interrupt parent"))
        #expect(t.interrupts(of: try t.node("/quiet")).isEmpty)
        #expect(t.interruptParent(of: try t.node("/dev")) == nil)
    }

    @Test func danglingInterruptParent() throws {
        let t = try openDTS("/dts-v1/; / { dev { interrupt-parent = <0x77>; interrupts = <0 1 4>; }; };")
        #expect(t.interruptParent(of: try t.node("/dev")) == nil)
        guard case .unresolved? = t.interrupts(of: try t.node("/dev")).first else { Issue.record("expected unresolved"); return }
    }

    /// An interrupt-map that maps back into itself ends after 16 hops.
    @Test func interruptMapLoopEnds() throws {
        let t = try openDTS("""
        /dts-v1/;
        / { loop: loop { #interrupt-cells = <1>; #address-cells = <0>; interrupt-map = <1 &loop 1>;
                 dev { interrupt-parent = <&loop>; interrupts = <1>; }; }; };
        """)
        var result: [ResolvedInterrupt] = []
        #expect(finishes(within: 10) { _ = t.interrupts(of: t.lookup(path: "/loop/dev")!) })
        result = t.interrupts(of: try t.node("/loop/dev"))
        guard result.count == 1, case .unresolved(let reason) = result[0] else { Issue.record("\(result)"); return }
        #expect(reason.contains("16"))
    }

    /// An interrupt-parent chain that cycles without reaching a node with
    /// #interrupt-cells (here: the root names a GIC node whose #interrupt-cells
    /// is missing, so the walk goes root -> gic -> root -> ...). Linux's
    /// of_irq_find_parent has the same shape, but a library reading untrusted
    /// blobs must return nil (or an unresolved interrupt) instead of spinning.
    @Test
    func interruptParentLoopTerminates() throws {
        let t = try openDTS("""
        /dts-v1/;
        / { interrupt-parent = <&gic>;
            gic: gic { compatible = "arm,gic-400"; interrupt-controller; };
            dev { interrupts = <0 1 4>; };
            a: a { interrupt-parent = <&b>; };
            b: b { interrupt-parent = <&a>; };
            c { interrupt-parent = <&a>; interrupts = <1>; };
        };
        """)
        #expect(interruptParentChainLoops(t, from: try t.node("/dev")))
        for path in ["/dev", "/c"] {
            let node = try t.node(path)
            #expect(finishes(within: 5) { _ = t.interruptParent(of: node) }, "interruptParent(of: \(path))")
            #expect(finishes(within: 5) { _ = t.interrupts(of: node) }, "interrupts(of: \(path))")
        }
    }
}

@Suite("GIC discovery")
struct GICTests {
    @Test func gicV2BehindRanges() throws {
        let t = try DeviceTree(bytes: compileDTS(gicV2Source))
        let gic = try #require(t.gic())
        #expect(gic.version == .v2)
        #expect(gic.node == (try t.node("/soc/interrupt-controller@40041000")))
        #expect(gic.regions == [PhysicalRange(base: 0xff84_1000, size: 0x1000), PhysicalRange(base: 0xff84_2000, size: 0x2000),
                                PhysicalRange(base: 0xff84_4000, size: 0x2000), PhysicalRange(base: 0xff84_6000, size: 0x2000)])
        #expect(gic.cpuInterface == PhysicalRange(base: 0xff84_2000, size: 0x2000))
        #expect(GICVersion.v2.description == "GICv2")
    }

    @Test func cortexA15GIC() throws {
        let t = try openDTS("""
        /dts-v1/;
        / { #address-cells = <1>; #size-cells = <1>; interrupt-parent = <&gic>;
            gic: interrupt-controller@2c001000 { compatible = "arm,cortex-a15-gic"; interrupt-controller; #interrupt-cells = <3>;
                reg = <0x2c001000 0x1000>, <0x2c002000 0x2000>; };
            timer { interrupts = <1 13 0xf08>, <1 14 0xf08>, <1 11 0xf08>, <1 10 0xf08>; };
        };
        """)
        let gic = try #require(t.gic())
        #expect(gic.version == .v2 && gic.regions.count == 2)
        #expect(gic.cpuInterface == PhysicalRange(base: 0x2c00_2000, size: 0x2000))
        let timer = t.interrupts(of: try t.node("/timer")).compactMap { if case .gic(let g) = $0 { return g.intid } else { return nil } }
        #expect(timer == [29, 30, 27, 26], "PPI n is INTID n + 16")
    }

    @Test func gicV3() throws {
        let t = try openDTS("""
        /dts-v1/;
        / { #address-cells = <2>; #size-cells = <2>; interrupt-parent = <&gic>;
            gic: interrupt-controller@8000000 {
                compatible = "arm,gic-v3";
                interrupt-controller;
                #interrupt-cells = <3>;
                #address-cells = <2>;
                #size-cells = <2>;
                ranges;
                reg = <0x0 0x08000000 0x0 0x10000>, <0x0 0x080a0000 0x0 0xf60000>;
                its: msi-controller@8080000 { compatible = "arm,gic-v3-its"; msi-controller; #msi-cells = <1>;
                    reg = <0x0 0x08080000 0x0 0x20000>; };
            };
        };
        """)
        let gic = try #require(t.gic())
        #expect(gic.version == .v3)
        #expect(gic.regions == [PhysicalRange(base: 0x800_0000, size: 0x10000), PhysicalRange(base: 0x80a_0000, size: 0xf6_0000)])
        #expect(gic.cpuInterface == nil)
        #expect(t.gicVersion(of: try t.node("/interrupt-controller@8000000/msi-controller@8080000")) == nil)
        #expect(GICVersion.v3.description == "GICv3")
    }

    /// The root's interrupt-parent is not a GIC (i.MX8MQ's GPC, Tegra's
    /// ictlr): the first enabled GIC is the board's GIC.
    @Test func rootParentIsNotTheGIC() throws {
        let t = try openDTS("""
        /dts-v1/;
        / { #address-cells = <1>; #size-cells = <1>; interrupt-parent = <&gpc>;
            old: interrupt-controller@1000 { compatible = "arm,gic-v3"; interrupt-controller; #interrupt-cells = <3>;
                reg = <0x1000 0x100>; status = "disabled"; };
            fake@1800 { compatible = "arm,gic-v3"; #interrupt-cells = <3>; reg = <0x1800 0x100>; };
            gic: interrupt-controller@2000 { compatible = "arm,gic-v3"; interrupt-controller; #interrupt-cells = <3>;
                reg = <0x2000 0x100>, <0x3000 0x1000>; };
            gpc: gpc@4000 { compatible = "fsl,imx8mq-gpc"; interrupt-controller; #interrupt-cells = <3>;
                interrupt-parent = <&gic>; reg = <0x4000 0x100>; };
            dev { interrupts = <0 5 4>; };
        };
        """)
        let gic = try #require(t.gic())
        #expect(gic.node == (try t.node("/interrupt-controller@2000")))
        #expect(gic.regions.first == PhysicalRange(base: 0x2000, size: 0x100))
        #expect(!t.isGIC(try t.node("/fake@1800")), "a GIC compatible without interrupt-controller is no controller")
        #expect(t.interrupts(of: try t.node("/dev")) == [.otherController(path: "/gpc@4000", specifier: [0, 5, 4])])
    }

    @Test func noGIC() throws {
        let t = try openDTS("/dts-v1/; / { intc { compatible = \"brcm,bcm2836-armctrl-ic\"; interrupt-controller; #interrupt-cells = <2>; }; };")
        #expect(t.gic() == nil)
        #expect(!t.isGIC(try t.node("/intc")))
    }

    @Test func everyV2CompatibleIsAGIC() throws {
        for name in GICVersion.v2Compatibles + ["arm,gic-v3", "qcom,msm8996-gic-v3"] {
            let t = try openDTS("/dts-v1/; / { g { compatible = \"vendor,soc-gic\", \"\(name)\"; interrupt-controller; }; };")
            #expect(t.gicVersion(of: try t.node("/g")) == (name.contains("v3") ? .v3 : .v2), "\(name)")
        }
    }
}
