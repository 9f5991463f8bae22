import Foundation
import Testing
import DeviceTree
import JSON
@testable import Partitioning

@Suite("Board inventory and verdicts on real trees")
struct AssessmentTests {
    func device(_ board: Board, _ path: String, sourceLocation: SourceLocation = #_sourceLocation) throws -> DeviceInfo {
        let node = try #require(board.tree.lookup(path: path), "\(path) not in the tree", sourceLocation: sourceLocation)
        return try #require(board.device(node), "\(path) is not a device", sourceLocation: sourceLocation)
    }

    @Test("qemu-virt: the PL031 needs a clock stand-in, the GIC and timer stay with the host, fw-cfg is assignable")
    func qemuVirt() throws {
        let board = Board(try realTree("qemu-virt-gicv3"))
        let rtc = board.assess(try device(board, "/pl031@9010000"))
        #expect(rtc.verdict == .conditional)
        #expect(rtc.reasons.contains { $0.contains("/apb-pclk") }, "\(rtc.reasons)")
        let gic = board.assess(try device(board, "/intc@8000000"))
        #expect(gic.verdict == .hostOnly)
        #expect(board.assess(try device(board, "/timer")).verdict == .hostOnly)
        #expect(board.assess(try device(board, "/pmu")).verdict == .hostOnly)
        #expect(board.assess(try device(board, "/apb-pclk")).verdict == .hostOnly)
        #expect(board.assess(try device(board, "/fw-cfg@9020000")).verdict == .assignable)
        #expect(board.assess(try device(board, "/gpio-keys")).verdict == .notAssignable)
        // Eight virtio transports share each 4 KiB page.
        let virtio = board.assess(try device(board, "/virtio_mmio@a000000"))
        #expect(virtio.verdict == .conditional)
        #expect(virtio.reasons.filter { $0.contains("MMIO page 0xa000000") }.count == 7, "\(virtio.reasons)")
        #expect(board.gic?.version == .v3)
        #expect(board.cpus.map(\.mpidr) == [0, 1])
        #expect(board.memory == [PhysicalRange(base: 0x4000_0000, size: 0x8000_0000)])
        #expect(!board.hasIOMMU)
    }

    @Test("a device on an I2C bus is not assignable, and the verdict names the bus")
    func i2cDevice() throws {
        let board = Board(try realTree("zynqmp-zcu102-rev1.0"))
        let info = try device(board, "/axi/i2c@ff020000/gpio@20")
        #expect(info.address == .notCPUAddressable(bus: "/axi/i2c@ff020000", reason: info.address.reason))
        let verdict = board.assess(info)
        #expect(verdict.verdict == .notAssignable)
        #expect(verdict.reasons.contains { $0.contains("/axi/i2c@ff020000") && $0.contains("bus controller") }, "\(verdict.reasons)")
    }

    @Test("imx8mq-evk and tegra210: interrupts through a non-GIC root parent make devices not assignable")
    func nonGICParents() throws {
        for (tree, path, controller) in [("imx8mq-evk", "/soc@0/bus@30800000/serial@30860000", "/soc@0/bus@30000000/gpc@303a0000"),
                                         ("tegra210-p3450-0000", "/serial@70006000", "/interrupt-controller@60004000")] {
            let board = Board(try realTree(tree))
            let info = try device(board, path)
            #expect(info.interrupts.contains { if case .otherController(controller, _) = $0 { true } else { false } }, "\(info.interrupts)")
            let verdict = board.assess(info)
            #expect(verdict.verdict == .notAssignable)
            #expect(verdict.reasons.contains { $0.contains(controller) && $0.contains("not the GIC") })
        }
    }

    @Test("RPi 4: /soc ranges translate the PL011 to 0xfe201000; the GIC is a GICv2 at 0xff841000")
    func rpi4() throws {
        let board = Board(try realTree("bcm2711-rpi-4-b"))
        let uart = try device(board, "/soc/serial@7e201000")
        #expect(uart.mmioRanges == [PhysicalRange(base: 0xfe20_1000, size: 0x200)])
        #expect(uart.spis.map(\.intid) == [153])
        #expect(board.gic?.version == .v2)
        #expect(board.gic?.regions.first?.base == 0xff84_1000)
        #expect(board.cpus.count == 4)
        #expect(board.memory.allSatisfy { $0.size > 0 })
    }

    @Test("the GIC's own maintenance interrupt resolves through the root's interrupt-parent (the GIC itself)")
    func gicMaintenanceInterrupt() throws {
        let board = Board(try realTree("qemu-virt-gicv3"))
        let gic = try device(board, "/intc@8000000")
        #expect(gic.interrupts.count == 1)
        guard case .gic(let irq) = try #require(gic.interrupts.first) else { Issue.record("\(gic.interrupts)"); return }
        #expect(irq.kind == .ppi && irq.intid == 25)
    }

