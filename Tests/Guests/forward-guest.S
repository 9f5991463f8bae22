// cleave forward guest: takes one SPI forwarded by cleave-forward (the host
// only drops its priority; this guest's EOI deactivates the physical
// interrupt). Run by Tests/Guests/forward-probe, which passes everything in
// registers (no tree):
//   x0 GIC version (2 or 3)      x1 GICD          x2 GICR RD_base (v3) / GICC (v2)
//   x3 PL031 base, or 0 when the host raises the SPI itself (edge or level)
//   x4 mark address (an MMIO exit to forward-probe)
//   x5 1: hold the last SPI forever instead of EOIing it
//   x6 INTID     x7 count     x8 1: configure the SPI edge-triggered
//   x9 0, or the benchmark's area in RAM (forward-probe bench): instead of a
//      RAISE mark, trigger n (1, 2, ...) stores n at [x9] and makes no exit
//      (the host raises the SPI from another thread); the counter read on
//      waking from WFI for interrupt n is stored at [x9 + 8 n], and the
//      number of interrupts acknowledged so far at [x9 + 0x808] (before
//      the EOI: the host's raiser reads it, forward-probe.c line_held)
// It configures the distributor and its CPU interface, then:
//   1. mark START; `count` times: trigger (PL031 alarm one second ahead, or
//      mark RAISE), wait (WFI, IRQs masked: the SPI is taken by reading IAR),
//      check the INTID, clear the PL031, EOI; mark END|n. With the PL031 the
//      phase makes no exit to userspace at all;
//   2. trigger once more, acknowledge and mark HELD with the SPI still active
//      (and the PL031 still asserting); with x5 = 1 spin here forever;
//   3. clear the PL031, EOI, mark EOIED, PSCI SYSTEM_OFF.
// A wrong INTID marks WRONG|intid and powers off.
// Registers: x19 version, x20 GICD, x21 GICR/GICC, x22 PL031, x23 mark,
// x24 hold, x25 INTID, x26 count, x27 edge, x28 interrupts taken,
// x17 benchmark area, x15 triggers so far.
    .equ mark_start, 0x1
    .equ mark_raise, 0x2
    .equ mark_held, 0x3
    .equ mark_eoied, 0x4
    .equ mark_end, 0x100            // | interrupts taken
    .equ mark_wrong, 0xe00          // | INTID read

    .text
    .globl _start
_start:
    mov     x19, x0
    mov     x20, x1
    mov     x21, x2
    mov     x22, x3
    mov     x23, x4
    mov     x24, x5
    mov     x25, x6
    mov     x26, x7
    mov     x27, x8
    mov     x28, #0
    mov     x17, x9
    msr     daifset, #0xf

    // Distributor: enabled first, as Linux does (KVM 6.1's vGIC queues an
    // SPI when it is enabled, not when the distributor is: an SPI enabled
    // under a disabled distributor while its line is already up, as a
    // forwarded level line left asserted by a killed guest is, would never
    // be delivered); then the SPI's group (1 on v3, 0 on v2), priority,
    // trigger, target (vCPU 0), enable.
    mov     w13, #0x12                  // v3 GICD_CTLR: ARE, EnableGrp1
    cmp     x19, #3
    b.eq    1f
    mov     w13, #1                     // v2 GICD_CTLR: EnableGrp0
1:  str     w13, [x20]
    lsr     w9, w25, #5
    lsl     w9, w9, #2                  // (INTID / 32) * 4
    and     w10, w25, #31
    mov     w11, #1
    lsl     w11, w11, w10               // the INTID's bit
    add     x12, x20, #0x080            // GICD_IGROUPR
    ldr     w13, [x12, x9]
    bic     w13, w13, w11
    cmp     x19, #3
    b.ne    1f
    orr     w13, w13, w11
1:  str     w13, [x12, x9]
    add     x12, x20, #0x400            // GICD_IPRIORITYR, a byte per INTID
    mov     w13, #0xa0
    strb    w13, [x12, x25]
    lsr     w9, w25, #4
    lsl     w9, w9, #2                  // (INTID / 16) * 4
    and     w10, w25, #15
    lsl     w10, w10, #1
    add     w10, w10, #1
    mov     w14, #1
    lsl     w14, w14, w10               // the INTID's edge bit
    add     x12, x20, #0xc00            // GICD_ICFGR
    ldr     w13, [x12, x9]
    bic     w13, w13, w14
    cbz     x27, 1f
    orr     w13, w13, w14
