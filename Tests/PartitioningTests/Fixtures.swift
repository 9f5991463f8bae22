import DeviceTree
@testable import Partitioning

// Small synthetic boards and plans as DTS text. The base board looks like a
// cut-down QEMU virt: a GIC, four CPUs, 1 GiB of RAM at 0x40000000, a fixed
// 24 MHz clock and three primecell devices. Tests add the nodes they need.

enum TestGIC {
    case v3
    /// A GICv2 whose CPU interface (second `reg` entry) has `cpuInterfaceSize` bytes.
    case v2(cpuInterfaceSize: UInt64)
}

let testBoardCompatible = "test,board"

/// A board tree's DTS text. `extra` goes inside the root node.
func boardDTS(gic: TestGIC = .v3, cpus: Int = 4, memory: Bool = true,
              bootargs: String? = "console=ttyAMA0 root=/dev/vda rw", extra: String = "") -> String {
    var cpuNodes = ""
    for i in 0..<cpus {
        cpuNodes += "\t\tcpu@\(i) { device_type = \"cpu\"; compatible = \"arm,cortex-a53\"; reg = <\(i)>; enable-method = \"psci\"; };\n"
    }
    let gicNode: String
    switch gic {
    case .v3:
        gicNode = """
            gic: interrupt-controller@8000000 {
                compatible = "arm,gic-v3"; #interrupt-cells = <3>; interrupt-controller;
                #address-cells = <2>; #size-cells = <2>; ranges;
                reg = <0 0x8000000 0 0x10000>, <0 0x80a0000 0 0xf60000>;
                interrupts = <1 9 4>;
            };
        """
    case .v2(let size):
        gicNode = """
            gic: interrupt-controller@8000000 {
                compatible = "arm,gic-400"; #interrupt-cells = <3>; interrupt-controller;
                reg = <0 0x8000000 0 0x1000>, <0 0x8010000 0 0x\(String(size, radix: 16))>;
                interrupts = <1 9 0xf04>;
            };
        """
    }
    let memoryNode = memory ? "\tmemory@40000000 { device_type = \"memory\"; reg = <0 0x40000000 0 0x40000000>; };\n" : ""
    let chosen = bootargs.map { "\tchosen { bootargs = \"\($0)\"; stdout-path = \"serial0\"; };\n" }
        ?? "\tchosen { stdout-path = \"serial0\"; };\n"
    return """
    /dts-v1/;
    / {
        compatible = "\(testBoardCompatible)", "test,soc";
        model = "Test board";
        #address-cells = <2>;
        #size-cells = <2>;
        interrupt-parent = <&gic>;

        aliases { serial0 = "/serial@9000000"; rtc0 = "/rtc@9010000"; gpio0 = "/gpio@9030000"; };
    \(chosen)
        cpus {
            #address-cells = <1>;
            #size-cells = <0>;
    \(cpuNodes)    };
    \(memoryNode)
        psci { compatible = "arm,psci-1.0", "arm,psci-0.2"; method = "smc"; };
        timer { compatible = "arm,armv8-timer"; interrupts = <1 13 4>, <1 14 4>, <1 11 4>, <1 10 4>; always-on; };
    \(gicNode)
        clk: apb-pclk { compatible = "fixed-clock"; #clock-cells = <0>; clock-frequency = <24000000>; clock-output-names = "clk24mhz"; };
        uart0: serial@9000000 {
            compatible = "arm,pl011", "arm,primecell"; reg = <0 0x9000000 0 0x1000>;
            interrupts = <0 1 4>; clocks = <&clk>, <&clk>; clock-names = "uartclk", "apb_pclk";
        };
        rtc: rtc@9010000 {
            compatible = "arm,pl031", "arm,primecell"; reg = <0 0x9010000 0 0x1000>;
            interrupts = <0 2 4>; clocks = <&clk>; clock-names = "apb_pclk";
        };
        gpio: gpio@9030000 {
            compatible = "arm,pl061", "arm,primecell"; reg = <0 0x9030000 0 0x1000>;
            interrupts = <0 7 4>; gpio-controller; #gpio-cells = <2>; ngpios = <8>;
            clocks = <&clk>; clock-names = "apb_pclk";
        };
    \(extra)
    };
    """
}

