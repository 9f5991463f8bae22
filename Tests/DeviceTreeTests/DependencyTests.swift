import Testing
@testable import DeviceTree

let dependencySource = """
/dts-v1/;
/ {
    #address-cells = <1>;
    #size-cells = <1>;
    osc: osc { compatible = "fixed-clock"; #clock-cells = <0>; clock-frequency = <24000000>; phandle = <0x74>; };
    cru: clock-controller@1000 { reg = <0x1000 0x1000>; #clock-cells = <1>; #reset-cells = <1>; };
    grf: syscon@2000 { compatible = "rockchip,rk3399-grf", "syscon", "simple-mfd"; reg = <0x2000 0x1000>; };
    pinctrl: pinctrl@3000 {
        reg = <0x3000 0x100>;
        uart_pins: uart-grp { fsl,pins = <0x74 0x1 0x74 0x0>; };
        sd_pins: sd-grp { fsl,pins = <0x2 0x3>; };
    };
    gpio0: gpio@4000 {
        compatible = "snps,dw-apb-gpio";
        reg = <0x4000 0x100>;
        gpio-controller;
        #gpio-cells = <2>;
        snps,nr-gpios = <0x74>;
        ngpios = <0x74>;
        gpio-ranges = <&pinctrl 0 0 32>;
        phandle = <0x30>;
        hub-reset-hog { gpio-hog; gpios = <1 0>; output-high; };
        led-hog { gpio-hog; gpios = <0x30 0>, <7 0>; output-low; };
    };
    vcc_sd: regulator-sd { compatible = "regulator-fixed"; regulator-name = "vcc_sd"; };
    pd: power-controller { #power-domain-cells = <1>; };
    dma: dma-controller@5000 { reg = <0x5000 0x100>; #dma-cells = <2>; };
    efuse: efuse@6000 { reg = <0x6000 0x100>; cpu_id: id@7 { reg = <0x7 0x10>; }; };
    its: msi-controller { msi-controller; #msi-cells = <1>; };
    reserved-memory { #address-cells = <1>; #size-cells = <1>; ranges; fw: fw@8000000 { reg = <0x8000000 0x100000>; no-map; }; };
    cpus { #address-cells = <1>; #size-cells = <0>;
        cpu0: cpu@0 { device_type = "cpu"; reg = <0>; #cooling-cells = <2>; operating-points-v2 = <&opp>; };
        cpu-map { cluster0 { core0 { cpu = <&cpu0>; }; }; };
    };
    opp: opp-table { compatible = "operating-points-v2"; };
    thermal-zones { cpu-thermal { cooling-maps { map0 { cooling-device = <&cpu0 0xffffffff 0xffffffff>; }; }; }; };
    mmc@7000 {
        reg = <0x7000 0x1000>;
        clocks = <&osc>, <&cru 12>;
        clock-names = "ref", "bus";
        assigned-clocks = <&cru 3>;
        assigned-clock-parents = <0>, <&osc>;
        resets = <&cru 7>;
        reset-names = "core";
        pinctrl-names = "default", "sleep";
        pinctrl-0 = <&uart_pins &sd_pins>;
        pinctrl-1 = <&sd_pins>;
        vmmc-supply = <&vcc_sd>;
        cd-gpios = <&gpio0 5 1>;
        rockchip,grf = <&grf>;
        syscon = <&grf 0x10 0x4>;
        power-domains = <&pd 2>;
        dmas = <&dma 1 2>, <&dma 3 4>;
        dma-names = "rx", "tx";
        nvmem-cells = <&cpu_id>;
        msi-parent = <&its 5>;
        memory-region = <&fw>;
        linux,code = <0x74>;
        max-frequency = <0x74>;
    };
    keys { power { linux,code = <0x74>; gpios = <&gpio0 3 0>; }; };
    ports { port { ep_a: endpoint { remote-endpoint = <&ep_b>; }; }; other { ep_b: endpoint { remote-endpoint = <&ep_a>; }; }; };
    unknown { clocks = <&osc>, <0x999 1>, <&osc>; };
    no-cells { clocks = <&vcc_sd>; };
    truncated { clocks = <&cru>; };
    ragged { clocks = [00 00 00 74 00]; };
};
"""

@Suite("Dependencies through phandle-bearing properties")
struct DependencyTests {
    let tree: DeviceTree
    init() throws { tree = try DeviceTree(bytes: compileDTS(dependencySource)) }

    func dep(_ kind: DependencyKind, _ property: String, _ entry: Int, _ provider: String, _ arguments: [UInt32] = [])
        throws -> Dependency {
        Dependency(kind: kind, property: property, entry: entry, provider: try tree.node(provider), arguments: arguments)
    }

