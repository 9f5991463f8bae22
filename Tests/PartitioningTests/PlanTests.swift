import Foundation
import Testing
import DeviceTree
@testable import Partitioning
import PartitionRecord

@Suite("Plan parsing")
struct PlanTests {
    /// The example from Boards/README.md, with every optional property set.
    static let fullPlan = """
    /dts-v1/;
    / {
        compatible = "cleave,plan-v1";
        board = "linux,dummy-virt";
        guests {
            rtc-guest {
                cpus = <1 3>;
                memory-size = /bits/ 64 <0x80000000>;
                memory-base = /bits/ 64 <0x100000000>;
                hugepage-size = /bits/ 64 <0x40000000>;
                kernel = "/boot/guests/Image";
                initrd = "/boot/guests/initrd.cpio";
                bootargs = "console=ttyS0 earlycon";
                console = "serial1";
                restart = "on-failure";
                max-restarts = <4>;
                no-pmu;
                sve-max-vl = <256>;
                no-ptrauth;
                ram-scrub = "none";

                rtc { device = "/pl031@9010000"; };
                uart {
                    device = "serial1";
                    clock-frequency = <48000000>;
                    clock-frequencies = <1000 0 3000>;
                    passthrough = "vfio";
                    interrupts = "forward";
                    allow-unbind;
                };
                gpio-lines {
                    power { chip = "/pl061@9030000"; lines = <3 5>; direction = "output"; };
                    sense { chip = "gpio0"; lines = <1>; };
                };
                control-lines {
                    reset { chip = "gpio0"; line = <4>; active-low; hold-ms = <20>; };
                    power { chip = "/pl061@9030000"; line = <6>; settle-ms = <0>; };
                    heartbeat { chip = "gpio0"; line = <7>; period-ms = <500>; };
                };
            };
            second_1 {
                cpus = <2>;
                memory-size = <0x10000000>;
                kernel = "/k";
            };
        };
    };
    """

