import CLinux
import Platform
import Syscalls

/// One guest line: which host line backs it.
public struct GuestGPIOLine: Equatable {
    /// The controller's node in the board tree.
    public var chip: String
    public var offset: UInt32
    public var output: Bool
    public init(chip: String, offset: UInt32, output: Bool) {
        self.chip = chip
        self.offset = offset
        self.output = output
    }
}

/// One virtual PL061 of a guest: its page and SPI, its register model, and
/// the host lines behind its eight lines. The model is shared by the vCPU
/// threads (MMIO exits) and the event thread (host edges), so it sits behind
/// a lock; the interrupt output goes to the guest's SPI as a level, set
/// whenever it changes.
public final class VirtualGPIOController {
    public let base: UInt64
    public let intid: UInt32
    let lines: [HostGPIOLine]
    private var model: PL061
    private let lock = Lock()
    private var setLine: ((Bool) -> Void)? = nil
    /// Told of the first drive of each line the host kernel refuses in a boot.
    private var driveFailed: ((HostGPIOLine, Errno) -> Void)? = nil
    private var failedLines: UInt8 = 0
    private var line = false
    private var events: HostEdgeEvents

    init(base: UInt64, intid: UInt32, lines: [HostGPIOLine]) {
        self.base = base
        self.intid = intid
        self.lines = lines
        model = VirtualGPIOController.resetModel(lines)
        events = HostEdgeEvents(levels: model.pads)
    }

    /// The model out of reset, its pads the host lines' levels now.
    static func resetModel(_ lines: [HostGPIOLine]) -> PL061 {
        var present: UInt8 = 0, outputs: UInt8 = 0, pads: UInt8 = 0
        for (i, l) in lines.enumerated() {
            present |= 1 << UInt8(i)
            if l.output { outputs |= 1 << UInt8(i) }
            if l.level() == true { pads |= 1 << UInt8(i) }
        }
        return PL061(present: present, outputs: outputs, pads: pads)
    }

    /// A new boot: the controller out of reset, its interrupt on `setLine`,
    /// the first refused drive of each line reported to `driveFailed`.
    public func attach(_ setLine: @escaping (Bool) -> Void, driveFailed: @escaping (HostGPIOLine, Errno) -> Void) {
        lock.withLock {
            model = VirtualGPIOController.resetModel(lines)
            events = HostEdgeEvents(levels: model.pads)
            self.setLine = setLine
            self.driveFailed = driveFailed
            failedLines = 0
            line = false
        }
    }

    public func detach() { lock.withLock { setLine = nil; driveFailed = nil } }

    public var lineCount: Int { lines.count }

    public func read(_ address: UInt64) -> UInt32 {
        let offset = address - base
        return lock.withLock {
            // An input's level as the host has it now, so a read never waits
            // for the event thread.
            if offset < PL061.Register.dataEnd { refreshInputs(PL061.dataMask(offset)) }
            return model.read(offset)
        }
    }

    public func write(_ address: UInt64, _ value: UInt32) {
        lock.withLock {
            let before = model.driven
            let changed = model.write(address - base, value)
            // Lines that just became outputs drive their level, and outputs that changed.
            let drive = changed | (model.driven & ~before)
            for i in 0..<lines.count where drive & (1 << UInt8(i)) != 0 {
                guard let e = lines[i].drive(model.pads & (1 << UInt8(i)) != 0), failedLines & (1 << UInt8(i)) == 0 else { continue }
                failedLines |= 1 << UInt8(i)
                driveFailed?(lines[i], e)
            }
            updateLine()
        }
    }

    /// An edge on input line `index` (its event fd was readable); a pulse
    /// the kernel folded into one event is replayed as both edges (HostEdgeEvents).
    func hostEvent(_ index: Int) {
        guard let rising = lines[index].readEvent() else { return }
        let bit: UInt8 = 1 << UInt8(index)
        lock.withLock {
            for level in events.replay(line: index, rising: rising) { model.hostLevels(level ? bit : 0, lines: bit) }
            updateLine()
        }
    }

    private func refreshInputs(_ mask: UInt8) {
        var levels: UInt8 = 0, read: UInt8 = 0
        for (i, l) in lines.enumerated() where mask & (1 << UInt8(i)) != 0 && !l.output {
            if let level = l.level() {
                read |= 1 << UInt8(i)
                if level { levels |= 1 << UInt8(i) }
            }
        }
        model.hostLevels(levels, lines: read)
        updateLine()
    }

    private func updateLine() {
        let up = model.interrupt
        guard up != line, let setLine else { return }
        line = up
        setLine(up)
    }
}

/// A guest's virtual GPIO: its host lines, requested once for the
/// supervisor's life with the guest's name as consumer (so the host cannot
/// take them while it runs, and gpioinfo names the guest), and a virtual
/// PL061 per eight of them. A thread waits on the input lines' events and
/// feeds them to their controllers. Everything is released when the owner
/// lets it go; the kernel releases the requests of a killed process.
public final class GuestGPIO {
    public let controllers: [VirtualGPIOController]
    private let inputs: [(controller: VirtualGPIOController, index: Int, fd: Int32)]
    private var thread: Thread? = nil
    private var stopping = false
    private let lock = Lock()

    /// Requests every line (`lines`, guest line i on controller i / 8 at
    /// `places[i / 8]`). Either every line is had or none is: a chip or
    /// line that is missing or taken throws, releasing what was requested.
    public init(guest: String, lines: [GuestGPIOLine], places: [(base: UInt64, spi: UInt32)]) throws(GPIOError) {
        let needed = VirtualGPIOPage.controllers(forLines: lines.count)
        guard places.count >= needed else {
            throw GPIOError("guest \(guest): \(lines.count) GPIO lines need \(needed) virtual controllers, the record places \(places.count)")
        }
        var chips = HostGPIOChips()
        var requested: [HostGPIOLine] = []
        for line in lines {
            requested.append(try chips.chip(line.chip).request(offset: line.offset, output: line.output, consumer: guest))
        }
        var controllers: [VirtualGPIOController] = []
        var inputs: [(controller: VirtualGPIOController, index: Int, fd: Int32)] = []
        var start = 0
        for place in places where start < requested.count {
            let end = min(start + VirtualGPIOPage.linesPerController, requested.count)
            let c = VirtualGPIOController(base: place.base, intid: place.spi + GICCells.firstSPI, lines: Array(requested[start..<end]))
            for (i, l) in c.lines.enumerated() where !l.output { inputs.append((c, i, l.eventFD)) }
            controllers.append(c)
            start = end
        }
        self.controllers = controllers
        self.inputs = inputs
    }

    /// Starts the event thread (once): host edges reach the controllers.
    public func start() -> Errno? {
        guard thread == nil, !inputs.isEmpty else { return nil }
        switch Thread.start({ [self] in self.run() }) {
        case .success(let t): thread = t; return nil
        case .failure(let e): return e
        }
    }

    /// Stops and joins the event thread.
    public func stop() {
        lock.withLock { stopping = true }
        thread?.join()
        thread = nil
    }

    private func run() {
        let fds = inputs.map { $0.fd }
        var ready = [UInt8](repeating: 0, count: fds.count)
        while !lock.withLock({ stopping }) {
            let n = fds.withUnsafeBufferPointer { f in
                ready.withUnsafeMutableBufferPointer { r in cleave_poll_inputs(f.baseAddress, Int32(f.count), 100, r.baseAddress) }
            }
            guard n > 0 else { continue }
            for (i, input) in inputs.enumerated() where ready[i] != 0 { input.controller.hostEvent(input.index) }
        }
    }
}
