/// One difference between two trees, by path.
public enum TreeDifference: Equatable, CustomStringConvertible {
    case nodeAdded(String)
    case nodeRemoved(String)
    case propertyAdded(path: String, name: String)
    case propertyRemoved(path: String, name: String)
    case propertyChanged(path: String, name: String)

    /// The node path the difference is at.
    public var path: String {
        switch self {
        case .nodeAdded(let p), .nodeRemoved(let p): return p
        case .propertyAdded(let p, _), .propertyRemoved(let p, _), .propertyChanged(let p, _): return p
        }
    }

    /// The property name, when the difference is in a property.
    public var property: String? {
        switch self {
        case .nodeAdded, .nodeRemoved: return nil
        case .propertyAdded(_, let n), .propertyRemoved(_, let n), .propertyChanged(_, let n): return n
        }
    }

    public var description: String {
        switch self {
        case .nodeAdded(let p): return "+ \(p)"
        case .nodeRemoved(let p): return "- \(p)"
        case .propertyAdded(let p, let n): return "+ \(p): \(n)"
        case .propertyRemoved(let p, let n): return "- \(p): \(n)"
        case .propertyChanged(let p, let n): return "~ \(p): \(n)"
        }
    }
}

extension DeviceTree {
    /// What changed from `old` to this tree: nodes matched by name under
    /// matched parents, properties by name and value bytes. An added or removed
    /// node is reported once, not with its contents.
    public func differences(from old: DeviceTree) -> [TreeDifference] {
        var out: [TreeDifference] = []
        compare(old, old.root, root, "/", &out)
        return out
    }

    private func compare(_ old: DeviceTree, _ a: Node, _ b: Node, _ path: String, _ out: inout [TreeDifference]) {
        let before = old.properties(of: a)
        let after = properties(of: b)
        for (name, value) in after {
            if let previous = before.first(where: { $0.name == name }) {
                if previous.value.bytes != value.bytes { out.append(.propertyChanged(path: path, name: name)) }
            } else {
                out.append(.propertyAdded(path: path, name: name))
            }
        }
        for (name, _) in before where !after.contains(where: { $0.name == name }) {
            out.append(.propertyRemoved(path: path, name: name))
        }
        let oldChildren = old.children(of: a)
        let newChildren = children(of: b)
        for child in newChildren {
            let name = self.name(of: child)
            let childPath = path == "/" ? "/" + name : path + "/" + name
            if let match = oldChildren.first(where: { old.name(of: $0) == name }) {
                compare(old, match, child, childPath, &out)
            } else {
                out.append(.nodeAdded(childPath))
            }
        }
        for child in oldChildren where !newChildren.contains(where: { self.name(of: $0) == old.name(of: child) }) {
            let name = old.name(of: child)
            out.append(.nodeRemoved(path == "/" ? "/" + name : path + "/" + name))
        }
    }
}
