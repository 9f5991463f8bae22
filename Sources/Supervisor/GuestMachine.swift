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

/// One boot of a guest: a fresh VM over the guest's RAM (`GuestVM`, built
/// for it or ahead of it), images and tree loaded, the boot registers set, the
/// console and pvpanic on the bus. A reset builds a new one; the RAM (and so
/// the identity-mapped base) outlives it.
final class GuestMachine {
    /// The VM and its vCPUs, vGIC, vITS and PMUs; this boot's alone.
    let kvmObjects: GuestVM
    var vm: VirtualMachine { kvmObjects.vm }
    var vcpus: [VirtualCPU] { kvmObjects.vcpus }
    /// The vITS, when the board (or the carved tree) has an ITS and KVM made one.
    var its: VITS? { kvmObjects.its }
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
    /// FNV-1a of the tree, for the `boot` line (computed when that is written).
    var treeHash: UInt32 { fnv1a(bootTree.bytes) }
    let treeSize: Int

    /// Builds the machine in the order KVM and booting.rst need, one named
    /// step each: the VM with its vCPUs, vGIC, slots and vITS (`GuestVM`;
    /// `prebuilt` when the supervisor made it ahead, its phases then logged
    /// at that time), the images into RAM (their size decides where the
    /// tree goes), the guest tree with the boot-time facts, the boot
    /// registers, then the emulated devices on the bus. A phase timing line
    /// follows.
    /// `tree`: the last boot's tree with new seeds (`BootTree.reseeded`),
    /// loaded when the images land where they did; else one is built.
    /// `prebuilt`'s boot registers, when set for this placement, are kept.
    init(_ config: GuestConfiguration, kvm: KVMSystem, ram: IdentityMappedRAM, images: BootImages, prebuilt: GuestVM? = nil,
         tree: BootTree? = nil, output: @escaping (UInt8) -> Void) throws(SupervisorError) {
        // A restart's path does without a getrusage per phase.
        var timer = PhaseTimer(countingFaults: prebuilt == nil)
        bus = MMIOBus(unmapped: config.unmappedMMIO)
        conduct = GuestConduct(guest: config.name)
        if let prebuilt {
            kvmObjects = prebuilt
        } else {
            kvmObjects = try GuestVM(config, kvm: kvm, ram: ram, timer: &timer)
        }
        placement = try GuestMachine.loadImages(config, images, into: ram)
        timer.mark("images")
        if let tree, tree.placement == placement {
            bootTree = tree
        } else {
            bootTree = BootTree(try GuestMachine.makeTree(config, ram: ram, placement: placement, vcpus: kvmObjects.vcpus,
                                                          its: kvmObjects.its, pmu: kvmObjects.pmu, timer: &timer), placement: placement)
        }
        try GuestMachine.loadTree(bootTree.bytes, config, ram: ram, placement: placement)
        treeSize = bootTree.bytes.count
        timer.mark("tree-load")
        if kvmObjects.bootRegisters != placement {
            do throws(KVMError) { try kvmObjects.setBootRegisters(placement) } catch { throw .kvm(error) }
            timer.mark("registers")
        }
        if let pmu = kvmObjects.pmu { Log.writeLater(.info, config.name, "pmu") { "pmuv3 intid=\(pmu.intid)" } }
        if config.consoleUART == nil {
            let console = GuestMachine.makeConsole(config, vm: kvmObjects.vm, output: output)
            self.console = console
            do throws(MMIOBus.Failure) {
                try console.register(on: bus, conduct: conduct)
                try PanicDevice(base: config.consoleBase + ConsolePage.pvpanicOffset).register(on: bus, conduct: conduct)
            } catch {
                throw .configuration("guest MMIO layout: \(error)")
            }
        } else {
            console = nil
        }
        timer.mark("devices")
        let phases = timer
        let standby = prebuilt != nil
        Log.writeLater(.info, config.name, "timing") { (standby ? "vm=standby " : "") + phases.text }
    }

    /// Reads the kernel (and initrd) straight into guest RAM where
    /// `BootPlacement` puts them, on every boot: a reset reloads them, from
    /// the files their paths hold then (`BootImage`).
    static func loadImages(_ config: GuestConfiguration, _ images: BootImages, into ram: IdentityMappedRAM) throws(SupervisorError) -> BootPlacement {
        let kernel = try images.kernel.current()
        let initrd = try images.initrd?.current()
        let header = ArmImageHeader(kernel.head)
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
                                  kernelFileSize: kernel.size, initrdSize: initrd?.size) {
        case .success(let p): placement = p
        case .failure(let e): throw .load(e)
        }
        if case .failure(let e) = ram.load(kernel.file, count: kernel.size, at: placement.kernelAddress) {
            throw .load(.read(path: config.kernelPath, reason: "\(e)"))
        }
        if let initrd, let path = config.initrdPath, let at = placement.initrdAddress {
            if case .failure(let e) = ram.load(initrd.file, count: initrd.size, at: at) { throw .load(.read(path: path, reason: "\(e)")) }
        }
        return placement
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
}

/// 32-bit FNV-1a, the hash the test guest computes over the tree it receives.
func fnv1a(_ bytes: [UInt8]) -> UInt32 {
    var h: UInt32 = 0x811c_9dc5
    for b in bytes { h = (h ^ UInt32(b)) &* 0x0100_0193 }
    return h
}
