import KVM
import Syscalls

do throws(KVMError) {
    let kvm = try KVMSystem()
    print("kvm: vcpu mmap size \(kvm.vcpuMmapSize), PSCI 0.2 \(kvm.check(.armPSCI02))")
    let vm = try kvm.createVM()
    _ = vm
} catch {
    print("error: \(error)")
}
