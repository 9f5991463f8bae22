import Platform
import Foundation
import Testing
import DeviceTree
@testable import Partitioning

/// Structural checks of one guest tree against the board and the plan.
func checkGuestTree(_ guest: DeviceTree, plan: GuestPlan, board: Board, report: GuestReport,
                    sourceLocation: SourceLocation = #_sourceLocation) throws {
    let root = guest.root
    #expect(guest.property("#address-cells", of: root)?.u32 == 2, sourceLocation: sourceLocation)
    #expect(guest.property("#size-cells", of: root)?.u32 == 2, sourceLocation: sourceLocation)

    // CPUs: one per planned CPU, PSCI, distinct MPIDRs as KVM gives them.
    let cpusNode = try #require(guest.lookup(path: "/cpus"), sourceLocation: sourceLocation)
    let cpus = guest.children(of: cpusNode).filter { guest.property("device_type", of: $0)?.string == "cpu" }
    #expect(cpus.count == plan.cpus.count, sourceLocation: sourceLocation)
    for (index, cpu) in cpus.enumerated() {
        #expect(guest.property("enable-method", of: cpu)?.string == "psci", sourceLocation: sourceLocation)
        #expect(guest.property("reg", of: cpu)?.u32 == UInt32(Layout.vcpuMPIDR(index)), sourceLocation: sourceLocation)
    }
    #expect(guest.string("/psci", "method") == "hvc", sourceLocation: sourceLocation)

    // Memory: the plan's size (base finalised at boot unless fixed).
    let memory = guest.allNodes.filter { guest.property("device_type", of: $0)?.string == "memory" }
    #expect(memory.count == 1, sourceLocation: sourceLocation)
    let m = try #require(memory.first, "no memory node in the guest tree", sourceLocation: sourceLocation)
    #expect(try guest.deviceAddress(of: m) == .mmio([PhysicalRange(base: plan.memoryBase ?? 0, size: plan.memorySize)]),
            sourceLocation: sourceLocation)

    // The GIC: the board's version at the board's distributor, the root's interrupt parent.
    let boardGIC = try #require(board.gic, sourceLocation: sourceLocation)
    let gics = guest.allNodes.filter { guest.isGIC($0) }
    #expect(gics.count == 1, sourceLocation: sourceLocation)
    let gicNode = try #require(gics.first, sourceLocation: sourceLocation)
    #expect(guest.gicVersion(of: gicNode) == boardGIC.version, sourceLocation: sourceLocation)
    let guestGIC = try #require(guest.gic(), sourceLocation: sourceLocation)
    #expect(guestGIC.node == gicNode, sourceLocation: sourceLocation)
    #expect(guestGIC.regions.first?.base == boardGIC.regions.first?.base, sourceLocation: sourceLocation)
    if boardGIC.version == .v2 {
        #expect(guestGIC.cpuInterface?.base == boardGIC.cpuInterface?.base, sourceLocation: sourceLocation)
        #expect(guestGIC.cpuInterface?.size == GICFrames.v2CPUInterfaceSize, sourceLocation: sourceLocation)
    } else {
        #expect(guestGIC.regions.count == 2, sourceLocation: sourceLocation)
        #expect(guestGIC.regions.last?.base == boardGIC.regions[1].base, sourceLocation: sourceLocation)
        #expect(guestGIC.regions.last?.size == UInt64(plan.cpus.count) * GICFrames.redistributorStride, sourceLocation: sourceLocation)
    }
    let rootParent = try #require(guest.property("interrupt-parent", of: root)?.u32, sourceLocation: sourceLocation)
    #expect(guest.node(phandle: rootParent) == gicNode, sourceLocation: sourceLocation)

    // The architected timer: four or more PPIs on the guest GIC.
    let timer = try #require(guest.allNodes.first { guest.isCompatible($0, with: "arm,armv8-timer") }, sourceLocation: sourceLocation)
    let timerIRQs = guest.interrupts(of: timer)
    #expect(timerIRQs.count >= 4, sourceLocation: sourceLocation)
    for irq in timerIRQs {
        guard case .gic(let i) = irq, i.kind == .ppi else {
            Issue.record("timer interrupt \(irq) is not a PPI on the guest GIC", sourceLocation: sourceLocation); continue
        }
    }

    // Every planned device at its physical address with its INTIDs.
    #expect(report.devices.count == plan.devices.count, sourceLocation: sourceLocation)
    for assignment in plan.devices {
        let boardNode = try #require(board.resolve(assignment.reference), sourceLocation: sourceLocation)
        let info = try #require(board.device(boardNode), sourceLocation: sourceLocation)
        let entry = try #require(report.devices.first { $0.path == info.path }, sourceLocation: sourceLocation)
        let node = try #require(guest.lookup(path: entry.guestPath), "\(entry.guestPath) not in the guest tree", sourceLocation: sourceLocation)
        #expect(try guest.deviceAddress(of: node) == info.address, "\(info.path)", sourceLocation: sourceLocation)
        #expect(guest.compatible(of: node) == info.compatible, sourceLocation: sourceLocation)
        #expect(guest.isEnabled(node), sourceLocation: sourceLocation)
        let intids = guest.interrupts(of: node).map { r -> UInt32? in if case .gic(let i) = r { return i.intid } else { return nil } }
        #expect(intids == info.spis.map { Optional($0.intid) }, "\(info.path) interrupts", sourceLocation: sourceLocation)
    }

    // Children move with their device at the same physical addresses.
    for assignment in plan.devices {
        guard let boardNode = board.resolve(assignment.reference), let info = board.device(boardNode),
              let entry = report.devices.first(where: { $0.path == info.path }) else { continue }
        for node in board.tree.allNodes where node != boardNode && board.tree.isDescendant(node, of: boardNode) {
            guard case .mmio(let ranges)? = try? board.tree.deviceAddress(of: node) else { continue }
            let relative = String(board.tree.path(of: node).dropFirst(info.path.count))
            let moved = try #require(guest.lookup(path: entry.guestPath + relative), "\(relative) did not move", sourceLocation: sourceLocation)
            #expect((try? guest.deviceAddress(of: moved)) == .mmio(ranges), "\(entry.guestPath + relative)", sourceLocation: sourceLocation)
        }
    }

    // The host keeps pin muxing; every phandle reference left in the guest resolves.
    for node in guest.allNodes {
        for (name, _) in guest.properties(of: node) {
            #expect(!name.hasPrefix("pinctrl-"), "\(guest.path(of: node)) keeps \(name)", sourceLocation: sourceLocation)
        }
        let (deps, problems) = guest.dependencies(of: node)
        #expect(problems.isEmpty, "\(problems)", sourceLocation: sourceLocation)
        for dep in deps where dep.property == "clocks" {
            #expect(guest.hasProperty("#clock-cells", of: dep.provider), sourceLocation: sourceLocation)
        }
        if let clocks = guest.property("clocks", of: node) {
            #expect(clocks.cellCount > 0 && clocks.cells.contains { guest.node(phandle: $0) != nil }, sourceLocation: sourceLocation)
        }
    }

    // The console: stdout-path and serial0 name a node of the guest.
    let stdout = try #require(guest.string("/chosen", "stdout-path"), sourceLocation: sourceLocation)
    #expect(guest.resolve(stdout) != nil, "stdout-path \(stdout)", sourceLocation: sourceLocation)
    #expect(guest.string("/aliases", "serial0") == stdout, sourceLocation: sourceLocation)
    #expect(guest.string("/chosen", "bootargs") == plan.bootargs, sourceLocation: sourceLocation)
}

