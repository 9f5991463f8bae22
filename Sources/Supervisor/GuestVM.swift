import CLinux
import GuestMemory
import GuestTree
import KVM
import Loading
import PartitionRecord
import Passthrough
import Platform
import Syscalls

/// The KVM objects of one boot in their reset state: the VM with its vCPUs,
/// vGIC, vITS, PMUs and memory slots over the guest's RAM. A boot takes one
/// (`GuestMachine`); while a guest runs, the supervisor builds the one its
/// next boot will take (`Supervisor.standby`), so that a restart does not
/// pay for KVM_CREATE_VM, the vCPUs, the vGIC and the slots (4 to 12 ms on
/// the emulated board, docs/kernel-facts.md §31). Fresh objects rather than
/// a VM put back to its reset values: nothing a guest left in its vGIC, vITS
/// or vCPUs reaches its next boot. Its last reference going destroys the VM.
final class GuestVM {
    let vm: VirtualMachine
    let vcpus: [VirtualCPU]
    let gic: VGIC
    /// The vITS, when the board (or the carved tree) has an ITS and KVM made one.
    let its: VITS?
    /// The PMU interrupt the vCPUs got, or nil.
    let pmu: PMUInterrupt?
    /// The host's counter minus the guest's virtual counter (CNTVOFF, in
    /// counter ticks), read once the vCPUs exist (KVM sets it per VM as they
    /// are created, and nothing here changes it later); nil when unreadable
    /// or not on arm64. For timing lines: `guestCounter(atHost:)`.
    let counterOffset: UInt64?
    /// The host counter ticks the read of `counterOffset` took: the offset is
    /// the midpoint, so it is off by at most half of this.
    let counterOffsetSpread: UInt64?
    /// The placement whose entry vCPU 0's registers hold (`setBootRegisters`), nil before.
    private(set) var bootRegisters: BootPlacement? = nil

