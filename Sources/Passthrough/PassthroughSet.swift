import CLinux
import KVM
import PartitionRecord
import Synchronization
import Syscalls

/// Takes a guest's devices from the host and gives them to its VMs: for each
/// device a backend chosen by the plan (`auto` tries VFIO, then UIO, then
/// /dev/mem for a device without interrupts; one with SPIs is refused there,
/// since /dev/mem forwards none), its MMIO mapped at the device's own physical address (or
/// trapped and forwarded when a window is not page-aligned), its SPIs wired
/// with the same INTIDs, the host IRQs steered to the guest's CPU.
///
/// Each SPI gets one interrupt method (the plan's `interrupts`; `auto` tries
/// them in this order):
/// - `forward`: cleave-forward (§24) with the HW bit; the guest's EOI
///   deactivates the physical SPI, no host code runs per interrupt;
/// - `irqfd`: VFIO eventfd -> KVM_IRQFD (+ resamplefd and VFIO unmask for
///   level SPIs), the mainline path (§3);
/// - `uio`: UIO -> the supervisor -> KVM.
/// The kernel fixes the order of a forwarded device's steps: bound to VFIO,
/// then forwarded once a VM's vGIC exists, and only then its VFIO device
/// opened (vfio-platform requests the IRQs at open; its own SET_IRQS then
/// fails EBUSY for a forwarded one). So such a device is opened at the first
/// `attach`, where the method of each of its SPIs is settled for the run.
///
/// One set lives for the supervisor's whole run (every reboot of the guest):
/// `attach` wires each new VM (forwarding again into it), `detach` closes the
/// forwardings into the old one, `teardown` gives everything back to the host.
public final class PassthroughSet {
    public typealias Logger = (_ event: String, _ detail: String) -> Void

    /// One eventfd, owned.
    final class EventFD {
        let fd: FileDescriptor
        init() throws(PassthroughError) {
            let r = cleave_eventfd(0)
            if r < 0 { throw .call("eventfd", context: "", errno: Errno(-r)) }
            fd = FileDescriptor(adopting: r)
        }
        var raw: Int32 { fd.rawValue }
        /// Reads (and so clears) the counter; false when it was zero.
        func drain() -> Bool {
            var v: UInt64 = 0
            return withUnsafeMutableBytes(of: &v) { cleave_read(fd.rawValue, $0.baseAddress, 8) } == 8
        }
        func signal() {
            var v: UInt64 = 1
            _ = withUnsafeBytes(of: &v) { cleave_write(fd.rawValue, $0.baseAddress, 8) }
        }
    }

    enum Backend {
        case vfio(VFIODevice)
        /// Bound to VFIO, its device not opened yet: its SPIs are forwarded
        /// first (the first `attach`).
        case vfioUnopened(HostDevice, VFIOGroup, driver: String)
        case uio(UIODevice)
        case devmem([DeviceWindow])

        var name: String {
            switch self {
            case .vfio, .vfioUnopened: return "vfio"
            case .uio: return "uio"
            case .devmem: return "devmem"
            }
        }
    }

    /// A window the guest reaches through stage 2 directly.
    struct Slot {
        let mapping: Mapping
        let base: UInt64
        let size: UInt64
    }


    /// One SPI's wiring. `trigger` is signalled by the host side (VFIO in the
    /// kernel, or the UIO relay) and attached to each VM with KVM_IRQFD;
    /// `resample`, for level SPIs, is KVM's resamplefd, signalled on the guest's EOI.
    final class Wire {
        let intid: UInt32
        let level: Bool
        let trigger: EventFD
        let resample: EventFD?
        let vfio: (device: VFIODevice, index: UInt32)?
        let uio: UIODevice?
        let relayed = Atomic<UInt64>(0)

        init(intid: UInt32, level: Bool, vfio: (VFIODevice, UInt32)?, uio: UIODevice?) throws(PassthroughError) {
            self.intid = intid
            self.level = level
            self.vfio = vfio
            self.uio = uio
            trigger = try EventFD()
            resample = level ? try EventFD() : nil
        }
    }

