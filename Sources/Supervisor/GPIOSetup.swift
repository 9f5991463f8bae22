import GPIO
import KVM
import PartitionRecord
import Platform
import Syscalls

extension Supervisor {
    /// The guest's GPIO lines (issue 12), requested once for the
    /// supervisor's life: every line or none, named by chip and line when
    /// one is missing or taken, so the guest never starts half-configured.
    func prepareGPIO() throws(SupervisorError) -> GuestGPIO? {
        guard !config.gpioLines.isEmpty else { return nil }
        var lines: [GuestGPIOLine] = []
        for group in config.gpioLines {
            for offset in group.lines { lines.append(GuestGPIOLine(chip: group.chip, offset: offset, output: group.output)) }
        }
        let gpio: GuestGPIO
        do throws(GPIOError) {
            gpio = try GuestGPIO(guest: config.name, lines: lines, places: config.gpioControllers.map { ($0.base, $0.spi) })
        } catch {
            throw .configuration("gpio-lines: \(error)")
        }
        var first = 0
        for (k, c) in gpio.controllers.enumerated() {
            let served = lines[first..<(first + c.lineCount)].map { "\($0.chip):\($0.offset)/\($0.output ? "out" : "in")" }
            first += c.lineCount
            Log.write(.info, config.name, "gpio", "controller=\(k) base=\(hex(c.base)) intid=\(c.intid) lines=\(served.joined(separator: ","))")
        }
        if let e = gpio.start() { throw .system("starting the GPIO event thread", e) }
        return gpio
    }
}

extension GuestMachine {
    /// Puts `gpio`'s controllers on the bus, out of reset, their interrupts
    /// on this VM's SPIs.
    func attach(_ gpio: GuestGPIO, guest: String) throws(MMIOBus.Failure) {
        let vm = self.vm
        for c in gpio.controllers {
            try bus.register(base: c.base, size: VirtualGPIOPage.size, name: "virtual GPIO",
                             read: { address, _, _ in .value(UInt64(c.read(address))) },
                             write: { address, _, value, _ in c.write(address, UInt32(truncatingIfNeeded: value)); return .done })
            let intid = c.intid
            c.attach({ level in
                do throws(KVMError) { try vm.setSPI(intid: intid, level: level) } catch {
                    Log.write(.warning, guest, "gpio-irq", "error=\"\(error)\"")
                }
            }, driveFailed: { line, error in
                // The guest's write is done as far as it can tell; the host line kept its level.
                Log.write(.error, guest, "gpio-drive-failed", "line=\"\(line.name)\" error=\"\(error)\" (reported once per line and boot)")
            })
        }
    }
}
