import DeviceTree
import Foundation
import Partitioning
import Testing

/// Debian's arm64 kernel package's board trees (577 DTBs from 16 vendors), as
/// Scripts/fetch-debian-kernel unpacks them; CLEAVE_CORPUS names the folder.
/// Scripts/test sets it, so CI always runs this.
let corpusRoot = ProcessInfo.processInfo.environment["CLEAVE_CORPUS"]

func corpusFiles() -> [String] {
    guard let root = corpusRoot, let walker = FileManager.default.enumerator(atPath: root) else { return [] }
    var files: [String] = []
    while let item = walker.nextObject() as? String {
        if item.hasSuffix(".dtb") { files.append(root + "/" + item) }
    }
    return files.sorted()
}

/// Runs dtc on a blob; returns its stderr when it fails.
func dtcRejects(_ bytes: [UInt8], scratch: String) -> String? {
    _ = FileManager.default.createFile(atPath: scratch, contents: Data(bytes))
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/dtc")
    p.arguments = ["-q", "-I", "dtb", "-O", "dts", "-o", "/dev/null", scratch]
    let err = Pipe()
    p.standardError = err
    do { try p.run() } catch { return "dtc did not run: \(error)" }
    let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
    p.waitUntilExit()
    return p.terminationStatus == 0 ? nil : text
}

@Suite(.enabled(if: corpusRoot != nil, "set CLEAVE_CORPUS (Scripts/test does) to run over Debian's board trees"))
struct CorpusTests {
    @Test func everyBoardTreeIsInventoriedAndCarved() throws {
        let files = corpusFiles()
        #expect(files.count > 500, "expected Debian's ~577 board trees under \(corpusRoot ?? "")")
        var devices = 0
        var verdicts: [String: Int] = [:]
        var carved = 0
        var skipped: [String] = []
        var assignedDevices = 0
        var refused: [String: Int] = [:]
        // A GICv2 CPU interface of 4 KiB (no split EOI), or too little RAM to
        // share: verdicts the board itself forces on any plan.
        let boardForced: Set<DiagnosticCode> = [.gicv2CPUInterfaceSmall, .memoryTooLarge]
        let scratch = NSTemporaryDirectory() + "cleave-corpus-\(getpid()).dtb"
        defer { unlink(scratch) }
        for file in files {
            let name = (file as NSString).lastPathComponent
            let bytes = [UInt8](FileManager.default.contents(atPath: file) ?? Data())
            let tree: DeviceTree
            do {
                tree = try DeviceTree(bytes: bytes)
            } catch {
                Issue.record("\(name): \(error)")
                continue
            }
            let board = Board(tree)
            for device in board.devices {
                let verdict = board.assess(device).verdict.description
                verdicts[verdict, default: 0] += 1
                devices += 1
            }
            // The JSON inventory is well-formed and lists every device.
            let json = Render.devicesJSON(board)
            let parsed = try JSONSerialization.jsonObject(with: Data(json.utf8)) as? [String: Any]
            #expect((parsed?["devices"] as? [Any])?.count == board.devices.count, "\(name): JSON device count")

            guard let plan = Plan.suggested(for: board) else {
                skipped.append(name)
                continue
            }
            let result = carve(board: board, plan: plan)
            guard let host = result.host else {
                // Only what the hardware forces may stop a suggested plan.
                let codes = Set(result.diagnostics.filter { $0.severity == .error }.map { $0.code })
                if codes.isSubset(of: boardForced) {
                    for code in codes { refused[code.rawValue, default: 0] += 1 }
                } else {
                    Issue.record("\(name): suggested plan did not carve:\n\(Render.diagnostics(result.diagnostics))")
                }
                continue
            }
            carved += 1
            assignedDevices += plan.guests[0].devices.count
            // The host tree differs from the board tree only where the report says.
            for difference in host.differences(from: tree) {
                let covered = result.report.hostEdits.contains { edit in
                    edit.path == difference.path && (edit.property == nil || edit.property == difference.property)
                        || edit.property == nil && difference.path.hasPrefix(edit.path + "/")
                }
                #expect(covered, "\(name): \(difference) is not in the report")
            }
            if let error = dtcRejects(host.bytes, scratch: scratch) { Issue.record("\(name): dtc rejects host.dtb: \(error)") }
            for guest in result.guests {
                if let error = dtcRejects(guest.tree.bytes, scratch: scratch) { Issue.record("\(name): dtc rejects \(guest.name).dtb: \(error)") }
            }
        }
        let summary = verdicts.keys.sorted().map { "\($0) \(verdicts[$0] ?? 0)" }.joined(separator: ", ")
        print("corpus: \(files.count) DTBs, \(devices) devices (\(summary)); carved \(carved) with suggested plans (\(assignedDevices) devices passed through), \(skipped.count) skipped (fewer than 2 CPUs or no GIC); refused by the hardware: \(refused.keys.sorted().map { "\($0) \(refused[$0] ?? 0)" }.joined(separator: ", "))")
        #expect(carved > 400)
    }
}
