import Foundation
import Testing
import DeviceTree
@testable import Partitioning

/// Where a fixture's board tree comes from.
enum BoardSource {
    case dts(String, symbols: Bool = false)
    /// A tree in DeviceTrees/ (name without `.dtb`).
    case real(String)

    func load() throws -> DeviceTree {
        switch self {
        case .dts(let text, let symbols): return try dtsTree(text, symbols: symbols)
        case .real(let name): return try realTree(name)
        }
    }
}

/// A minimal board + plan that triggers one diagnostic.
struct DiagnosticFixture: CustomTestStringConvertible, @unchecked Sendable {
    var name: String
    var code: DiagnosticCode
    var severity: Severity
    /// The diagnostic's node path: a board path or `plan:/...`.
    var path: String
    var board: BoardSource
    var plan: String

    init(_ name: String, _ code: DiagnosticCode, _ severity: Severity, at path: String,
         board: BoardSource = .dts(boardDTS()), plan: String) {
        self.name = name
        self.code = code
        self.severity = severity
        self.path = path
        self.board = board
        self.plan = plan
    }

    var testDescription: String { "\(code.rawValue): \(name)" }

    /// Plan parsing diagnostics, then (when the plan parses) every check carving runs.
    func diagnostics() throws -> [Diagnostic] {
        let (plan, parsed) = Plan.parse(try dtsTree(self.plan))
        guard let plan else { return parsed }
        return parsed + check(board: try board.load(), plan: plan)
    }

