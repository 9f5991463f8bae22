import CLinux
import Console
import DeviceTree
import GuestMemory
import GuestTree
import KVM
import Loading
import PartitionRecord
import Passthrough
import Platform
import Syscalls

/// One boot of a guest: a fresh VM over the guest's RAM, with its vCPUs,
/// vGIC and console, images and tree loaded. A reset builds a new one; the RAM
/// (and so the identity-mapped base) outlives it.
final class GuestMachine {
    let vm: VirtualMachine
    let vcpus: [VirtualCPU]
    let gic: VGIC
    /// The vITS, when the board (or the carved tree) has an ITS and KVM made one.
    let its: VITS?
    /// The virtual 16550; nil when the guest's console is a passed-through UART.
    let console: UART16550?
    /// What the supervisor serves of the guest's physical address space: the
    /// console, the pvpanic register (in the console's page: generated trees
    /// describe it; a carved tree's guest finds it only if its tree has the
    /// node), and (once attached) the passed-through windows it traps; an
    /// address none of them holds is a fault unless the configuration says
    /// `ignore` (ad-hoc runs).
    let bus: MMIOBus
    /// What the guest did that its emulated devices refused, for this boot.
    let conduct: GuestConduct
    let placement: BootPlacement
    /// The tree this boot loaded (the next boot may load it again, reseeded).
    let bootTree: BootTree
    let treeHash: UInt32
    let treeSize: Int

    /// Builds the machine in the order KVM and booting.rst need, one named
    /// step each: the images into RAM (their size decides where the tree
    /// goes), the VM with its vCPUs, vGIC and memory slots (the vGIC's init
    /// needs every vCPU, arm-vgic-v3.rst), the vITS, the guest tree with the
    /// boot-time facts, the boot registers, then the emulated devices on the
    /// bus. A phase timing line follows.
    /// `tree`: the last boot's tree, loaded again with new seeds when the
    /// images land where they did (`BootTree`); else one is built.
    init(_ config: GuestConfiguration, kvm: KVMSystem, ram: IdentityMappedRAM, tree: BootTree? = nil,
         output: @escaping (UInt8) -> Void) throws(SupervisorError) {
        var timer = PhaseTimer()
        bus = MMIOBus(unmapped: config.unmappedMMIO)
        conduct = GuestConduct(guest: config.name)
        placement = try GuestMachine.loadImages(config, into: ram)
        timer.mark("images")
        let created = try GuestMachine.createVM(config, kvm: kvm, ram: ram, timer: &timer)
        vm = created.vm
        vcpus = created.vcpus
        gic = created.gic
        its = GuestMachine.makeITS(config, vm: vm)
        timer.mark("its")
        if let tree, tree.placement == placement {
            bootTree = tree.reseeded()
            timer.mark("tree-reseed")
        } else {
            bootTree = BootTree(try GuestMachine.makeTree(config, ram: ram, placement: placement, vcpus: vcpus,
                                                          its: its, pmu: created.pmu, timer: &timer), placement: placement)
        }
        try GuestMachine.loadTree(bootTree.bytes, config, ram: ram, placement: placement)
        treeSize = bootTree.bytes.count
        treeHash = fnv1a(bootTree.bytes)
        timer.mark("tree-load")
        try GuestMachine.setBootRegisters(vcpus[0], placement)
        timer.mark("registers")
        if let pmu = created.pmu { Log.write(.info, config.name, "pmu", "pmuv3 intid=\(pmu.intid)") }
        Log.write(.info, config.name, "timing", timer.text)
        guard config.consoleUART == nil else {
            console = nil
            return
        }
        let console = GuestMachine.makeConsole(config, vm: vm, output: output)
        self.console = console
        do throws(MMIOBus.Failure) {
            try console.register(on: bus, conduct: conduct)
            try PanicDevice(base: config.consoleBase + ConsolePage.pvpanicOffset).register(on: bus, conduct: conduct)
        } catch {
            throw .configuration("guest MMIO layout: \(error)")
        }
    }

