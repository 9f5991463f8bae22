import CFDT

/// Everything that can go wrong reading, resolving or editing a device tree.
/// Each case names what failed (a libfdt call, a node path, a property) so the
/// message tells a user what to fix.
public enum DeviceTreeError: Error, Equatable, CustomStringConvertible {
    /// The blob is not a usable flattened device tree.
    case malformed(String)
    /// A libfdt call failed with `-FDT_ERR_*`.
    case libfdt(call: String, code: Int32, context: String)
    /// A path, alias or label that names no node.
    case noSuchNode(String)
    /// A property is missing or its value does not have the expected shape.
    case badProperty(node: String, property: String, reason: String)

    public var description: String {
        switch self {
        case .malformed(let reason):
            return "not a valid device tree blob: \(reason)"
        case .libfdt(let call, let code, let context):
            let suffix = context.isEmpty ? "" : " (\(context))"
            return "\(call) failed: \(fdtErrorString(code))\(suffix)"
        case .noSuchNode(let reference):
            return "no node '\(reference)' in the tree (give a path, an alias, or a label from __symbols__)"
        case .badProperty(let node, let property, let reason):
            return "\(node): property '\(property)' \(reason)"
        }
    }
}

/// libfdt's text for an error code (`fdt_strerror`).
public func fdtErrorString(_ code: Int32) -> String {
    guard let text = fdt_strerror(code) else { return "FDT error \(code)" }
    return String(cString: text)
}
