import DeviceTree
import PartitionRecord
import Platform

/// One guest's output.
public struct CarvedGuest {
    public var name: String
    /// The guest tree: complete but for the RAM base (finalised at boot unless
    /// the plan fixes it), initrd and seeds.
    public var tree: DeviceTree
}

/// One change carving made to the host tree.
public struct HostEdit: Equatable, CustomStringConvertible {
    public var path: String
    /// The property changed, or nil when a whole node was added.
    public var property: String?
    public var why: String
    public var description: String { property.map { "\(path): \($0) — \(why)" } ?? "\(path) (node added) — \(why)" }
}

/// What moved into one guest, what was stubbed or dropped, and why.
public struct GuestReport {
    public var name: String
    public var cpus: [UInt32]
    public var memorySize: UInt64
    public var memoryBase: UInt64?
    public var hugepageSize: HugePageSize
    /// `passthrough` and `interruptMethod`: the plan's methods for the device.
    public var devices: [(path: String, guestPath: String, mmio: [PhysicalRange], interrupts: [GICInterrupt],
                          passthrough: PassthroughMethod, interruptMethod: InterruptMethod)]
    public var standInClocks: [(name: String, rate: UInt32, replaces: String)]
    public var dropped: [(path: String, property: String, why: String)]
    public var console: String
    /// The virtual PL061s (issue 12): page, SPI and the lines each serves
    /// (the guest's line name, the board's controller node, its line).
    public var gpioControllers: [(base: UInt64, spi: UInt32, lines: [(name: String, chip: String, line: UInt32, output: Bool)])] = []
    /// The host lines the supervisor drives around the guest's life.
    public var controlLines: [ControlLinePlan] = []
}

public struct CarveReport {
    public var board: String
    public var hostEdits: [HostEdit] = []
    public var hostBootargs: String = ""
    public var guests: [GuestReport] = []
}

/// The outcome of carving: trees only when there are no errors.
public struct CarveResult {
    /// The host tree's blob, ready to write out.
    public var hostBytes: [UInt8]?
    public var guests: [CarvedGuest]
    public var diagnostics: [Diagnostic]
    public var report: CarveReport

    /// The host tree, opened from `hostBytes` (and checked like any input) on
    /// each access. Carving does not index the tree it wrote: `cleave carve`
    /// only writes the bytes, and indexing 120 KiB costs as much as a third of
    /// the carve.
    public var host: DeviceTree? { hostBytes.flatMap { try? DeviceTree(bytes: $0) } }
}

/// Carves `board` by `plan`: a pure function from (board tree, plan) to (host
/// tree, one tree per guest, diagnostics, report). No I/O.
public func carve(board tree: DeviceTree, plan: Plan) -> CarveResult {
    let board = Board(tree)
    return carve(board: board, plan: plan)
}

public func carve(board: Board, plan: Plan) -> CarveResult {
    var validation = Validation(board: board, plan: plan)
    validation.run()
    var report = CarveReport(board: board.tree.property("model", of: board.tree.root)?.string
                                    ?? board.tree.compatible(of: board.tree.root).first ?? "")
    var diagnostics = validation.diagnostics
    guard !diagnostics.hasErrors else {
        return CarveResult(hostBytes: nil, guests: [], diagnostics: sorted(diagnostics), report: report)
    }
    var guests: [CarvedGuest] = []
    var nextPhandle = board.tree.maxPhandle + 1
    for guest in validation.guests {
        var builder = GuestCarver(board: board, guest: guest, layout: validation.layout, nextPhandle: nextPhandle)
        do throws(DeviceTreeError) {
            let (tree, guestReport) = try builder.build()
            nextPhandle = builder.nextPhandle
            guests.append(CarvedGuest(name: guest.plan.name, tree: tree))
            report.guests.append(guestReport)
            diagnostics += builder.diagnostics
        } catch {
            diagnostics.append(Diagnostic(.planInvalid, .error, path: "plan:/guests/\(guest.plan.name)",
                                          "building the guest tree failed: \(error.description)"))
        }
    }
    var host: [UInt8]? = nil
    if !diagnostics.hasErrors {
        do throws(DeviceTreeError) {
            var hostBuilder = HostTreeBuilder(board: board, validation: validation, guestTrees: guests)
            let hostResult = try hostBuilder.build()
            host = hostResult.bytes
            report.hostEdits = hostResult.edits
            report.hostBootargs = hostResult.bootargs
        } catch {
            diagnostics.append(Diagnostic(.planInvalid, .error, path: "/", "editing the host tree failed: \(error.description)"))
        }
    }
    if diagnostics.hasErrors { return CarveResult(hostBytes: nil, guests: [], diagnostics: sorted(diagnostics), report: report) }
    return CarveResult(hostBytes: host, guests: guests, diagnostics: sorted(diagnostics), report: report)
}

/// Runs every check carving runs, without building trees.
public func check(board tree: DeviceTree, plan: Plan) -> [Diagnostic] {
    carve(board: tree, plan: plan).diagnostics
}

/// Errors first, then warnings, then notes; stable within a severity.
func sorted(_ diagnostics: [Diagnostic]) -> [Diagnostic] {
    var out: [Diagnostic] = []
    for severity in [Severity.error, .warning, .note] { out += diagnostics.filter { $0.severity == severity } }
    return out
}
