// cleave-bench: prints how fast carving is, beside the fdtput and fdtoverlay
// pipelines making the same host edits. Numbers, not assertions.
//
//   swift run -c release cleave-bench [CORPUS_DIR]
//
// For each board with a plan in Boards/ (and the largest corpus tree, with a
// suggested plan), it times in-process parsing, inventory and the whole carve
// (median of many runs), then replays the carve's host edits with one fdtput
// process per edit, and as one overlay compiled by dtc and applied by
// fdtoverlay, checking both give the same tree.
import DeviceTree
import Foundation
import Partitioning

func now() -> UInt64 { DispatchTime.now().uptimeNanoseconds }

func median(_ runs: Int, _ body: () -> Void) -> Double {
    var samples: [UInt64] = []
    for _ in 0..<runs {
        let start = now()
        body()
        samples.append(now() - start)
    }
    samples.sort()
    return Double(samples[samples.count / 2]) / 1000.0   // microseconds
}

@discardableResult
func run(_ tool: String, _ arguments: [String]) -> Int32 {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: tool)
    p.arguments = arguments
    p.standardOutput = FileHandle.nullDevice
    p.standardError = FileHandle.nullDevice
    do { try p.run() } catch { return -1 }
    p.waitUntilExit()
    return p.terminationStatus
}

func hexBytes(_ bytes: [UInt8]) -> [String] { bytes.map { String($0, radix: 16) } }

/// Replays `host`'s differences from `board` with fdtput; returns (ms, processes, same result).
func fdtputPipeline(board: DeviceTree, host: DeviceTree, scratch: String) -> (Double, Int, Bool) {
    let changes = host.differences(from: board)
    _ = FileManager.default.createFile(atPath: scratch, contents: Data(board.bytes))
    var processes = 0
    let start = now()
    for change in changes {
        switch change {
        case .nodeAdded(let path):
            run("/usr/bin/fdtput", ["-c", "-p", scratch, path]); processes += 1
            // An added node's properties are not listed separately: set them all.
            if let node = host.lookup(path: path) { processes += putSubtree(host, node, path, scratch) }
        case .propertyAdded(let path, let name), .propertyChanged(let path, let name):
            let value = host.lookup(path: path).flatMap { host.property(name, of: $0) }?.bytes ?? []
            run("/usr/bin/fdtput", ["-t", "bx", scratch, path, name] + hexBytes(value)); processes += 1
        case .nodeRemoved(let path):
            run("/usr/bin/fdtput", ["-r", scratch, path]); processes += 1
        case .propertyRemoved(let path, let name):
            run("/usr/bin/fdtput", ["-d", scratch, path, name]); processes += 1
        }
    }
    let elapsed = Double(now() - start) / 1e6
    let result = (try? DeviceTree(bytes: [UInt8](FileManager.default.contents(atPath: scratch) ?? Data())))
    return (elapsed, processes, result.map { $0.differences(from: host).isEmpty } ?? false)
}

func putSubtree(_ tree: DeviceTree, _ node: Node, _ path: String, _ scratch: String) -> Int {
    var processes = 0
    for (name, value) in tree.properties(of: node) {
        run("/usr/bin/fdtput", ["-t", "bx", scratch, path, name] + hexBytes(value.bytes)); processes += 1
    }
    for child in tree.children(of: node) {
        let childPath = path + "/" + tree.name(of: child)
        run("/usr/bin/fdtput", ["-c", scratch, childPath]); processes += 1
        processes += putSubtree(tree, child, childPath, scratch)
    }
    return processes
}