    /// The VM, its vCPUs (all but the first powered off, for PSCI CPU_ON;
    /// with pointer authentication when KVM has it and the configuration
    /// does not refuse it, docs/kernel-facts.md §27), the vGIC sized for the
    /// INTIDs the guest is given (VGICLines), the vCPUs' PMUs, and one memory
    /// slot per RAM run. vCPUs first: the vGIC's
    /// init needs all of them; the PMUs last: their init needs the vGIC's
    /// (docs/kernel-facts.md §25). `pmu` is the interrupt the vCPUs got:
    /// the configuration's when KVM has a PMU; a generated tree without one
    /// simply has no `pmu` node, a carved tree that has one is refused.
    /// Then the vITS (`makeITS`). `timer` gets a phase per step.
    /// `announce`: log what the build found about KVM (the PMU, SVE vector
    /// lengths, pointer authentication, the vITS); a standby says nothing,
    /// its facts are the first boot's.
    init(_ config: GuestConfiguration, kvm: KVMSystem, ram: IdentityMappedRAM, announce: Bool = true,
         timer: inout PhaseTimer) throws(SupervisorError) {
        var pmu = config.pmu
        if pmu != nil && kvm.check(.armPMUv3) <= 0 {
            if case .carved = config.tree {
                throw .configuration("the guest tree has a PMU (pmu node) but KVM has no \(Capability.armPMUv3) (the host kernel drives no PMUv3): add no-pmu to the plan's guest and carve again")
            }
            if announce { Log.write(.warning, config.name, "pmu", "KVM has no \(Capability.armPMUv3): the guest gets no PMU") }
            pmu = nil
        }
        var sve = config.sveMaxVectorBits != 0
        if sve && kvm.check(.armSVE) <= 0 {
            if config.sveMaxVectorBits != nil {
                if announce { Log.write(.warning, config.name, "sve", "KVM has no \(Capability.armSVE): the guest gets no SVE") }
            }
            sve = false
        }
        // There is no switch that asks for it, only one that refuses it: a
        // host without it is said at info level, not warned about.
        var ptrauth = config.ptrauth
        if ptrauth && (kvm.check(.armPtrAuthAddress) <= 0 || kvm.check(.armPtrAuthGeneric) <= 0) {
            if announce { Log.write(.info, config.name, "ptrauth", "none: KVM lacks \(Capability.armPtrAuthAddress) or \(Capability.armPtrAuthGeneric) (the host CPUs have no pointer authentication)") }
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
            if ptrauth, announce, let first = vcpus.first {
                // What the guest will read in ID_AA64ISAR1_EL1 (§27).
                let fields = try first.pointerAuthFields()
                Log.write(.info, config.name, "ptrauth", "address,generic \(fields)")
            }
            if sve {
                try GuestVM.configureSVE(vcpus, maxBits: config.sveMaxVectorBits, guest: config.name, announce: announce)
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
            self.vm = vm
            self.vcpus = vcpus
            self.gic = gic
            self.pmu = pmu
        } catch {
            throw .kvm(error)
        }
        its = GuestVM.makeITS(config, vm: vm, announce: announce)
        timer.mark("its")
        let read = GuestVM.readCounterOffset(vcpus[0])
        counterOffset = read?.offset
        counterOffsetSpread = read?.spread
    }

    /// booting.rst: x0 = the tree's physical address, x1-x3 = 0, PC = the
    /// kernel's entry; KVM_ARM_VCPU_INIT already left PSTATE at EL1h with
    /// DAIF masked and the MMU off. A standby VM gets them while the last
    /// boot runs, for the placement that boot's images had.
    func setBootRegisters(_ placement: BootPlacement) throws(KVMError) {
        let vcpu = vcpus[0]
        try vcpu.set(.pc, placement.kernelAddress)
        try vcpu.set(.x(0), placement.dtbAddress)
        for r in 1...3 { try vcpu.set(.x(r), 0) }
        bootRegisters = placement
    }

    /// KVM_REG_ARM_TIMER_CNT is the guest's counter at the ioctl; the
    /// host's, read on either side, gives the offset (the middle kept).
    private static func readCounterOffset(_ vcpu: VirtualCPU) -> (offset: UInt64, spread: UInt64)? {
        let before = cleave_counter()
        guard before > 0, let guest = try? vcpu.get(.timerCount) else { return nil }
        let after = cleave_counter()
        return ((before / 2 + after / 2) &- guest, after &- before)
    }

    /// The guest's virtual counter when the host's read `counter`, in
    /// microseconds; nil without an offset or a counter frequency.
    func guestMicroseconds(atHost counter: UInt64) -> UInt64? {
        let frequency = cleave_counter_frequency()
        guard let counterOffset, frequency > 0 else { return nil }
        let ticks = (counter &- counterOffset).multipliedFullWidth(by: 1_000_000)
        guard ticks.high < frequency else { return nil }
        return frequency.dividingFullWidth(ticks).quotient
    }

    /// Each vCPU's SVE vector lengths: those KVM offers up to `maxBits` (all
    /// without it), then KVM_ARM_VCPU_FINALIZE, which must precede the first
    /// KVM_RUN (docs/kernel-facts.md §26). Logs the lengths once.
    static func configureSVE(_ vcpus: [VirtualCPU], maxBits: UInt32?, guest: String, announce: Bool) throws(KVMError) {
        for vcpu in vcpus {
            let offered = try vcpu.sveVectorQuadwords()
            let chosen = offered.filter { vq in maxBits.map { UInt32(vq) * 128 <= $0 } ?? true }
            guard let longest = chosen.last else {
                throw .unsupported("sve-max-vl \(maxBits ?? 0) is below the shortest SVE vector length KVM offers (\((offered.first ?? 0) * 128) bits): raise it, or 0 for no SVE")
            }
            if chosen != offered { try vcpu.setSVEVectorQuadwords(chosen) }
            try vcpu.finalizeSVE()
            if vcpu.id == 0 && announce {
                Log.write(.info, guest, "sve", "vector-bits=\(chosen.map { String($0 * 128) }.joined(separator: ",")) max=\(longest * 128) offered-max=\((offered.last ?? 0) * 128)")
            }
        }
    }

    /// A vITS at the board's ITS address (a carved tree's own ITS node wins),
    /// or nil: without one a generated tree simply has no ITS node.
    private static func makeITS(_ config: GuestConfiguration, vm: VirtualMachine, announce: Bool) -> VITS? {
        var base = config.its
        if case .carved(let tree) = config.tree, let own = BoardITS.base(of: tree) { base = own }
        guard let base, case .v3 = config.gic else { return nil }
        do throws(KVMError) { return try VITS(vm: vm, base: base) } catch {
            if announce { Log.write(.warning, config.name, "its", "base=\(hex(base)) error=\"\(error)\" (the guest gets no ITS)") }
            return nil
        }
    }
}