    @Test func mmcControllerDependencies() throws {
        let (deps, problems) = tree.dependencies(of: try tree.node("/mmc@7000"))
        #expect(problems.isEmpty)
        let expected = [
            try dep(.clock, "clocks", 0, "/osc"),                                // #clock-cells = 0
            try dep(.clock, "clocks", 1, "/clock-controller@1000", [12]),       // #clock-cells = 1
            try dep(.assignedClock, "assigned-clocks", 0, "/clock-controller@1000", [3]),
            try dep(.assignedClock, "assigned-clock-parents", 1, "/osc"),        // entry 0 is an empty slot
            try dep(.reset, "resets", 0, "/clock-controller@1000", [7]),
            try dep(.pinctrl, "pinctrl-0", 0, "/pinctrl@3000/uart-grp"),
            try dep(.pinctrl, "pinctrl-0", 1, "/pinctrl@3000/sd-grp"),
            try dep(.pinctrl, "pinctrl-1", 0, "/pinctrl@3000/sd-grp"),
            try dep(.supply, "vmmc-supply", 0, "/regulator-sd"),
            try dep(.gpio, "cd-gpios", 0, "/gpio@4000", [5, 1]),
            try dep(.syscon, "rockchip,grf", 0, "/syscon@2000"),
            try dep(.syscon, "syscon", 0, "/syscon@2000", [0x10, 0x4]),
            try dep(.powerDomain, "power-domains", 0, "/power-controller", [2]),
            try dep(.dma, "dmas", 0, "/dma-controller@5000", [1, 2]),
            try dep(.dma, "dmas", 1, "/dma-controller@5000", [3, 4]),
            try dep(.nvmem, "nvmem-cells", 0, "/efuse@6000/id@7"),                // no #nvmem-cell-cells: 0
            try dep(.msi, "msi-parent", 0, "/msi-controller", [5]),
            try dep(.memoryRegion, "memory-region", 0, "/reserved-memory/fw@8000000"),
        ]
        #expect(deps.count == expected.count)
        for (got, want) in zip(deps, expected) {
            #expect(got == want, "\(got.property)[\(got.entry)] -> \(tree.path(of: got.provider)) \(got.arguments)")
        }
        // linux,code and max-frequency equal osc's phandle (0x74) but are not references.
        #expect(tree.node(phandle: 0x74) == (try tree.node("/osc")))
        #expect(!deps.contains { $0.property == "linux,code" || $0.property == "max-frequency" })
    }

    @Test func valuesThatLookLikePhandlesAreNotReferences() throws {
        // fsl,pins holds pad settings; 0x74 is osc's phandle but means nothing here.
        for path in ["/pinctrl@3000/uart-grp", "/pinctrl@3000/sd-grp", "/osc", "/regulator-sd"] {
            let result = tree.dependencies(of: try tree.node(path))
            #expect(result.dependencies.isEmpty && result.problems.isEmpty, "\(path): \(result)")
        }
        // A gpio-keys button: only its gpios are a reference, not linux,code.
        let keys = tree.dependencies(of: try tree.node("/keys/power"))
        #expect(keys.problems.isEmpty)
        #expect(keys.dependencies == [try dep(.gpio, "gpios", 0, "/gpio@4000", [3, 0])])
    }

    /// `snps,nr-gpios` and `ngpios` are counts; gpio-ranges names the pin controller.
    @Test func gpioControllerCountsAreNotReferences() throws {
        let (deps, problems) = tree.dependencies(of: try tree.node("/gpio@4000"))
        #expect(problems.isEmpty)
        #expect(deps == [try dep(.pinctrl, "gpio-ranges", 0, "/pinctrl@3000", [0, 0, 32])])
    }

