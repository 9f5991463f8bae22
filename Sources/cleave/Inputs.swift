import ArgumentParser
import DeviceTree
import Foundation
import Logging
import Partitioning

/// Input that cannot be used at all (exit status 2), with a message naming
/// the file and what to do.
struct UnusableInput: Error, CustomStringConvertible {
    var description: String
}

let log: Logger = {
    LoggingSystem.bootstrap { StreamLogHandler.standardError(label: $0) }
    return Logger(label: "cleave")
}()

/// Reports an unusable input on stderr and exits with status 2.
func failUnusable(_ error: Error) -> ExitCode {
    FileHandle.standardError.write(Data("cleave: \(error)\n".utf8))
    return ExitCode(2)
}

func readFile(_ path: String) throws -> [UInt8] {
    guard let data = FileManager.default.contents(atPath: path) else {
        var isDirectory: ObjCBool = false
        if FileManager.default.fileExists(atPath: path, isDirectory: &isDirectory) {
            throw UnusableInput(description: isDirectory.boolValue ? "\(path): is a directory, not a file" : "\(path): cannot be read (permissions?)")
        }
        throw UnusableInput(description: "\(path): no such file")
    }
    return [UInt8](data)
}

func loadBoard(_ path: String) throws -> DeviceTree {
    let bytes = try readFile(path)
    do {
        return try DeviceTree(bytes: bytes)
    } catch {
        throw UnusableInput(description: "\(path): \(error.description)")
    }
}

/// Loads a plan: a .dtb as is, anything else compiled from DTS with dtc.
func loadPlan(_ path: String) throws -> Plan {
    var bytes = try readFile(path)
    if !(bytes.count >= 4 && bytes[0] == 0xd0 && bytes[1] == 0x0d && bytes[2] == 0xfe && bytes[3] == 0xed) {
        bytes = try compileDTS(path)
    }
    let tree: DeviceTree
    do {
        tree = try DeviceTree(bytes: bytes)
    } catch {
        throw UnusableInput(description: "\(path): \(error.description)")
    }
    let (plan, diagnostics) = Plan.parse(tree)
    guard let plan else {
        throw UnusableInput(description: "\(path): not a usable plan\n" + diagnostics.map { $0.description }.joined(separator: "\n"))
    }
    return plan
}

/// Runs `dtc -I dts -O dtb` on a plan source and returns the blob.
func compileDTS(_ path: String) throws -> [UInt8] {
    let candidates = (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin").split(separator: ":").map { "\($0)/dtc" }
    guard let dtc = candidates.first(where: { FileManager.default.isExecutableFile(atPath: $0) }) else {
        throw UnusableInput(description: "\(path): compiling a .dts plan needs dtc; install device-tree-compiler (Scripts/install-deps) or pass a compiled .dtb")
    }
    let process = Process()
    process.executableURL = URL(fileURLWithPath: dtc)
    process.arguments = ["-q", "-I", "dts", "-O", "dtb", path]
    let output = Pipe()
    let errors = Pipe()
    process.standardOutput = output
    process.standardError = errors
    try process.run()
    let blob = output.fileHandleForReading.readDataToEndOfFile()
    let message = errors.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    guard process.terminationStatus == 0 else {
        throw UnusableInput(description: "\(path): dtc could not compile the plan:\n" + String(decoding: message, as: UTF8.self))
    }
    return [UInt8](blob)
}

/// Writes every file to a temporary name first and renames them only when all
/// were written, so a failure leaves what was there before untouched.
func writeAtomically(_ files: [(path: String, bytes: [UInt8])]) throws {
    var temporaries: [(temporary: String, path: String)] = []
    do {
        for file in files {
            let directory = (file.path as NSString).deletingLastPathComponent
            let name = (file.path as NSString).lastPathComponent
            let temporary = (directory.isEmpty ? "." : directory) + "/.\(name).tmp-\(getpid())"
            guard FileManager.default.createFile(atPath: temporary, contents: Data(file.bytes)) else {
                throw UnusableInput(description: "\(file.path): cannot write (does the directory exist and is it writable?)")
            }
            temporaries.append((temporary, file.path))
        }
        for t in temporaries {
            guard rename(t.temporary, t.path) == 0 else {
                throw UnusableInput(description: "\(t.path): rename failed: \(String(cString: strerror(errno)))")
            }
        }
    } catch {
        for t in temporaries { unlink(t.temporary) }
        throw error
    }
}

func printOut(_ text: String) {
    FileHandle.standardOutput.write(Data(text.utf8))
}
