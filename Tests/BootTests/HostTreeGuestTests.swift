import Foundation
import Testing
import DeviceTree
import Partitioning
import PartitionRecord
@testable import Passthrough
import Platform
@testable import Supervisor

/// `cleave check` cannot size a guest's RAM on a board tree without /memory
/// (memory-unknown): `cleave boot` does, against the live tree's /memory the
/// bootloader filled in (or /proc/iomem's System RAM when the tree has none).
@Suite("Host tree guest: memory-size against the host's RAM")
struct HostTreeGuestMemoryTests {
    static let gib: UInt64 = 0x4000_0000

    /// rk3399-rockpro64 (no /memory in the board tree) carved with `guests`
    /// (DTS of /guests' children), then given the /memory a bootloader would
    /// add (`ram`: base, size), written to a temporary file.
    func liveHostTree(guests: String, ram: (UInt64, UInt64)?) throws -> (path: String, directory: URL) {
        let board = try boardTree("rk3399-rockpro64.dtb")
        #expect(Board(board).memory.isEmpty, "the test needs a board tree without /memory")
        let plan = try DeviceTree(bytes: compileDTS("""
            /dts-v1/;
            / { compatible = "cleave,plan-v1"; board = "pine64,rockpro64"; guests { \(guests) }; };
            """))
        let parsed = try #require(Plan.parse(plan).plan, "\(Plan.parse(plan).diagnostics)")
        let result = carve(board: board, plan: parsed)
        #expect(result.diagnostics.contains { $0.code == .memoryUnknown }, "carving says the size is left to boot")
        var host = try #require(result.host, "carve refused: \(result.diagnostics)")
        if let (base, size) = ram {
            let editor = try DeviceTreeEditor(host)
            let memory = try editor.addNode("/", "memory@\(String(base, radix: 16))")
            try editor.setProperty(memory, "device_type", string: "memory")
            try editor.setProperty(memory, "reg", cells: [UInt32(base >> 32), UInt32(base & 0xffff_ffff),
                                                          UInt32(size >> 32), UInt32(size & 0xffff_ffff)])
            host = try editor.finish()
        }
        let dir = try temporaryDirectory()
        let path = dir.appendingPathComponent("fdt").path
        try Data(host.bytes).write(to: URL(fileURLWithPath: path))
        return (path, dir)
    }

    func guest(_ name: String, cpus: String, size: UInt64) -> String {
        "\(name) { cpus = <\(cpus)>; memory-size = /bits/ 64 <0x\(String(size, radix: 16))>; kernel = \"/k\"; };"
    }

    /// The message of the configuration error reading `path` gives, or nil when it reads.
    func refusal(_ path: String, guest: String? = nil, iomem: String = "/nonexistent/iomem") -> String? {
        do throws(SupervisorError) {
            _ = try HostTreeGuest.configuration(treePath: path, guest: guest, iomemPath: iomem)
            return nil
        } catch {
            guard case .configuration(let message) = error else { return "not a configuration error: \(error)" }
            return message
        }
    }

    @Test func guestLargerThanTheLiveTreesRAMIsRefused() throws {
        let host = try liveHostTree(guests: guest("big", cpus: "4", size: 256 * Self.gib), ram: (0x20_0000, 0xf7e0_0000))
        defer { try? FileManager.default.removeItem(at: host.directory) }
        let message = try #require(refusal(host.path), "a 256 GiB guest on a 3.9 GiB host was accepted")
        for part in ["guest 'big'", "memory-size 0x4000000000 (256 GiB)", "0xf7e00000 (3966 MiB) of RAM", "/memory in \(host.path)",
                     "128 MiB", "at most 0xefe00000 (3838 MiB) for 'big'", "in the plan", "carve again"] {
            #expect(message.contains(part), "'\(part)' not in: \(message)")
        }
    }

    @Test func guestThatFitsBoots() throws {
        let host = try liveHostTree(guests: guest("small", cpus: "4", size: 0x1000_0000), ram: (0x20_0000, 0xf7e0_0000))
        defer { try? FileManager.default.removeItem(at: host.directory) }
        let config = try HostTreeGuest.configuration(treePath: host.path, guest: nil, iomemPath: "/nonexistent/iomem")
        #expect(config.name == "small" && config.memorySize == 0x1000_0000)
    }