    static let all: [DiagnosticFixture] = [
        // Plans
        DiagnosticFixture("kernel missing", .planInvalid, .error, at: "plan:/guests/g",
                          plan: planDTS(guests: "g { cpus = <1>; memory-size = /bits/ 64 <0x10000000>; };")),
        DiagnosticFixture("root compatible wrong", .planInvalid, .error, at: "plan:/",
                          plan: onePlan().replacingOccurrences(of: "cleave,plan-v1", with: "cleave,plan-v0")),
        DiagnosticFixture("board names another board", .boardMismatch, .error, at: "/",
                          plan: planDTS(board: "other,board", guests: guestDTS())),
        DiagnosticFixture("no GIC", .noGIC, .error, at: "/", board: .dts(noGICBoardDTS), plan: onePlan()),

        // Devices
        DiagnosticFixture("no such path", .deviceMissing, .error, at: "plan:/guests/g/dev",
                          plan: onePlan(deviceDTS("dev", "/nope@1234"))),
        DiagnosticFixture("no such alias", .deviceMissing, .error, at: "plan:/guests/g/dev",
                          plan: onePlan(deviceDTS("dev", "serial7"))),
        DiagnosticFixture("label on a tree without __symbols__", .deviceMissing, .error, at: "plan:/guests/g/dev",
                          plan: onePlan(deviceDTS("dev", "rtc"))),
        DiagnosticFixture("node that is not a device", .deviceMissing, .error, at: "/chosen",
                          plan: onePlan(deviceDTS("dev", "/chosen"))),
        DiagnosticFixture("device disabled itself", .deviceDisabled, .warning, at: "/off@9f20000",
                          board: .dts(boardDTS(extra: Snippet.disabled)), plan: onePlan(deviceDTS("dev", "/off@9f20000"))),
        DiagnosticFixture("device on a disabled bus", .deviceDisabled, .error, at: "/bus@9f30000/inner@0",
                          board: .dts(boardDTS(extra: Snippet.disabled)), plan: onePlan(deviceDTS("dev", "/bus@9f30000/inner@0"))),
        DiagnosticFixture("device given to two guests", .deviceAssignedTwice, .error, at: "/rtc@9010000",
                          plan: planDTS(guests: guestDTS("a", cpus: "1", devices: deviceDTS("rtc", "/rtc@9010000"))
                                        + guestDTS("b", cpus: "2", devices: deviceDTS("rtc", "rtc0")))),
        DiagnosticFixture("device listed twice in one guest", .deviceAssignedTwice, .error, at: "/rtc@9010000",
                          plan: onePlan(deviceDTS("one", "/rtc@9010000") + deviceDTS("two", "rtc0"))),
        DiagnosticFixture("device inside another assigned device", .deviceAssignedTwice, .error, at: "/parent@9200000/child@100",
                          board: .dts(boardDTS(extra: Snippet.parentWithChild)),
                          plan: onePlan(deviceDTS("parent", "/parent@9200000") + deviceDTS("child", "/parent@9200000/child@100"))),
        DiagnosticFixture("the GIC", .deviceHostOnly, .error, at: "/interrupt-controller@8000000",
                          plan: onePlan(deviceDTS("gic", "/interrupt-controller@8000000"))),
        DiagnosticFixture("a clock provider", .deviceHostOnly, .error, at: "/apb-pclk",
                          plan: onePlan(deviceDTS("clk", "/apb-pclk"))),
        DiagnosticFixture("no reg, no interrupts", .deviceNoRegisters, .error, at: "/thing",
                          board: .dts(boardDTS(extra: Snippet.noRegisters)), plan: onePlan(deviceDTS("thing", "/thing"))),

        // Interrupts and pages
        DiagnosticFixture("SPI shared with an enabled host device", .spiShared, .error, at: "/a@9200000",
                          board: .dts(boardDTS(extra: Snippet.sharedSPI)), plan: onePlan(deviceDTS("a", "/a@9200000"))),
        DiagnosticFixture("SPI shared with another guest's device", .spiShared, .error, at: "/b@9201000",
                          board: .dts(boardDTS(extra: Snippet.sharedSPI)),
                          plan: planDTS(guests: guestDTS("one", cpus: "1", devices: deviceDTS("a", "/a@9200000"))
                                        + guestDTS("two", cpus: "2", devices: deviceDTS("b", "/b@9201000")))),
        DiagnosticFixture("MMIO page shared with a host device, auto (trapped: VFIO/UIO)", .pageShared, .note, at: "/p@9300000",
                          board: .dts(boardDTS(extra: Snippet.sharedPage)), plan: onePlan(deviceDTS("p", "/p@9300000"))),
        DiagnosticFixture("MMIO page shared with a host device, devmem (whole pages mapped)", .pageShared, .warning, at: "/p@9300000",
                          board: .dts(boardDTS(extra: Snippet.sharedPage)),
                          plan: onePlan(deviceDTS("p", "/p@9300000", "passthrough = \"devmem\";"))),
        DiagnosticFixture("interrupts = uio with passthrough = vfio", .interruptMethodImpossible, .error, at: "plan:/guests/g/p",
                          board: .dts(boardDTS(extra: Snippet.sharedPage)),
                          plan: onePlan(deviceDTS("p", "/p@9300000", "passthrough = \"vfio\"; interrupts = \"uio\";"))),
        DiagnosticFixture("interrupts = forward with passthrough = uio (uio_pdrv_genirq holds the IRQ)", .interruptMethodImpossible, .error,
                          at: "plan:/guests/g/p", board: .dts(boardDTS(extra: Snippet.sharedPage)),
                          plan: onePlan(deviceDTS("p", "/p@9300000", "passthrough = \"uio\"; interrupts = \"forward\";"))),
        DiagnosticFixture("interrupt parent is a GPIO controller", .interruptParentNotGIC, .error, at: "/button@9410000",
                          board: .dts(boardDTS(extra: Snippet.gpioInterrupt)), plan: onePlan(deviceDTS("button", "/button@9410000"))),
        DiagnosticFixture("imx8mq-evk UART behind the GPC", .interruptParentNotGIC, .error, at: "/soc@0/bus@30800000/serial@30860000",
                          board: .real("imx8mq-evk"),
                          plan: planDTS(board: "fsl,imx8mq-evk", guests: guestDTS(cpus: "3", devices: deviceDTS("uart", "serial0", "clock-frequency = <25000000>;")))),
        DiagnosticFixture("tegra210 UART behind the legacy controller", .interruptParentNotGIC, .error, at: "/serial@70006000",
                          board: .real("tegra210-p3450-0000"),
                          plan: planDTS(board: "nvidia,p3450-0000", guests: guestDTS(cpus: "3", devices: deviceDTS("uart", "/serial@70006000", "clock-frequency = <408000000>;")))),
        DiagnosticFixture("a PPI", .interruptUnresolved, .error, at: "/ppi@9500000",
                          board: .dts(boardDTS(extra: Snippet.ppi)), plan: onePlan(deviceDTS("ppi", "/ppi@9500000"))),
        DiagnosticFixture("device on an I2C bus", .noCPUAddress, .error, at: "/i2c@9100000/sensor@48",
                          board: .dts(boardDTS(extra: Snippet.i2c)), plan: onePlan(deviceDTS("sensor", "/i2c@9100000/sensor@48"))),
        DiagnosticFixture("GICv2 with a 4 KiB CPU interface", .gicv2CPUInterfaceSmall, .error, at: "/interrupt-controller@8000000",
                          board: .dts(boardDTS(gic: .v2(cpuInterfaceSize: 0x1000))), plan: onePlan(deviceDTS("rtc", "rtc0"))),

        // DMA
        DiagnosticFixture("behind an SMMU", .iommuPresent, .warning, at: "/dma-dev@9700000",
                          board: .dts(boardDTS(extra: Snippet.iommu)), plan: onePlan(deviceDTS("dma", "/dma-dev@9700000"))),
        DiagnosticFixture("an Ethernet controller, no IOMMU", .iommuAbsent, .note, at: "/ethernet@9800000",
                          board: .dts(boardDTS(extra: Snippet.ethernet)), plan: onePlan(deviceDTS("eth", "/ethernet@9800000"))),

        // Memory
        DiagnosticFixture("size not a multiple of 2 MiB", .memoryMisaligned, .error, at: "plan:/guests/g",
                          plan: onePlan(memorySize: "0x10100000")),
        DiagnosticFixture("base not 2 MiB aligned", .memoryMisaligned, .error, at: "plan:/guests/g",
                          plan: onePlan(extra: "memory-base = /bits/ 64 <0x60001000>;")),
        DiagnosticFixture("base outside RAM", .memoryNotRAM, .error, at: "plan:/guests/g",
                          plan: onePlan(extra: "memory-base = /bits/ 64 <0x100000000>;")),
        DiagnosticFixture("two fixed guests overlap", .memoryOverlap, .error, at: "plan:/guests/b",
                          plan: planDTS(guests: guestDTS("a", cpus: "1", extra: "memory-base = /bits/ 64 <0x60000000>;")
                                        + guestDTS("b", cpus: "2", extra: "memory-base = /bits/ 64 <0x68000000>;"))),
        DiagnosticFixture("fixed base on reserved memory", .memoryOverlap, .error, at: "plan:/guests/g",
                          board: .dts(boardDTS(extra: Snippet.reservedMemory)),
                          plan: onePlan(extra: "memory-base = /bits/ 64 <0x70000000>;")),
        DiagnosticFixture("guests take all RAM", .memoryTooLarge, .error, at: "/memory",
                          plan: onePlan(memorySize: "0x40000000")),
        DiagnosticFixture("board tree without /memory", .memoryUnknown, .note, at: "plan:/guests/g",
                          board: .dts(boardDTS(memory: false)), plan: onePlan(memorySize: "0x4000000000")),
        DiagnosticFixture("fixed base", .memoryFixedBase, .note, at: "plan:/guests/g",
                          plan: onePlan(extra: "memory-base = /bits/ 64 <0x60000000>;")),

        // CPUs
        DiagnosticFixture("CPU 9 of 4", .cpuMissing, .error, at: "plan:/guests/g", plan: onePlan(cpus: "9")),
        DiagnosticFixture("CPU listed twice in a guest", .cpuAssignedTwice, .error, at: "plan:/guests/g", plan: onePlan(cpus: "1 1")),
        DiagnosticFixture("CPU given to two guests", .cpuAssignedTwice, .error, at: "/cpus/cpu@1",
                          plan: planDTS(guests: guestDTS("a", cpus: "1") + guestDTS("b", cpus: "1 2"))),
        DiagnosticFixture("CPU 0", .noHostCPU, .error, at: "plan:/guests/g", plan: onePlan(cpus: "0")),
        DiagnosticFixture("every CPU", .noHostCPU, .error, at: "plan:/guests/g", plan: onePlan(cpus: "0 1 2 3")),

        // Dependencies
        DiagnosticFixture("fixed clock becomes a stand-in", .clockStandIn, .note, at: "/rtc@9010000",
                          plan: onePlan(deviceDTS("rtc", "rtc0"))),
        DiagnosticFixture("clock controller without a rate", .clockNoRate, .error, at: "/tdev@9910000",
                          board: .dts(boardDTS(extra: Snippet.unratedClock)), plan: onePlan(deviceDTS("t", "/tdev@9910000"))),
        DiagnosticFixture("pinctrl-0", .pinctrlDropped, .warning, at: "/pdev@9a10000",
                          board: .dts(boardDTS(extra: Snippet.pinctrl)), plan: onePlan(deviceDTS("p", "/pdev@9a10000"))),
        DiagnosticFixture("resets", .resetDropped, .warning, at: "/rdev@9b10000",
                          board: .dts(boardDTS(extra: Snippet.reset)), plan: onePlan(deviceDTS("r", "/rdev@9b10000"))),
        DiagnosticFixture("power-domains", .powerDomainKept, .warning, at: "/pddev@9c10000",
                          board: .dts(boardDTS(extra: Snippet.powerDomain)), plan: onePlan(deviceDTS("p", "/pddev@9c10000"))),
        DiagnosticFixture("vdd-supply", .supplyKept, .warning, at: "/sdev@9d10000",
                          board: .dts(boardDTS(extra: Snippet.supply)), plan: onePlan(deviceDTS("s", "/sdev@9d10000"))),
        DiagnosticFixture("dmas to a host DMA controller", .referenceDropped, .warning, at: "/ddev@9e10000",
                          board: .dts(boardDTS(extra: Snippet.dma)), plan: onePlan(deviceDTS("d", "/ddev@9e10000"))),
        DiagnosticFixture("host node uses the guest's GPIO controller", .referenceDropped, .warning, at: "/keys/power",
                          board: .dts(boardDTS(extra: Snippet.gpioKeys)), plan: onePlan(deviceDTS("gpio", "gpio0"))),
        DiagnosticFixture("phandle no node has", .referenceBroken, .warning, at: "/bdev@9f10000",
                          board: .dts(boardDTS(extra: Snippet.brokenReference)), plan: onePlan(deviceDTS("b", "/bdev@9f10000"))),
        DiagnosticFixture("device with a child node", .childrenMoved, .note, at: "/parent@9200000",
                          board: .dts(boardDTS(extra: Snippet.parentWithChild)), plan: onePlan(deviceDTS("parent", "/parent@9200000"))),

        // Console and GPIO lines
        DiagnosticFixture("console is a UART the guest does not own", .consoleInvalid, .error, at: "plan:/guests/g",
                          plan: onePlan(deviceDTS("rtc", "rtc0"), extra: "console = \"serial0\";")),
        DiagnosticFixture("the host's console UART is the guest's", .hostConsoleMoved, .warning, at: "/chosen",
                          plan: onePlan(deviceDTS("uart", "serial0"), extra: "console = \"serial0\";")),
        DiagnosticFixture("GPIO chip that does not exist", .gpioLineInvalid, .error, at: "plan:/guests/g/gpio-lines/key",
                          plan: onePlan("gpio-lines { key { chip = \"/nope\"; lines = <3>; }; };")),
    ]
}

