import DeviceTree
import JSON
import PartitionRecord
import Platform

/// Human-readable and JSON renderings of inventories, diagnostics and carve
/// reports. Pure string building, shared by the CLI and the tests.
public enum Render {
    static func hex(_ v: UInt64) -> String { "0x" + String(v, radix: 16) }

    static func mebibytes(_ v: UInt64) -> String {
        v % 0x10_0000 == 0 ? "\(v / 0x10_0000) MiB" : hex(v)
    }

    public static func diagnostics(_ list: [Diagnostic]) -> String {
        var out = ""
        for d in list { out += d.description + "\n" }
        out += "\(list.errorCount) error(s), \(list.warningCount) warning(s), \(list.count - list.errorCount - list.warningCount) note(s)\n"
        return out
    }

    public static func diagnosticsJSON(_ list: [Diagnostic], into json: inout JSONWriter) {
        json.beginArray("diagnostics")
        for d in list {
            json.beginObject()
            json.string("code", d.code.rawValue)
            json.string("severity", d.severity.description)
            json.string("path", d.path)
            json.string("message", d.message)
            json.string("hint", d.hint)
            json.endObject()
        }
        json.endArray()
    }

    static func interruptText(_ r: ResolvedInterrupt) -> String {
        switch r {
        case .gic(let irq): return irq.description
        case .otherController(let path, let spec): return "via \(path) <\(spec.map { String($0) }.joined(separator: " "))>"
        case .unresolved(let why): return "unresolved: \(why)"
        }
    }

    static func addressText(_ a: DeviceAddress) -> String {
        switch a {
        case .mmio(let ranges): return ranges.map { $0.description }.joined(separator: ", ")
        case .none: return "-"
        case .notCPUAddressable(let bus, _): return "no CPU address (behind \(bus))"
        }
    }

    /// `cleave devices` as text: one block per device.
    public static func devices(_ board: Board) -> String {
        var out = ""
        if let gic = board.gic {
            out += "GIC: \(gic.version) at \(board.tree.path(of: gic.node)) (\(gic.regions.map { $0.description }.joined(separator: ", ")))\n"
        } else {
            out += "GIC: none found\n"
        }
        out += "CPUs: \(board.cpus.map { "\($0.logical)=\($0.path)" }.joined(separator: " "))\n"
        out += "RAM: \(board.memory.isEmpty ? "no /memory node (filled in by the bootloader)" : board.memory.map { $0.description }.joined(separator: ", "))\n"
        out += "IOMMU: \(board.hasIOMMU ? "present" : "none")\n\n"
        for device in board.devices {
            let role = device.role
            let references = board.tree.dependencies(of: device.node)
            let a = board.assess(device, role: role, references: references)
            out += "\(device.path)\n"
            out += "  compatible: \(device.compatible.joined(separator: ", "))\n"
            out += "  status: \(device.enabled ? "okay" : "disabled")\n"
            out += "  mmio: \(addressText(device.address))\n"
            if !device.interrupts.isEmpty {
                out += "  interrupts: \(device.interrupts.map(interruptText).joined(separator: "; "))\n"
            }
            if !references.dependencies.isEmpty {
                out += "  depends on: \(references.dependencies.map { "\($0.kind) \(board.tree.path(of: $0.provider))" }.joined(separator: ", "))\n"
            }
            if board.tree.hasProperty("gpio-controller", of: device.node) {
                let count = board.tree.property("ngpios", of: device.node)?.u32
                let users = board.gpioLineUsers(of: device.node).sorted { $0.key < $1.key }
                out += "  gpio lines: \(count.map { "\($0)" } ?? "? (no ngpios)"); used by the host: "
                    + (users.isEmpty ? "none referenced" : users.map { "\($0.key) \($0.value)" }.joined(separator: ", ")) + "\n"
            }
            out += "  verdict: \(a.verdict)\n"
            for reason in a.reasons { out += "    - \(reason)\n" }
        }
        return out
    }

