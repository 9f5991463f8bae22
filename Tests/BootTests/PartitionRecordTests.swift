import Foundation
import Testing
import DeviceTree
import GuestTree
import Partitioning
import PartitionRecord
import Passthrough
import Platform
@testable import Supervisor

/// The carve-to-boot record (/chosen/cleave, `cleave,partitions-v1`): what
/// carving writes, read back as `cleave boot` reads it.
///
/// The fixture carves the TI AM654 EVM (four CPUs, RAM at 0x80000000) into
/// three guests that use every field between them: a fixed and a pooled
/// memory base, each hugepage size, an initrd, every restart policy, every
/// passthrough method, every interrupt method (auto by default, forward with
/// vfio and with devmem, uio with uio, irqfd with auto MMIO),
/// allow-unbind, devices with two and four MMIO windows,
/// level and edge SPIs, GPIO lines of both directions, `no-pmu` (the
/// board's PMU, arm,cortex-a53-pmu on PPI 7, for the other two),
/// `sve-max-vl` capped and 0 (absent on the third: every length) and
/// `no-ptrauth` (on the third), `ram-scrub` none (on the second; the
/// others by default: zero).
enum RecordFixture {
    static let board = "k3-am654-base-board.dtb"

    static let plan = """
        /dts-v1/;
        / {
            compatible = "cleave,plan-v1";
            board = "ti,am654-evm";
            guests {
                fixed {
                    cpus = <1>;
                    memory-size = /bits/ 64 <0x10000000>;
                    memory-base = /bits/ 64 <0xc0000000>;
                    kernel = "/boot/guests/Image";
                    initrd = "/boot/guests/initrd.cpio";
                    bootargs = "console=ttyS0 earlycon";
                    restart = "never";
                    sve-max-vl = <256>;
                    uart { device = "serial3"; };
                    audio { device = "/bus@100000/mcasp@2b00000"; passthrough = "vfio"; interrupts = "forward"; allow-unbind; clock-frequency = <96000000>; };
                };
                pooled {
                    cpus = <2>;
                    memory-size = /bits/ 64 <0x4000000>;
                    hugepage-size = <0x2000000>;
                    kernel = "/boot/guests/other";
                    restart = "always";
                    max-restarts = <3>;
                    no-pmu;
                    sve-max-vl = <0>;
                    ram-scrub = "none";
                    i2c { device = "/bus@100000/i2c@2010000"; clock-frequency = <96000000>; passthrough = "uio"; interrupts = "uio"; };
                    can { device = "/bus@100000/bus@28380000/mcan@40528000"; passthrough = "devmem"; interrupts = "forward"; clock-frequency = <40000000>; };
                };
                lines {
                    cpus = <3>;
                    memory-size = /bits/ 64 <0x40000000>;
                    hugepage-size = /bits/ 64 <0x40000000>;
                    kernel = "/k";
                    restart = "on-failure";
                    no-ptrauth;
                    pcie { device = "/bus@100000/pcie@5500000"; clock-frequency = <100000000>; interrupts = "irqfd"; };
                    gpio-lines {
                        power { chip = "/bus@100000/gpio@600000"; lines = <3 5>; direction = "output"; };
                        sense { chip = "/bus@100000/gpio@601000"; lines = <1>; };
                    };
                    control-lines {
                        reset { chip = "/bus@100000/gpio@601000"; line = <2>; active-low; hold-ms = <50>; };
                        power { chip = "/bus@100000/gpio@600000"; line = <4>; };
                        heartbeat { chip = "/bus@100000/gpio@601000"; line = <6>; period-ms = <250>; };
                    };
                };
            };
        };
        """

    /// The plan, the carve and its host tree written to a temporary file.
    static func carved() throws -> (plan: Plan, result: CarveResult, host: DeviceTree, path: String, directory: URL) {
        try carve(board: board, plan: plan)
    }