/// A board with no GIC: the root interrupt parent is some other controller.
let noGICBoardDTS = """
/dts-v1/;
/ {
    compatible = "test,board";
    #address-cells = <2>;
    #size-cells = <2>;
    interrupt-parent = <&intc>;
    cpus {
        #address-cells = <1>;
        #size-cells = <0>;
        cpu@0 { device_type = "cpu"; compatible = "arm,cortex-a53"; reg = <0>; };
        cpu@1 { device_type = "cpu"; compatible = "arm,cortex-a53"; reg = <1>; };
    };
    memory@40000000 { device_type = "memory"; reg = <0 0x40000000 0 0x40000000>; };
    intc: interrupt-controller@1000 { compatible = "test,intc"; reg = <0 0x1000 0 0x100>; interrupt-controller; #interrupt-cells = <1>; };
    serial@9000000 { compatible = "ns16550a"; reg = <0 0x9000000 0 0x1000>; interrupts = <5>; clock-frequency = <1843200>; };
};
"""

/// One guest node's DTS text.
func guestDTS(_ name: String = "g", cpus: String = "1", memorySize: String = "0x10000000",
              extra: String = "", devices: String = "") -> String {
    """
            \(name) {
                cpus = <\(cpus)>;
                memory-size = /bits/ 64 <\(memorySize)>;
                kernel = "/boot/guests/Image";
                \(extra)
                \(devices)
            };
    """
}

/// A device child of a guest node.
func deviceDTS(_ label: String, _ reference: String, _ extra: String = "") -> String {
    "\(label) { device = \"\(reference)\"; \(extra) };\n"
}

/// A whole plan's DTS text.
func planDTS(board: String = testBoardCompatible, guests: String) -> String {
    """
    /dts-v1/;
    / {
        compatible = "cleave,plan-v1";
        board = "\(board)";
        guests {
    \(guests)
        };
    };
    """
}

/// A plan with one guest `g` on CPU 1 with 256 MiB and the given devices.
func onePlan(_ devices: String = "", cpus: String = "1", memorySize: String = "0x10000000", extra: String = "") -> String {
    planDTS(guests: guestDTS("g", cpus: cpus, memorySize: memorySize, extra: extra, devices: devices))
}

// MARK: Device snippets for the base board's `extra`

