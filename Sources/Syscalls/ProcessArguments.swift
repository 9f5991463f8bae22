import CLinux

/// argv, for builds without `CommandLine` (Embedded Swift).
public enum ProcessArguments {
    public static var all: [String] {
        (0..<Int(cleave_argc())).map { String(cString: cleave_argv(Int32($0))!) }
    }
}
