import ArgumentParser
import Foundation
import Partitioning

struct CarveCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "carve",
        abstract: "Write the host tree, one tree per guest and a report.",
        discussion: """
            Writes OUT/host.dtb, OUT/<guest>.dtb for each guest and OUT/report.txt. Nothing is written \
            when the plan has errors, and files are replaced only once all were written. Exit status: 0 \
            on success, 1 when the plan has errors, 2 when an input cannot be used.
            """)

    @Argument(help: "The board's device tree blob (.dtb).")
    var board: String

    @Argument(help: "The partition plan (.dts, compiled with dtc, or .dtb).")
    var plan: String

    @Option(name: .long, help: "Output directory (created if missing).")
    var out: String

    func run() throws {
        let result: CarveResult
        do {
            let tree = try loadBoard(board)
            result = carve(board: tree, plan: try loadPlan(plan))
        } catch {
            throw failUnusable(error)
        }
        guard let host = result.hostBytes, !result.diagnostics.hasErrors else {
            printOut(Render.diagnostics(result.diagnostics))
            throw ExitCode(1)
        }
        let report = Render.carveReport(result)
        do {
            try FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
            var files: [(path: String, bytes: [UInt8])] = [("\(out)/host.dtb", host)]
            for guest in result.guests { files.append(("\(out)/\(guest.name).dtb", guest.tree.bytes)) }
            files.append(("\(out)/report.txt", Array(report.utf8)))
            try writeAtomically(files)
        } catch {
            throw failUnusable(error)
        }
        printOut(report)
        log.info("wrote \(out)/host.dtb, \(result.guests.map { "\(out)/\($0.name).dtb" }.joined(separator: ", ")) and \(out)/report.txt")
    }
}
