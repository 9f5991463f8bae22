import Foundation

// Test inputs come from real tools (dtc, the built `cleave`): one way to run
// them for every test target.

public struct ToolFailure: Error, CustomStringConvertible {
    public var description: String
    public init(description: String) { self.description = description }
}

/// The outcome of running a tool.
public struct ToolRun {
    public var status: Int32
    public var stdout: Data
    public var stderr: String
}

/// Runs `executable`; never throws on a non-zero exit (callers decide).
public func runTool(_ executable: String, _ arguments: [String]) throws -> ToolRun {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let out = Pipe()
    let err = Pipe()
    process.standardOutput = out
    process.standardError = err
    try process.run()
    // Drain both pipes before waiting so a chatty child cannot block on a full pipe.
    final class Box: @unchecked Sendable { var data = Data() }
    let stderrBox = Box()
    let group = DispatchGroup()
    group.enter()
    DispatchQueue.global().async {
        stderrBox.data = err.fileHandleForReading.readDataToEndOfFile()
        group.leave()
    }
    let stdoutData = out.fileHandleForReading.readDataToEndOfFile()
    group.wait()
    process.waitUntilExit()
    return ToolRun(status: process.terminationStatus, stdout: stdoutData,
                   stderr: String(decoding: stderrBox.data, as: UTF8.self))
}

/// Runs `executable` and returns its stdout; throws with its stderr when it fails.
@discardableResult
public func run(_ executable: String, _ arguments: [String]) throws -> Data {
    let result = try runTool(executable, arguments)
    guard result.status == 0 else {
        throw ToolFailure(description: "\(executable) \(arguments.joined(separator: " ")) exited \(result.status): \(result.stderr)")
    }
    return result.stdout
}

/// dtc as Debian installs it (Scripts/install-deps).
public let dtcPath = "/usr/bin/dtc"

/// A fresh temporary directory; the caller removes it.
public func temporaryDirectory() throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("cleave-tests-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

/// Compiles DTS text with `dtc -I dts -O dtb`. `symbols` adds `-@` (a
/// `__symbols__` node); `version` picks the blob version (`-V`). A failure
/// shows the source and dtc's message.
public func compileDTS(_ source: String, symbols: Bool = false, version: Int? = nil) throws -> [UInt8] {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let input = dir.appendingPathComponent("in.dts")
    try Data(source.utf8).write(to: input)
    return try compileDTSFile(input.path, symbols: symbols, version: version, describing: source)
}

/// Compiles a DTS file (a plan in Boards/, say) with dtc.
public func compileDTSFile(_ path: String, symbols: Bool = false, version: Int? = nil,
                           describing what: String? = nil) throws -> [UInt8] {
    let dir = try temporaryDirectory()
    defer { try? FileManager.default.removeItem(at: dir) }
    let output = dir.appendingPathComponent("out.dtb")
    var arguments = ["-q", "-I", "dts", "-O", "dtb", "-o", output.path]
    if symbols { arguments.append("-@") }
    if let version { arguments += ["-V", String(version)] }
    arguments.append(path)
    let result = try runTool(dtcPath, arguments)
    guard result.status == 0 else {
        throw ToolFailure(description: "dtc failed (\(result.status)) on:\n\(what ?? path)\n\(result.stderr)")
    }
    return [UInt8](try Data(contentsOf: output))
}
