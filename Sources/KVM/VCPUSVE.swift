import CLinux
import Syscalls

extension VirtualCPU {
    /// The SVE vector lengths the vCPU may use, in quadwords (128 bits each,
    /// 1...512): the KVM_REG_ARM64_SVE_VLS pseudo-register, a bitmap with bit
    /// vq - 1 set for each length (api.rst 4.68, KVM_REG_ARM64_SVE_VLS). After
    /// `initialize(sve: true)` it holds every length KVM can give on this host.
    public func sveVectorQuadwords() throws(KVMError) -> [Int] {
        var words = [UInt64](repeating: 0, count: Int(CLEAVE_KVM_ARM64_SVE_VLS_WORDS))
        // The ioctl fills the 64-byte bitmap `words` owns for the call's duration.
        let result = words.withUnsafeMutableBytes { raw -> Int32 in
            var reg = kvm_one_reg(id: CLEAVE_KVM_REG_ARM64_SVE_VLS, addr: UInt64(UInt(bitPattern: raw.baseAddress)))
            return cleave_ioctl(fd.rawValue, CLEAVE_KVM_GET_ONE_REG, &reg)
        }
        _ = try checked(result, "KVM_GET_ONE_REG", "vcpu \(id) KVM_REG_ARM64_SVE_VLS")
        var quadwords: [Int] = []
        for (w, word) in words.enumerated() {
            for bit in 0..<64 where word & (1 << UInt64(bit)) != 0 { quadwords.append(w * 64 + bit + 1) }
        }
        return quadwords
    }

    /// Restricts the vCPU to `quadwords` (a subset of what
    /// `sveVectorQuadwords` gave; KVM refuses others with EINVAL). Only before
    /// `finalizeSVE` (EPERM after).
    public func setSVEVectorQuadwords(_ quadwords: [Int]) throws(KVMError) {
        var words = [UInt64](repeating: 0, count: Int(CLEAVE_KVM_ARM64_SVE_VLS_WORDS))
        for vq in quadwords where vq >= 1 && vq <= 64 * words.count { words[(vq - 1) / 64] |= 1 << UInt64((vq - 1) % 64) }
        let result = words.withUnsafeMutableBytes { raw -> Int32 in
            var reg = kvm_one_reg(id: CLEAVE_KVM_REG_ARM64_SVE_VLS, addr: UInt64(UInt(bitPattern: raw.baseAddress)))
            return cleave_ioctl(fd.rawValue, CLEAVE_KVM_SET_ONE_REG, &reg)
        }
        _ = try checked(result, "KVM_SET_ONE_REG", "vcpu \(id) KVM_REG_ARM64_SVE_VLS")
    }

    /// KVM_ARM_VCPU_FINALIZE(KVM_ARM_VCPU_SVE) (api.rst 4.121): fixes the
    /// vector lengths; KVM_RUN is refused (EPERM) until it is done.
    public func finalizeSVE() throws(KVMError) {
        var feature = Int32(KVM_ARM_VCPU_SVE)
        _ = try checked(cleave_ioctl(fd.rawValue, CLEAVE_KVM_ARM_VCPU_FINALIZE, &feature), "KVM_ARM_VCPU_FINALIZE", "vcpu \(id) KVM_ARM_VCPU_SVE")
    }
}
