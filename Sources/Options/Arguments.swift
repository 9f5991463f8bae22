/// A small argument reader for the boot-time binary and `cleave run` (Embedded Swift has no
/// ArgumentParser): `--name value` options, `--flag` switches, positionals.
public struct Arguments {
    private var items: [String]
    public init(_ items: [String]) { self.items = items }

    public var isEmpty: Bool { items.isEmpty }
    public var remaining: [String] { items }

    public mutating func flag(_ name: String) -> Bool {
        guard let i = items.firstIndex(of: name) else { return false }
        items.remove(at: i)
        return true
    }

    public mutating func option(_ name: String) throws(UsageError) -> String? {
        guard let i = items.firstIndex(of: name) else { return nil }
        guard i + 1 < items.count else { throw UsageError("\(name) needs a value") }
        let value = items[i + 1]
        items.removeSubrange(i...(i + 1))
        return value
    }

    public mutating func options(_ name: String) throws(UsageError) -> [String] {
        var values: [String] = []
        while let v = try option(name) { values.append(v) }
        return values
    }

    /// Whether `items` ask for help: `--help` or `-h` where an option name can
    /// stand (not as the value of a preceding `--name`, e.g. `--bootargs -h`).
    /// `switches` are the options that take no value.
    public static func wantsHelp(_ items: [String], switches: [String]) -> Bool {
        for (i, item) in items.enumerated() where item == "--help" || item == "-h" {
            if i == 0 { return true }
            let previous = items[i - 1]
            if !previous.hasPrefix("--") || switches.contains(previous) { return true }
        }
        return false
    }
}

public struct UsageError: Error, CustomStringConvertible {
    public let description: String
    /// The options were fine but what they name could not be used (a host tree
    /// without /chosen/cleave, a guest the host's RAM cannot hold): a setup
    /// error, exit status 1 with the message and no usage text.
    public let isSetup: Bool
    public init(_ message: String) { description = message; isSetup = false }
    public init(setup message: String) { description = message; isSetup = true }
}

/// Parses 0x-hex, decimal, and K/M/G suffixes (powers of 1024).
public func parseSize(_ text: String) -> UInt64? {
    var t = Substring(text)
    var multiplier: UInt64 = 1
    if let last = t.last {
        switch last {
        case "K", "k": multiplier = 1 << 10
        case "M", "m": multiplier = 1 << 20
        case "G", "g": multiplier = 1 << 30
        default: break
        }
        if multiplier != 1 { t = t.dropLast() }
    }
    let value: UInt64?
    if t.hasPrefix("0x") || t.hasPrefix("0X") { value = UInt64(t.dropFirst(2), radix: 16) } else { value = UInt64(t) }
    guard let value else { return nil }
    let (product, overflow) = value.multipliedReportingOverflow(by: multiplier)
    return overflow ? nil : product
}

/// "1,3" or "2-3" -> [1, 3] / [2, 3].
public func parseCPUList(_ text: String) -> [Int]? {
    var out: [Int] = []
    for part in text.split(separator: ",") {
        let bounds = part.split(separator: "-")
        if bounds.count == 1, let v = Int(bounds[0]) { out.append(v); continue }
        guard bounds.count == 2, let a = Int(bounds[0]), let b = Int(bounds[1]), a <= b else { return nil }
        out.append(contentsOf: a...b)
    }
    return out.isEmpty ? nil : out
}