/// Every `interrupts` in a guest tree decodes on the guest's own controllers.
func unresolvedInterrupts(_ guest: DeviceTree) -> [String] {
    var out: [String] = []
    for node in guest.allNodes where guest.hasProperty("interrupts", of: node) || guest.hasProperty("interrupts-extended", of: node) {
        for irq in guest.interrupts(of: node) {
            if case .unresolved(let why) = irq { out.append(why) }
        }
    }
    return out
}

@Suite("Carving the real boards with their plans")
struct RealBoardCarveTests {
    @Test("carves without errors; the host differs from the board only where the report says", arguments: RealBoard.planned)
    func hostDiff(_ real: RealBoard) throws {
        let (tree, plan) = try real.load()
        let (result, host) = try carveOK(tree, plan)
        let edits = result.report.hostEdits
        let differences = treeDifferences(board: tree, host: host)
        #expect(!differences.isEmpty)
        for difference in differences {
            #expect(isCovered(difference, by: edits),
                    "\(difference.path) \(difference.property ?? "(node)") \(difference.what) is not in the report's host edits")
        }
        // Every edit is a real change.
        for edit in edits {
            #expect(differences.contains { $0.path == edit.path && (edit.property == nil || $0.property == edit.property) },
                    "reported edit \(edit) changed nothing")
        }
        // What the bootloader and Linux read from the header is untouched.
        #expect(reservationMap(host.bytes).map { [$0.0, $0.1] } == reservationMap(tree.bytes).map { [$0.0, $0.1] })
        #expect(bootCPUID(host.bytes) == bootCPUID(tree.bytes))
        #expect(host.maxPhandle == tree.maxPhandle)
        for node in tree.allNodes {
            guard let handle = tree.phandle(of: node) else { continue }
            #expect(host.node(phandle: handle).map { host.path(of: $0) } == tree.path(of: node))
        }
    }

    @Test("guest devices are disabled in the host, and /chosen/cleave carries what boot needs", arguments: RealBoard.planned)
    func hostEmbedding(_ real: RealBoard) throws {
        let (tree, plan) = try real.load()
        let board = Board(tree)
        let (result, host) = try carveOK(tree, plan)
        #expect(host.string("/chosen/cleave", "compatible") == "cleave,partitions-v1")
        for (guestPlan, carved) in zip(plan.guests, result.guests) {
            #expect(carved.name == guestPlan.name)
            let base = "/chosen/cleave/\(guestPlan.name)"
            let node = try #require(host.lookup(path: base))
            #expect(host.property("guest-dtb", of: node)?.bytes == carved.tree.bytes, "guest-dtb must be the guest tree's bytes")
            #expect(host.property("cpus", of: node)?.cells == guestPlan.cpus)
            let mpidrs = guestPlan.cpus.flatMap { numberCells(board.cpus[Int($0)].mpidr, count: 2) }
            #expect(host.property("cpu-mpidrs", of: node)?.cells == mpidrs)
            #expect(host.property("memory-size", of: node)?.u64 == guestPlan.memorySize)
            #expect(host.property("hugepage-size", of: node)?.u64 == guestPlan.hugepageSize.bytes)
            #expect(host.string(base, "kernel") == guestPlan.kernel)
            #expect(host.string(base, "initrd") == guestPlan.initrd)
            #expect(host.string(base, "bootargs") == guestPlan.bootargs)
            #expect(host.string(base, "restart") == guestPlan.restart.rawValue)
            #expect(host.property("max-restarts", of: node)?.u32 == guestPlan.maxRestarts)
            for assignment in guestPlan.devices {
                let info = try #require(board.resolve(assignment.reference).flatMap { board.device($0) })
                if assignment.passthrough == .devmem {
                    #expect(host.string(info.path, "status") == "disabled", "\(info.path) must be disabled in the host")
                } else {
                    // Held from host drivers; a device the board itself disables stays so.
                    #expect(host.isHeldFromHost(info.path) || host.string(info.path, "status") == "disabled",
                            "\(info.path) must be held from host drivers")
                }
                let d = "\(base)/devices/\(assignment.label)"
                #expect(host.string(d, "path") == info.path)
                let reg = host.lookup(path: d).flatMap { host.property("mmio", of: $0)?.cells }
                #expect(reg == info.mmioRanges.flatMap { numberCells($0.base, count: 2) + numberCells($0.size, count: 2) })
                let irqs = host.lookup(path: d).flatMap { host.property("intids", of: $0)?.cells } ?? []
                #expect(stride(from: 0, to: irqs.count, by: 2).map { irqs[$0] } == board.subtreeSPIs(of: info).map(\.intid))
            }
        }
    }

    @Test("host bootargs isolate the guest CPUs, reserve 2 MiB hugepages and keep existing tokens", arguments: RealBoard.planned)
    func hostBootargs(_ real: RealBoard) throws {
        let (tree, plan) = try real.load()
        let board = Board(tree)
        let (result, host) = try carveOK(tree, plan)
        let args = try #require(host.string("/chosen", "bootargs"))
        #expect(args == result.report.hostBootargs)
        let t = tokens(args)
        let guestCPUs = plan.guests.flatMap(\.cpus)
        let hostCPUs = board.cpus.map(\.logical).filter { !guestCPUs.contains($0) }
        let list = Bootargs.cpuList(guestCPUs)
        #expect(t.contains("isolcpus=managed_irq,domain,\(list)"))
        #expect(t.contains("nohz_full=\(list)"))
        #expect(t.contains("rcu_nocbs=\(list)"))
        #expect(t.contains("irqaffinity=\(Bootargs.cpuList(hostCPUs))"))
        // Every plan here asks for 256 MiB in 2 MiB pages.
        let hugepagesz = try #require(t.firstIndex(of: "hugepagesz=2M"))
        #expect(t.dropFirst(hugepagesz + 1).first == "hugepages=128")
        #expect(t.filter { $0.hasPrefix("hugepages=") }.count == 1)
        let before = tree.string("/chosen", "bootargs") ?? ""
        #expect(Array(t.prefix(tokens(before).count)) == tokens(before), "existing bootargs '\(before)' not kept first")
    }

    @Test("guest trees: cells, CPUs, PSCI, timer, GIC, devices at physical addresses, no pinctrl, clocks resolve", arguments: RealBoard.planned)
    func guestStructure(_ real: RealBoard) throws {
        let (tree, plan) = try real.load()
        let board = Board(tree)
        let (result, _) = try carveOK(tree, plan)
        for ((guestPlan, carved), report) in zip(zip(plan.guests, result.guests), result.report.guests) {
            #expect(report.name == guestPlan.name)
            try checkGuestTree(carved.tree, plan: guestPlan, board: board, report: report)
        }
    }

    @Test("every interrupts property of a guest decodes on the guest's interrupt controllers", arguments: RealBoard.planned)
    func guestInterruptsDecode(_ real: RealBoard) throws {
        let (tree, plan) = try real.load()
        let (result, _) = try carveOK(tree, plan)
        for carved in result.guests {
            let unresolved = unresolvedInterrupts(carved.tree)
            #expect(unresolved.isEmpty, "\(unresolved)")
            
        }
    }

    @Test("no '-names' companion is left in a guest without its property", arguments: RealBoard.planned)
    func companions(_ real: RealBoard) throws {
        let (tree, plan) = try real.load()
        let (result, _) = try carveOK(tree, plan)
        let pairs = ["clock-names": "clocks", "reset-names": "resets", "dma-names": "dmas", "phy-names": "phys",
                     "interrupt-names": "interrupts", "pinctrl-names": "pinctrl-0", "power-domain-names": "power-domains",
                     "reg-names": "reg", "mbox-names": "mboxes", "nvmem-cell-names": "nvmem-cells"]
        for carved in result.guests {
            var orphans: [String] = []
            for node in carved.tree.allNodes {
                for (names, base) in pairs where carved.tree.hasProperty(names, of: node) && !carved.tree.hasProperty(base, of: node)
                    && !(base == "interrupts" && carved.tree.hasProperty("interrupts-extended", of: node)) {
                    orphans.append("\(carved.tree.path(of: node)): \(names) without \(base)")
                }
            }
            #expect(orphans.isEmpty, "\(orphans)")
            
        }
    }

    @Test("every generated DTB passes dtc -I dtb -O dts", arguments: RealBoard.planned)
    func dtcAccepts(_ real: RealBoard) throws {
        let (tree, plan) = try real.load()
        let (result, host) = try carveOK(tree, plan)
        for (name, bytes) in [("host", host.bytes)] + result.guests.map({ ($0.name, $0.tree.bytes) }) {
            let out = try decompile(bytes)
            #expect(out.status == 0, "\(real.plan)/\(name): dtc exited \(out.status): \(out.stderr)")
            #expect(!out.stderr.contains("ERROR"), "\(real.plan)/\(name): \(out.stderr)")
        }
    }

    @Test("guest DTBs draw no dtc warnings at all", arguments: RealBoard.planned)
    func guestsWarningFree(_ real: RealBoard) throws {
        let (tree, plan) = try real.load()
        let (result, _) = try carveOK(tree, plan)
        for carved in result.guests {
            let out = try decompile(carved.tree.bytes)
            #expect(out.stderr.isEmpty, "\(real.plan)/\(carved.name): \(out.stderr)")
            
        }
    }

    @Test("the suggested starting plan for a board carves without errors", arguments: RealBoard.planned)
    func suggestedPlan(_ real: RealBoard) throws {
        let tree = try realTree(real.tree)
        let plan = try #require(Plan.suggested(for: Board(tree)))
        #expect(!plan.guests.isEmpty)
        let result = carve(board: tree, plan: plan)
        #expect(!result.diagnostics.hasErrors, "\(Render.diagnostics(result.diagnostics))")
    }

    @Test("carving is deterministic: twice gives byte-identical blobs", arguments: RealBoard.planned)
    func deterministic(_ real: RealBoard) throws {
        let (tree, plan) = try real.load()
        let (first, host1) = try carveOK(tree, plan)
        // From a fresh parse of the same bytes, too.
        let (second, host2) = try carveOK(try realTree(real.tree), try realPlan(real.plan))
        #expect(host1.bytes == host2.bytes)
        #expect(first.guests.map { $0.tree.bytes } == second.guests.map { $0.tree.bytes })
        #expect(first.diagnostics == second.diagnostics)
        #expect(Render.carveReport(first) == Render.carveReport(second))
    }

    @Test("carving the carved host tree again gives the same host tree", arguments: RealBoard.planned)
    func recarveHost(_ real: RealBoard) throws {
        let (tree, plan) = try real.load()
        let (first, host) = try carveOK(tree, plan)
        let again = carve(board: host, plan: plan)
        let host2 = try #require(again.host, "\(again.diagnostics)")
        #expect(host2.string("/chosen", "bootargs") == host.string("/chosen", "bootargs"))
        #expect(again.guests.map { $0.tree.bytes } == first.guests.map { $0.tree.bytes })
        #expect(treeDifferences(board: host, host: host2).isEmpty, "\(treeDifferences(board: host, host: host2))")
    }

    @Test("carving with a Board value and with a tree agree; check equals carve's diagnostics", arguments: RealBoard.planned)
    func entryPoints(_ real: RealBoard) throws {
        let (tree, plan) = try real.load()
        let a = carve(board: tree, plan: plan)
        let b = carve(board: Board(tree), plan: plan)
        #expect(a.host?.bytes == b.host?.bytes)
        #expect(check(board: tree, plan: plan) == a.diagnostics)
    }

    // MARK: Board facts

    @Test("RPi 4: the PL011 moves to 0xfe201000 (through /soc ranges) with SPI 121 = INTID 153")
    func rpi4Serial() throws {
        let (tree, plan) = try RealBoard(plan: "bcm2711-rpi-4-b", tree: "bcm2711-rpi-4-b").load()
        let (result, host) = try carveOK(tree, plan)
        let guest = try #require(result.guests.first?.tree)
        let uart = try #require(guest.lookup(path: "/serial@fe201000"))
        #expect(try guest.deviceAddress(of: uart) == .mmio([PhysicalRange(base: 0xfe20_1000, size: 0x200)]))
        guard case .gic(let irq) = try #require(guest.interrupts(of: uart).first) else { Issue.record("not on the GIC"); return }
        #expect(irq.kind == .spi && irq.number == 121 && irq.intid == 153)
        #expect(host.isHeldFromHost("/soc/serial@7e201000"))
        // The bluetooth child moves with the UART; its GPIO (host-owned) is dropped.
        let bt = try #require(guest.lookup(path: "/serial@fe201000/bluetooth"))
        #expect(!guest.hasProperty("shutdown-gpios", of: bt))
        // GICv2: the timer PPIs carry the guest's one-vCPU mask.
        let timer = try #require(guest.lookup(path: "/timer"))
        let cells = try #require(guest.property("interrupts", of: timer)?.cells)
        #expect(stride(from: 2, to: cells.count, by: 3).allSatisfy { cells[$0] >> 8 == 0x1 })
    }

    @Test("qemu-virt: RTC, GPIO and two virtio transports at their addresses and INTIDs", arguments: ["qemu-virt", "qemu-virt-gicv2"])
    func qemuVirtDevices(_ name: String) throws {
        let real = RealBoard.planned.first { $0.plan == name }!
        let (tree, plan) = try real.load()
        let (result, _) = try carveOK(tree, plan)
        let guest = try #require(result.guests.first?.tree)
        let expected: [(String, UInt64, UInt32)] = [("/pl031@9010000", 0x901_0000, 34), ("/pl061@9030000", 0x903_0000, 39),
                                                    ("/virtio_mmio@a003e00", 0xa00_3e00, 79), ("/virtio_mmio@a003c00", 0xa00_3c00, 78)]
        for (path, base, intid) in expected {
            let node = try #require(guest.lookup(path: path), "\(path)")
            guard case .mmio(let ranges) = try guest.deviceAddress(of: node) else { Issue.record("\(path) has no MMIO"); continue }
            #expect(ranges.first?.base == base)
            #expect(gicINTIDs(guest, node) == [intid])
        }
        // The PL031/PL061 clock comes from the board's fixed 24 MHz clock as a stand-in.
        let report = try #require(result.report.guests.first)
        #expect(report.standInClocks.map(\.rate) == [24_000_000])
        #expect(result.diagnostics.filter { $0.severity == .warning }.map(\.code) == [.referenceDropped])
        // The transports share page 0x0a003000 with six host transports; they
        // have SPIs, so `auto` takes them with VFIO or UIO, which trap their
        // 0x200-byte windows: a note, not a warning.
        let pages = result.diagnostics.filter { $0.code == .pageShared }
        #expect(pages.map(\.path).sorted() == ["/virtio_mmio@a003c00", "/virtio_mmio@a003e00"])
        #expect(pages.allSatisfy { $0.severity == .note && $0.message.contains("traps") }, "\(pages)")
        // The virtual console: the highest free page below 4 GiB, and SPI 0, which no virt device uses.
        #expect(report.console == "virtual 16550 at 0xfffff000, SPI 0 (INTID 32)")
    }

    @Test("zynqmp: the passed-through UART is the console; existing 'earlycon' kept")
    func zynqmpConsole() throws {
        let (tree, plan) = try RealBoard(plan: "zynqmp-zcu102-rev1.0", tree: "zynqmp-zcu102-rev1.0").load()
        let (result, host) = try carveOK(tree, plan)
        let guest = try #require(result.guests.first?.tree)
        #expect(guest.string("/chosen", "stdout-path") == "/serial@ff010000")
        #expect(!guest.allNodes.contains { guest.isCompatible($0, with: "ns16550a") }, "no virtual UART when the console is passed through")
        #expect(host.string("/chosen/cleave/guest", "console") == "/axi/serial@ff010000")
        #expect(tokens(host.string("/chosen", "bootargs") ?? "").first == "earlycon")
        // Its PMU is wired to one SPI per CPU: the guest gets KVM's PMU on PPI 7
        // (INTID 23), level-high, the GICv2 CPU mask naming its one vCPU.
        let pmu = try #require(guest.lookup(path: "/pmu"))
        #expect(guest.property("interrupts", of: pmu)?.cells == [1, 7, 0x104])
    }

    @Test("k3-am654: the UART's own clock-frequency needs no stand-in; the I2C gets one at the plan's rate")
    func am654Clocks() throws {
        let (tree, plan) = try RealBoard(plan: "k3-am654-base-board", tree: "k3-am654-base-board").load()
        let (result, host) = try carveOK(tree, plan)
        let report = try #require(result.report.guests.first)
        #expect(report.standInClocks.map(\.rate) == [96_000_000])
        #expect(tokens(result.report.hostBootargs).contains("pd_ignore_unused"))
        #expect(tokens(host.string("/chosen", "bootargs") ?? "").first == "earlycon=ns16550a,mmio32,0x02800000")
    }
}