    final class Assigned {
        let device: PassthroughDevice
        var backend: Backend
        var reason: String
        var slots: [Slot] = []
        var traps: [TrappedWindow] = []
        var wires: [Wire] = []
        /// Its SPIs are forwarded into each VM (`forward`, or `auto` on a host
        /// that can): settled at the first attach, `forwarded` then names them.
        var forwarding: Bool
        var forwarded: [UInt32] = []
        /// The forwardings into the current VM, closed by `detach`.
        var forwardings: [Forwarding] = []
        init(device: PassthroughDevice, backend: Backend, reason: String, forwarding: Bool = false) {
            self.device = device
            self.backend = backend
            self.reason = reason
            self.forwarding = forwarding
        }

        /// The method each SPI gets: `34/level/forward`, for the boot log.
        var intids: String {
            let text = device.interrupts.map { irq in
                let method: String
                if forwarded.contains(irq.intid) { method = "forward" } else if let w = wires.first(where: { $0.intid == irq.intid }) {
                    method = w.uio != nil ? "uio" : "irqfd"
                } else { method = "none" }
                return "\(irq.intid)/\(irq.level ? "level" : "edge")/\(method)"
            }
            return text.isEmpty ? "-" : text.joined(separator: ",")
        }
    }

    let guest: String
    let log: Logger
    let state: HostState
    private(set) var assigned: [Assigned] = []
    /// /dev/mem windows of the devmem devices, pages merged.
    private var windows: [DeviceWindow] = []
    private var container: VFIOContainer? = nil
    private var groups: [VFIOGroup] = []
    private var relays: [Thread] = []
    private let stopping = Atomic<Bool>(false)
    private let vmLock = Lock()
    private var currentVM: VirtualMachine? = nil
    public let eoiMode: HostInterrupts.EOIMode
    /// /dev/cleave-forward, when some device may forward and the host can.
    private var forwardControl: ForwardControl? = nil
    private let forwardingRuledOut: String?
    private let hostCPU: Int?
    private var attached = false

    /// Prepares the host and opens every device. `hostCPU`: the guest's
    /// (first) physical CPU, where the devices' host IRQs are steered.
    /// `forwardingRuledOut`: why this guest's SPIs must not be forwarded
    /// whatever the host offers (`Supervisor.forwardingRuledOut`), nil when
    /// they may.
    public init(guest: String, devices: [PassthroughDevice], hostCPU: Int?, forwardingRuledOut: String? = nil,
                log: @escaping Logger) throws(PassthroughError) {
        self.guest = guest
        self.log = log
        self.hostCPU = hostCPU
        self.forwardingRuledOut = forwardingRuledOut
        // A supervisor killed with SIGKILL left its changes: undo them first.
        if let left = HostState.leftover(guest: guest) {
            let problems = left.undo()
            log("host-recovered", "file=\(left.path) problems=\(problems.count)" + (problems.isEmpty ? "" : " first=\"\(problems[0])\""))
            // What it could not undo stays in the file: taking the devices
            // again now would write over it.
            if left.isPending { throw .unavailable("guest \(guest): the host is not restored from its last run (\(left.path)): " + problems.joined(separator: "; ")) }
        }
        state = HostState(guest: guest)
        eoiMode = HostInterrupts.eoiMode()
        log("host-gic", "eoi_mode=\"\(eoiMode)\"")
        do throws(PassthroughError) {
            try openForwardControl(devices)
            for device in devices {
                let a = try take(device)
                assigned.append(a)
                if let cpu = hostCPU, !a.wires.isEmpty { steer(a, to: cpu) }
                // A forwarding device is logged once its methods are settled (attach).
                if !a.forwarding { logAssigned(a) }
            }
            let devmem = assigned.filter { if case .devmem = $0.backend { return true } else { return false } }
            do throws(DeviceWindow.Failure) { windows = try DeviceWindow.map(devmem.flatMap { $0.device.mmio.map { ($0.base, $0.size) } }) } catch {
                throw .unavailable("/dev/mem: \(error)")
            }
            try startRelays()
        } catch {
            teardown()
            throw error
        }
    }

