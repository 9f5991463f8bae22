/// The text of the service's small state files: one `key=value` per line,
/// the value being the rest of the line (it may hold spaces and `=`; a
/// newline in it is written as a space). A key may repeat (`device=`).
public enum KeyValueLines {
    public static func text(_ pairs: [(key: String, value: String)]) -> String {
        var out = ""
        for (key, value) in pairs {
            out += key + "=" + String(value.map { $0 == "\n" || $0 == "\r" ? " " : $0 }) + "\n"
        }
        return out
    }

    /// The pairs of `text`, in order; lines without `=` are skipped.
    public static func pairs(_ text: String) -> [(key: String, value: String)] {
        var out: [(key: String, value: String)] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) {
            guard let eq = line.firstIndex(of: "=") else { continue }
            out.append((String(line[..<eq]), String(line[line.index(after: eq)...])))
        }
        return out
    }
}