    static func carve(board: String, plan text: String) throws -> (plan: Plan, result: CarveResult, host: DeviceTree, path: String, directory: URL) {
        let parsed = Plan.parse(try DeviceTree(bytes: compileDTS(text)))
        let plan = try #require(parsed.plan, "\(parsed.diagnostics)")
        let result = Partitioning.carve(board: try boardTree(board), plan: plan)
        let host = try #require(result.host, "carve refused: \(result.diagnostics.filter { $0.severity == .error })")
        let dir = try temporaryDirectory()
        let path = dir.appendingPathComponent("host.dtb").path
        try Data(host.bytes).write(to: URL(fileURLWithPath: path))
        return (plan, result, host, path, dir)
    }
}

@Suite("Partition record: carve, host tree, record, configuration")
struct PartitionRecordRoundTripTests {
    @Test func theRecordReadBackIsWhatThePlanAndBoardSay() throws {
        let (_, result, host, _, dir) = try RecordFixture.carved()
        defer { try? FileManager.default.removeItem(at: dir) }
        let record = try PartitionsRecord.read(from: host)
        #expect(record.guests.map(\.name) == ["fixed", "pooled", "lines"])
        guard record.guests.count == 3 else { return }
        let (fixed, pooled, lines) = (record.guests[0], record.guests[1], record.guests[2])
        // The console page and SPI carving found free on this board, the same for every guest.
        let console = ConsoleRecord.virtual(base: 0x7fff_f000, spi: 0)

        #expect(fixed == GuestRecord(
            name: "fixed", cpus: [1], cpuMPIDRs: [0x1], memorySize: 0x1000_0000, memoryBase: 0xc000_0000,
            hugepageSize: .twoMiB, kernel: "/boot/guests/Image", initrd: "/boot/guests/initrd.cpio",
            bootargs: "console=ttyS0 earlycon", console: console, restart: .never, maxRestarts: 0,
            guestTree: result.guests[0].tree.bytes,
            devices: [
                DeviceRecord(label: "uart", path: "/bus@100000/serial@2810000", compatible: ["ti,am654-uart"],
                             mmio: [PhysicalRange(base: 0x281_0000, size: 0x100)], interrupts: [.init(intid: 225, flags: 4)],
                             passthrough: .auto, allowUnbind: false),
                DeviceRecord(label: "audio", path: "/bus@100000/mcasp@2b00000", compatible: ["ti,am33xx-mcasp-audio"],
                             mmio: [PhysicalRange(base: 0x2b0_0000, size: 0x2000), PhysicalRange(base: 0x2b0_8000, size: 0x1000)],
                             interrupts: [.init(intid: 240, flags: 4), .init(intid: 241, flags: 4)],
                             passthrough: .vfio, interruptMethod: .forward, allowUnbind: true),
            ],
            gpioLines: [], sveMaxVectorBits: 256))
        #expect(pooled == GuestRecord(
            name: "pooled", cpus: [2], cpuMPIDRs: [0x100], memorySize: 0x400_0000, memoryBase: nil,
            hugepageSize: .thirtyTwoMiB, kernel: "/boot/guests/other", initrd: nil, bootargs: "", console: console,
            restart: .always, maxRestarts: 3, guestTree: result.guests[1].tree.bytes,
            devices: [
                DeviceRecord(label: "i2c", path: "/bus@100000/i2c@2010000", compatible: ["ti,am654-i2c", "ti,omap4-i2c"],
                             mmio: [PhysicalRange(base: 0x201_0000, size: 0x100)], interrupts: [.init(intid: 233, flags: 4)],
                             passthrough: .uio, interruptMethod: .uio, allowUnbind: false),
                DeviceRecord(label: "can", path: "/bus@100000/bus@28380000/mcan@40528000", compatible: ["bosch,m_can"],
                             mmio: [PhysicalRange(base: 0x4052_8000, size: 0x400), PhysicalRange(base: 0x4050_0000, size: 0x4400)],
                             interrupts: [.init(intid: 576, flags: 4), .init(intid: 577, flags: 4)],
                             passthrough: .devmem, interruptMethod: .forward, allowUnbind: false),
            ],
            gpioLines: [], pmu: false, sveMaxVectorBits: 0, ramScrub: .none))
        #expect(lines == GuestRecord(
            name: "lines", cpus: [3], cpuMPIDRs: [0x101], memorySize: 0x4000_0000, memoryBase: nil,
            hugepageSize: .oneGiB, kernel: "/k", initrd: nil, bootargs: "", console: console,
            restart: .onFailure, maxRestarts: 0, guestTree: result.guests[2].tree.bytes,
            devices: [
                DeviceRecord(label: "pcie", path: "/bus@100000/pcie@5500000", compatible: ["ti,am654-pcie-rc"],
                             mmio: [PhysicalRange(base: 0x550_0000, size: 0x1000), PhysicalRange(base: 0x550_1000, size: 0x1000),
                                    PhysicalRange(base: 0x1000_0000, size: 0x2000), PhysicalRange(base: 0x550_6000, size: 0x1000)],
                             interrupts: [.init(intid: 372, flags: 1)], passthrough: .auto, interruptMethod: .irqfd,
                             allowUnbind: false),
            ],
            gpioLines: [
                GPIOLinesRecord(label: "power", chip: "/bus@100000/gpio@600000", lines: [3, 5], output: true),
                GPIOLinesRecord(label: "sense", chip: "/bus@100000/gpio@601000", lines: [1], output: false),
            ],
            // Three lines: one virtual PL061, the page below the console's, the SPI after it.
            gpioControllers: [GPIOControllerRecord(base: 0x7fff_e000, spi: 1)],
            // Reset's hold given, power's settle the default (10 ms).
            controlLines: [
                ControlLineRecord(role: .reset, chip: "/bus@100000/gpio@601000", line: 2, activeLow: true, delay: 50),
                ControlLineRecord(role: .power, chip: "/bus@100000/gpio@600000", line: 4, activeLow: false, delay: 10),
                ControlLineRecord(role: .heartbeat, chip: "/bus@100000/gpio@601000", line: 6, activeLow: false, delay: 250),
            ], ptrauth: false))
    }

    @Test func theSupervisorsConfigurationIsThePlans() throws {
        let (plan, result, _, path, dir) = try RecordFixture.carved()
        defer { try? FileManager.default.removeItem(at: dir) }
        let mpidrs: [String: [UInt64]] = ["fixed": [0x1], "pooled": [0x100], "lines": [0x101]]
        for (guestPlan, carved) in zip(plan.guests, result.guests) {
            let config = try HostTreeGuest.configuration(treePath: path, guest: guestPlan.name, iomemPath: "/nonexistent/iomem")
            #expect(config.name == guestPlan.name)
            #expect(config.hostCPUs == guestPlan.cpus.map { Int($0) })
            #expect(config.hostCPUMPIDRs == mpidrs[guestPlan.name])
            #expect(config.memorySize == guestPlan.memorySize)
            #expect(config.fixedBase == guestPlan.memoryBase)
            #expect(config.pageSize == guestPlan.hugepageSize)
            #expect(config.kernelPath == guestPlan.kernel)
            #expect(config.initrdPath == guestPlan.initrd)
            #expect(config.bootargs == guestPlan.bootargs)
            #expect(config.restart == guestPlan.restart)
            #expect(config.maxRestarts == Int(guestPlan.maxRestarts))
            #expect(config.consoleBase == 0x7fff_f000 && config.consoleINTID == 32)
            // The board's PMU PPI, from the carved tree's pmu node; none with no-pmu.
            #expect(config.pmu?.intid == (guestPlan.pmu ? 23 : nil), "\(guestPlan.name)")
            #expect(PMUInterrupt.of(board: carved.tree) == (guestPlan.pmu ? PMUInterrupt(specifier: [1, 7, 4]) : nil))
            #expect(config.sveMaxVectorBits == guestPlan.sveMaxVectorBits)
            #expect(config.ptrauth == guestPlan.ptrauth && config.ptrauth == (guestPlan.name != "lines"), "\(guestPlan.name)")
            #expect(config.ramScrub == guestPlan.ramScrub && config.ramScrub == (guestPlan.name == "pooled" ? .none : .zero), "\(guestPlan.name)")
            guard case .carved(let tree) = config.tree else { Issue.record("\(guestPlan.name): tree not carved"); continue }
            #expect(tree.bytes == carved.tree.bytes)
            guard case .v3(let distributor, let redistributor) = config.gic else { Issue.record("not GICv3"); continue }
            #expect(distributor == 0x180_0000 && redistributor == 0x188_0000)
            #expect(config.passthroughDevices.map(\.label) == guestPlan.devices.map(\.label))
            #expect(config.passthroughDevices.map(\.method) == guestPlan.devices.map(\.passthrough))
            #expect(config.passthroughDevices.map(\.interruptMethod) == guestPlan.devices.map(\.interrupts))
            #expect(config.passthroughDevices.map(\.allowUnbind) == guestPlan.devices.map(\.allowUnbind))
            #expect(config.gpioLines.map(\.label) == guestPlan.gpioLines.map(\.label))
            #expect(config.gpioLines.map(\.lines) == guestPlan.gpioLines.map(\.lines))
            #expect(config.gpioLines.map(\.output) == guestPlan.gpioLines.map(\.output))
            #expect(config.controlLines.map(\.role) == guestPlan.controlLines.map(\.role))
            #expect(config.controlLines.map(\.line) == guestPlan.controlLines.map(\.line))
            #expect(config.controlLines.map(\.activeLow) == guestPlan.controlLines.map(\.activeLow))
            #expect(config.controlLines.map(\.delay) == guestPlan.controlLines.map(\.delay))
        }
        // Devices: windows in reg order, SPIs with their trigger.
        let fixed = try HostTreeGuest.configuration(treePath: path, guest: "fixed", iomemPath: "/nonexistent/iomem")
        let audio = try #require(fixed.passthroughDevices.last)
        #expect(audio.path == "/bus@100000/mcasp@2b00000" && audio.compatible == ["ti,am33xx-mcasp-audio"])
        #expect(audio.mmio.map(\.base) == [0x2b0_0000, 0x2b0_8000] && audio.mmio.map(\.size) == [0x2000, 0x1000])
        #expect(audio.interrupts.map(\.intid) == [240, 241] && audio.interrupts.allSatisfy(\.level))
        let lines = try HostTreeGuest.configuration(treePath: path, guest: "lines", iomemPath: "/nonexistent/iomem")
        #expect(lines.passthroughDevices.first?.interrupts.map(\.level) == [false], "SPI 372 is edge-rising")
        #expect(lines.passthroughDevices.first?.mmio.count == 4)
        #expect(lines.gpioLines.map(\.chip) == ["/bus@100000/gpio@600000", "/bus@100000/gpio@601000"])
    }

    /// The record holds what the boot side needs: written again from what was
    /// read, every property under /chosen/cleave comes out byte for byte.
    /// A property the reader skipped (or read wrong) would be missing or
    /// differ; the fixture sets every field away from its default somewhere.
    @Test func everyPropertyWrittenIsRead() throws {
        var hosts: [(String, DeviceTree)] = []
        let fixture = try RecordFixture.carved()
        defer { try? FileManager.default.removeItem(at: fixture.directory) }
        hosts.append(("fixture", fixture.host))
        for board in ["qemu-virt", "zynqmp-zcu102-rev1.0", "bcm2711-rpi-4-b"] {
            let tree = board == "qemu-virt" ? "qemu-virt-gicv3" : board
            let text = try String(contentsOfFile: repositoryRoot + "/Boards/\(board)/plan.dts", encoding: .utf8)
            let carved = try RecordFixture.carve(board: tree + ".dtb", plan: text)
            try? FileManager.default.removeItem(at: carved.directory)
            hosts.append((board, carved.host))
        }
        let empty = try DeviceTree(bytes: compileDTS("/dts-v1/; / { chosen { }; };"))
        for (name, host) in hosts {
            let record = try PartitionsRecord.read(from: host)
            var patch = DeviceTreePatch()
            record.write(into: &patch)
            let rewritten = try patch.apply(to: empty)
            let written = properties(under: PartitionsRecord.path, of: host)
            let again = properties(under: PartitionsRecord.path, of: rewritten)
            #expect(written.count > 20, "\(name): \(written.count) properties under /chosen/cleave")
            #expect(again.map(\.key) == written.map(\.key), "\(name): written but not read: \(Set(written.map(\.key)).subtracting(again.map(\.key)).sorted())")
            for (w, a) in zip(written, again) where w.key == a.key {
                #expect(w.bytes == a.bytes, "\(name): \(w.key) read back differently")
            }
        }
    }

    /// "node:property" and the value of every property under `path`, in tree order.
    func properties(under path: String, of tree: DeviceTree) -> [(key: String, bytes: [UInt8])] {
        guard let top = tree.lookup(path: path) else { return [] }
        var out: [(key: String, bytes: [UInt8])] = []
        for node in tree.allNodes where node == top || tree.isDescendant(node, of: top) {
            for (name, value) in tree.properties(of: node) { out.append(("\(tree.path(of: node)):\(name)", value.bytes)) }
        }
        return out
    }
}

