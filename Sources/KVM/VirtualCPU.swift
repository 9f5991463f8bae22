import CLinux
import Syscalls

/// A vCPU file descriptor and its shared `struct kvm_run` page (api.rst 4.7,
/// 4.10, 4.68, 4.82). Used by exactly one thread at a time: its run loop.
public final class VirtualCPU {
    public let id: Int
    let fd: FileDescriptor
    let run: Mapping
    public let vm: VirtualMachine

    init(id: Int, fd: consuming FileDescriptor, run: Mapping, vm: VirtualMachine) {
        self.id = id
        self.fd = fd
        self.run = run
        self.vm = vm
    }

    private var state: UnsafeMutablePointer<kvm_run> { run.base.assumingMemoryBound(to: kvm_run.self) }

    /// KVM_ARM_VCPU_INIT with the VM's preferred target, PSCI 0.2, and (for
    /// secondaries) POWER_OFF so they wait for PSCI CPU_ON (api.rst 4.82);
    /// with `pmu`, PMU_V3 (the caller checked `Capability.armPMUv3`; the PMU
    /// is configured later, `initializePMU`); with `sve`, SVE (the caller
    /// checked `Capability.armSVE`; the vector lengths are set and the vCPU
    /// finalized later, `Sources/KVM/VCPUSVE.swift`); with `ptrauth`,
    /// PTRAUTH_ADDRESS and PTRAUTH_GENERIC together, as api.rst requires when
    /// KVM has both (the caller checked `Capability.armPtrAuthAddress` and
    /// `.armPtrAuthGeneric`; `Sources/KVM/VCPUPtrAuth.swift`).
    /// Also resets the vCPU to its architected reset state, which SYSTEM_RESET needs.
    public func initialize(poweredOff: Bool, pmu: Bool = false, sve: Bool = false, ptrauth: Bool = false) throws(KVMError) {
        try vm.system.require(.armPSCI02, for: "PSCI 0.2 in the kernel")
        var request = try vm.preferredTarget()
        request.features.0 = 1 << UInt32(KVM_ARM_VCPU_PSCI_0_2)
        if poweredOff { request.features.0 |= 1 << UInt32(KVM_ARM_VCPU_POWER_OFF) }
        if pmu { request.features.0 |= 1 << UInt32(KVM_ARM_VCPU_PMU_V3) }
        if sve { request.features.0 |= 1 << UInt32(KVM_ARM_VCPU_SVE) }
        if ptrauth {
            request.features.0 |= 1 << UInt32(KVM_ARM_VCPU_PTRAUTH_ADDRESS) | 1 << UInt32(KVM_ARM_VCPU_PTRAUTH_GENERIC)
        }
        _ = try checked(cleave_ioctl(fd.rawValue, CLEAVE_KVM_ARM_VCPU_INIT, &request), "KVM_ARM_VCPU_INIT", "vcpu \(id) target \(request.target)")
    }

    public func get(_ register: Register) throws(KVMError) -> UInt64 {
        var value: UInt64 = 0
        try withUnsafeMutablePointer(to: &value) { (p) throws(KVMError) in
            var reg = kvm_one_reg(id: register.id, addr: UInt64(UInt(bitPattern: p)))
            _ = try checked(cleave_ioctl(fd.rawValue, CLEAVE_KVM_GET_ONE_REG, &reg), "KVM_GET_ONE_REG", "vcpu \(id) \(register.name)")
        }
        return value
    }

    public func set(_ register: Register, _ value: UInt64) throws(KVMError) {
        var v = value
        try withUnsafeMutablePointer(to: &v) { (p) throws(KVMError) in
            var reg = kvm_one_reg(id: register.id, addr: UInt64(UInt(bitPattern: p)))
            _ = try checked(cleave_ioctl(fd.rawValue, CLEAVE_KVM_SET_ONE_REG, &reg), "KVM_SET_ONE_REG", "vcpu \(id) \(register.name)")
        }
    }

    /// KVM_GET_MP_STATE (api.rst 4.38): true while the vCPU is powered off
    /// (KVM_MP_STATE_STOPPED), e.g. a secondary waiting for PSCI CPU_ON.
    public func isStopped() throws(KVMError) -> Bool {
        var state = kvm_mp_state()
        _ = try checked(cleave_ioctl(fd.rawValue, CLEAVE_KVM_GET_MP_STATE, &state), "KVM_GET_MP_STATE", "vcpu \(id)")
        return state.mp_state == UInt32(KVM_MP_STATE_STOPPED)
    }

    /// KVM_RUN once and decode why it returned. EINTR (a signal) is an exit,
    /// not an error: the caller's loop decides whether to stop.
    public func runOnce() throws(KVMError) -> VCPUExit {
        let r = cleave_ioctl_value(fd.rawValue, CLEAVE_KVM_RUN, 0)
        if r == -EINTR || r == -EAGAIN { return .interrupted }
        _ = try checked(r, "KVM_RUN", "vcpu \(id)")
        let s = state
        switch s.pointee.exit_reason {
        case UInt32(KVM_EXIT_MMIO):
            let m = s.pointee.mmio
            var data: UInt64 = 0
            if m.is_write != 0 {
                withUnsafeBytes(of: m.data) { raw in
                    for i in 0..<Int(min(m.len, 8)) { data |= UInt64(raw[i]) << (8 * UInt64(i)) }
                }
            }
            return .mmio(address: m.phys_addr, isWrite: m.is_write != 0, length: Int(m.len), data: data)
        case UInt32(KVM_EXIT_SYSTEM_EVENT):
            let e = s.pointee.system_event
            return .systemEvent(type: e.type, data: e.ndata > 0 ? e.data.0 : 0)
        case UInt32(KVM_EXIT_INTR):
            return .interrupted
        case UInt32(KVM_EXIT_INTERNAL_ERROR):
            return .internalError(suberror: s.pointee.internal.suberror)
        case UInt32(KVM_EXIT_FAIL_ENTRY):
            let f = s.pointee.fail_entry
            return .failEntry(reason: f.hardware_entry_failure_reason, cpu: f.cpu)
        case UInt32(KVM_EXIT_ARM_NISV):
            let n = s.pointee.arm_nisv
            return .armNoSyndrome(esr: n.esr_iss, faultIPA: n.fault_ipa)
        case let other:
            return .other(reason: other)
        }
    }

    /// Supplies the value of an MMIO read before the next KVM_RUN (api.rst 5,
    /// KVM_EXIT_MMIO: "the data ... is copied to the data field").
    public func completeRead(_ value: UInt64, length: Int) {
        withUnsafeMutableBytes(of: &state.pointee.mmio.data) { raw in
            for i in 0..<min(length, 8) { raw[i] = UInt8(truncatingIfNeeded: value >> (8 * UInt64(i))) }
        }
    }

    /// Sets `immediate_exit` so a pending or later KVM_RUN returns EINTR at once
    /// (api.rst 5, KVM_CAP_IMMEDIATE_EXIT); used with a signal to stop a vCPU.
    public func requestImmediateExit(_ on: Bool) {
        state.pointee.immediate_exit = on ? 1 : 0
    }
}