    /// Each device with its MMIO method and its SPIs' methods (`34/level/forward`),
    /// as the boot log names them; settled once the first `attach` is done.
    public var methods: [(path: String, method: String, intids: String)] {
        assigned.map { ($0.device.path, $0.backend.name, $0.intids) }
    }

    private func logAssigned(_ a: Assigned) {
        log("passthrough", "device=\(a.device.path) method=\(a.backend.name) why=\"\(a.reason)\" mapped=\(a.slots.map { "\(hex($0.base))+\(hex($0.size))" }.joined(separator: ",")) trapped=\(a.traps.map { "\(hex($0.base))+\(hex($0.size))" }.joined(separator: ",")) intids=\(a.intids)")
    }

    // MARK: Forwarding (cleave-forward)

    /// Whether the plan lets `device`'s SPIs be forwarded: `forward`, or
    /// `auto` with VFIO or auto MMIO (UIO's driver holds the IRQ; devmem
    /// forwards only when asked to).
    static func mayForward(_ device: PassthroughDevice) -> Bool {
        guard !device.interrupts.isEmpty else { return false }
        switch device.interruptMethod {
        case .forward: return true
        case .auto: return device.method == .auto || device.method == .vfio
        case .irqfd, .uio: return false
        }
    }

    /// Opens /dev/cleave-forward when a device may forward. A host that
    /// cannot gets one line saying why; a device whose plan says `forward`
    /// is then a setup error, `auto` goes on without.
    private func openForwardControl(_ devices: [PassthroughDevice]) throws(PassthroughError) {
        let wanting = devices.filter(PassthroughSet.mayForward)
        guard !wanting.isEmpty else { return }
        var why: String? = forwardingRuledOut
        if why == nil, hostCPU == nil { why = "the guest's vCPU 0 is not pinned to a host CPU, where the SPIs would be steered" }
        if why == nil {
            do throws(ForwardControl.Unavailable) { forwardControl = try ForwardControl() } catch { why = error.description }
        }
        guard let why else { return }
        let explicit = wanting.filter { $0.interruptMethod == .forward }
        log("forward", "forwarding unavailable: \(why) (" + (explicit.isEmpty ? "auto: irqfd or uio instead" : "refusing \(explicit.map { $0.path }.joined(separator: ", ")), whose plan says interrupts = \"forward\"") + ")")
        if let d = explicit.first {
            throw .unavailable("\(d.path): interrupts = \"forward\" but forwarding unavailable: \(why)")
        }
    }

    /// Whether `device` goes the forwarded way on this host.
    private func forwards(_ device: PassthroughDevice) -> Bool {
        forwardControl != nil && PassthroughSet.mayForward(device)
    }

    /// Forwards each SPI of `a` into `vm` (vCPU 0, steered to the guest's
    /// first CPU, where vCPU 0's thread is pinned). At the first attach an
    /// SPI the module refuses falls back (`auto`: irqfd for a VFIO device,
    /// none for devmem) or fails the setup (`forward`); after that the set
    /// of forwarded SPIs is fixed, and a refusal fails the boot.
    private func forward(_ a: Assigned, into vm: VirtualMachine, first: Bool) throws(PassthroughError) {
        guard let control = forwardControl, let cpu = hostCPU else { return }
        let intids = first ? a.device.interrupts.map { $0.intid } : a.forwarded
        for intid in intids {
            do throws(ForwardControl.Unavailable) {
                a.forwardings.append(try control.forward(vm: vm, vcpu: 0, intid: intid, hostCPU: cpu))
                if first { a.forwarded.append(intid) }
            } catch {
                let fallback = a.device.interruptMethod == .auto && first
                log("forward", "forwarding unavailable: \(a.device.path) \(error) (" + (fallback ? "auto: \(a.backend.name == "vfio" ? "irqfd" : "no interrupt") instead" : "setup error") + ")")
                if !fallback { throw .unavailable("\(a.device.path): forwarding unavailable: \(error)") }
            }
        }
    }