/// The same edits as one overlay: dtc compiles it, fdtoverlay applies it.
func overlayPipeline(board: DeviceTree, host: DeviceTree, scratch: String) -> (Double, Bool) {
    var text = "/dts-v1/;\n/plugin/;\n"
    func body(_ node: Node, _ indent: String) -> String {
        var out = ""
        for (name, value) in host.properties(of: node) {
            out += "\(indent)\(name) = [\(hexBytes(value.bytes).map { $0.count == 1 ? "0" + $0 : $0 }.joined(separator: " "))];\n"
        }
        for child in host.children(of: node) {
            out += "\(indent)\(host.name(of: child)) {\n" + body(child, indent + "\t") + "\(indent)};\n"
        }
        return out
    }
    var changedProperties: [String: [String]] = [:]
    var order: [String] = []
    for change in host.differences(from: board) {
        switch change {
        case .nodeAdded(let path):
            guard let node = host.lookup(path: path) else { continue }
            let parent = path.split(separator: "/").dropLast().joined(separator: "/")
            text += "&{/\(parent)} {\n\t\(host.name(of: node)) {\n" + body(node, "\t\t") + "\t};\n};\n"
        case .propertyAdded(let path, let name), .propertyChanged(let path, let name):
            if changedProperties[path] == nil { order.append(path) }
            changedProperties[path, default: []].append(name)
        default: break
        }
    }
    for path in order {
        guard let node = host.lookup(path: path) else { continue }
        text += "&{\(path)} {\n"
        for name in changedProperties[path] ?? [] {
            let value = host.property(name, of: node)?.bytes ?? []
            text += "\t\(name) = [\(hexBytes(value).map { $0.count == 1 ? "0" + $0 : $0 }.joined(separator: " "))];\n"
        }
        text += "};\n"
    }
    let source = scratch + ".dtso", overlay = scratch + ".dtbo", base = scratch + ".base", out = scratch + ".out"
    _ = FileManager.default.createFile(atPath: source, contents: Data(text.utf8))
    _ = FileManager.default.createFile(atPath: base, contents: Data(board.bytes))
    let start = now()
    let compiled = run("/usr/bin/dtc", ["-q", "-@", "-I", "dts", "-O", "dtb", "-o", overlay, source])
    let applied = run("/usr/bin/fdtoverlay", ["-i", base, "-o", out, overlay])
    let elapsed = Double(now() - start) / 1e6
    let result = (try? DeviceTree(bytes: [UInt8](FileManager.default.contents(atPath: out) ?? Data())))
    let same = compiled == 0 && applied == 0 && (result.map { $0.differences(from: host).isEmpty } ?? false)
    for f in [source, overlay, base, out] { unlink(f) }
    return (elapsed, same)
}

func compilePlan(_ path: String) -> Plan? {
    let p = Process()
    p.executableURL = URL(fileURLWithPath: "/usr/bin/dtc")
    p.arguments = ["-q", "-I", "dts", "-O", "dtb", path]
    let pipe = Pipe()
    p.standardOutput = pipe
    try? p.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    p.waitUntilExit()
    guard let tree = try? DeviceTree(bytes: [UInt8](data)) else { return nil }
    return Plan.parse(tree).plan
}

func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s : s + String(repeating: " ", count: n - s.count) }
func fmt(_ v: Double, _ digits: Int = 1) -> String { String(format: "%.\(digits)f", v) }

// MARK: Inputs

let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent().path
// --quick: in-process numbers only (no pipelines, no corpus sweep).
let quick = CommandLine.arguments.contains("--quick")
var positional: [String] = []
var skipNext = false
for argument in CommandLine.arguments.dropFirst() {
    if skipNext { skipNext = false; continue }
    if argument == "--profile" || argument == "--dump" { skipNext = true; continue }
    if !argument.hasPrefix("--") { positional.append(argument) }
}
let corpus = positional.first ?? ProcessInfo.processInfo.environment["CLEAVE_CORPUS"]
var cases: [(name: String, board: DeviceTree, plan: Plan)] = []
// Every failure (a bundled board that cannot be read or carved, a pipeline
// whose tree differs from the in-process one) is counted and makes the exit
// status 1: Scripts/test runs this as a check.
var failures: [String] = []
let boardsDir = root + "/Boards"
let profiling = CommandLine.arguments.contains("--profile")
for entry in ((try? FileManager.default.contentsOfDirectory(atPath: boardsDir)) ?? []).sorted() where !profiling {
    let planPath = "\(boardsDir)/\(entry)/plan.dts"
    guard FileManager.default.fileExists(atPath: planPath) else { continue }
    // The tree the plan was written for: the DeviceTrees/ file its header
    // comment names (every bundled plan does), else DeviceTrees/<board>.dtb.
    var dtb = "\(root)/DeviceTrees/\(entry).dtb"
    if let text = try? String(contentsOfFile: planPath, encoding: .utf8),
       let named = text.range(of: #"DeviceTrees/[A-Za-z0-9._-]+\.dtb"#, options: .regularExpression) {
        dtb = "\(root)/\(text[named])"
    }
    guard let bytes = FileManager.default.contents(atPath: dtb), let tree = try? DeviceTree(bytes: [UInt8](bytes)) else {
        failures.append("\(entry): board tree \(dtb) missing or unreadable"); continue
    }
    guard let plan = compilePlan(planPath) else { failures.append("\(entry): plan \(planPath) does not compile or parse"); continue }
    cases.append((entry, tree, plan))
}