    @Test func theHostKeeps128MiB() throws {
        // 3966 MiB of RAM: a 3838 MiB guest leaves the host 128 MiB, a 3870 MiB one 96 MiB.
        let fits = try liveHostTree(guests: guest("g", cpus: "4", size: 0xf7e0_0000 - 0x800_0000), ram: (0x20_0000, 0xf7e0_0000))
        defer { try? FileManager.default.removeItem(at: fits.directory) }
        #expect(refusal(fits.path) == nil, "exactly 128 MiB left for the host is enough")
        let tight = try liveHostTree(guests: guest("g", cpus: "4", size: 0xf7e0_0000 - 0x600_0000), ram: (0x20_0000, 0xf7e0_0000))
        defer { try? FileManager.default.removeItem(at: tight.directory) }
        #expect(refusal(tight.path)?.contains("guest 'g'") == true, "96 MiB left for the host is refused")
    }

    @Test func everyGuestUnderChosenCleaveCounts() throws {
        let host = try liveHostTree(guests: guest("a", cpus: "4", size: 2 * Self.gib) + guest("b", cpus: "5", size: 2 * Self.gib),
                                    ram: (0x20_0000, 0xf7e0_0000))
        defer { try? FileManager.default.removeItem(at: host.directory) }
        let message = try #require(refusal(host.path, guest: "a"))
        #expect(message.contains("guest 'a'") && message.contains("'b' 0x80000000 (2 GiB)") && message.contains("0x100000000 (4 GiB) in all"), "\(message)")
        #expect(message.contains("at most 0x6fe00000 (1790 MiB) for 'a'"), "\(message)")
    }

    @Test func withoutMemoryInTheTreeIomemIsRead() throws {
        let host = try liveHostTree(guests: guest("big", cpus: "4", size: 256 * Self.gib), ram: nil)
        defer { try? FileManager.default.removeItem(at: host.directory) }
        // Nothing says how much RAM there is: hugepage allocation is left to tell.
        #expect(refusal(host.path) == nil)
        // /proc/iomem as root sees it after a UEFI boot: top-level System RAM
        // entries count, nested ones and other resources do not.
        let iomem = host.directory.appendingPathComponent("iomem").path
        try """
            00200000-f7ffffff : System RAM
              02080000-0349ffff : Kernel code
            f8000000-f8ffffff : pcie@f8000000
            100000000-13fffffff : System RAM
            """.write(toFile: iomem, atomically: true, encoding: .utf8)
        let message = try #require(refusal(host.path, iomem: iomem), "iomem's RAM was not used")
        #expect(message.contains("0x137e00000 (4990 MiB) of RAM (System RAM in \(iomem))"), "\(message)")
        // As a user who is not root sees it: every address 0, so unknown.
        let hidden = host.directory.appendingPathComponent("iomem-user").path
        try "00000000-00000000 : System RAM\n".write(toFile: hidden, atomically: true, encoding: .utf8)
        #expect(refusal(host.path, iomem: hidden) == nil)
    }
}

/// `passthrough = "auto"` falls back to /dev/mem only for a device without
/// interrupts: /dev/mem forwards none. The devices here have no MMIO and a
/// tree path no host has, so nothing on this machine is touched (no
/// /dev/mem, no sysfs write).
@Suite("Passthrough: auto never silently drops a device's interrupts")
struct PassthroughFallbackTests {
    func device(method: PassthroughMethod, intids: [UInt32]) -> PassthroughDevice {
        PassthroughDevice(label: "rtc", path: "/cleave-test-no-such-device@9010000", compatible: ["arm,pl031"], mmio: [],
                          interrupts: intids.map { .init(intid: $0, level: $0 == 34) }, method: method, allowUnbind: false)
    }

    func open(_ devices: [PassthroughDevice]) -> Result<PassthroughSet, PassthroughError> {
        do throws(PassthroughError) {
            return .success(try PassthroughSet(guest: "cleave-unit-test-\(getpid())", devices: devices, hostCPU: nil, log: { _, _ in }))
        } catch {
            return .failure(error)
        }
    }