    // MARK: Choosing and opening a backend

    private func take(_ device: PassthroughDevice) throws(PassthroughError) -> Assigned {
        var why: [String] = []
        let host = HostDevice.find(treePath: device.path)
        let interrupts = device.interruptMethod
        if host == nil { why.append("no host device for \(device.path) (disabled in the host tree?)") }
        if let host, device.method == .auto || device.method == .vfio, interrupts != .uio {
            do throws(PassthroughError) { return try openVFIO(device, host) } catch {
                if device.method == .vfio { throw error }
                why.append("vfio: \(error)")
            }
        }
        if let host, device.method == .auto || device.method == .uio, interrupts == .auto || interrupts == .uio || device.interrupts.isEmpty {
            do throws(PassthroughError) { return try openUIO(device, host, fallback: why) } catch {
                if device.method == .uio { throw error }
                why.append("uio: \(error)")
            }
        }
        if device.method != .auto && device.method != .devmem {
            throw .unavailable("\(device.path): \(device.method.rawValue) passthrough impossible: \(why.joined(separator: "; "))")
        }
        // /dev/mem forwards no interrupt: `auto` falls back to it only for a
        // device that has none, or whose SPIs cleave-forward takes; the plan
        // must ask for devmem to accept a device without its interrupts.
        let forwarded = forwards(device) && (device.method == .devmem || interrupts == .forward)
        if device.method == .auto && !device.interrupts.isEmpty && !forwarded {
            throw .unavailable(PassthroughSet.noInterruptFallback(device, why))
        }
        // Mapped below, with every devmem device's windows at once: two devices
        // in one page share a window (DeviceWindow.map merges pages).
        why.append(device.interrupts.isEmpty ? "no interrupts" : forwarded ? "interrupts by cleave-forward" : "interrupts NOT forwarded")
        return Assigned(device: device, backend: .devmem([]), reason: (device.method == .devmem ? "plan asks devmem; " : "") + why.joined(separator: "; "),
                        forwarding: forwarded)
    }

    /// Why `auto` refuses /dev/mem for `device` (it has SPIs): the device,
    /// its INTIDs, why VFIO and UIO failed, and what to load or change.
    static func noInterruptFallback(_ device: PassthroughDevice, _ why: [String]) -> String {
        let intids = device.interrupts.map { "\($0.intid) (\($0.level ? "level" : "edge"))" }.joined(separator: ", ")
        return "\(device.path): passthrough \"auto\" found neither VFIO nor UIO able to take the device ("
            + why.joined(separator: "; ")
            + "), and /dev/mem would leave its interrupts unforwarded (INTID \(intids)). "
            + "Load the passthrough modules Scripts/build-modules builds: for VFIO, insmod vfio.ko enable_unsafe_noiommu_mode=1, "
            + "vfio_virqfd.ko, vfio-platform-base.ko, vfio-platform.ko reset_required=0 and vfio-amba.ko (AMBA devices); "
            + "or for UIO, insmod uio.ko and uio_pdrv_genirq.ko (a platform device with at most one interrupt). "
            + "To run the device without its interrupts, set passthrough = \"devmem\" for it in the plan and carve again."
    }

    private func bind(_ device: PassthroughDevice, _ host: HostDevice, _ driver: String) throws(PassthroughError) {
        let original = host.driver ?? ""
        try state.record(.bind(host, original: original))
        do throws(PassthroughError) { _ = try host.bind(to: driver, allowUnbind: device.allowUnbind) } catch {
            _ = host.restore(original: original)
            throw error
        }
    }

