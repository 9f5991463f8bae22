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
