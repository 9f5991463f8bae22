import CLinux
import Syscalls

/// Host-side interrupt facts: which Linux IRQ carries a GIC INTID, steering it
/// to the guest's CPU, and whether the host GIC runs in split priority-drop /
/// deactivate mode (EOImode=1; docs/kernel-facts.md §2).
public enum HostInterrupts {
    /// The Linux IRQ number mapped to `intid` on the GIC (/sys/kernel/irq/N/
    /// hwirq and chip_name; the mapping exists once the device is populated).
    public static func linuxIRQ(intid: UInt32) -> Int? {
        for entry in Sysfs.list("/sys/kernel/irq") {
            guard let n = Int(entry), Sysfs.read("/sys/kernel/irq/\(entry)/hwirq") == String(intid),
                  let chip = Sysfs.read("/sys/kernel/irq/\(entry)/chip_name"), chip.hasPrefix("GIC") else { continue }
            return n
        }
        return nil
    }

    /// Writes /proc/irq/N/smp_affinity_list; returns the previous list.
    static func steer(irq: Int, to cpu: Int) throws(PassthroughError) -> String {
        let path = "/proc/irq/\(irq)/smp_affinity_list"
        guard let before = Sysfs.read(path) else { throw .unavailable("cannot read \(path)") }
        try Sysfs.write(path, String(cpu))
        return before
    }

    static func restoreAffinity(irq: Int, list: String) -> String? {
        do throws(PassthroughError) { try Sysfs.write("/proc/irq/\(irq)/smp_affinity_list", list); return nil } catch {
            return "\(error)"
        }
    }

    public enum EOIMode: CustomStringConvertible {
        case split(String)
        case notSplit(String)
        case unknown(String)
        public var description: String {
            switch self {
            case .split(let why): return "split (\(why))"
            case .notSplit(let why): return "not-split (\(why))"
            case .unknown(let why): return "unknown (\(why))"
            }
        }
    }

    /// The GIC drivers print "GIC: Using split EOI/Deactivate mode" at boot when
    /// EOImode=1 is on (drivers/irqchip/irq-gic{,-v3}.c); they say nothing
    /// otherwise, and no sysfs/procfs file states it. So: the kernel log, and
    /// when it has rotated, the conditions the drivers test (booted at EL2, so
    /// /dev/kvm exists in a KVM kernel; no irqchip.gicv*_eoimode=0).
    public static func eoiMode() -> EOIMode {
        var buffer = [CChar](repeating: 0, count: 1 << 20)
        let n = buffer.withUnsafeMutableBufferPointer { cleave_kernel_log($0.baseAddress, Int32($0.count)) }
        if n > 0 {
            let log = String(decoding: buffer[0..<Int(n)].map { UInt8(bitPattern: $0) }, as: UTF8.self)
            if contains(log, "GIC: Using split EOI/Deactivate mode") { return .split("kernel log: GIC: Using split EOI/Deactivate mode") }
            if contains(log, "GIC") && contains(log, "Booting Linux") { return .notSplit("the kernel log from boot has no \"Using split EOI/Deactivate mode\"") }
        }
        let cmdline = Sysfs.read("/proc/cmdline") ?? ""
        if contains(cmdline, "eoimode=0") { return .notSplit("eoimode=0 on the kernel command line") }
        if Sysfs.exists("/dev/kvm") { return .split("inferred: the kernel booted at EL2 (KVM present) and the boot log has rotated") }
        return .unknown(n < 0 ? "kernel log unreadable (\(Errno(-n))) and no /dev/kvm" : "boot log rotated and no /dev/kvm")
    }
}

/// Byte-wise substring test (Embedded Swift has no String.contains(String)).
func contains(_ text: String, _ needle: String) -> Bool {
    let t = Array(text.utf8), n = Array(needle.utf8)
    guard !n.isEmpty, t.count >= n.count else { return n.isEmpty }
    for i in 0...(t.count - n.count) where t[i] == n[0] && Array(t[i..<(i + n.count)]) == n { return true }
    return false
}