    @Test func autoWithSPIsAndNeitherVFIONorUIOIsAnError() throws {
        guard case .failure(let error) = open([device(method: .auto, intids: [34, 79])]) else {
            Issue.record("auto took a device with SPIs without VFIO or UIO"); return
        }
        let message = error.description
        for part in ["/cleave-test-no-such-device@9010000", "INTID 34 (level), 79 (edge)", "no host device",
                     "insmod vfio.ko enable_unsafe_noiommu_mode=1", "vfio-platform.ko", "vfio-amba.ko", "uio_pdrv_genirq.ko",
                     "Scripts/build-modules", "passthrough = \"devmem\""] {
            #expect(message.contains(part), "'\(part)' not in: \(message)")
        }
    }

    @Test func autoWithoutInterruptsFallsBackToDevmem() throws {
        guard case .success(let set) = open([device(method: .auto, intids: [])]) else {
            Issue.record("auto refused a device without interrupts"); return
        }
        defer { set.teardown() }
        #expect(set.assigned.map(\.backend.name) == ["devmem"])
        #expect(set.assigned.first?.reason.contains("no interrupts") == true)
    }

    @Test func explicitDevmemAcceptsADeviceWithInterrupts() throws {
        guard case .success(let set) = open([device(method: .devmem, intids: [34])]) else {
            Issue.record("passthrough = \"devmem\" refused a device with an SPI"); return
        }
        defer { set.teardown() }
        #expect(set.assigned.map(\.backend.name) == ["devmem"])
        #expect(set.assigned.first?.reason.contains("interrupts NOT forwarded") == true)
    }

    @Test func theRefusalIsASetupErrorWithExitStatus1() throws {
        var config = GuestConfiguration(name: "cleave-unit-test-\(getpid())", hostCPUs: [nil], memorySize: 0x20_0000,
                                        kernelPath: "/k", gic: .v3(distributor: 0x800_0000, redistributor: 0x80a_0000),
                                        consoleBase: TestConsole.base, consoleINTID: TestConsole.intid)
        config.passthroughDevices = [device(method: .auto, intids: [34])]
        let supervisor = Supervisor(config, startTime: 0)
        do throws(SupervisorError) {
            _ = try supervisor.preparePassthrough()
            Issue.record("preparePassthrough accepted the device")
        } catch {
            guard case .configuration(let message) = error else { Issue.record("\(error)"); return }
            #expect(message.hasPrefix("passthrough: /cleave-test-no-such-device@9010000"), "\(message)")
            #expect(Outcome.error(message).exitStatus == 1)
        }
    }
}

/// The plan's interrupt method at boot, on a host without cleave-forward
/// (this machine: no /dev/cleave-forward): `forward` is a setup error that
/// says why, `auto` logs the same one line and goes on as before. The devices
/// have no host device, so nothing on this machine is touched.
@Suite("Passthrough: forwarded SPIs on a host that cannot forward",
       .enabled(if: !FileManager.default.fileExists(atPath: "/dev/cleave-forward")))
struct ForwardUnavailableTests {
    func device(method: PassthroughMethod, interrupts: InterruptMethod, intids: [UInt32] = [34]) -> PassthroughDevice {
        PassthroughDevice(label: "rtc", path: "/cleave-test-no-such-device@9010000", compatible: ["arm,pl031"], mmio: [],
                          interrupts: intids.map { .init(intid: $0, level: true) }, method: method,
                          interruptMethod: interrupts, allowUnbind: false)
    }

    /// The error (or nil) and every log line `event detail`.
    func open(_ devices: [PassthroughDevice], hostCPU: Int? = 1) -> (error: String?, log: [String]) {
        let lines = LogLines()
        do throws(PassthroughError) {
            let set = try PassthroughSet(guest: "cleave-unit-test-\(getpid())", devices: devices, hostCPU: hostCPU,
                                         log: { event, detail in lines.append("\(event) \(detail)") })
            set.teardown()
            return (nil, lines.all)
        } catch {
            return ("\(error)", lines.all)
        }
    }

    final class LogLines: @unchecked Sendable {
        var all: [String] = []
        func append(_ s: String) { all.append(s) }
    }