    private func openVFIO(_ device: PassthroughDevice, _ host: HostDevice) throws(PassthroughError) -> Assigned {
        let driver = host.bus == "amba" ? "vfio-amba" : "vfio-platform"
        guard Sysfs.exists("/dev/vfio/vfio") else { throw .unavailable("no /dev/vfio/vfio (vfio.ko not loaded)") }
        if container == nil { container = try VFIOContainer() }
        try bind(device, host, driver)
        do throws(PassthroughError) {
            guard let number = Sysfs.linkName(host.sysfs + "/iommu_group") else {
                throw .unavailable("\(host) has no iommu_group after binding \(driver) (vfio.ko enable_unsafe_noiommu_mode=1?)")
            }
            let group: VFIOGroup
            if let g = groups.first(where: { $0.number == number }) { group = g } else {
                group = try VFIOGroup(number: number, container: container!)
                groups.append(group)
            }
            if forwards(device) {
                return Assigned(device: device, backend: .vfioUnopened(host, group, driver: driver),
                                reason: "\(driver) bound to \(host)", forwarding: true)
            }
            let a = Assigned(device: device, backend: .vfio(try VFIODevice(name: host.name, group: group)), reason: "\(driver) bound to \(host)")
            try openVFIO(a, skipping: [])
            return a
        } catch {
            _ = host.restore(original: "")
            throw error
        }
    }

    /// Opens a bound device's VFIO device (now, or after its SPIs were
    /// forwarded): maps or traps each window, and wires each SPI not in
    /// `forwarded` through irqfd (VFIO's own trigger for a forwarded one
    /// would fail EBUSY, and must never drive it anyway).
    private func openVFIO(_ a: Assigned, skipping forwarded: [UInt32]) throws(PassthroughError) {
        let device = a.device
        let vfio: VFIODevice
        switch a.backend {
        case .vfio(let opened): vfio = opened
        case .vfioUnopened(let host, let group, _):
            vfio = try VFIODevice(name: host.name, group: group)
            a.backend = .vfio(vfio)
        default: return
        }
        let host = vfio.name
        for (i, window) in device.mmio.enumerated() {
            guard i < vfio.regions.count else { throw .unavailable("\(host): VFIO reports \(vfio.regions.count) regions, the tree \(device.mmio.count)") }
            let region = vfio.regions[i]
            if region.mappable && window.base & 0xfff == 0 && region.size == window.size {
                a.slots.append(Slot(mapping: try vfio.map(region), base: window.base, size: window.size))
            } else {
                a.traps.append(TrappedWindow(base: window.base, size: window.size, device: device.path, access: .vfio(vfio, region)))
            }
        }
        for (i, irq) in device.interrupts.enumerated() where !forwarded.contains(irq.intid) {
            guard i < vfio.irqs.count, vfio.irqs[i].count > 0 else { throw .unavailable("\(host): VFIO has no IRQ index \(i) for INTID \(irq.intid)") }
            let wire = try Wire(intid: irq.intid, level: irq.level, vfio: (vfio, UInt32(i)), uio: nil)
            try vfio.setTrigger(irq: UInt32(i), eventfd: wire.trigger.raw)
            if let r = wire.resample { try vfio.setUnmask(irq: UInt32(i), eventfd: r.raw) }
            a.wires.append(wire)
        }
    }

