/// A minimal JSON writer (no Foundation: library code stays in Embedded Swift).
public struct JSONWriter {
    public private(set) var text = ""
    private var needsComma: [Bool] = [false]

    public init() {}

    private mutating func separator() {
        if needsComma[needsComma.count - 1] { text += "," }
        needsComma[needsComma.count - 1] = true
    }

    public mutating func beginObject(_ key: String? = nil) { keyPrefix(key); text += "{"; needsComma.append(false) }
    public mutating func endObject() { needsComma.removeLast(); text += "}" }
    public mutating func beginArray(_ key: String? = nil) { keyPrefix(key); text += "["; needsComma.append(false) }
    public mutating func endArray() { needsComma.removeLast(); text += "]" }

    public mutating func string(_ key: String?, _ value: String) { keyPrefix(key); text += JSONWriter.quote(value) }
    public mutating func number(_ key: String?, _ value: UInt64) { keyPrefix(key); text += String(value) }
    public mutating func number(_ key: String?, _ value: Int) { keyPrefix(key); text += String(value) }
    public mutating func bool(_ key: String?, _ value: Bool) { keyPrefix(key); text += value ? "true" : "false" }
    public mutating func null(_ key: String?) { keyPrefix(key); text += "null" }
    public mutating func strings(_ key: String?, _ values: [String]) {
        beginArray(key)
        for v in values { string(nil, v) }
        endArray()
    }

    private mutating func keyPrefix(_ key: String?) {
        separator()
        if let key { text += JSONWriter.quote(key) + ":" }
    }

    public static func quote(_ s: String) -> String {
        var out = "\""
        for unit in s.unicodeScalars {
            switch unit {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            default:
                if unit.value < 0x20 {
                    let hex = String(unit.value, radix: 16)
                    out += "\\u" + String(repeating: "0", count: 4 - hex.utf8.count) + hex
                } else {
                    out.unicodeScalars.append(unit)
                }
            }
        }
        return out + "\""
    }
}
