import Foundation
import DeviceTree
@_exported import TestSupport   // dtc for every file of this target

/// The checkout's root, from this file's path.
let repositoryRoot: String = {
    var url = URL(fileURLWithPath: #filePath)
    for _ in 0..<3 { url.deleteLastPathComponent() }
    return url.path
}()

/// A real board tree from DeviceTrees/ (provenance in DeviceTrees/README.md).
func boardTree(_ name: String) throws -> DeviceTree {
    try DeviceTree(bytes: [UInt8](Data(contentsOf: URL(fileURLWithPath: repositoryRoot + "/DeviceTrees/" + name))))
}

/// A tree from DTS text, compiled by dtc.
func tree(_ source: String) throws -> DeviceTree { try DeviceTree(bytes: compileDTS(source)) }

extension DeviceTree {
    func cells(_ path: String, _ property: String) -> [UInt32]? {
        lookup(path: path).flatMap { self.property(property, of: $0)?.cells }
    }

    func string(_ path: String, _ property: String) -> String? {
        lookup(path: path).flatMap { self.property(property, of: $0)?.string }
    }
}