    @Test("a carved host tree lists no devices under /chosen/cleave")
    func noPhantomDevices() throws {
        let (tree, plan) = try RealBoard(plan: "qemu-virt", tree: "qemu-virt-gicv3").load()
        let (_, host) = try carveOK(tree, plan)
        let phantoms = Board(host).devices.filter { $0.path.hasPrefix("/chosen/cleave") }.map(\.path)
        #expect(phantoms.isEmpty, "\(phantoms)")
    }

    @Test("every device of every real tree gets a verdict; host-only devices are the non-device roles", arguments: RealBoard.allTrees)
    func everyDevice(_ name: String) throws {
        let board = Board(try realTree(name))
        #expect(!board.devices.isEmpty)
        #expect(board.gic != nil)
        for info in board.devices {
            let a = board.assess(info)
            #expect((a.verdict == .hostOnly) == (info.role != .device), "\(info.path): \(a.verdict) for role \(info.role)")
            if a.verdict != .assignable { #expect(!a.reasons.isEmpty, "\(info.path): \(a.verdict) without reasons") }
            if a.verdict == .assignable { #expect(a.reasons.isEmpty) }
        }
    }
}

extension DeviceAddress {
    var reason: String {
        if case .notCPUAddressable(_, let reason) = self { return reason }
        return ""
    }
}

@Suite("Rendering")
struct RenderTests {
    @Test("devicesJSON parses with JSONSerialization and lists every device", arguments: RealBoard.allTrees)
    func devicesJSON(_ name: String) throws {
        let board = Board(try realTree(name))
        let text = Render.devicesJSON(board)
        let object = try JSONSerialization.jsonObject(with: Data(text.utf8))
        let root = try #require(object as? [String: Any])
        let devices = try #require(root["devices"] as? [[String: Any]])
        #expect(devices.count == board.devices.count)
        #expect((root["cpus"] as? [Any])?.count == board.cpus.count)
        let verdicts: Set<String> = ["assignable", "assignable-with-conditions", "host-only", "not-assignable"]
        for (device, info) in zip(devices, board.devices) {
            #expect(device["path"] as? String == info.path)
            #expect(verdicts.contains(device["verdict"] as? String ?? ""))
            #expect(device["compatible"] as? [String] == info.compatible)
            let intids = (device["interrupts"] as? [[String: Any]] ?? []).compactMap { $0["intid"] as? Int }
            #expect(intids == gicINTIDs(board.tree, info.node).map { Int($0) })
        }
        let gic = try #require(root["gic"] as? [String: Any])
        #expect(gic["version"] as? String == board.gic?.version.description)
        #expect(!Render.devices(board).isEmpty)
    }

    @Test("diagnosticsJSON round-trips quotes, backslashes and control characters")
    func diagnosticsJSON() throws {
        let tricky = "a \"quoted\" \\ path\n\twith\u{1} control"
        let list = [Diagnostic(.deviceMissing, .error, path: "plan:/guests/g/\(tricky)", tricky, hint: "ü ✓")]
        var json = JSONWriter()
        json.beginObject()
        Render.diagnosticsJSON(list, into: &json)
        json.endObject()
        let root = try #require(try JSONSerialization.jsonObject(with: Data(json.text.utf8)) as? [String: Any])
        let first = try #require((root["diagnostics"] as? [[String: Any]])?.first)
        #expect(first["code"] as? String == "device-missing")
        #expect(first["severity"] as? String == "error")
        #expect(first["message"] as? String == tricky)
        #expect(first["path"] as? String == "plan:/guests/g/\(tricky)")
        #expect(first["hint"] as? String == "ü ✓")
    }

    @Test("the carve report names every host edit, guest device, stand-in and drop", arguments: RealBoard.planned)
    func carveReport(_ real: RealBoard) throws {
        let (tree, plan) = try real.load()
        let (result, _) = try carveOK(tree, plan)
        let text = Render.carveReport(result)
        for edit in result.report.hostEdits { #expect(text.contains(edit.path)) }
        for guest in result.report.guests {
            #expect(text.contains("Guest '\(guest.name)'"))
            for d in guest.devices { #expect(text.contains("\(d.path) -> \(d.guestPath)")) }
            for c in guest.standInClocks { #expect(text.contains("/\(c.name): fixed-clock \(c.rate) Hz")) }
            for d in guest.dropped { #expect(text.contains("\(d.path): \(d.property)")) }
        }
        #expect(text.contains("Host bootargs: \(result.report.hostBootargs)"))
    }

    @Test("diagnostic text: severity, code, path, message and the fix")
    func diagnosticText() {
        let d = Diagnostic(.spiShared, .error, path: "/a", "shared", hint: "assign both")
        #expect(d.description == "error: [spi-shared] /a: shared\n    fix: assign both")
        #expect(Render.diagnostics([d]).hasSuffix("1 error(s), 0 warning(s), 0 note(s)\n"))
    }
}