@Suite("Partition record: a missing or malformed property names its node and property")
struct PartitionRecordErrorTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var node: String
        var property: String
        /// nil deletes the property.
        var value: [UInt8]?
        var says: String
        var testDescription: String { "\(node) \(property): \(value.map { "\($0.count) bytes" } ?? "deleted")" }
    }

    static func cells(_ c: [UInt32]) -> [UInt8] { encodeCells(c) }
    static func text(_ s: String) -> [UInt8] { Array(s.utf8) + [0] }
    static let guest = "/chosen/cleave/lines"
    static let device = "/chosen/cleave/fixed/devices/audio"
    static let group = "/chosen/cleave/lines/gpio-lines/power"
    static let reset = "/chosen/cleave/lines/control-lines/reset"
    static let heartbeat = "/chosen/cleave/lines/control-lines/heartbeat"

    static let cases: [Case] = {
        var out: [Case] = []
        for p in ["cpus", "cpu-mpidrs", "memory-size", "hugepage-size", "kernel", "bootargs", "console", "console-base",
                  "console-spi", "restart", "max-restarts", "guest-dtb"] {
            out.append(Case(node: guest, property: p, value: nil, says: "is missing"))
        }
        for p in ["path", "device-compatible", "mmio", "intids", "passthrough"] {
            out.append(Case(node: device, property: p, value: nil, says: "is missing"))
        }
        for p in ["chip", "lines", "direction"] {
            out.append(Case(node: group, property: p, value: nil, says: "is missing"))
        }
        for p in ["chip", "line", "hold-ms"] {
            out.append(Case(node: reset, property: p, value: nil, says: "is missing"))
        }
        out += [
            Case(node: "/chosen/cleave", property: "compatible", value: text("cleave,partitions-v2"), says: "is not \"cleave,partitions-v1\""),
            Case(node: guest, property: "cpus", value: [], says: "is empty"),
            Case(node: guest, property: "cpus", value: [0, 0, 3], says: "3 bytes"),
            Case(node: guest, property: "cpu-mpidrs", value: cells([0, 1, 0, 2]), says: "2 MPIDRs for 1 CPUs"),
            Case(node: guest, property: "cpu-mpidrs", value: cells([1]), says: "not a whole number of MPIDRs"),
            Case(node: guest, property: "memory-size", value: [1, 2, 3], says: "not 8"),
            Case(node: guest, property: "memory-size", value: cells([0, 0]), says: "is 0"),
            Case(node: guest, property: "memory-base", value: cells([0, 1, 2]), says: "not 8"),
            Case(node: guest, property: "hugepage-size", value: cells([0, 0x1_0000]), says: "is 0x10000, not 0x200000 (2 MiB)"),
            Case(node: guest, property: "kernel", value: Array("/k".utf8), says: "not a NUL-terminated string"),
            Case(node: guest, property: "kernel", value: [0], says: "is empty"),
            Case(node: guest, property: "initrd", value: [0x41], says: "not a NUL-terminated string"),
            Case(node: guest, property: "console-spi", value: cells([0, 1]), says: "not 4"),
            Case(node: guest, property: "restart", value: text("sometimes"), says: "is \"sometimes\", not never, always or on-failure"),
            Case(node: guest, property: "max-restarts", value: cells([0, 3]), says: "not 4"),
            Case(node: guest, property: "guest-dtb", value: [], says: "is empty"),
            Case(node: guest, property: "sve-max-vl", value: cells([200]), says: "is 200, not a multiple of 128 bits"),
            Case(node: guest, property: "sve-max-vl", value: cells([0, 256]), says: "not 4"),
            Case(node: guest, property: "no-ptrauth", value: cells([1]), says: "is 4 bytes, not empty (a flag)"),
            Case(node: guest, property: "no-pmu", value: text("yes"), says: "is 4 bytes, not empty (a flag)"),
            Case(node: guest, property: "ram-scrub", value: text("random"), says: "is \"random\", not zero or none"),
            Case(node: guest, property: "ram-scrub", value: Array("none".utf8), says: "not a NUL-terminated string"),
            Case(node: device, property: "device-compatible", value: [0x61], says: "not a list of NUL-terminated strings"),
            Case(node: device, property: "mmio", value: cells([0, 0x2b0_0000, 0]), says: "not a whole number of <base size> windows"),
            Case(node: device, property: "intids", value: cells([240, 4, 241]), says: "not a whole number of <INTID flags> pairs"),
            Case(node: device, property: "intids", value: cells([27, 4]), says: "holds 27, not an SPI INTID"),
            Case(node: device, property: "passthrough", value: text("pci"), says: "is \"pci\", not auto, vfio, uio or devmem"),
            Case(node: device, property: "interrupt-method", value: text("msi"), says: "is \"msi\", not auto, forward, irqfd or uio"),
            Case(node: device, property: "interrupt-method", value: Array("uio".utf8), says: "not a NUL-terminated string"),
            // audio is passed through with vfio: uio_pdrv_genirq's interrupts cannot go with it.
            Case(node: device, property: "interrupt-method", value: text("uio"), says: "is \"uio\" with passthrough \"vfio\": uio interrupts need the device bound to uio_pdrv_genirq"),
            Case(node: group, property: "lines", value: [], says: "is empty"),
            Case(node: group, property: "direction", value: text("both"), says: "is \"both\", not input or output"),
            Case(node: reset, property: "line", value: cells([2, 3]), says: "not 4"),
            Case(node: reset, property: "active-low", value: cells([1]), says: "is 4 bytes, not empty (a flag)"),
            Case(node: reset, property: "chip", value: [0x2f], says: "not a NUL-terminated string"),
            Case(node: reset, property: "hold-ms", value: cells([60_001]), says: "is 60001 ms, not 0-60000"),
            Case(node: heartbeat, property: "period-ms", value: cells([0]), says: "is 0 ms, not 1-60000"),
        ]
        return out
    }()

    @Test(arguments: cases)
    func namesNodeAndProperty(_ c: Case) throws {
        let fixture = try RecordFixture.carved()
        defer { try? FileManager.default.removeItem(at: fixture.directory) }
        var patch = DeviceTreePatch()
        if let value = c.value { patch.set(c.node, c.property, bytes: value) } else { patch.delete(c.node, c.property) }
        let broken = try patch.apply(to: fixture.host)
        do throws(RecordError) {
            _ = try PartitionsRecord.read(from: broken)
            Issue.record("read without an error")
        } catch {
            #expect(error.node == c.node && error.property == c.property, "\(error)")
            #expect(error.problem.contains(c.says), "'\(c.says)' not in: \(error)")
            #expect(error.description.hasPrefix("\(c.node): '\(c.property)' "), "\(error)")
        }
    }

    /// A host tree carved before `ram-scrub` existed has none: its guests
    /// get the default, the scrub.
    @Test func aRecordWithoutRamScrubScrubs() throws {
        let fixture = try RecordFixture.carved()
        defer { try? FileManager.default.removeItem(at: fixture.directory) }
        var patch = DeviceTreePatch()
        patch.delete("/chosen/cleave/pooled", "ram-scrub")
        let older = try patch.apply(to: fixture.host)
        #expect(try PartitionsRecord.read(from: fixture.host).guests.map(\.ramScrub) == [.zero, .none, .zero])
        #expect(try PartitionsRecord.read(from: older).guests.map(\.ramScrub) == [.zero, .zero, .zero])
    }

    @Test func aControlLineOfAnUnknownRoleNamesItsNode() throws {
        let fixture = try RecordFixture.carved()
        defer { try? FileManager.default.removeItem(at: fixture.directory) }
        var patch = DeviceTreePatch()
        let fan = patch.addNode("/chosen/cleave/lines/control-lines", "fan")
        patch.set(fan, "chip", string: "/bus@100000/gpio@601000")
        let broken = try patch.apply(to: fixture.host)
        do throws(RecordError) {
            _ = try PartitionsRecord.read(from: broken)
            Issue.record("read without an error")
        } catch {
            #expect(error == RecordError(node: "/chosen/cleave/lines/control-lines/fan", property: nil,
                                         problem: "is not a control line role (reset, power or heartbeat)"))
        }
    }

    @Test func aTreeWithoutTheRecordSaysSo() throws {
        let board = try boardTree("qemu-virt-gicv3.dtb")
        do throws(RecordError) {
            _ = try PartitionsRecord.read(from: board)
            Issue.record("a board tree has no record")
        } catch {
            #expect(error == RecordError(node: "/chosen/cleave", property: nil, problem: "is missing"))
        }
    }

    @Test func theSupervisorNamesTheFileNodePropertyAndWhatToDo() throws {
        let fixture = try RecordFixture.carved()
        defer { try? FileManager.default.removeItem(at: fixture.directory) }
        var patch = DeviceTreePatch()
        patch.set("/chosen/cleave/pooled/devices/can", "passthrough", string: "pci")
        let broken = fixture.directory.appendingPathComponent("broken.dtb").path
        try Data(try patch.apply(to: fixture.host).bytes).write(to: URL(fileURLWithPath: broken))
        do throws(SupervisorError) {
            _ = try HostTreeGuest.configuration(treePath: broken, guest: "fixed", iomemPath: "/nonexistent/iomem")
            Issue.record("a malformed record was read")
        } catch {
            let message = "\(error)"
            for part in [broken, "/chosen/cleave/pooled/devices/can", "'passthrough'", "\"pci\"", "carve the plan again"] {
                #expect(message.contains(part), "'\(part)' not in: \(message)")
            }
        }
    }

    @Test func aPassedThroughConsoleIsTheGuestsOwnUART() throws {
        // Boards/zynqmp-zcu102-rev1.0/plan.dts passes UART1 through as the console.
        let text = try String(contentsOfFile: repositoryRoot + "/Boards/zynqmp-zcu102-rev1.0/plan.dts", encoding: .utf8)
        let carved = try RecordFixture.carve(board: "zynqmp-zcu102-rev1.0.dtb", plan: text)
        defer { try? FileManager.default.removeItem(at: carved.directory) }
        let record = try PartitionsRecord.read(from: carved.host)
        #expect(record.guests.first?.console == .device(path: "/axi/serial@ff010000"))
        let config = try HostTreeGuest.configuration(treePath: carved.path, guest: nil, iomemPath: "/nonexistent/iomem")
        #expect(config.consoleUART == "/axi/serial@ff010000")
        #expect(config.passthroughDevices.contains { $0.path == "/axi/serial@ff010000" })
        // A record whose console is not one of the guest's devices (edited since carving) is refused.
        var patch = DeviceTreePatch()
        patch.set("/chosen/cleave/\(record.guests[0].name)", "console", string: "/axi/serial@ff000000")
        let edited = carved.directory.appendingPathComponent("edited.dtb").path
        try Data(try patch.apply(to: carved.host).bytes).write(to: URL(fileURLWithPath: edited))
        do throws(SupervisorError) {
            _ = try HostTreeGuest.configuration(treePath: edited, guest: nil, iomemPath: "/nonexistent/iomem")
            Issue.record("a console that is not the guest's device was accepted")
        } catch {
            #expect("\(error)".contains("console '/axi/serial@ff000000' is not one of the guest's devices"), "\(error)")
        }
    }
}