    /// Reads the kernel (and initrd) straight into guest RAM where
    /// `BootPlacement` puts them: opened fresh on every boot, so a reset
    /// reloads them.
    static func loadImages(_ config: GuestConfiguration, into ram: IdentityMappedRAM) throws(SupervisorError) -> BootPlacement {
        let kernel = try open(config.kernelPath)
        let kernelSize = try size(kernel, config.kernelPath)
        var head = [UInt8](repeating: 0, count: min(64, kernelSize))
        if case .failure(let e) = head.withUnsafeMutableBytes({ kernel.readExactly(into: $0, at: 0) }) {
            throw .load(.read(path: config.kernelPath, reason: "\(e)"))
        }
        var initrdSize: Int? = nil
        if let path = config.initrdPath {
            let initrd = try open(path)
            initrdSize = try size(initrd, path)
        }
        let header = ArmImageHeader(head)
        let kind: BootPlacement.Kind
        switch config.imageKind {
        case .linux:
            guard let header else { throw .load(.unsupported("\(config.kernelPath) has no arm64 Image header (magic ARM\\x64 at offset 56)")) }
            kind = .linux(header)
        case .raw: kind = .raw(offset: config.loadOffset)
        case .automatic: kind = header.map { .linux($0) } ?? .raw(offset: config.loadOffset)
        }
        let placement: BootPlacement
        switch BootPlacement.plan(banks: ram.banks.map { ($0.base, $0.size) }, kind: kind,
                                  kernelFileSize: kernelSize, initrdSize: initrdSize) {
        case .success(let p): placement = p
        case .failure(let e): throw .load(e)
        }
        if case .failure(let e) = ram.load(kernel, count: kernelSize, at: placement.kernelAddress) {
            throw .load(.read(path: config.kernelPath, reason: "\(e)"))
        }
        if let path = config.initrdPath, let at = placement.initrdAddress, let count = initrdSize {
            let initrd = try open(path)
            if case .failure(let e) = ram.load(initrd, count: count, at: at) { throw .load(.read(path: path, reason: "\(e)")) }
        }
        return placement
    }

    /// The VM, its vCPUs (all but the first powered off, for PSCI CPU_ON;
    /// with pointer authentication when KVM has it and the configuration
    /// does not refuse it, docs/kernel-facts.md §27), the vGIC sized for the
    /// INTIDs the guest is given (VGICLines), the vCPUs' PMUs, and one memory
    /// slot per RAM run. vCPUs first: the vGIC's
    /// init needs all of them; the PMUs last: their init needs the vGIC's
    /// (docs/kernel-facts.md §25). Returns the PMU interrupt the vCPUs got:
    /// the configuration's when KVM has a PMU; a generated tree without one
    /// simply has no `pmu` node, a carved tree that has one is refused.
    static func createVM(_ config: GuestConfiguration, kvm: KVMSystem, ram: IdentityMappedRAM,
                         timer: inout PhaseTimer) throws(SupervisorError) -> (vm: VirtualMachine, vcpus: [VirtualCPU], gic: VGIC, pmu: PMUInterrupt?) {
        var pmu = config.pmu
        if pmu != nil && kvm.check(.armPMUv3) <= 0 {
            if case .carved = config.tree {
                throw .configuration("the guest tree has a PMU (pmu node) but KVM has no \(Capability.armPMUv3) (the host kernel drives no PMUv3): add no-pmu to the plan's guest and carve again")
            }
            Log.write(.warning, config.name, "pmu", "KVM has no \(Capability.armPMUv3): the guest gets no PMU")
            pmu = nil
        }
        var sve = config.sveMaxVectorBits != 0
        if sve && kvm.check(.armSVE) <= 0 {
            if config.sveMaxVectorBits != nil {
                Log.write(.warning, config.name, "sve", "KVM has no \(Capability.armSVE): the guest gets no SVE")
            }
            sve = false
        }
        // There is no switch that asks for it, only one that refuses it: a
        // host without it is said at info level, not warned about.
        var ptrauth = config.ptrauth
        if ptrauth && (kvm.check(.armPtrAuthAddress) <= 0 || kvm.check(.armPtrAuthGeneric) <= 0) {
            Log.write(.info, config.name, "ptrauth", "none: KVM lacks \(Capability.armPtrAuthAddress) or \(Capability.armPtrAuthGeneric) (the host CPUs have no pointer authentication)")
            ptrauth = false
        }
        var intids = config.consoleUART == nil ? [config.consoleINTID] : []
        for device in config.passthroughDevices { intids += device.interrupts.map { $0.intid } }
        intids += config.gpioControllers.map { $0.spi + GICCells.firstSPI }
        guard let lines = VGICLines.count(for: intids) else {
            throw .configuration("an INTID above \(GICCells.lastSPI) among \(intids.map { String($0) }.joined(separator: ", ")): no GIC has it")
        }
        do throws(KVMError) {
            let vm = try kvm.createVM()
            timer.mark("vm")
            var vcpus: [VirtualCPU] = []
            for i in config.hostCPUs.indices {
                let vcpu = try vm.createVCPU(id: i)
                try vcpu.initialize(poweredOff: i != 0, pmu: pmu != nil, sve: sve, ptrauth: ptrauth)
                vcpus.append(vcpu)
            }
            timer.mark("vcpus")
            if ptrauth, let first = vcpus.first {
                // What the guest will read in ID_AA64ISAR1_EL1 (§27).
                let fields = try first.pointerAuthFields()
                Log.write(.info, config.name, "ptrauth", "address,generic \(fields)")
            }
            if sve {
                try configureSVE(vcpus, maxBits: config.sveMaxVectorBits, guest: config.name)
                timer.mark("sve")
            }
            let gic = try VGIC(vm: vm, gic: config.gic, interruptCount: lines)
            try gic.finalize()
            timer.mark("vgic")
            if let pmu {
                for vcpu in vcpus { try vcpu.initializePMU(intid: pmu.intid) }
                timer.mark("pmu")
            }
            try ram.register(in: vm)
            timer.mark("slots")
            return (vm, vcpus, gic, pmu)
        } catch {
            throw .kvm(error)
        }
    }

