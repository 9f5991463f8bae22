import CLinux

/// Environment variables, for builds without `ProcessInfo` (Embedded Swift).
public enum Environment {
    public static func value(_ name: String) -> String? {
        name.withCString { cleave_getenv($0) }.map { String(cString: $0) }
    }
}