var corpusFiles: [String] = []
if let corpus, let walker = FileManager.default.enumerator(atPath: corpus) {
    while let item = walker.nextObject() as? String { if item.hasSuffix(".dtb") { corpusFiles.append(corpus + "/" + item) } }
}
corpusFiles.sort()
var largest: (name: String, bytes: [UInt8])? = nil
var corpusBlobs: [[UInt8]] = []
for file in corpusFiles {
    let bytes = [UInt8](FileManager.default.contents(atPath: file) ?? Data())
    corpusBlobs.append(bytes)
    if bytes.count > (largest?.bytes.count ?? 0) { largest = ((file as NSString).lastPathComponent, bytes) }
}
if let largest {
    if let tree = try? DeviceTree(bytes: largest.bytes), let plan = Plan.suggested(for: Board(tree)) {
        cases.append(("\(largest.name) (largest, suggested plan)", tree, plan))
    } else {
        failures.append("\(largest.name): the corpus's largest tree cannot be opened or given a suggested plan")
    }
}

// --dump DIR: writes, for every board above and every corpus tree, what the
// CLI would print or write (devices text and JSON; carve's host and guest DTBs,
// diagnostics and report with the board's or a suggested plan), so a change
// meant to be output-neutral can be checked with `diff -r` against a dump taken
// before it.
if let i = CommandLine.arguments.firstIndex(of: "--dump"), i + 1 < CommandLine.arguments.count {
    let out = CommandLine.arguments[i + 1]
    try? FileManager.default.createDirectory(atPath: out, withIntermediateDirectories: true)
    func write(_ name: String, _ bytes: [UInt8]) {
        _ = FileManager.default.createFile(atPath: out + "/" + name, contents: Data(bytes))
    }
    func dump(_ name: String, _ tree: DeviceTree, _ plan: Plan?) {
        let board = Board(tree)
        write(name + ".devices.txt", Array(Render.devices(board).utf8))
        write(name + ".devices.json", Array(Render.devicesJSON(board).utf8))
        guard let plan = plan ?? Plan.suggested(for: board) else { return }
        let result = carve(board: tree, plan: plan)
        write(name + ".carve.txt", Array((Render.diagnostics(result.diagnostics) + Render.carveReport(result)).utf8))
        if let host = result.host { write(name + ".host.dtb", host.bytes) }
        for guest in result.guests { write(name + ".guest-" + guest.name + ".dtb", guest.tree.bytes) }
    }
    for c in cases where !c.name.contains("(largest") { dump("board-" + c.name, c.board, c.plan) }
    for entry in ((try? FileManager.default.contentsOfDirectory(atPath: root + "/DeviceTrees")) ?? []).sorted()
    where entry.hasSuffix(".dtb") {
        guard let bytes = FileManager.default.contents(atPath: root + "/DeviceTrees/" + entry),
              let tree = try? DeviceTree(bytes: [UInt8](bytes)) else { continue }
        dump("tree-" + entry, tree, nil)
    }
    for (file, blob) in zip(corpusFiles, corpusBlobs) {
        let name = String(file.dropFirst((corpus ?? "").count)).replacingOccurrences(of: "/", with: "_")
        guard let tree = try? DeviceTree(bytes: blob) else { write(name + ".unopenable", []); continue }
        dump(name, tree, nil)
    }
    exit(0)
}

// --profile NAME: carve that board in a loop, for perf record.
if let i = CommandLine.arguments.firstIndex(of: "--profile"), i + 1 < CommandLine.arguments.count {
    let wanted = CommandLine.arguments[i + 1]
    var found = cases.first(where: { $0.name.hasPrefix(wanted) })
    if found == nil, let bytes = FileManager.default.contents(atPath: "\(root)/DeviceTrees/\(wanted).dtb"),
       let tree = try? DeviceTree(bytes: [UInt8](bytes)), let plan = Plan.suggested(for: Board(tree)) {
        found = (wanted, tree, plan)
    }
    guard let c = found else { print("no board \(wanted)"); exit(2) }
    let iterations = Int(ProcessInfo.processInfo.environment["CLEAVE_BENCH_ITERATIONS"] ?? "") ?? 2000
    let blob = c.board.bytes
    for _ in 0..<iterations { if let tree = try? DeviceTree(bytes: blob) { _ = carve(board: tree, plan: c.plan) } }
    exit(0)
}