    /// Each vCPU's SVE vector lengths: those KVM offers up to `maxBits` (all
    /// without it), then KVM_ARM_VCPU_FINALIZE, which must precede the first
    /// KVM_RUN (docs/kernel-facts.md §26). Logs the lengths once.
    static func configureSVE(_ vcpus: [VirtualCPU], maxBits: UInt32?, guest: String) throws(KVMError) {
        for vcpu in vcpus {
            let offered = try vcpu.sveVectorQuadwords()
            let chosen = offered.filter { vq in maxBits.map { UInt32(vq) * 128 <= $0 } ?? true }
            guard let longest = chosen.last else {
                throw .unsupported("sve-max-vl \(maxBits ?? 0) is below the shortest SVE vector length KVM offers (\((offered.first ?? 0) * 128) bits): raise it, or 0 for no SVE")
            }
            if chosen != offered { try vcpu.setSVEVectorQuadwords(chosen) }
            try vcpu.finalizeSVE()
            if vcpu.id == 0 {
                Log.write(.info, guest, "sve", "vector-bits=\(chosen.map { String($0 * 128) }.joined(separator: ",")) max=\(longest * 128) offered-max=\((offered.last ?? 0) * 128)")
            }
        }
    }

    /// The guest tree, carved or generated, with what only boot time knows
    /// (RAM banks, initrd, seeds, console).
    static func makeTree(_ config: GuestConfiguration, ram: IdentityMappedRAM, placement: BootPlacement,
                          vcpus: [VirtualCPU], its: VITS?, pmu: PMUInterrupt?, timer: inout PhaseTimer) throws(SupervisorError) -> DeviceTree {
        var affinities: [UInt64] = []
        do throws(KVMError) {
            for vcpu in vcpus { affinities.append(try vcpu.get(.mpidrEL1) & 0xff_00ff_ffff) }
        } catch { throw .kvm(error) }
        var seed = [UInt8](repeating: 0, count: 72)
        _ = seed.withUnsafeMutableBytes { cleave_getrandom($0.baseAddress, $0.count) }
        var kaslr: UInt64 = 0
        for i in 64..<72 { kaslr = kaslr << 8 | UInt64(seed[i]) }
        let facts = BootFacts(ramBanks: ram.banks.map { ($0.base, $0.size) }, bootargs: config.bootargs,
                              initrd: placement.initrdAddress.map { ($0, placement.initrdEnd!) },
                              console: config.consoleUART == nil ? (config.consoleBase, config.consoleINTID) : nil,
                              rngSeed: Array(seed[0..<64]), kaslrSeed: kaslr)
        timer.mark("facts")
        let finalTree: DeviceTree
        do throws(DeviceTreeError) {
            switch config.tree {
            case .carved(let t): finalTree = try GuestTreeFinalizer.finalize(t, facts)
            case .generated:
                // Generated final in one pass (no finalizer round trip).
                finalTree = try GuestTreeGenerator.generate(GuestTreeSpec(
                    cpuAffinities: affinities, gic: config.gic, consoleBase: config.consoleBase,
                    consoleINTID: config.consoleINTID, bootargs: config.bootargs ?? "", its: its?.base,
                    timer: config.timer, pmu: pmu), facts: facts)
            }
        } catch {
            throw .tree(error)
        }
        timer.mark("tree")
        return finalTree
    }

