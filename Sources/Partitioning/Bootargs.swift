import Platform

/// The host kernel command line carving produces.
///
/// Cleave owns these parameters (kernel-parameters.txt): `isolcpus`,
/// `nohz_full`, `rcu_nocbs` keep the host scheduler, ticks and RCU callbacks
/// off guest CPUs; `irqaffinity` keeps host interrupts on host CPUs;
/// `hugepagesz`/`hugepages` reserve the pool guests' identity-mapped RAM comes
/// from (gigantic pages first: they are only found early in boot);
/// `clk_ignore_unused`/`pd_ignore_unused` stop the host from switching off
/// clocks and power domains that only guest devices use.
enum Bootargs {
    static let owned = ["isolcpus", "nohz_full", "rcu_nocbs", "irqaffinity", "hugepagesz", "hugepages",
                        "default_hugepagesz", "clk_ignore_unused", "pd_ignore_unused"]

    static func merge(existing: String, guestCPUs: [UInt32], hostCPUs: [UInt32],
                      hugepages: [(size: HugePageSize, count: UInt64)], keepClocks: Bool, keepPowerDomains: Bool) -> String {
        var tokens: [String] = []
        var initArguments: [String] = []   // after "--": the kernel passes them to init
        var afterDashes = false
        for token in existing.split(separator: " ") {
            if afterDashes { initArguments.append(String(token)); continue }
            if token == "--" { afterDashes = true; continue }
            let key = token.split(separator: "=", maxSplits: 1).first.map(String.init) ?? ""
            if !owned.contains(key) { tokens.append(String(token)) }
        }
        if !guestCPUs.isEmpty {
            let list = cpuList(guestCPUs)
            tokens.append("isolcpus=managed_irq,domain,\(list)")
            tokens.append("nohz_full=\(list)")
            tokens.append("rcu_nocbs=\(list)")
            tokens.append("irqaffinity=\(cpuList(hostCPUs))")
        }
        for page in hugepages.sorted(by: { $0.size.bytes > $1.size.bytes }) where page.count > 0 {
            tokens.append("hugepagesz=\(page.size.kernelName)")
            tokens.append("hugepages=\(page.count)")
        }
        if keepClocks { tokens.append("clk_ignore_unused") }
        if keepPowerDomains { tokens.append("pd_ignore_unused") }
        if afterDashes { tokens.append("--"); tokens += initArguments }
        return tokens.joined(separator: " ")
    }

    /// `1-3,5`: the cpulist format of kernel-parameters.txt.
    static func cpuList(_ cpus: [UInt32]) -> String {
        let sorted = Array(Set(cpus)).sorted()
        var parts: [String] = []
        var i = 0
        while i < sorted.count {
            var j = i
            while j + 1 < sorted.count && sorted[j + 1] == sorted[j] + 1 { j += 1 }
            parts.append(i == j ? "\(sorted[i])" : "\(sorted[i])-\(sorted[j])")
            i = j + 1
        }
        return parts.joined(separator: ",")
    }
}
