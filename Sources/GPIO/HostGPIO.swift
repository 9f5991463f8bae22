import CGPIO
import CLinux
import Syscalls

/// Why a host GPIO chip or line could not be had, naming both.
public struct GPIOError: Error, CustomStringConvertible {
    public let description: String
    public init(_ description: String) { self.description = description }
}

/// A host GPIO chip opened through libgpiod (its character device). The
/// owner of every line request on it: each `HostGPIOLine` holds its chip, so
/// the chip closes after its last line is released; the kernel frees the
/// requests of a process that dies (SIGKILL included).
public final class HostGPIOChip {
    let chip: OpaquePointer
    /// /dev/gpiochipN.
    public let device: String
    /// The board tree's node of the controller.
    public let treePath: String
    public let label: String
    public let lineCount: UInt32

    /// Opens the chip whose controller is the board tree's node `treePath`.
    public init(treePath: String) throws(GPIOError) {
        guard let device = HostGPIOChip.device(treePath: treePath) else {
            let chips = Sysfs.list("/sys/bus/gpio/devices").filter { $0.hasPrefix("gpiochip") }
            throw GPIOError("GPIO chip \(treePath): no host GPIO chip has that device tree node (\(chips.isEmpty ? "no GPIO chips at all" : "chips: " + chips.map { "\($0) (\(HostGPIOChip.node(of: $0) ?? "no node"))" }.joined(separator: ", "))); is its driver loaded, and was the plan carved for this board?")
        }
        var error: Int32 = 0
        guard let chip = device.withCString({ cleave_gpiod_chip_open($0, &error) }) else {
            throw GPIOError("GPIO chip \(treePath): cannot open \(device): \(Errno(error))")
        }
        self.chip = chip
        self.device = device
        self.treePath = treePath
        label = String(cString: gpiod_chip_label(chip))
        lineCount = gpiod_chip_num_lines(chip)
    }

    deinit { gpiod_chip_close(chip) }

    /// Requests line `offset` with `consumer` as its owner (what gpioinfo
    /// shows): an output driven to `level`, or an input that reports both
    /// edges (its event fd).
    public func request(offset: UInt32, output: Bool, level: Bool = false, consumer: String) throws(GPIOError) -> HostGPIOLine {
        let name = "line \(offset) of GPIO chip \(treePath) (\(device), \"\(label)\")"
        guard offset < lineCount else { throw GPIOError("\(name): the chip has \(lineCount) lines (0-\(lineCount &- 1))") }
        var error: Int32 = 0
        guard let line = consumer.withCString({ cleave_gpiod_request(chip, offset, $0, output ? 1 : 0, level ? 1 : 0, &error) }) else {
            // Who holds it, when someone does (what gpioinfo shows).
            let holder = gpiod_chip_get_line(chip, offset).flatMap { gpiod_line_consumer($0) }.map { String(cString: $0) }
            throw GPIOError("\(name): cannot request it (\(Errno(error)))" + (holder.map { ", the host has it as \"\($0)\"" } ?? ""))
        }
        return HostGPIOLine(chip: self, line: line, offset: offset, output: output)
    }

    /// The character device of the chip whose node (its own or its parent
    /// device's, as gpiolib takes it) is `treePath`.
    static func device(treePath: String) -> String? {
        for name in Sysfs.list("/sys/bus/gpio/devices") where name.hasPrefix("gpiochip") {
            if node(of: name) == treePath { return "/dev/" + name }
        }
        return nil
    }

    /// The tree path of gpiochipN's node, from its `of_node` link
    /// (/sys/firmware/devicetree/base/<path>).
    static func node(of chip: String) -> String? {
        let base = "/sys/firmware/devicetree/base"
        for link in ["/sys/bus/gpio/devices/\(chip)/of_node", "/sys/bus/gpio/devices/\(chip)/device/of_node"] {
            if let target = Sysfs.realpath(link), target.hasPrefix(base) {
                let path = String(target.dropFirst(base.count))
                return path.isEmpty ? "/" : path
            }
        }
        return nil
    }
}

/// The chips a set of line requests opened, each opened once (by its tree
/// node) and kept while any of its lines is.
public struct HostGPIOChips {
    private var chips: [HostGPIOChip] = []

    public init() {}

    /// The chip of node `treePath`, opened at its first use.
    public mutating func chip(_ treePath: String) throws(GPIOError) -> HostGPIOChip {
        if let c = chips.first(where: { $0.treePath == treePath }) { return c }
        let chip = try HostGPIOChip(treePath: treePath)
        chips.append(chip)
        return chip
    }
}

/// One requested host line; released when its owner lets it go.
public final class HostGPIOLine {
    let chip: HostGPIOChip
    let line: OpaquePointer
    public let offset: UInt32
    public let output: Bool

    init(chip: HostGPIOChip, line: OpaquePointer, offset: UInt32, output: Bool) {
        self.chip = chip
        self.line = line
        self.offset = offset
        self.output = output
    }

    deinit { gpiod_line_release(line) }

    /// The line's level (an output's driven one); nil when the read fails.
    public func level() -> Bool? {
        let v = gpiod_line_get_value(line)
        return v < 0 ? nil : v != 0
    }

    /// Drives an output line; nil, or why the kernel refused.
    public func drive(_ level: Bool) -> Errno? {
        let r = cleave_gpiod_set_value(line, level ? 1 : 0)
        return r < 0 ? Errno(-r) : nil
    }

    /// "line N of /path (/dev/gpiochipM)", for messages.
    public var name: String { "line \(offset) of \(chip.treePath) (\(chip.device))" }

    /// An input line's event fd (poll it for POLLIN).
    public var eventFD: Int32 { output ? -1 : gpiod_line_event_get_fd(line) }

    /// Reads one pending event: true for a rising edge, false for falling.
    public func readEvent() -> Bool? {
        let e = cleave_gpiod_read_event(line)
        return e == 1 ? true : e == 2 ? false : nil
    }
}