@Suite("Diagnostics: every code has a triggering fixture")
struct DiagnosticTests {
    @Test("fixture triggers its diagnostic", arguments: DiagnosticFixture.all)
    func triggers(_ fixture: DiagnosticFixture) throws {
        let diagnostics = try fixture.diagnostics()
        let match = diagnostics.first { $0.code == fixture.code && $0.path == fixture.path }
        #expect(match != nil, "no [\(fixture.code.rawValue)] at \(fixture.path); got:\n\(Render.diagnostics(diagnostics))")
        if let match {
            #expect(match.severity == fixture.severity, "\(match)")
            #expect(!match.message.isEmpty)
            if match.severity != .note { #expect(!match.hint.isEmpty, "an \(match.severity) without a fix hint: \(match)") }
        }
        // Carving refuses exactly when there is an error.
        if let plan = Plan.parse(try dtsTree(fixture.plan)).plan {
            let result = carve(board: try fixture.board.load(), plan: plan)
            #expect((result.host == nil) == result.diagnostics.hasErrors)
            #expect(result.guests.isEmpty == result.diagnostics.hasErrors)
        }
    }

    @Test("every DiagnosticCode case has a fixture in DiagnosticFixture.all")
    func everyCodeCovered() {
        for code in DiagnosticCode.allCases {
            #expect(DiagnosticFixture.all.contains { $0.code == code },
                    "no fixture triggers [\(code.rawValue)]: add a minimal board + plan for it to DiagnosticFixture.all")
        }
    }

