import ArgumentParser
import JSON
import Partitioning

struct Check: ParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Check a partition plan against a board tree.",
        discussion: "Exit status: 0 without errors, 1 with errors, 2 when an input cannot be used.")

    @Argument(help: "The board's device tree blob (.dtb).")
    var board: String

    @Argument(help: "The partition plan (.dts, compiled with dtc, or .dtb).")
    var plan: String

    @Flag(help: "Print JSON instead of text.")
    var json = false

    func run() throws {
        let diagnostics: [Diagnostic]
        do {
            let tree = try loadBoard(board)
            diagnostics = check(board: tree, plan: try loadPlan(plan))
        } catch {
            throw failUnusable(error)
        }
        if json {
            var writer = JSONWriter()
            writer.beginObject()
            writer.string("board", board)
            writer.string("plan", plan)
            writer.number("errors", diagnostics.errorCount)
            writer.number("warnings", diagnostics.warningCount)
            Render.diagnosticsJSON(diagnostics, into: &writer)
            writer.endObject()
            printOut(writer.text + "\n")
        } else {
            printOut(Render.diagnostics(diagnostics))
        }
        if diagnostics.hasErrors { throw ExitCode(1) }
    }
}