    public static func devicesJSON(_ board: Board) -> String {
        var json = JSONWriter()
        json.beginObject()
        if let gic = board.gic {
            json.beginObject("gic")
            json.string("version", gic.version.description)
            json.string("path", board.tree.path(of: gic.node))
            json.beginArray("regions")
            for r in gic.regions { rangeJSON(r, &json) }
            json.endArray()
            json.endObject()
        } else {
            json.null("gic")
        }
        json.beginArray("cpus")
        for cpu in board.cpus {
            json.beginObject()
            json.number("logical", Int(cpu.logical))
            json.string("path", cpu.path)
            json.number("mpidr", cpu.mpidr)
            json.endObject()
        }
        json.endArray()
        json.beginArray("memory")
        for r in board.memory { rangeJSON(r, &json) }
        json.endArray()
        json.bool("iommu", board.hasIOMMU)
        json.beginArray("devices")
        for device in board.devices {
            let role = device.role
            let references = board.tree.dependencies(of: device.node)
            let a = board.assess(device, role: role, references: references)
            json.beginObject()
            json.string("path", device.path)
            json.strings("compatible", device.compatible)
            json.string("status", device.enabled ? "okay" : "disabled")
            json.string("role", role.description)
            switch device.address {
            case .mmio(let ranges):
                json.beginArray("mmio")
                for r in ranges { rangeJSON(r, &json) }
                json.endArray()
            case .none:
                json.beginArray("mmio"); json.endArray()
            case .notCPUAddressable(let bus, _):
                json.null("mmio")
                json.string("behind-bus", bus)
            }
            json.beginArray("interrupts")
            for r in device.interrupts {
                json.beginObject()
                switch r {
                case .gic(let irq):
                    json.string("type", irq.kind.name)
                    json.number("number", UInt64(irq.number))
                    json.number("intid", UInt64(irq.intid))
                    json.string("trigger", irq.trigger.description)
                case .otherController(let path, _):
                    json.string("type", "non-gic")
                    json.string("controller", path)
                case .unresolved(let why):
                    json.string("type", "unresolved")
                    json.string("reason", why)
                }
                json.endObject()
            }
            json.endArray()
            json.beginArray("dependencies")
            for dep in references.dependencies {
                json.beginObject()
                json.string("kind", dep.kind.description)
                json.string("property", dep.property)
                json.string("provider", board.tree.path(of: dep.provider))
                json.endObject()
            }
            json.endArray()
            if board.tree.hasProperty("gpio-controller", of: device.node) {
                json.beginObject("gpio")
                if let count = board.tree.property("ngpios", of: device.node)?.u32 { json.number("lines", UInt64(count)) } else { json.null("lines") }
                json.beginArray("used-by-host")
                for (line, user) in board.gpioLineUsers(of: device.node).sorted(by: { $0.key < $1.key }) {
                    json.beginObject()
                    json.number("line", UInt64(line))
                    json.string("by", user)
                    json.endObject()
                }
                json.endArray()
                json.endObject()
            }
            json.string("verdict", a.verdict.description)
            json.strings("reasons", a.reasons)
            json.endObject()
        }
        json.endArray()
        json.endObject()
        return json.text
    }

    static func rangeJSON(_ r: PhysicalRange, _ json: inout JSONWriter) {
        json.beginObject()
        json.string("base", hex(r.base))
        json.string("size", hex(r.size))
        json.endObject()
    }

    /// The carve report: what moved, what was stubbed or dropped, and why.
    public static func carveReport(_ result: CarveResult) -> String {
        let report = result.report
        var out = "Cleave carve report for \(report.board)\n\n"
        out += "Host tree edits:\n"
        for edit in report.hostEdits { out += "  \(edit)\n" }
        out += "Host bootargs: \(report.hostBootargs)\n"
        for guest in report.guests {
            out += "\nGuest '\(guest.name)': CPUs \(guest.cpus.map { String($0) }.joined(separator: ",")), "
            out += "\(mebibytes(guest.memorySize)) RAM "
            out += guest.memoryBase.map { "at fixed base \(hex($0))" } ?? "in \(mebibytes(guest.hugepageSize.bytes)) hugepages (base chosen at boot)"
            out += "\n  console: \(guest.console)\n"
            out += "  devices:\n"
            for d in guest.devices {
                out += "    \(d.path) -> \(d.guestPath)\n"
                out += "      mmio: \(d.mmio.map { $0.description }.joined(separator: ", "))\n"
                if !d.interrupts.isEmpty { out += "      interrupts: \(d.interrupts.map { $0.description }.joined(separator: "; "))\n" }
                // Only a plan that sets `interrupts` gets the line: reports of other plans stay as they were.
                if d.interruptMethod != .auto {
                    out += "      interrupts by: \(d.interruptMethod.rawValue) (MMIO by \(d.passthrough.rawValue))\n"
                }
            }
            for (k, c) in guest.gpioControllers.enumerated() {
                if k == 0 { out += "  gpio lines (virtual PL061s):\n" }
                out += "    \(hex(c.base)), SPI \(c.spi) (INTID \(c.spi + GICCells.firstSPI)):\n"
                for (i, l) in c.lines.enumerated() {
                    out += "      \(i) \(l.name): \(l.chip) line \(l.line), \(l.output ? "output" : "input")\n"
                }
            }
            if !guest.controlLines.isEmpty {
                out += "  control lines:\n"
                for l in guest.controlLines {
                    out += "    \(l.role.rawValue): \(l.chip) line \(l.line), active \(l.activeLow ? "low" : "high"), \(l.role.delayProperty) \(l.delay)\n"
                }
            }
            if !guest.standInClocks.isEmpty {
                out += "  stand-in clocks:\n"
                for c in guest.standInClocks { out += "    /\(c.name): fixed-clock \(c.rate) Hz for <\(c.replaces)>\n" }
            }
            if !guest.dropped.isEmpty {
                out += "  dropped from the guest tree:\n"
                for d in guest.dropped { out += "    \(d.path): \(d.property) (\(d.why))\n" }
            }
        }
        out += "\nDiagnostics:\n" + diagnostics(result.diagnostics)
        return out
    }
}