enum Snippet {
    /// Two devices raising SPI 30.
    static let sharedSPI = """
        spia: a@9200000 { compatible = "test,a"; reg = <0 0x9200000 0 0x1000>; interrupts = <0 30 4>; };
        b@9201000 { compatible = "test,b"; reg = <0 0x9201000 0 0x1000>; interrupts = <0 30 4>; };
    """
    /// Two devices in the 4 KiB page 0x9300000.
    static let sharedPage = """
        p@9300000 { compatible = "test,p"; reg = <0 0x9300000 0 0x100>; interrupts = <0 31 4>; };
        q@9300800 { compatible = "test,q"; reg = <0 0x9300800 0 0x100>; interrupts = <0 32 4>; };
    """
    /// An I2C controller with a sensor on it.
    static let i2c = """
        i2c@9100000 {
            compatible = "test,i2c"; reg = <0 0x9100000 0 0x1000>; interrupts = <0 20 4>;
            #address-cells = <1>; #size-cells = <0>;
            sensor@48 { compatible = "test,sensor"; reg = <0x48>; };
        };
    """
    /// A GPIO controller that is also an interrupt controller, and a button behind it.
    static let gpioInterrupt = """
        gpioirq: gpio@9400000 {
            compatible = "test,gpio-irq"; reg = <0 0x9400000 0 0x1000>; interrupts = <0 40 4>;
            gpio-controller; #gpio-cells = <2>; interrupt-controller; #interrupt-cells = <2>;
        };
        button@9410000 { compatible = "test,button"; reg = <0 0x9410000 0 0x1000>; interrupt-parent = <&gpioirq>; interrupts = <3 1>; };
    """
    static let ppi = """
        ppi@9500000 { compatible = "test,ppi"; reg = <0 0x9500000 0 0x1000>; interrupts = <1 5 4>; };
    """
    static let iommu = """
        smmu: iommu@9600000 { compatible = "arm,smmu-v3"; reg = <0 0x9600000 0 0x20000>; #iommu-cells = <1>; };
        dma-dev@9700000 { compatible = "test,dma"; reg = <0 0x9700000 0 0x1000>; interrupts = <0 50 4>; iommus = <&smmu 0x10>; };
    """
    static let ethernet = """
        ethernet@9800000 { compatible = "test,eth"; reg = <0 0x9800000 0 0x1000>; interrupts = <0 51 4>; };
    """
    /// A device whose only clock comes from a clock controller with no stated rate.
    static let unratedClock = """
        cru: clock-controller@9900000 { compatible = "test,cru"; reg = <0 0x9900000 0 0x1000>; #clock-cells = <1>; };
        tdev@9910000 { compatible = "test,tdev"; reg = <0 0x9910000 0 0x1000>; interrupts = <0 52 4>; clocks = <&cru 5>; clock-names = "core"; };
    """
    static let pinctrl = """
        pinctrl@9a00000 { compatible = "test,pinctrl"; reg = <0 0x9a00000 0 0x1000>; uartpins: uart-pins { pins = "a", "b"; }; };
        pdev@9a10000 { compatible = "test,pdev"; reg = <0 0x9a10000 0 0x1000>; interrupts = <0 53 4>; pinctrl-names = "default"; pinctrl-0 = <&uartpins>; };
    """
    static let reset = """
        rst: reset-controller@9b00000 { compatible = "test,rst"; reg = <0 0x9b00000 0 0x1000>; #reset-cells = <1>; };
        rdev@9b10000 { compatible = "test,rdev"; reg = <0 0x9b10000 0 0x1000>; interrupts = <0 54 4>; resets = <&rst 3>; reset-names = "core"; };
    """
    static let powerDomain = """
        pd: power-controller@9c00000 { compatible = "test,pd"; reg = <0 0x9c00000 0 0x1000>; #power-domain-cells = <1>; };
        pddev@9c10000 { compatible = "test,pddev"; reg = <0 0x9c10000 0 0x1000>; interrupts = <0 55 4>; power-domains = <&pd 2>; };
    """
    static let supply = """
        vcc: regulator-vcc { compatible = "regulator-fixed"; regulator-name = "vcc"; regulator-min-microvolt = <3300000>; regulator-max-microvolt = <3300000>; };
        sdev@9d10000 { compatible = "test,sdev"; reg = <0 0x9d10000 0 0x1000>; interrupts = <0 58 4>; vdd-supply = <&vcc>; };
    """
    static let dma = """
        dmac: dma-controller@9e00000 { compatible = "test,dmac"; reg = <0 0x9e00000 0 0x1000>; interrupts = <0 56 4>; #dma-cells = <1>; };
        ddev@9e10000 { compatible = "test,ddev"; reg = <0 0x9e10000 0 0x1000>; interrupts = <0 59 4>; dmas = <&dmac 4>; dma-names = "rx"; };
    """
    /// A host node using the base board's GPIO controller.
    static let gpioKeys = """
        keys { compatible = "gpio-keys"; power { gpios = <&gpio 3 0>; linux,code = <116>; label = "power"; }; };
    """
    static let brokenReference = """
        bdev@9f10000 { compatible = "test,bdev"; reg = <0 0x9f10000 0 0x1000>; interrupts = <0 60 4>; phys = <0x4321>; };
    """
    /// A device with its own bus (`ranges`, 1 address + 1 size cell) and a child on it.
    static let parentWithChild = """
        parent@9200000 {
            compatible = "test,parent"; reg = <0 0x9200000 0 0x100>; interrupts = <0 33 4>;
            #address-cells = <1>; #size-cells = <1>; ranges = <0x0 0x0 0x9200000 0x1000>;
            child@100 { compatible = "test,child"; reg = <0x100 0x10>; interrupts = <0 34 4>; };
        };
    """
    static let disabled = """
        off@9f20000 { compatible = "test,off"; reg = <0 0x9f20000 0 0x1000>; interrupts = <0 61 4>; status = "disabled"; };
        bus@9f30000 {
            compatible = "simple-bus"; #address-cells = <1>; #size-cells = <1>; ranges = <0 0 0x9f30000 0x10000>; status = "disabled";
            inner@0 { compatible = "test,inner"; reg = <0 0x1000>; interrupts = <0 62 4>; };
        };
    """
    static let noRegisters = """
        thing { compatible = "test,thing"; };
    """
    static let reservedMemory = """
        reserved-memory {
            #address-cells = <2>; #size-cells = <2>; ranges;
            firmware@70000000 { reg = <0 0x70000000 0 0x1000000>; no-map; };
        };
    """
}
