import CLinux

/// Monotonic and boot-time clocks, in nanoseconds.
public enum Clock {
    public static var monotonic: UInt64 { cleave_monotonic_ns() }
    /// CLOCK_BOOTTIME: lets a process measure from before it existed.
    public static var boottime: UInt64 { cleave_boottime_ns() }
    public static func sleep(nanoseconds: UInt64) { cleave_sleep_ns(nanoseconds) }
}

/// Formats `value` as 0x-prefixed hexadecimal.
public func hex<T: BinaryInteger>(_ value: T) -> String { "0x" + String(value, radix: 16) }