    private func openUIO(_ device: PassthroughDevice, _ host: HostDevice, fallback: [String]) throws(PassthroughError) -> Assigned {
        guard host.bus == "platform" else { throw .unavailable("\(host) is on the \(host.bus) bus; uio_pdrv_genirq is a platform driver") }
        guard device.interrupts.count <= 1 else { throw .unavailable("uio_pdrv_genirq forwards one interrupt; \(device.path) has \(device.interrupts.count)") }
        try bind(device, host, "uio_pdrv_genirq")
        do throws(PassthroughError) {
            let uio = try UIODevice(host: host)
            let reason = "uio_pdrv_genirq bound to \(host) (/dev/\(uio.node))" + (fallback.isEmpty ? "" : "; " + fallback.joined(separator: "; "))
            let a = Assigned(device: device, backend: .uio(uio), reason: reason)
            for (i, window) in device.mmio.enumerated() {
                guard i < uio.maps.count else { throw .unavailable("/dev/\(uio.node) has \(uio.maps.count) maps, the tree \(device.mmio.count) windows") }
                let m = uio.maps[i]
                // Trapped accesses go to mapping + (window.base - m.address): the
                // window must lie inside the map (uio_pdrv_genirq maps whole pages
                // from the resource's page), or the supervisor would reach memory
                // outside its own mapping when the recorded mmio and the kernel's
                // resource disagree (a --tree that is not the booted tree).
                guard window.base >= m.address, window.size <= m.size, window.base - m.address <= m.size - window.size else {
                    throw .unavailable("\(device.path): window \(hex(window.base))+\(hex(window.size)) is not inside /dev/\(uio.node) map \(i) (\(hex(m.address))+\(hex(m.size))): the host tree given is not the one the host booted?")
                }
                let mapping = try uio.map(i)
                if m.offset == 0 && m.address == window.base && m.size == window.size {
                    a.slots.append(Slot(mapping: mapping, base: window.base, size: window.size))
                } else {
                    a.traps.append(TrappedWindow(base: window.base, size: window.size, device: device.path, access: .mapped(mapping, offset: window.base - m.address)))
                }
            }
            if let irq = device.interrupts.first {
                a.wires.append(try Wire(intid: irq.intid, level: irq.level, vfio: nil, uio: uio))
                // The driver may hold the line disabled from an interrupt before we opened it.
                _ = uio.enableInterrupt()
            }
            return a
        } catch {
            _ = host.restore(original: "")
            throw error
        }
    }

    private func steer(_ a: Assigned, to cpu: Int) {
        for w in a.wires {
            guard let irq = HostInterrupts.linuxIRQ(intid: w.intid) else {
                log("irq-affinity", "intid=\(w.intid) error=\"no Linux IRQ maps it\"")
                continue
            }
            do throws(PassthroughError) {
                let before = Sysfs.read("/proc/irq/\(irq)/smp_affinity_list") ?? ""
                try state.record(.affinity(irq: irq, list: before))
                _ = try HostInterrupts.steer(irq: irq, to: cpu)
                log("irq-affinity", "intid=\(w.intid) irq=\(irq) cpu=\(cpu) was=\(before)")
            } catch {
                log("irq-affinity", "intid=\(w.intid) irq=\(irq) error=\"\(error)\"")
            }
        }
    }

    // MARK: Wiring each VM

    /// Maps the directly reachable windows into `vm` and attaches every SPI
    /// (KVM_IRQFD at gsi = INTID - 32; with the resamplefd for level SPIs).
    /// Call once per VM, after its vGIC is initialised and before KVM_RUN.
    public func attach(_ vm: VirtualMachine) throws(PassthroughError) {
        let first = !attached
        attached = true
        // Forwarded before a VFIO device is opened (§24); the rest of the
        // device's SPIs, refused by the module, then go by irqfd.
        for a in assigned where a.forwarding {
            try forward(a, into: vm, first: first)
            guard first else {
                log("forward", "device=\(a.device.path) forwarded again into the new VM intids=\(a.forwardings.map { String($0.intid) }.joined(separator: ","))")
                continue
            }
            if case .vfioUnopened = a.backend { try openVFIO(a, skipping: a.forwarded) }
            if let cpu = hostCPU, !a.wires.isEmpty { steer(a, to: cpu) }
            logAssigned(a)
        }
        do throws(KVMError) {
            for w in windows { try w.register(in: vm) }
            for a in assigned {
                for s in a.slots { try vm.map(s.mapping, size: Int(s.size), at: s.base) }
                for w in a.wires where w.level || w.vfio != nil {
                    try vm.attachIRQFD(eventfd: w.trigger.raw, intid: w.intid, resampleFD: w.resample?.raw)
                }
            }
        } catch {
            throw .kvm(error)
        }
        vmLock.withLock { currentVM = vm }
        // A level line the previous VM left masked (its EOI never came) re-arms.
        for a in assigned {
            for w in a.wires where w.level {
                if let (device, index) = w.vfio { try? device.unmask(irq: index) }
                if let uio = w.uio { _ = uio.enableInterrupt() }
            }
        }
    }