@Suite("Boot checks what the record says against the live host")
struct HostCheckTests {
    func supervisor(cpus: [Int?], mpidrs: [UInt64], gpio: [GPIOLinesRecord] = []) -> Supervisor {
        var config = GuestConfiguration(name: "g", hostCPUs: cpus, memorySize: 0x20_0000, kernelPath: "/k",
                                        gic: .v3(distributor: 0x800_0000, redistributor: 0x80a_0000),
                                        consoleBase: TestConsole.base, consoleINTID: TestConsole.intid)
        config.hostCPUMPIDRs = mpidrs
        config.gpioLines = gpio
        return Supervisor(config, startTime: 0)
    }

    /// A sysfs cpu folder where each CPU's of_node/reg holds `reg` (nil: no of_node).
    func cpuSysfs(_ cpus: [Int: [UInt8]?]) throws -> URL {
        let dir = try temporaryDirectory()
        for (cpu, reg) in cpus {
            let cpuDir = dir.appendingPathComponent("cpu\(cpu)")
            try FileManager.default.createDirectory(at: cpuDir, withIntermediateDirectories: true)
            guard let reg else { continue }
            let node = cpuDir.appendingPathComponent("of_node")
            try FileManager.default.createDirectory(at: node, withIntermediateDirectories: true)
            try Data(reg).write(to: node.appendingPathComponent("reg"))
        }
        return dir
    }

