import Testing
import DeviceTree
import GuestTree
import Platform

/// The timer a guest gets is its board's: the specifiers of the board's own
/// `arm,armv8-timer` node, trigger flags included; the fallback only when the
/// board has no usable one.
@Suite struct TimerInterruptsTests {
    func specifiers(_ ppis: [UInt32], _ flags: UInt32, pad: Int = 0) -> [[UInt32]] {
        ppis.map { [1, $0, flags] + Array(repeating: 0, count: pad) }
    }

    @Test func qemuVirtSaysLevelHigh() throws {
        #expect(TimerInterrupts.of(board: try boardTree("qemu-virt-gicv3.dtb")).specifiers
                == specifiers([13, 14, 11, 10], GICCells.levelHigh))
    }

    /// rk3399's GICv3 has 4 interrupt cells (the 4th a PPI partition) and
    /// its timer is level-low; i.MX 8M Quad's (3 cells) too, as sc7280's.
    @Test func rk3399AndIMX8MQSayLevelLow() throws {
        #expect(TimerInterrupts.of(board: try boardTree("rk3399-rockpro64.dtb")).specifiers
                == specifiers([13, 14, 11, 10], GICCells.levelLow, pad: 1))
        #expect(TimerInterrupts.of(board: try boardTree("imx8mq-evk.dtb")).specifiers
                == specifiers([13, 14, 11, 10], GICCells.levelLow))
    }

    /// GICv2 boards' specifiers carry a CPU mask for the board's CPUs; the
    /// guest's timer node names the guest's vCPUs instead.
    @Test func gicV2MaskIsTheGuests() throws {
        let qemu = TimerInterrupts.of(board: try boardTree("qemu-virt-gicv2.dtb"))
        #expect(qemu.specifiers == specifiers([13, 14, 11, 10], 0x304))
        #expect(GuestNode.timer(qemu, gic: .v2, vcpus: 1).value("interrupts")
                == encodeCells(specifiers([13, 14, 11, 10], 0x104).flatMap { $0 }))
        let rpi = TimerInterrupts.of(board: try boardTree("bcm2711-rpi-4-b.dtb"))
        #expect(rpi.specifiers == specifiers([13, 14, 11, 10], 0xf08))
        #expect(GuestNode.timer(rpi, gic: .v2, vcpus: 2).value("interrupts")
                == encodeCells(specifiers([13, 14, 11, 10], 0x308).flatMap { $0 }))
    }

    static let gic = """
        gic: interrupt-controller@8000000 {
            compatible = "arm,gic-v3"; interrupt-controller; #interrupt-cells = <3>;
            reg = <0x0 0x8000000 0x0 0x10000>, <0x0 0x80a0000 0x0 0xf60000>;
        };
        """

    func board(_ timers: String) throws -> DeviceTree {
        try tree("""
            /dts-v1/;
            / {
                #address-cells = <2>; #size-cells = <2>; interrupt-parent = <&gic>;
                \(TimerInterruptsTests.gic)
                \(timers)
            };
            """)
    }

    @Test func withoutAUsableTimerNodeTheFallback() throws {
        #expect(TimerInterrupts.of(board: try board("")) == .fallback)
        // Fewer than four GIC interrupts is not the architected timer's node.
        #expect(TimerInterrupts.of(board: try board("""
            timer { compatible = "arm,armv8-timer"; interrupts = <1 13 8>, <1 14 8>, <1 11 8>; };
            """)) == .fallback)
        #expect(TimerInterrupts.fallback.specifiers == specifiers([13, 14, 11, 10], GICCells.levelHigh))
    }

    /// Renesas R-Car boards name the GIC per entry (`interrupts-extended`),
    /// which wins over `interrupts` as in Linux; an entry for another
    /// controller makes the node unusable.
    @Test func interruptsExtended() throws {
        #expect(TimerInterrupts.of(board: try board("""
            timer { compatible = "arm,armv8-timer";
                    interrupts-extended = <&gic 1 13 0x3f08>, <&gic 1 14 0x3f08>, <&gic 1 11 0x3f08>, <&gic 1 10 0x3f08>;
                    interrupts = <1 13 4>, <1 14 4>, <1 11 4>, <1 10 4>; };
            """)).specifiers == specifiers([13, 14, 11, 10], 0x3f08))
        #expect(TimerInterrupts.of(board: try board("""
            intc: interrupt-controller@9000000 { compatible = "vendor,intc"; interrupt-controller; #interrupt-cells = <3>; };
            timer { compatible = "arm,armv8-timer";
                    interrupts-extended = <&gic 1 13 8>, <&gic 1 14 8>, <&gic 1 11 8>, <&intc 1 10 8>; };
            """)) == .fallback)
    }

    /// Marvell's AP806 puts the timer in a bus, not at the root.
    @Test func aNestedTimerIsFound() throws {
        #expect(TimerInterrupts.of(board: try board("""
            config-space@f0000000 { compatible = "simple-bus"; #address-cells = <1>; #size-cells = <1>; ranges;
                timer { compatible = "arm,armv8-timer"; interrupts = <1 13 8>, <1 14 8>, <1 11 8>, <1 10 8>; };
            };
            """)).specifiers == specifiers([13, 14, 11, 10], GICCells.levelLow))
    }

    @Test func aDisabledTimerIsPassedOver() throws {
        let timer = TimerInterrupts.of(board: try board("""
            timer-old { compatible = "arm,armv8-timer"; status = "disabled";
                        interrupts = <1 13 1>, <1 14 1>, <1 11 1>, <1 10 1>; };
            timer { compatible = "arm,armv8-timer"; interrupts = <1 13 8>, <1 14 8>, <1 11 8>, <1 10 8>, <1 12 8>; };
            """))
        // All the node's interrupts, the hypervisor virtual timer's too.
        #expect(timer.specifiers == specifiers([13, 14, 11, 10, 12], GICCells.levelLow))
    }
}