1:  str     w13, [x12, x9]
    cmp     x19, #3
    b.ne    gicv2
    add     x12, x20, #0x6000           // GICD_IROUTER, 8 bytes per INTID: affinity 0.0.0.0
    add     x12, x12, x25, lsl #3
    str     xzr, [x12]
    lsr     w9, w25, #5
    lsl     w9, w9, #2
    add     x12, x20, #0x100            // GICD_ISENABLER
    str     w11, [x12, x9]
    str     wzr, [x21, #0x14]           // GICR_WAKER: awake
    mrs     x13, s3_0_c12_c12_5         // ICC_SRE_EL1.SRE
    orr     x13, x13, #1
    msr     s3_0_c12_c12_5, x13
    isb
    mov     x13, #0xff
    msr     s3_0_c4_c6_0, x13           // ICC_PMR_EL1
    msr     s3_0_c12_c12_3, xzr         // ICC_BPR1_EL1
    msr     s3_0_c12_c12_4, xzr         // ICC_CTLR_EL1: EOImode 0, EOI deactivates
    mov     x13, #1
    msr     s3_0_c12_c12_7, x13         // ICC_IGRPEN1_EL1
    isb
    b       ready
gicv2:
    add     x12, x20, #0x800            // GICD_ITARGETSR, a byte per INTID
    mov     w13, #1                     // CPU interface 0
    strb    w13, [x12, x25]
    lsr     w9, w25, #5
    lsl     w9, w9, #2
    add     x12, x20, #0x100            // GICD_ISENABLER
    str     w11, [x12, x9]
    mov     w13, #0xff
    str     w13, [x21, #0x4]            // GICC_PMR
    mov     w13, #1
    str     w13, [x21]                  // GICC_CTLR: EnableGrp0, EOImode 0

ready:
    mov     w9, #mark_start
    str     w9, [x23]
    mov     x15, #0
phase:
    cmp     x15, x26
    b.hs    phase_done
    bl      trigger
    bl      wait_irq
    bl      clear_device
    bl      eoi
    add     x15, x15, #1
    b       phase
phase_done:
    mov     w9, #mark_end
    orr     w9, w9, w28
    str     w9, [x23]
    bl      trigger
    bl      wait_irq
    mov     w9, #mark_held
    str     w9, [x23]
    cbz     x24, 1f
    b       .                           // hold it: the host's teardown must deactivate it
1:  bl      clear_device
    bl      eoi
    mov     w9, #mark_eoied
    str     w9, [x23]
    movz    x0, #0x0008
    movk    x0, #0x8400, lsl #16        // PSCI_0_2_FN_SYSTEM_OFF
    hvc     #0
    b       .

// The PL031's alarm one second ahead (RTCMR = RTCDR + 1, RTCIMSC = 1), or
// without a PL031 a RAISE mark (forward-probe makes the SPI pending), or in
// the benchmark the trigger's number in its area.
trigger:
    cbz     x22, 1f
    ldr     w9, [x22]                   // RTCDR
    add     w9, w9, #1
    str     w9, [x22, #0x4]             // RTCMR
    mov     w9, #1
    str     w9, [x22, #0x10]            // RTCIMSC
    ret
1:  cbnz    x17, 2f
    mov     w9, #mark_raise
    str     w9, [x23]
    ret
2:  add     x9, x15, #1
    str     x9, [x17]
    ret

// Waits for and acknowledges one interrupt: w0 the IAR value. Spurious
// (1023) reads wait again; another INTID ends the run.
wait_irq:
1:  wfi
    mrs     x2, cntvct_el0              // the benchmark's end: first instruction after the wake
    cbz     x17, 4f
    add     x9, x15, #1
    str     x2, [x17, x9, lsl #3]       // a spurious wake is overwritten by the next one
4:  cmp     x19, #3
    b.ne    2f
    mrs     x0, s3_0_c12_c12_0          // ICC_IAR1_EL1
    and     w1, w0, #0xffffff
    b       3f
2:  ldr     w0, [x21, #0xc]             // GICC_IAR
    and     w1, w0, #0x3ff
3:  cmp     w1, #1023
    b.eq    1b
    cmp     w1, w25
    b.ne    wrong
    add     x28, x28, #1
    cbz     x17, 5f
    str     x28, [x17, #0x808]          // acknowledged, stored before the EOI can be
    dsb     sy
5:  ret
wrong:
    mov     w9, #mark_wrong
    orr     w9, w9, w1
    str     w9, [x23]
    movz    x0, #0x0008
    movk    x0, #0x8400, lsl #16
    hvc     #0
    b       .

clear_device:
    cbz     x22, 1f
    mov     w9, #1
    str     w9, [x22, #0x1c]            // RTCICR: the line drops
1:  ret

// EOImode 0: the EOI drops the priority and deactivates; the list register's
// HW bit passes the deactivation to the physical SPI.
eoi:
    cmp     x19, #3
    b.ne    1f
    msr     s3_0_c12_c12_1, x0          // ICC_EOIR1_EL1
    isb
    ret
1:  str     w0, [x21, #0x10]            // GICC_EOIR
    ret
