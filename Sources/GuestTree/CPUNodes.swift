import DeviceTree

extension GuestNode {
    /// `/cpus`: one `cpu@<MPIDR>` per vCPU, in vCPU order, started through
    /// PSCI. `reg` is the MPIDR's affinity bits as KVM assigns them (Aff0 and
    /// Aff1 on a guest, one cell: #address-cells = 1; arm/cpus.yaml).
    public static func cpus(mpidrs: [UInt64]) -> GuestNode {
        var cpus = GuestNode("cpus")
        cpus.property("#address-cells", u32: 1)
        cpus.property("#size-cells", u32: 0)
        for mpidr in mpidrs {
            var cpu = GuestNode("cpu@" + unitAddress(mpidr))
            cpu.property("device_type", string: "cpu")
            cpu.property("compatible", string: "arm,armv8")
            cpu.property("reg", u32: UInt32(truncatingIfNeeded: mpidr))
            cpu.property("enable-method", string: "psci")
            cpus.children.append(cpu)
        }
        return cpus
    }

    /// `/psci`: KVM's PSCI, called with HVC (Documentation/virt/kvm/arm/
    /// hypercalls.rst; arm/psci.yaml): CPU_ON for secondaries, SYSTEM_OFF and
    /// SYSTEM_RESET.
    public static func psci() -> GuestNode {
        var psci = GuestNode("psci")
        psci.property("compatible", strings: ["arm,psci-1.0", "arm,psci-0.2"])
        psci.property("method", string: "hvc")
        return psci
    }
}