    func refusal(_ s: Supervisor, sysfs: URL) -> String? {
        do throws(SupervisorError) { try s.checkHost(cpuSysfs: sysfs.path); return nil } catch {
            guard case .configuration(let message) = error else { return "not a setup error: \(error)" }
            return message
        }
    }

    @Test func matchingMPIDRsInOneOrTwoCellsPass() throws {
        let sysfs = try cpuSysfs([1: [0, 0, 0, 1], 2: [0, 0, 0, 0, 0, 0, 1, 0]])
        defer { try? FileManager.default.removeItem(at: sysfs) }
        #expect(refusal(supervisor(cpus: [1, 2], mpidrs: [0x1, 0x100]), sysfs: sysfs) == nil)
    }

    @Test func aCPUWithoutADeviceTreeNodeIsNotChecked() throws {
        let sysfs = try cpuSysfs([1: nil])
        defer { try? FileManager.default.removeItem(at: sysfs) }
        #expect(refusal(supervisor(cpus: [1, nil], mpidrs: [0x1, 0x2]), sysfs: sysfs) == nil)
        #expect(refusal(supervisor(cpus: [1], mpidrs: []), sysfs: sysfs) == nil, "an ad-hoc run records no MPIDRs")
    }

    @Test func anotherMPIDRIsASetupErrorNamingTheCPUAndBothMPIDRs() throws {
        let sysfs = try cpuSysfs([1: [0, 0, 0, 1], 2: [0, 0, 1, 1]])
        defer { try? FileManager.default.removeItem(at: sysfs) }
        let message = try #require(refusal(supervisor(cpus: [1, 2], mpidrs: [0x1, 0x100]), sysfs: sysfs))
        for part in ["vCPU 1", "host CPU 2", "MPIDR 0x100 (cpu-mpidrs)", "MPIDR 0x101", "\(sysfs.path)/cpu2/of_node/reg",
                     "carve the plan again from the live tree"] {
            #expect(message.contains(part), "'\(part)' not in: \(message)")
        }
        #expect(Outcome.error(message).exitStatus == 1)
    }