    /// The VM is going away: the UIO relay stops injecting into it, and the
    /// forwardings into it are closed (a reset's new VM gets new ones; one
    /// left would keep the old VM and its SPI, §24). Logs what each
    /// forwarding's host handler did.
    public func detach() {
        vmLock.withLock { currentVM = nil }
        var counts: [String] = []
        for a in assigned {
            for f in a.forwardings {
                if let s = f.status() { counts.append("\(f.intid):\(s.handled)" + (s.offCPU > 0 ? "(off_cpu=\(s.offCPU))" : "")) }
            }
            a.forwardings = []
        }
        if !counts.isEmpty { log("forwarded", "interrupts=\(counts.joined(separator: ","))") }
    }

    // MARK: Trapped MMIO

    /// Every window whose accesses exit to the supervisor, each forwarding
    /// them to its device (the machine puts them on its MMIO bus).
    public var trappedWindows: [TrappedWindow] { assigned.flatMap { $0.traps } }

    // MARK: The UIO relay

    /// One thread per UIO interrupt: uio read -> inject; for a level SPI the
    /// injection is the irqfd with a resamplefd (KVM_IRQ_LINE gives userspace
    /// no EOI notification, and re-enabling before the EOI would storm), and
    /// the guest's EOI (resamplefd) -> irqcontrol re-enable. Edge SPIs:
    /// KVM_IRQ_LINE high then low, re-enabled at once.
    private func startRelays() throws(PassthroughError) {
        for a in assigned {
            for w in a.wires {
                guard let uio = w.uio else { continue }
                switch Thread.start({ [self] in relay(w, uio) }) {
                case .success(let t): relays.append(t)
                case .failure(let e): throw .call("pthread_create", context: "UIO relay for INTID \(w.intid)", errno: e)
                }
            }
        }
    }

    private func relay(_ w: Wire, _ uio: UIODevice) {
        var fds: [Int32] = [uio.rawFD]
        if let r = w.resample { fds.append(r.raw) }
        var ready = [UInt8](repeating: 0, count: fds.count)
        while !stopping.load(ordering: .relaxed) {
            let n = fds.withUnsafeBufferPointer { f in ready.withUnsafeMutableBufferPointer { cleave_poll_inputs(f.baseAddress, Int32(f.count), 100, $0.baseAddress) } }
            if n <= 0 { continue }
            if ready[0] != 0, uio.takeEvent() != nil {
                w.relayed.add(1, ordering: .relaxed)
                if w.level {
                    w.trigger.signal()
                } else {
                    vmLock.withLock {
                        guard let vm = currentVM else { return }
                        do throws(KVMError) {
                            try vm.setSPI(intid: w.intid, level: true)
                            try vm.setSPI(intid: w.intid, level: false)
                        } catch { log("uio-relay", "intid=\(w.intid) error=\"\(error)\"") }
                    }
                    _ = uio.enableInterrupt()
                }
            }
            if ready.count > 1, ready[1] != 0, let r = w.resample, r.drain() {
                _ = uio.enableInterrupt()
            }
        }
    }

    // MARK: Teardown

    /// Stops the relays, closes the devices and restores the host (bindings,
    /// IRQ affinities). Idempotent.
    public func teardown() {
        if stopping.exchange(true, ordering: .relaxed) { return }
        detach()
        for t in relays { t.join() }
        relays = []
        var relayed: [String] = []
        for a in assigned { for w in a.wires where w.uio != nil { relayed.append("\(w.intid):\(w.relayed.load(ordering: .relaxed))") } }
        if !relayed.isEmpty { log("uio-relayed", "interrupts=\(relayed.joined(separator: ","))") }
        // Devices (and their fds) close before their drivers are unbound.
        assigned = []
        windows = []
        groups = []
        container = nil
        let problems = state.undo()
        log("host-restored", "problems=\(problems.count)" + (problems.isEmpty ? "" : " first=\"\(problems[0])\""))
    }
}