    @Test func graphCpuCoolingAndOPP() throws {
        #expect(tree.dependencies(of: try tree.node("/ports/port/endpoint")).dependencies ==
                [try dep(.graphEndpoint, "remote-endpoint", 0, "/ports/other/endpoint")])
        #expect(tree.dependencies(of: try tree.node("/cpus/cpu-map/cluster0/core0")).dependencies ==
                [try dep(.cpu, "cpu", 0, "/cpus/cpu@0")])
        #expect(tree.dependencies(of: try tree.node("/thermal-zones/cpu-thermal/cooling-maps/map0")).dependencies ==
                [try dep(.coolingDevice, "cooling-device", 0, "/cpus/cpu@0", [0xffff_ffff, 0xffff_ffff])])
        #expect(tree.dependencies(of: try tree.node("/cpus/cpu@0")).dependencies ==
                [try dep(.operatingPoints, "operating-points-v2", 0, "/opp-table")])
    }

    @Test func unknownPhandleIsAProblem() throws {
        let (deps, problems) = tree.dependencies(of: try tree.node("/unknown"))
        #expect(deps == [try dep(.clock, "clocks", 0, "/osc")], "entries before the bad one are kept")
        #expect(problems == ["/unknown: 'clocks' entry 1 names phandle 2457, which no node has"])
    }

    @Test func undecodableReferencesAreProblems() throws {
        let noCells = tree.dependencies(of: try tree.node("/no-cells"))
        #expect(noCells.dependencies.isEmpty)
        #expect(noCells.problems == ["/no-cells: 'clocks' references /regulator-sd, which has no #clock-cells"])
        let truncated = tree.dependencies(of: try tree.node("/truncated"))
        #expect(truncated.dependencies.isEmpty)
        #expect(truncated.problems.count == 1 && truncated.problems[0].contains("truncated"))
        let ragged = tree.dependencies(of: try tree.node("/ragged"))
        #expect(ragged.dependencies.isEmpty)
        #expect(ragged.problems == ["/ragged: 'clocks' is 5 bytes, not whole cells"])
    }

    @Test func ruleTable() {
        let references: [(String, DependencyKind)] = [
            ("clocks", .clock), ("assigned-clocks", .assignedClock), ("resets", .reset), ("power-domains", .powerDomain),
            ("pinctrl-0", .pinctrl), ("pinctrl-12", .pinctrl), ("vmmc-supply", .supply), ("vqmmc-supply", .supply),
            ("gpios", .gpio), ("gpio", .gpio), ("cd-gpios", .gpio), ("reset-gpio", .gpio), ("dmas", .dma),
            ("iommus", .iommu), ("phys", .phy), ("interconnects", .interconnect), ("mboxes", .mailbox),
            ("nvmem-cells", .nvmem), ("memory-region", .memoryRegion), ("pwms", .pwm), ("io-channels", .ioChannel),
            ("hwlocks", .hwlock), ("thermal-sensors", .thermalSensor), ("sound-dai", .soundDAI), ("msi-parent", .msi),
            ("rockchip,grf", .syscon), ("rockchip,pmu", .syscon), ("fsl,stop-mode", .syscon), ("syscon", .syscon),
            ("samsung,syscon", .syscon), ("syscon-phy", .syscon), ("ti,ctrl-syscon", .syscon),
            ("remote-endpoint", .graphEndpoint), ("cpu", .cpu), ("cooling-device", .coolingDevice),
            ("operating-points-v2", .operatingPoints), ("gpio-ranges", .pinctrl),
        ]
        for (name, kind) in references {
            #expect(DeviceTree.dependencyRule(for: name)?.0 == kind, "\(name)")
        }
        let notReferences = ["snps,nr-gpios", "nr-gpios", "ngpios", "fsl,pins", "linux,code", "pinctrl-names", "pinctrl-",
                             "pinctrl-0a", "clock-names", "#clock-cells", "#gpio-cells", "clock-frequency", "interrupts",
                             "interrupt-parent", "phandle", "status", "compatible", "reg", "gpio-controller",
                             "gpio-line-names", "regulator-name", "max-frequency", "dma-names", "bus-width"]
        for name in notReferences {
            #expect(DeviceTree.dependencyRule(for: name) == nil, "\(name)")
        }
        #expect(DependencyKind.supply.description == "supply")
        #expect(DependencyKind.graphEndpoint.description == "graph-endpoint")
    }

    /// A gpio-hog's `gpios` holds <pin flags> of its parent controller, no
    /// phandle (Documentation/devicetree/bindings/gpio/gpio.txt, "GPIO hogs").
    /// Today the pin number is taken for a phandle: pin 1 names whatever dtc
    /// gave phandle 1 (a bogus problem when it has no #gpio-cells), and pin
    /// 0x30 of a two-line hog names the GPIO controller itself (a bogus
    /// dependency with arguments [0, 7]).
    @Test
    func gpioHogIsNotAReference() throws {
        #expect(tree.node(phandle: 1) != nil, "the false positive needs phandle 1 to exist")
        #expect(tree.node(phandle: 0x30) == (try tree.node("/gpio@4000")))
        for path in ["/gpio@4000/hub-reset-hog", "/gpio@4000/led-hog"] {
            let result = tree.dependencies(of: try tree.node(path))
            #expect(result.dependencies.isEmpty, "\(path): \(result.dependencies.map { tree.path(of: $0.provider) })")
            #expect(result.problems.isEmpty, "\(path)")
        }
    }

    /// __symbols__ maps labels to path strings; a label named like a
    /// phandle-bearing property (`clocks`) is still a path, not a reference.
    @Test
    func symbolsAreNotReferences() throws {
        let t = try DeviceTree(bytes: compileDTS("""
        /dts-v1/;
        / { aliases { gpio = &clocks; }; clocks: clocks { #clock-cells = <0>; }; d { clocks = <&clocks>; }; };
        """, symbols: true))
        #expect(t.dependencies(of: try t.node("/d")).dependencies.count == 1)
        for path in ["/__symbols__", "/aliases"] {
            let result = t.dependencies(of: try t.node(path))
            #expect(result.dependencies.isEmpty && result.problems.isEmpty, "\(path): \(result.problems)")
        }
    }
}