// MARK: Carve

let scratch = NSTemporaryDirectory() + "cleave-bench-\(getpid()).dtb"
print("Carve: in-process (median of 200 runs) vs the same host edits made by fdtput (one process per edit) and by dtc+fdtoverlay")
print(pad("board", 46) + pad("KiB", 7) + pad("nodes", 7) + pad("parse us", 10) + pad("board us", 10) + pad("carve us", 10) + pad("fdtput ms", 11) + pad("(procs)", 9) + pad("overlay ms", 12) + pad("x fdtput", 10) + "x overlay")
var worst = 0.0
for c in cases {
    let bytes = c.board.bytes
    let parse = median(200) { _ = try? DeviceTree(bytes: bytes) }
    let inventory = median(200) { _ = Board(c.board) }
    var result: CarveResult? = nil
    let carveTime = median(200) { result = carve(board: c.board, plan: c.plan) }
    guard let host = result?.host else {
        print(pad(c.name, 46) + "carve failed: \(result.map { Render.diagnostics($0.diagnostics) } ?? "")")
        failures.append("\(c.name): carve failed")
        continue
    }
    worst = max(worst, carveTime)
    if quick {
        print(pad(c.name, 46) + pad(fmt(Double(bytes.count) / 1024), 7) + pad(String(c.board.nodeCount), 7)
              + pad(fmt(parse), 10) + pad(fmt(inventory), 10) + fmt(carveTime))
        continue
    }
    let (putMs, processes, putSame) = fdtputPipeline(board: c.board, host: host, scratch: scratch)
    let (overlayMs, overlaySame) = overlayPipeline(board: c.board, host: host, scratch: scratch)
    let line = pad(c.name, 46) + pad(fmt(Double(bytes.count) / 1024), 7) + pad(String(c.board.nodeCount), 7)
        + pad(fmt(parse), 10) + pad(fmt(inventory), 10) + pad(fmt(carveTime), 10) + pad(fmt(putMs) + (putSame ? "" : "!"), 11) + pad("(\(processes))", 9)
        + pad(fmt(overlayMs) + (overlaySame ? "" : "!"), 12) + pad(fmt(putMs * 1000 / carveTime, 0), 10) + fmt(overlayMs * 1000 / carveTime, 0)
    print(line)
    if !putSame { failures.append("\(c.name): the fdtput pipeline's tree differs from the in-process host tree") }
    if !overlaySame { failures.append("\(c.name): the dtc + fdtoverlay pipeline's tree differs from the in-process host tree") }
}
unlink(scratch)
print("('!' marks a pipeline whose result differs from the in-process host tree)")
print("slowest in-process carve: \(fmt(worst)) us (target < 1000 us)")

// MARK: devices over the corpus

if !corpusBlobs.isEmpty && !quick {
    var devices = 0
    let start = now()
    for blob in corpusBlobs {
        guard let tree = try? DeviceTree(bytes: blob) else { continue }
        let board = Board(tree)
        for device in board.devices { _ = board.assess(device); devices += 1 }
    }
    let inProcess = Double(now() - start) / 1e6
    let jsonStart = now()
    var bytesOut = 0
    for blob in corpusBlobs {
        guard let tree = try? DeviceTree(bytes: blob) else { continue }
        bytesOut += Render.devicesJSON(Board(tree)).utf8.count
    }
    let json = Double(now() - jsonStart) / 1e6
    print("devices over the corpus: \(corpusBlobs.count) DTBs, \(devices) devices: inventory + verdicts \(fmt(inProcess)) ms in-process (\(fmt(inProcess * 1000 / Double(corpusBlobs.count))) us per board); with JSON rendering \(fmt(json)) ms (\(bytesOut / 1024) KiB)")
    // For scale: dtc only decompiling every tree, one process each.
    let dtcStart = now()
    for file in corpusFiles { run("/usr/bin/dtc", ["-q", "-I", "dtb", "-O", "dts", "-o", "/dev/null", file]) }
    print("for scale, dtc -I dtb -O dts over the same trees (one process each): \(fmt(Double(now() - dtcStart) / 1e6)) ms")
}

if cases.isEmpty { failures.append("no board carved (no Boards/*/plan.dts with its tree?)") }
if !failures.isEmpty {
    print("cleave-bench: \(failures.count) failure(s):")
    for f in failures { print("  " + f) }
    exit(1)
}
print("cleave-bench: \(cases.count) boards carved, every pipeline agrees")