    @Test func aGuestWithGPIOLinesPassesTheHostChecks() throws {
        let sysfs = try cpuSysfs([:])
        defer { try? FileManager.default.removeItem(at: sysfs) }
        let s = supervisor(cpus: [3], mpidrs: [0x101], gpio: [
            GPIOLinesRecord(label: "power", chip: "/bus@100000/gpio@600000", lines: [3, 5], output: true),
        ])
        #expect(refusal(s, sysfs: sysfs) == nil)
    }

    /// A chip the live host does not have stops the boot before anything is
    /// set up, naming the chip and what to check.
    @Test func theCarvedGPIOGuestNamesAChipTheHostLacks() throws {
        let fixture = try RecordFixture.carved()
        defer { try? FileManager.default.removeItem(at: fixture.directory) }
        let config = try HostTreeGuest.configuration(treePath: fixture.path, guest: "lines", iomemPath: "/nonexistent/iomem")
        #expect(config.gpioControllers == [GPIOControllerRecord(base: 0x7fff_e000, spi: 1)])
        do throws(SupervisorError) {
            _ = try Supervisor(config, startTime: 0).prepareGPIO()
            Issue.record("a chip this machine does not have was accepted")
        } catch {
            let message = "\(error)"
            for part in ["gpio-lines: GPIO chip /bus@100000/gpio@600000: no host GPIO chip has that device tree node", "driver loaded"] {
                #expect(message.contains(part), "'\(part)' not in: \(message)")
            }
        }
    }
}