    @Test("every property of the binding is read")
    func fullPlan() throws {
        let plan = try parsedPlan(PlanTests.fullPlan)
        #expect(plan.board == "linux,dummy-virt")
        #expect(plan.guests.map(\.name) == ["rtc-guest", "second_1"])
        let g = plan.guests[0]
        #expect(g.cpus == [1, 3])
        #expect(g.memorySize == 0x8000_0000)
        #expect(g.memoryBase == 0x1_0000_0000)
        #expect(g.hugepageSize == .oneGiB)
        #expect(g.kernel == "/boot/guests/Image")
        #expect(g.initrd == "/boot/guests/initrd.cpio")
        #expect(g.bootargs == "console=ttyS0 earlycon")
        #expect(g.console == .device("serial1"))
        #expect(g.restart == .onFailure)
        #expect(g.maxRestarts == 4)
        #expect(!g.pmu && g.sveMaxVectorBits == 256 && !g.ptrauth)
        #expect(g.ramScrub == .none)
        #expect(g.devices.count == 2)
        #expect(g.devices[0] == DeviceAssignment(label: "rtc", reference: "/pl031@9010000", clockFrequency: nil,
                                                 clockFrequencies: [], passthrough: .auto, allowUnbind: false))
        #expect(g.devices[1] == DeviceAssignment(label: "uart", reference: "serial1", clockFrequency: 48_000_000,
                                                 clockFrequencies: [1000, 0, 3000], passthrough: .vfio, interrupts: .forward,
                                                 allowUnbind: true))
        #expect(g.gpioLines == [
            GPIOLineGroup(label: "power", chip: "/pl061@9030000", lines: [3, 5], output: true),
            GPIOLineGroup(label: "sense", chip: "gpio0", lines: [1], output: false),
        ])
        #expect(g.controlLines == [
            ControlLinePlan(role: .reset, chip: "gpio0", line: 4, activeLow: true, delay: 20),
            ControlLinePlan(role: .power, chip: "/pl061@9030000", line: 6, activeLow: false, delay: 0),
            ControlLinePlan(role: .heartbeat, chip: "gpio0", line: 7, activeLow: false, delay: 500),
        ])
        #expect(plan.guests[1].controlLines.isEmpty)
        // Reset's and power's delays default to 10 ms.
        let defaults = try parsedPlan(onePlan("control-lines { reset { chip = \"gpio0\"; line = <1>; }; power { chip = \"gpio0\"; line = <2>; }; };"))
        #expect(defaults.guests[0].controlLines.map(\.delay) == [10, 10])
    }

    @Test("defaults: 2 MiB pages, virtual console, never restart, no initrd, auto passthrough; u32 memory-size")
    func defaults() throws {
        let plan = try parsedPlan(PlanTests.fullPlan)
        let g = plan.guests[1]
        #expect(g.memorySize == 0x1000_0000)
        #expect(g.memoryBase == nil)
        #expect(g.hugepageSize == .twoMiB)
        #expect(g.initrd == nil)
        #expect(g.bootargs == "")
        #expect(g.console == .virtual)
        #expect(g.restart == .never)
        #expect(g.maxRestarts == 0)
        #expect(g.pmu && g.sveMaxVectorBits == nil && g.ptrauth)
        #expect(g.ramScrub == .zero)
        #expect(g.devices.isEmpty && g.gpioLines.isEmpty)
    }

    @Test("console = \"virtual\" and restart = \"always\"; 32 MiB hugepages")
    func explicitValues() throws {
        let plan = try parsedPlan(onePlan(extra: "console = \"virtual\"; restart = \"always\"; hugepage-size = <0x2000000>;"))
        #expect(plan.guests[0].console == .virtual)
        #expect(plan.guests[0].restart == .always)
        #expect(plan.guests[0].hugepageSize == .thirtyTwoMiB)
    }

    @Test("every plan in Boards/ parses cleanly", arguments: RealBoard.planned)
    func realPlans(_ board: RealBoard) throws {
        let plan = try realPlan(board.plan)
        #expect(!plan.guests.isEmpty)
        #expect(plan.guests.allSatisfy { !$0.devices.isEmpty && $0.memorySize == 0x1000_0000 })
        let tree = try realTree(board.tree)
        #expect(tree.compatible(of: tree.root).contains(plan.board))
    }

    struct Invalid: CustomTestStringConvertible, Sendable {
        var name: String
        var plan: String
        var path: String
        /// Words the message must contain.
        var says: String
        var testDescription: String { name }
    }

    static let invalid: [Invalid] = [
        Invalid(name: "compatible missing", plan: """
            /dts-v1/; / { board = "test,board"; guests { g { cpus = <1>; memory-size = <0x10000000>; kernel = "/k"; }; }; };
            """, path: "plan:/", says: "cleave,plan-v1"),
        Invalid(name: "board missing", plan: """
            /dts-v1/; / { compatible = "cleave,plan-v1"; guests { g { cpus = <1>; memory-size = <0x10000000>; kernel = "/k"; }; }; };
            """, path: "plan:/", says: "board"),
        Invalid(name: "guests missing", plan: "/dts-v1/; / { compatible = \"cleave,plan-v1\"; board = \"test,board\"; };",
                path: "plan:/guests", says: "no guests"),
        Invalid(name: "guests empty", plan: "/dts-v1/; / { compatible = \"cleave,plan-v1\"; board = \"test,board\"; guests { }; };",
                path: "plan:/guests", says: "no guests"),
        Invalid(name: "cpus missing", plan: planDTS(guests: "g { memory-size = <0x10000000>; kernel = \"/k\"; };"),
                path: "plan:/guests/g", says: "cpus"),
        Invalid(name: "cpus empty", plan: planDTS(guests: "g { cpus; memory-size = <0x10000000>; kernel = \"/k\"; };"),
                path: "plan:/guests/g", says: "cpus"),
        Invalid(name: "cpus not whole cells", plan: planDTS(guests: "g { cpus = [01 02]; memory-size = <0x10000000>; kernel = \"/k\"; };"),
                path: "plan:/guests/g", says: "cpus"),
        Invalid(name: "memory-size missing", plan: planDTS(guests: "g { cpus = <1>; kernel = \"/k\"; };"),
                path: "plan:/guests/g", says: "memory-size"),
        Invalid(name: "memory-size zero", plan: planDTS(guests: "g { cpus = <1>; memory-size = <0>; kernel = \"/k\"; };"),
                path: "plan:/guests/g", says: "memory-size"),
        Invalid(name: "memory-size three cells", plan: planDTS(guests: "g { cpus = <1>; memory-size = <0 0 1>; kernel = \"/k\"; };"),
                path: "plan:/guests/g", says: "memory-size"),
        Invalid(name: "memory-base three cells", plan: onePlan(extra: "memory-base = <0 0 1>;"),
                path: "plan:/guests/g", says: "memory-base"),
        Invalid(name: "kernel missing", plan: planDTS(guests: "g { cpus = <1>; memory-size = <0x10000000>; };"),
                path: "plan:/guests/g", says: "kernel"),
        Invalid(name: "kernel empty", plan: planDTS(guests: "g { cpus = <1>; memory-size = <0x10000000>; kernel = \"\"; };"),
                path: "plan:/guests/g", says: "kernel"),
        Invalid(name: "bad restart", plan: onePlan(extra: "restart = \"sometimes\";"),
                path: "plan:/guests/g", says: "sometimes"),
        Invalid(name: "bad hugepage-size", plan: onePlan(extra: "hugepage-size = <0x10000>;"),
                path: "plan:/guests/g", says: "hugepage-size' must be 0x200000 (2 MiB), 0x2000000 (32 MiB) or 0x40000000 (1 GiB)"),
        Invalid(name: "sve-max-vl not a multiple of 128", plan: onePlan(extra: "sve-max-vl = <200>;"),
                path: "plan:/guests/g", says: "sve-max-vl"),
        Invalid(name: "no-ptrauth with a value", plan: onePlan(extra: "no-ptrauth = <1>;"),
                path: "plan:/guests/g", says: "'no-ptrauth' is a flag and takes no value (it has 4 bytes)"),
        Invalid(name: "no-pmu with a value", plan: onePlan(extra: "no-pmu = \"yes\";"),
                path: "plan:/guests/g", says: "'no-pmu' is a flag and takes no value (it has 4 bytes)"),
        Invalid(name: "guest name with a capital", plan: planDTS(guests: guestDTS("Linux")),
                path: "plan:/guests/Linux", says: "guest name"),
        Invalid(name: "guest name with a dot", plan: planDTS(guests: guestDTS("linux.0")),
                path: "plan:/guests/linux.0", says: "guest name"),
        Invalid(name: "guest name of 32 characters", plan: planDTS(guests: guestDTS(String(repeating: "a", count: 32))),
                path: "plan:/guests/" + String(repeating: "a", count: 32), says: "guest name"),
        Invalid(name: "guest name with a unit address", plan: planDTS(guests: guestDTS("linux@1")),
                path: "plan:/guests/linux@1", says: "guest name"),
        Invalid(name: "ram-scrub of an unknown mode", plan: onePlan(extra: "ram-scrub = \"random\";"),
                path: "plan:/guests/g", says: "'ram-scrub' is \"random\", not zero or none"),
        Invalid(name: "ram-scrub not a string", plan: onePlan(extra: "ram-scrub = <1>;"),
                path: "plan:/guests/g", says: "'ram-scrub' is not a string"),
        Invalid(name: "device child without device", plan: onePlan("uart { clock-frequency = <1>; };"),
                path: "plan:/guests/g/uart", says: "device"),
        Invalid(name: "bad passthrough", plan: onePlan(deviceDTS("uart", "serial0", "passthrough = \"magic\";")),
                path: "plan:/guests/g/uart", says: "passthrough"),
        Invalid(name: "bad interrupts", plan: onePlan(deviceDTS("uart", "serial0", "interrupts = \"msi\";")),
                path: "plan:/guests/g/uart", says: "'interrupts' is \"msi\""),
        Invalid(name: "interrupts not a string", plan: onePlan(deviceDTS("uart", "serial0", "interrupts = <1>;")),
                path: "plan:/guests/g/uart", says: "'interrupts' is not a string"),
        Invalid(name: "zero clock-frequency", plan: onePlan(deviceDTS("uart", "serial0", "clock-frequency = <0>;")),
                path: "plan:/guests/g/uart", says: "clock-frequency"),
        Invalid(name: "gpio group without chip", plan: onePlan("gpio-lines { k { lines = <1>; }; };"),
                path: "plan:/guests/g/gpio-lines/k", says: "chip"),
        Invalid(name: "gpio group without lines", plan: onePlan("gpio-lines { k { chip = \"gpio0\"; }; };"),
                path: "plan:/guests/g/gpio-lines/k", says: "lines"),
        Invalid(name: "gpio group with a bad direction", plan: onePlan("gpio-lines { k { chip = \"gpio0\"; lines = <1>; direction = \"both\"; }; };"),
                path: "plan:/guests/g/gpio-lines/k", says: "direction"),
        Invalid(name: "control line of an unknown role", plan: onePlan("control-lines { fan { chip = \"gpio0\"; line = <1>; }; };"),
                path: "plan:/guests/g/control-lines/fan", says: "'fan' is not a control line"),
        Invalid(name: "control line without chip", plan: onePlan("control-lines { reset { line = <1>; }; };"),
                path: "plan:/guests/g/control-lines/reset", says: "missing 'chip'"),
        Invalid(name: "control line without line", plan: onePlan("control-lines { power { chip = \"gpio0\"; }; };"),
                path: "plan:/guests/g/control-lines/power", says: "'line'"),
        Invalid(name: "control line with two lines", plan: onePlan("control-lines { power { chip = \"gpio0\"; line = <1 2>; }; };"),
                path: "plan:/guests/g/control-lines/power", says: "malformed 'line' (one u32)"),
        Invalid(name: "active-low with a value", plan: onePlan("control-lines { reset { chip = \"gpio0\"; line = <1>; active-low = <1>; }; };"),
                path: "plan:/guests/g/control-lines/reset", says: "'active-low' is a flag and takes no value (it has 4 bytes)"),
        Invalid(name: "hold-ms beyond a minute", plan: onePlan("control-lines { reset { chip = \"gpio0\"; line = <1>; hold-ms = <60001>; }; };"),
                path: "plan:/guests/g/control-lines/reset", says: "'hold-ms' must be one u32 of 0-60000 milliseconds"),
        Invalid(name: "heartbeat without a period", plan: onePlan("control-lines { heartbeat { chip = \"gpio0\"; line = <1>; }; };"),
                path: "plan:/guests/g/control-lines/heartbeat", says: "missing 'period-ms'"),
        Invalid(name: "heartbeat period 0", plan: onePlan("control-lines { heartbeat { chip = \"gpio0\"; line = <1>; period-ms = <0>; }; };"),
                path: "plan:/guests/g/control-lines/heartbeat", says: "'period-ms' must be one u32 of 1-60000"),
    ]

    @Test("plan-invalid names the plan node and the problem", arguments: PlanTests.invalid)
    func invalidPlans(_ case_: Invalid) throws {
        let (plan, diagnostics) = Plan.parse(try dtsTree(case_.plan))
        #expect(plan == nil, "an invalid plan must not be returned")
        let hit = diagnostics.first { $0.path == case_.path }
        #expect(hit != nil, "no diagnostic at \(case_.path): \(diagnostics)")
        #expect(hit?.code == .planInvalid && hit?.severity == .error)
        #expect(hit?.message.contains(case_.says) == true, "\(hit?.message ?? "") should mention '\(case_.says)'")
        #expect(hit?.hint.isEmpty == false)
    }

    @Test("one invalid guest does not hide problems in the next")
    func collectsEverything() throws {
        let text = planDTS(guests: "a { cpus = <1>; memory-size = <0x10000000>; }; b { memory-size = <0x10000000>; kernel = \"/k\"; };")
        let (plan, diagnostics) = Plan.parse(try dtsTree(text))
        #expect(plan == nil)
        #expect(Set(diagnostics.map(\.path)) == ["plan:/guests/a", "plan:/guests/b"])
    }

    @Test("a board tree is not a plan")
    func boardIsNotAPlan() throws {
        let (plan, diagnostics) = Plan.parse(try realTree("qemu-virt-gicv3"))
        #expect(plan == nil)
        #expect(diagnostics.contains { $0.path == "plan:/" && $0.code == .planInvalid })
    }

    @Test("guest names: 1-31 of a-z 0-9 - _")
    func guestNames() {
        for good in ["a", "linux0", "rt-guest_2", String(repeating: "z", count: 31)] { #expect(Plan.isValidGuestName(good), "\(good)") }
        for bad in ["", "A", "a b", "a/b", "ü", "a.b", String(repeating: "z", count: 32)] { #expect(!Plan.isValidGuestName(bad), "\(bad)") }
    }

    @Test("two guests with one name cannot come from DTS; a Plan value is still checked")
    func duplicateNames() throws {
        var plan = try parsedPlan(onePlan())
        var second = plan.guests[0]
        second.cpus = [2]
        plan.guests.append(second)
        let diagnostics = check(board: try dtsTree(boardDTS()), plan: plan)
        #expect(diagnostics.contains { $0.code == .planInvalid && $0.path == "plan:/guests/g" && $0.message.contains("two guests") })
    }
}

@Suite("Interrupt methods against MMIO methods")
struct InterruptMethodTests {
    /// The pairs the kernel makes impossible (InterruptMethod.conflict), and
    /// only those: forward needs the IRQ free (uio_pdrv_genirq holds it),
    /// irqfd needs VFIO, uio needs uio_pdrv_genirq.
    @Test func impossiblePairs() {
        let impossible: [(InterruptMethod, PassthroughMethod)] = [
            (.forward, .uio), (.irqfd, .uio), (.irqfd, .devmem), (.uio, .vfio), (.uio, .devmem),
        ]
        for i in InterruptMethod.allCases {
            for m in PassthroughMethod.allCases {
                let refused = impossible.contains { $0 == i && $1 == m }
                #expect((i.conflict(with: m) != nil) == refused, "interrupts \(i.rawValue) with passthrough \(m.rawValue)")
            }
        }
    }

    /// A plan that sets `interrupts` gets one report line per device naming
    /// both methods; a plan that does not has no such line (its report and
    /// record are what they were before the property existed).
    @Test func theReportNamesTheMethodsOnlyWhenThePlanSetsThem() throws {
        let text = { (extra: String) in
            planDTS(board: "linux,dummy-virt", guests: guestDTS(devices: deviceDTS("rtc", "/pl031@9010000", extra)))
        }
        let board = try realTree("qemu-virt-gicv3")
        let set = carve(board: board, plan: try parsedPlan(text("interrupts = \"forward\";")))
        #expect(Render.carveReport(set).contains("      interrupts by: forward (MMIO by auto)\n"), "\(Render.carveReport(set))")
        let record = try #require(set.host.map { try PartitionsRecord.read(from: $0) })
        #expect(record.guests.first?.devices.first?.interruptMethod == .forward)
        let unset = carve(board: board, plan: try parsedPlan(text("")))
        #expect(!Render.carveReport(unset).contains("interrupts by"))
        let host = try #require(unset.host)
        let node = try #require(host.lookup(path: "/chosen/cleave/g/devices/rtc"))
        #expect(!host.hasProperty("interrupt-method", of: node))
    }
}