    /// Fixtures whose diagnostic is an error do not carve (`triggers` checks
    /// that carving refuses them); every other fixture must carve.
    @Test("every fixture without an error carves to DTBs dtc accepts",
          arguments: DiagnosticFixture.all.filter { $0.severity != .error })
    func carvedFixturesDecompile(_ fixture: DiagnosticFixture) throws {
        let plan = try #require(Plan.parse(try dtsTree(fixture.plan)).plan, "the fixture's plan does not parse")
        let result = carve(board: try fixture.board.load(), plan: plan)
        let host = try #require(result.host, "carving refused:\n\(Render.diagnostics(result.diagnostics))")
        for (name, bytes) in [("host", host.bytes)] + result.guests.map({ ($0.name, $0.tree.bytes) }) {
            let out = try decompile(bytes)
            #expect(out.status == 0 && !out.stderr.contains("ERROR"), "\(name): \(out.stderr)")
        }
    }

    // MARK: Details the table does not show

    @Test("a shared SPI is not an error when every sharer goes to the same guest")
    func spiSharedSameGuest() throws {
        let board = try dtsTree(boardDTS(extra: Snippet.sharedSPI))
        let plan = try parsedPlan(onePlan(deviceDTS("a", "/a@9200000") + deviceDTS("b", "/b@9201000")))
        let (result, host) = try carveOK(board, plan)
        #expect(!result.diagnostics.contains { $0.code == .spiShared })
        let guest = try #require(result.guests.first?.tree)
        for path in ["/a@9200000", "/b@9201000"] {
            #expect(host.isHeldFromHost(path))
            let node = try #require(guest.lookup(path: path), "\(path) missing from the guest")
            #expect(gicINTIDs(guest, node) == [62])
        }
    }

    @Test("a shared SPI with a disabled device is not shared")
    func spiSharedWithDisabledDevice() throws {
        let text = boardDTS(extra: Snippet.sharedSPI.replacingOccurrences(
            of: "compatible = \"test,b\";", with: "compatible = \"test,b\"; status = \"disabled\";"))
        let plan = try parsedPlan(onePlan(deviceDTS("a", "/a@9200000")))
        let diagnostics = check(board: try dtsTree(text), plan: plan)
        #expect(!diagnostics.contains { $0.code == .spiShared }, "\(diagnostics)")
    }

    @Test("SPI shared between two guests is reported for both devices")
    func spiSharedBothGuests() throws {
        let board = try dtsTree(boardDTS(extra: Snippet.sharedSPI))
        let plan = try parsedPlan(planDTS(guests: guestDTS("one", cpus: "1", devices: deviceDTS("a", "/a@9200000"))
                                          + guestDTS("two", cpus: "2", devices: deviceDTS("b", "/b@9201000"))))
        let shared = check(board: board, plan: plan).filter { $0.code == .spiShared }
        #expect(Set(shared.map(\.path)) == ["/a@9200000", "/b@9201000"])
        #expect(shared.allSatisfy { $0.severity == .error })
        #expect(shared.first { $0.path == "/a@9200000" }?.message.contains("guest 'two'") == true)
    }

    @Test("page sharing is not reported when the page's other device goes to the same guest")
    func pageSharedSameGuest() throws {
        let board = try dtsTree(boardDTS(extra: Snippet.sharedPage))
        let plan = try parsedPlan(onePlan(deviceDTS("p", "/p@9300000") + deviceDTS("q", "/q@9300800")))
        #expect(!check(board: board, plan: plan).contains { $0.code == .pageShared })
    }