    /// Writes the tree where `placement` says (and to `dumpTreePath`).
    static func loadTree(_ bytes: [UInt8], _ config: GuestConfiguration, ram: IdentityMappedRAM,
                         placement: BootPlacement) throws(SupervisorError) {
        guard UInt64(bytes.count) <= BootPlacement.dtbWindow else {
            throw .load(.doesNotFit("guest tree of \(bytes.count) bytes exceeds 2 MiB (booting.rst)"))
        }
        bytes.withUnsafeBytes { _ = ram.write($0, at: placement.dtbAddress) }
        if let path = config.dumpTreePath {
            do throws(Errno) { try Files.write(bytes, to: path) } catch { throw .system("writing \(path)", error) }
        }
    }

    /// booting.rst: x0 = the tree's physical address, x1-x3 = 0, PC = the
    /// kernel's entry; KVM_ARM_VCPU_INIT already left PSTATE at EL1h with
    /// DAIF masked and the MMU off.
    static func setBootRegisters(_ vcpu: VirtualCPU, _ placement: BootPlacement) throws(SupervisorError) {
        do throws(KVMError) {
            try vcpu.set(.pc, placement.kernelAddress)
            try vcpu.set(.x(0), placement.dtbAddress)
            for r in 1...3 { try vcpu.set(.x(r), 0) }
        } catch { throw .kvm(error) }
    }

    /// The 16550 at the console page's base, its interrupt driven through
    /// KVM_IRQ_LINE on the console's SPI.
    static func makeConsole(_ config: GuestConfiguration, vm: VirtualMachine, output: @escaping (UInt8) -> Void) -> UART16550 {
        let intid = config.consoleINTID
        let name = config.name
        return UART16550(base: config.consoleBase, output: output, setLine: { level in
            do throws(KVMError) { try vm.setSPI(intid: intid, level: level) } catch {
                Log.write(.warning, name, "console-irq", "error=\"\(error)\"")
            }
        })
    }

    /// Puts the windows `passthrough` traps on the bus (a passed-through
    /// window that is not page-aligned: its accesses are forwarded to the device).
    func attach(_ passthrough: PassthroughSet) throws(MMIOBus.Failure) {
        for window in passthrough.trappedWindows {
            try bus.register(base: window.base, size: window.size, name: "passthrough \(window.device)",
                             read: { address, length, _ in
                                 window.read(address, length: length).map { .value($0) } ?? .failed("passthrough access failed") },
                             write: { address, length, value, _ in
                                 window.write(address, length: length, value: value) ? .done : .failed("passthrough access failed") })
        }
    }

    /// A vITS at the board's ITS address (a carved tree's own ITS node wins),
    /// or nil: without one a generated tree simply has no ITS node.
    static func makeITS(_ config: GuestConfiguration, vm: VirtualMachine) -> VITS? {
        var base = config.its
        if case .carved(let tree) = config.tree, let own = BoardITS.base(of: tree) { base = own }
        guard let base, case .v3 = config.gic else { return nil }
        do throws(KVMError) { return try VITS(vm: vm, base: base) } catch {
            Log.write(.warning, config.name, "its", "base=\(hex(base)) error=\"\(error)\" (the guest gets no ITS)")
            return nil
        }
    }

    static func open(_ path: String) throws(SupervisorError) -> FileDescriptor {
        do throws(Errno) { return try FileDescriptor(opening: path, O_RDONLY) } catch {
            throw .load(.read(path: path, reason: "\(error)"))
        }
    }

    static func size(_ file: borrowing FileDescriptor, _ path: String) throws(SupervisorError) -> Int {
        switch file.size() {
        case .success(let n): return n
        case .failure(let e): throw .load(.read(path: path, reason: "\(e)"))
        }
    }
}

/// 32-bit FNV-1a, the hash the test guest computes over the tree it receives.
func fnv1a(_ bytes: [UInt8]) -> UInt32 {
    var h: UInt32 = 0x811c_9dc5
    for b in bytes { h = (h ^ UInt32(b)) &* 0x0100_0193 }
    return h
}