    @Test(arguments: [PassthroughMethod.vfio, .devmem, .auto])
    func explicitForwardIsASetupErrorNamingWhy(_ mmio: PassthroughMethod) {
        let (error, log) = open([device(method: mmio, interrupts: .forward)])
        let message = error ?? ""
        for part in ["/cleave-test-no-such-device@9010000", "interrupts = \"forward\"", "forwarding unavailable",
                     "no /dev/cleave-forward", "cleave-forward.ko is not loaded", "Scripts/build-modules"] {
            #expect(message.contains(part), "'\(part)' not in: \(message)")
        }
        #expect(log.filter { $0.contains("forwarding unavailable: ") }.count == 1, "\(log)")
    }

    @Test func autoSaysOnceWhyAndFallsBack() {
        let (error, log) = open([device(method: .auto, interrupts: .auto), device(method: .auto, interrupts: .auto, intids: [35])])
        // Then as without the module: neither VFIO nor UIO takes these devices.
        #expect(error?.contains("passthrough \"auto\" found neither VFIO nor UIO") == true, "\(error ?? "accepted")")
        let lines = log.filter { $0.hasPrefix("forward forwarding unavailable: no /dev/cleave-forward") }
        #expect(lines.count == 1 && lines.first?.contains("auto: irqfd or uio instead") == true, "\(log)")
    }

    @Test func anUnpinnedGuestCannotForward() {
        let (error, _) = open([device(method: .devmem, interrupts: .forward)], hostCPU: nil)
        #expect(error?.contains("not pinned to a host CPU") == true, "\(error ?? "accepted")")
    }

    /// A reason the supervisor gives (GICv2 with more than one vCPU) wins
    /// over whatever the host offers, and an explicit `forward` names it.
    @Test func aRuledOutGuestSaysWhy() {
        let lines = LogLines()
        do throws(PassthroughError) {
            let set = try PassthroughSet(guest: "cleave-unit-test-\(getpid())", devices: [device(method: .devmem, interrupts: .forward)],
                                         hostCPU: 1, forwardingRuledOut: "GICv2 with 2 vCPUs: test",
                                         log: { event, detail in lines.append("\(event) \(detail)") })
            set.teardown()
            Issue.record("accepted")
        } catch {
            #expect("\(error)".contains("forwarding unavailable: GICv2 with 2 vCPUs: test"), "\(error)")
        }
        #expect(lines.all.filter { $0.contains("forwarding unavailable: GICv2 with 2 vCPUs") }.count == 1, "\(lines.all)")
    }

    @Test func gicv2ForwardsOnlyForAOneVCPUGuest() {
        func config(_ gic: GIC, vcpus: Int) -> GuestConfiguration {
            GuestConfiguration(name: "g", hostCPUs: Array(1...vcpus), memorySize: 0x20_0000, kernelPath: "/k", gic: gic,
                               consoleBase: TestConsole.base, consoleINTID: TestConsole.intid)
        }
        let v2 = GIC.v2(distributor: 0x800_0000, cpuInterface: 0x801_0000)
        let v3 = GIC.v3(distributor: 0x800_0000, redistributor: 0x80a_0000)
        #expect(Supervisor.forwardingRuledOut(config(v2, vcpus: 1)) == nil)
        #expect(Supervisor.forwardingRuledOut(config(v3, vcpus: 2)) == nil)
        let why = Supervisor.forwardingRuledOut(config(v2, vcpus: 2)) ?? ""
        #expect(why.contains("GICv2 with 2 vCPUs") && why.contains("one-vCPU guest"), "\(why)")
    }

    @Test func noForwardingIsTriedWhereThePlanRulesItOut() {
        // irqfd, uio, devmem with auto (no interrupts), a device without SPIs: no line about forwarding.
        for d in [device(method: .auto, interrupts: .irqfd), device(method: .auto, interrupts: .uio),
                  device(method: .devmem, interrupts: .auto), device(method: .vfio, interrupts: .auto, intids: [])] {
            #expect(!PassthroughSet.mayForward(d), "\(d.method) \(d.interruptMethod)")
            let (_, log) = open([d])
            #expect(!log.contains { $0.contains("forwarding") }, "\(d.method) \(d.interruptMethod): \(log)")
        }
        #expect(PassthroughSet.mayForward(device(method: .vfio, interrupts: .auto)))
        #expect(PassthroughSet.mayForward(device(method: .devmem, interrupts: .forward)))
    }
}