    @Test("page-shared says what the plan's passthrough method does with the page", arguments: [
        // (passthrough, device, severity, words the message must have)
        ("auto", "/p@9300000", "note", ["VFIO or UIO takes the device", "traps", "cannot reach"]),
        ("vfio", "/p@9300000", "note", ["passthrough \"vfio\"", "traps", "forwards only those bytes", "exit to the supervisor"]),
        ("uio", "/p@9300000", "note", ["passthrough \"uio\"", "traps", "forwards only those bytes", "exit to the supervisor"]),
        ("devmem", "/p@9300000", "warning", ["passthrough \"devmem\"", "maps whole pages from /dev/mem", "can reach those registers"]),
        ("auto", "/r@9300400", "warning", ["falls back to /dev/mem", "can reach those registers"]),
        ("vfio", "/w@9310000", "warning", ["covers whole pages", "every passthrough method maps them"]),
    ])
    func pageSharedPerBackend(_ method: String, _ device: String, _ severity: String, _ words: [String]) throws {
        // p: 0x100 bytes with an SPI; r: 0x100 bytes, no interrupts; w: a whole
        // page that x's registers overlap.
        let extra = Snippet.sharedPage + """
                r@9300400 { compatible = "test,r"; reg = <0 0x9300400 0 0x100>; };
                w@9310000 { compatible = "test,w"; reg = <0 0x9310000 0 0x1000>; interrupts = <0 40 4>; };
                x@9310800 { compatible = "test,x"; reg = <0 0x9310800 0 0x100>; };
            """
        let board = try dtsTree(boardDTS(extra: extra))
        let plan = try parsedPlan(onePlan(deviceDTS("d", device, "passthrough = \"\(method)\";")))
        let shared = check(board: board, plan: plan).filter { $0.code == .pageShared }
        let finding = try #require(shared.first, "no page-shared for \(device) with passthrough \(method)")
        #expect(shared.count == 1, "\(shared)")
        #expect(finding.path == device)
        #expect(finding.severity.description == severity, "\(finding)")
        for word in words { #expect(finding.message.contains(word), "'\(word)' not in: \(finding.message)") }
        #expect(!finding.hint.isEmpty)
        if severity == "warning" {
            #expect(finding.hint.contains("passthrough = \"vfio\"") || finding.hint.contains("'reg'"), "\(finding.hint)")
        }
    }

    @Test("a board tree without /memory: memory-unknown per guest, not memory-too-large")
    func memoryUnknown() throws {
        let board = try dtsTree(boardDTS(memory: false))
        let plan = try parsedPlan(planDTS(guests: guestDTS("a", cpus: "1", memorySize: "0x4000000000")
                                          + guestDTS("b", cpus: "2", memorySize: "0x10000000")))
        let diagnostics = check(board: board, plan: plan)
        #expect(!diagnostics.contains { $0.code == .memoryTooLarge })
        let unknown = diagnostics.filter { $0.code == .memoryUnknown }
        #expect(unknown.map(\.path) == ["plan:/guests/a", "plan:/guests/b"])
        #expect(unknown.allSatisfy { $0.severity == .note && $0.message.contains("no /memory node") && $0.message.contains("boot checks it") })
        #expect(unknown.first?.message.contains("0x4000000000 (262144 MiB)") == true, "\(unknown)")
        // With /memory the size is checked at once.
        let checked = check(board: try dtsTree(boardDTS()), plan: plan)
        #expect(!checked.contains { $0.code == .memoryUnknown })
        #expect(checked.contains { $0.code == .memoryTooLarge && $0.severity == .error })
    }

    @Test("a label resolves when the board tree has __symbols__")
    func labelWithSymbols() throws {
        let board = try dtsTree(boardDTS(), symbols: true)
        let plan = try parsedPlan(onePlan(deviceDTS("rtc", "rtc")))
        let (result, host) = try carveOK(board, plan)
        #expect(host.isHeldFromHost("/rtc@9010000"))
        #expect(result.report.guests.first?.devices.first?.path == "/rtc@9010000")
    }

    @Test("a label works on tegra210, the real tree with __symbols__")
    func realLabel() throws {
        let tree = try realTree("tegra210-p3450-0000")
        let board = Board(tree)
        let node = try #require(board.resolve("uarta"))
        #expect(tree.path(of: node) == "/serial@70006000")
        #expect(board.resolve("no-such-label") == nil)
    }

    @Test("imx8mq-evk: the GIC is found although the root interrupt parent is the GPC")
    func realInterruptParents() throws {
        let tree = try realTree("imx8mq-evk")
        let board = Board(tree)
        // The root interrupt parent is the GPC; the GIC is still found.
        #expect(board.gic?.version == .v3)
        #expect(tree.path(of: try #require(board.gic).node) == "/soc@0/interrupt-controller@38800000")
    }

    @Test("the no-host-cpu error for every CPU does not also say the CPUs are missing")
    func allCPUs() throws {
        let diagnostics = check(board: try dtsTree(boardDTS()), plan: try parsedPlan(onePlan(cpus: "0 1 2 3")))
        #expect(diagnostics.contains { $0.code == .noHostCPU })
        #expect(!diagnostics.contains { $0.code == .cpuMissing })
    }

    @Test("clock-no-rate turns into a stand-in with the plan's clock-frequency, or the device's assigned-clock-rates")
    func clockRates() throws {
        let board = try dtsTree(boardDTS(extra: Snippet.unratedClock))
        let plan = try parsedPlan(onePlan(deviceDTS("t", "/tdev@9910000", "clock-frequency = <50000000>;")))
        let (result, _) = try carveOK(board, plan)
        let stand = try #require(result.report.guests.first?.standInClocks.first)
        #expect(stand.rate == 50_000_000)
        #expect(result.diagnostics.contains { $0.code == .clockStandIn && $0.path == "/tdev@9910000" })

        let assigned = try dtsTree(boardDTS(extra: Snippet.unratedClock.replacingOccurrences(
            of: "clock-names = \"core\";",
            with: "clock-names = \"core\"; assigned-clocks = <&cru 5>; assigned-clock-rates = <75000000>;")))
        let (result2, _) = try carveOK(assigned, try parsedPlan(onePlan(deviceDTS("t", "/tdev@9910000"))))
        #expect(result2.report.guests.first?.standInClocks.first?.rate == 75_000_000)
        let guest = try #require(result2.guests.first?.tree)
        let node = try #require(guest.lookup(path: "/tdev@9910000"))
        #expect(!guest.hasProperty("assigned-clocks", of: node))
        #expect(!guest.hasProperty("assigned-clock-rates", of: node))
    }

    @Test("supply-kept: the host tree marks the regulator regulator-always-on, and says so")
    func supplyKeptHost() throws {
        let board = try dtsTree(boardDTS(extra: Snippet.supply))
        let (result, host) = try carveOK(board, try parsedPlan(onePlan(deviceDTS("s", "/sdev@9d10000"))))
        let regulator = try #require(host.lookup(path: "/regulator-vcc"))
        #expect(host.hasProperty("regulator-always-on", of: regulator))
        #expect(!board.hasProperty("regulator-always-on", of: try #require(board.lookup(path: "/regulator-vcc"))))
        #expect(result.report.hostEdits.contains { $0.path == "/regulator-vcc" && $0.property == "regulator-always-on" })
        let guest = try #require(result.guests.first?.tree)
        #expect(!guest.hasProperty("vdd-supply", of: try #require(guest.lookup(path: "/sdev@9d10000"))))
    }

    @Test("power-domain-kept and clock stand-ins keep the host from switching them off")
    func keepAliveBootargs() throws {
        let board = try dtsTree(boardDTS(extra: Snippet.powerDomain))
        let (result, _) = try carveOK(board, try parsedPlan(onePlan(deviceDTS("p", "/pddev@9c10000") + deviceDTS("rtc", "rtc0"))))
        let args = tokens(result.report.hostBootargs)
        #expect(args.contains("pd_ignore_unused"))
        #expect(args.contains("clk_ignore_unused"))
        let guest = try #require(result.guests.first?.tree)
        #expect(!guest.hasProperty("power-domains", of: try #require(guest.lookup(path: "/pddev@9c10000"))))
    }

    @Test("pinctrl, resets and dmas are dropped from the guest with their -names companions")
    func droppedProperties() throws {
        let board = try dtsTree(boardDTS(extra: Snippet.pinctrl + Snippet.reset + Snippet.dma))
        let plan = try parsedPlan(onePlan(deviceDTS("p", "/pdev@9a10000") + deviceDTS("r", "/rdev@9b10000") + deviceDTS("d", "/ddev@9e10000")))
        let (result, _) = try carveOK(board, plan)
        let guest = try #require(result.guests.first?.tree)
        for (path, gone) in [("/pdev@9a10000", ["pinctrl-0", "pinctrl-names"]), ("/rdev@9b10000", ["resets", "reset-names"]),
                             ("/ddev@9e10000", ["dmas", "dma-names"])] {
            let node = try #require(guest.lookup(path: path))
            for name in gone { #expect(!guest.hasProperty(name, of: node), "\(path) still has \(name)") }
            #expect(result.report.guests[0].dropped.contains { $0.path == path && gone.contains($0.property) })
        }
    }

    @Test("gpio-line-invalid: out of range, a chip the guest owns, a disabled chip, a node that is not a chip, a line the host uses, a line given twice")
    func gpioLines() throws {
        let board = try dtsTree(boardDTS(extra: """
            gpio@9f40000 { compatible = "test,gpio"; reg = <0 0x9f40000 0 0x1000>; gpio-controller; #gpio-cells = <2>; status = "disabled"; };
            phy@9f50000 { compatible = "test,phy"; reg = <0 0x9f50000 0 0x1000>; reset-gpios = <&gpio 6 0>; };
        """))
        let cases: [(String, String, String)] = [
            ("gpio-lines { key { chip = \"gpio0\"; lines = <9>; }; };", "", "out of range"),
            ("gpio-lines { key { chip = \"gpio0\"; lines = <3>; }; };", deviceDTS("gpio", "gpio0"), "passed through"),
            ("gpio-lines { key { chip = \"/gpio@9f40000\"; lines = <1>; }; };", "", "disabled"),
            ("gpio-lines { key { chip = \"rtc0\"; lines = <1>; }; };", "", "not a GPIO controller"),
            ("gpio-lines { key { chip = \"gpio0\"; lines = <6>; }; };", "", "used by the host: /phy@9f50000 reset-gpios"),
            ("gpio-lines { key { chip = \"gpio0\"; lines = <2 2>; }; };", "", "given twice"),
        ]
        for (lines, devices, words) in cases {
            let diagnostics = check(board: board, plan: try parsedPlan(onePlan(lines + devices)))
            let hit = diagnostics.first { $0.code == .gpioLineInvalid }
            #expect(hit?.path == "plan:/guests/g/gpio-lines/key" && hit?.severity == .error, "\(lines): \(diagnostics)")
            #expect(hit?.message.contains(words) == true, "\(hit?.message ?? "none") should say '\(words)'")
        }
        // `cleave devices` lists the controller's lines and the host's users of them.
        #expect(Render.devices(Board(board)).contains("gpio lines: 8; used by the host: 6 /phy@9f50000 reset-gpios\n"))
        #expect(Render.devicesJSON(Board(board)).contains(#""gpio":{"lines":8,"used-by-host":[{"line":6,"by":"/phy@9f50000 reset-gpios"}]}"#))
        // A valid group carves and is embedded for the boot-time side.
        let (_, host) = try carveOK(board, try parsedPlan(onePlan("gpio-lines { key { chip = \"gpio0\"; lines = <3 4>; direction = \"output\"; }; };")))
        #expect(host.string("/chosen/cleave/g/gpio-lines/key", "chip") == "/gpio@9030000")
        #expect(host.string("/chosen/cleave/g/gpio-lines/key", "direction") == "output")
        #expect(host.lookup(path: "/chosen/cleave/g/gpio-lines/key").flatMap { host.property("lines", of: $0)?.cells } == [3, 4])
    }

    @Test("gpio-line-invalid for control lines: the gpio-lines checks, and a line that is also one of the guest's gpio-lines or another control line")
    func controlLines() throws {
        let board = try dtsTree(boardDTS(extra: """
            gpio@9f40000 { compatible = "test,gpio"; reg = <0 0x9f40000 0 0x1000>; gpio-controller; #gpio-cells = <2>; status = "disabled"; };
            phy@9f50000 { compatible = "test,phy"; reg = <0 0x9f50000 0 0x1000>; reset-gpios = <&gpio 6 0>; };
        """))
        let cases: [(String, String, String, String)] = [
            ("control-lines { reset { chip = \"gpio0\"; line = <9>; }; };", "", "reset", "line 9 is out of range: /gpio@9030000 has 8 lines"),
            ("control-lines { power { chip = \"gpio0\"; line = <3>; }; };", deviceDTS("gpio", "gpio0"), "power", "passed through"),
            ("control-lines { reset { chip = \"/gpio@9f40000\"; line = <1>; }; };", "", "reset", "disabled"),
            ("control-lines { heartbeat { chip = \"rtc0\"; line = <1>; period-ms = <100>; }; };", "", "heartbeat", "chip 'rtc0' is not a GPIO controller"),
            ("control-lines { reset { chip = \"gpio0\"; line = <6>; }; };", "", "reset", "used by the host: /phy@9f50000 reset-gpios"),
            ("gpio-lines { key { chip = \"gpio0\"; lines = <2>; }; }; control-lines { reset { chip = \"gpio0\"; line = <2>; }; };", "", "reset",
             "line 2 of /gpio@9030000 is given twice: also to plan:/guests/g/gpio-lines/key"),
            ("control-lines { reset { chip = \"gpio0\"; line = <2>; }; power { chip = \"/gpio@9030000\"; line = <2>; }; };", "", "power",
             "line 2 of /gpio@9030000 is given twice: also to plan:/guests/g/control-lines/reset"),
        ]
        for (lines, devices, role, words) in cases {
            let diagnostics = check(board: board, plan: try parsedPlan(onePlan(lines + devices)))
            let hit = diagnostics.first { $0.code == .gpioLineInvalid }
            #expect(hit?.path == "plan:/guests/g/control-lines/\(role)" && hit?.severity == .error, "\(lines): \(diagnostics)")
            #expect(hit?.message.contains(words) == true, "\(hit?.message ?? "none") should say '\(words)'")
            #expect(hit?.hint.isEmpty == false)
        }
        // Valid control lines carve and are recorded by role, the chip as a board path.
        let (result, host) = try carveOK(board, try parsedPlan(onePlan("control-lines { reset { chip = \"gpio0\"; line = <4>; active-low; hold-ms = <30>; }; heartbeat { chip = \"gpio0\"; line = <5>; period-ms = <100>; }; };")))
        #expect(Render.carveReport(result).contains("  control lines:\n    reset: /gpio@9030000 line 4, active low, hold-ms 30\n    heartbeat: /gpio@9030000 line 5, active high, period-ms 100\n"))
        let reset = "/chosen/cleave/g/control-lines/reset"
        #expect(host.string(reset, "chip") == "/gpio@9030000")
        #expect(host.lookup(path: reset).flatMap { host.property("line", of: $0)?.u32 } == 4)
        #expect(host.lookup(path: reset).flatMap { host.property("hold-ms", of: $0)?.u32 } == 30)
        #expect(host.lookup(path: reset).map { host.hasProperty("active-low", of: $0) } == true)
        #expect(host.lookup(path: "/chosen/cleave/g/control-lines/heartbeat").flatMap { host.property("period-ms", of: $0)?.u32 } == 100)
        #expect(host.lookup(path: "/chosen/cleave/g/control-lines/power") == nil)
    }

    @Test("GPIO lines: a virtual PL061 per 8 lines in the guest tree, below the console page, on the lowest free SPIs; recorded for boot")
    func gpioControllers() throws {
        let board = try dtsTree(boardDTS(extra: """
            gpio@9f60000 { compatible = "test,gpio"; reg = <0 0x9f60000 0 0x1000>; gpio-controller; #gpio-cells = <2>; ngpios = <32>; };
        """))
        // Line 5 twice in one guest: refused.
        let twice = try parsedPlan(onePlan("gpio-lines { power { chip = \"gpio0\"; lines = <0 5>; direction = \"output\"; }; more { chip = \"/gpio@9030000\"; lines = <5>; }; };"))
        #expect(check(board: board, plan: twice).contains { $0.code == .gpioLineInvalid && $0.message.contains("line 5 of /gpio@9030000 is given twice") })

        let plan = try parsedPlan(onePlan("gpio-lines { power { chip = \"gpio0\"; lines = <0 1 2 3 4 5>; direction = \"output\"; }; key { chip = \"gpio0\"; lines = <7>; }; more { chip = \"/gpio@9f60000\"; lines = <6 9>; }; };"))
        let (result, host) = try carveOK(board, plan)
        let guest = result.guests[0].tree
        let record = try #require(host.lookup(path: "/chosen/cleave/g"))
        let consoleCells = try #require(host.property("console-base", of: record)?.cells)
        let consoleBase = UInt64(consoleCells[0]) << 32 | UInt64(consoleCells[1])
        let consoleSPI = try #require(host.property("console-spi", of: record)?.u32)
        // Nine lines: two controllers, the pages below the console's, the SPIs after its own.
        let first = try #require(guest.lookup(path: "/gpio@" + String(consoleBase - 0x1000, radix: 16)))
        let second = try #require(guest.lookup(path: "/gpio@" + String(consoleBase - 0x2000, radix: 16)))
        #expect(guest.property("compatible", of: first)?.strings == ["arm,pl061", "arm,primecell"])
        #expect(guest.property("gpio-line-names", of: first)?.strings == ["power-0", "power-1", "power-2", "power-3", "power-4", "power-5", "key", "more-0"])
        #expect(guest.property("gpio-line-names", of: second)?.strings == ["more-1"])
        // The lowest SPIs neither the console (0) nor the board's devices (1 and 2, the UART's and the RTC's) use.
        #expect(consoleSPI == 0)
        #expect(guest.property("interrupts", of: first)?.cells == [0, 3, 4])
        #expect(guest.property("interrupts", of: second)?.cells == [0, 4, 4])
        let clock = try #require(guest.property("clocks", of: first)?.u32)
        let pclk = try #require(guest.node(phandle: clock))
        #expect(guest.property("compatible", of: pclk)?.string == "fixed-clock")
        #expect(guest.property("clock-names", of: first)?.string == "apb_pclk")
        let lines = try #require(host.lookup(path: "/chosen/cleave/g/gpio-lines"))
        let top = UInt32(truncatingIfNeeded: (consoleBase - 0x1000) >> 32)
        #expect(host.property("controllers", of: lines)?.cells
                == [top, UInt32(truncatingIfNeeded: consoleBase - 0x1000), 3,
                    top, UInt32(truncatingIfNeeded: consoleBase - 0x2000), 4])
        // The carve report lists each controller with its page, SPI and the board line behind each guest line.
        let report = Render.carveReport(result)
        let hex = { (v: UInt64) in "0x" + String(v, radix: 16) }
        #expect(report.contains("  gpio lines (virtual PL061s):\n    \(hex(consoleBase - 0x1000)), SPI 3 (INTID 35):\n      0 power-0: /gpio@9030000 line 0, output\n"), "\(report)")
        #expect(report.contains("      6 key: /gpio@9030000 line 7, input\n      7 more-0: /gpio@9f60000 line 6, input\n    \(hex(consoleBase - 0x2000)), SPI 4 (INTID 36):\n      0 more-1: /gpio@9f60000 line 9, input\n"), "\(report)")
    }

    @Test("console-invalid when no page below 4 GiB is free for the virtual console")
    func consoleNoRoom() throws {
        let board = try dtsTree(boardDTS(extra: """
            huge@1000 { compatible = "test,huge"; reg = <0 0x0 0 0x40000000>, <0 0x80000000 0 0x80000000>; };
        """))
        let diagnostics = check(board: board, plan: try parsedPlan(onePlan()))
        #expect(diagnostics.contains { $0.code == .consoleInvalid && $0.path == "/" && $0.severity == .error }, "\(diagnostics)")
        // A passed-through console needs no page.
        let plan = try parsedPlan(onePlan(deviceDTS("uart", "serial0", "clock-frequency = <24000000>;"), extra: "console = \"serial0\";"))
        #expect(!check(board: board, plan: plan).contains { $0.code == .consoleInvalid })
    }

    @Test("a passed-through UART as the guest's console: the guest's stdout-path is the UART; the host's stdout-path, the same UART, is dropped")
    func passedThroughConsole() throws {
        let board = try dtsTree(boardDTS(bootargs: "console=hvc0"))
        let plan = try parsedPlan(onePlan(deviceDTS("uart", "serial0"), extra: "console = \"serial0\";"))
        let (result, host) = try carveOK(board, plan)
        let moved = result.diagnostics.first { $0.code == .hostConsoleMoved }
        #expect(moved?.message.contains("/serial@9000000 (stdout-path \"serial0\") is passed through to guest 'g'") == true, "\(result.diagnostics)")
        #expect(moved?.message.contains("(console=hvc0: check that is not the same UART)") == true)
        #expect(host.lookup(path: "/chosen").map { host.hasProperty("stdout-path", of: $0) } == false)
        #expect(result.report.hostEdits.contains { $0.path == "/chosen" && $0.property == "stdout-path" })
        #expect(host.string("/chosen/cleave/g", "console") == "/serial@9000000")
        let guest = result.guests[0].tree
        #expect(guest.lookup(path: "/chosen").flatMap { guest.property("stdout-path", of: $0)?.string } == "/serial@9000000")
        #expect(guest.lookup(path: "/serial@9000000") != nil)
        // Another UART given to the guest leaves the host's console alone.
        let other = try dtsTree(boardDTS(extra: "uart1: serial@9040000 { compatible = \"arm,pl011\", \"arm,primecell\"; reg = <0 0x9040000 0 0x1000>; interrupts = <0 8 4>; clocks = <&clk>, <&clk>; clock-names = \"uartclk\", \"apb_pclk\"; };"))
        let (kept, keptHost) = try carveOK(other, try parsedPlan(onePlan(deviceDTS("uart", "/serial@9040000"), extra: "console = \"/serial@9040000\";")))
        #expect(!kept.diagnostics.contains { $0.code == .hostConsoleMoved })
        #expect(keptHost.lookup(path: "/chosen").flatMap { keptHost.property("stdout-path", of: $0)?.string } == "serial0")
    }

    @Test("interrupt-unresolved: an interrupt-parent phandle no node has")
    func unresolvedParent() throws {
        let board = try dtsTree(boardDTS(extra: """
            lost@9f50000 { compatible = "test,lost"; reg = <0 0x9f50000 0 0x1000>; interrupt-parent = <0x777>; interrupts = <0 63 4>; };
        """))
        let diagnostics = check(board: board, plan: try parsedPlan(onePlan(deviceDTS("lost", "/lost@9f50000"))))
        #expect(diagnostics.contains { $0.code == .interruptUnresolved && $0.path == "/lost@9f50000" && $0.severity == .error }, "\(diagnostics)")
    }

    @Test("iommu-absent says the board has an IOMMU the device is not behind")
    func iommuAbsentWithSMMU() throws {
        let board = try dtsTree(boardDTS(extra: Snippet.iommu + Snippet.ethernet))
        let diagnostics = check(board: board, plan: try parsedPlan(onePlan(deviceDTS("eth", "/ethernet@9800000"))))
        let note = try #require(diagnostics.first { $0.code == .iommuAbsent })
        #expect(note.message.contains("not behind the board's IOMMU"))
    }

    @Test("diagnostics come sorted: errors, then warnings, then notes")
    func sortedDiagnostics() throws {
        let board = try dtsTree(boardDTS(extra: Snippet.sharedPage + Snippet.pinctrl))
        let plan = try parsedPlan(onePlan(deviceDTS("p", "/p@9300000") + deviceDTS("pd", "/pdev@9a10000"), cpus: "0",
                                          extra: "memory-base = /bits/ 64 <0x60000000>;"))
        let severities = check(board: board, plan: plan).map(\.severity)
        #expect(severities.contains(.error) && severities.contains(.warning) && severities.contains(.note))
        #expect(severities == severities.sorted(by: >))
    }

    @Test("a device split from its parent across two guests is refused")
    func nestedAcrossGuests() throws {
        let board = try dtsTree(boardDTS(extra: Snippet.parentWithChild))
        let plan = try parsedPlan(planDTS(guests: guestDTS("a", cpus: "1", devices: deviceDTS("parent", "/parent@9200000"))
                                          + guestDTS("b", cpus: "2", devices: deviceDTS("child", "/parent@9200000/child@100"))))
        let diagnostics = check(board: board, plan: plan)
        #expect(diagnostics.contains { $0.code == .deviceAssignedTwice && $0.path == "/parent@9200000/child@100" && $0.severity == .error },
                "\(diagnostics)")
    }
}
