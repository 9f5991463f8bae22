import Foundation
import Testing
import DeviceTree
import Partitioning
@testable import Passthrough
@testable import Supervisor

/// `passthrough = "auto"` falls back to /dev/mem only for a device without
/// interrupts: /dev/mem forwards none. The devices here have no MMIO and a
/// tree path no host has, so nothing on this machine is touched (no
/// /dev/mem, no sysfs write).
@Suite("Passthrough: auto never silently drops a device's interrupts")
struct PassthroughFallbackTests {
    func device(method: PassthroughDevice.Method, intids: [UInt32]) -> PassthroughDevice {
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
                                        kernelPath: "/k", gic: .v3(distributor: 0x800_0000, redistributor: 0x80a_0000))
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
