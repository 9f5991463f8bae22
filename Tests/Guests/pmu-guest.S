// cleave PMU guest: proves the vCPU's PMUv3 and the tree's PMU node.
// At entry, before touching the PMU, it prints ID_AA64DFR0_EL1.PMUVer and
// the PMU state a boot can leave behind: event counter 0, the overflow flags
// and the counter enables (a new vCPU each boot: the same line on every boot
// of a `--restart always` run, although each boot leaves counter 0 at
// 0x1234abcd, counting, with its overflow flag set). Then, with a PMU:
//   1. the tree's `pmu` node gives the overflow interrupt (a PPI);
//   2. the cycle counter (PMCCNTR_EL0) advances over a loop;
//   3. event counter 0, counting SW_INCR from 0xffffffff, overflows on one
//      PMSWINC_EL0 write: the PPI is taken (IRQs masked, the GIC's IAR polled
//      for up to a second) and PMOVSSET_EL0 bit 0 is set;
//   4. the cycle counter, set 0x100000 cycles before its 64-bit overflow,
//      overflows: the PPI again, PMOVSSET_EL0 bit 31;
// prints "ok" and powers off (status 0). Without a PMU (PMUVer 0) and without
// a `pmu` node it says "no PMU" and powers off. A step that fails, or a PMU
// the tree does not describe (or the reverse), ends through pvpanic (status 4).
// Loaded at RAM base + 0x80000 like the test guest.
// Registers: x19 dtb, x20 ram base, x21 uart, x25 pvpanic register,
// x22 PMUVer, x24 GICD, x26 GICR RD_base (v3) / GICC (v2), x27 1: GICv3,
// x28 the PMU's INTID, x23 the IAR value taken.
    .text
    .globl _start
_start:
    bl      guest_start

    mrs     x9, id_aa64dfr0_el1
    ubfx    x22, x9, #8, #4         // PMUVer: 0 none, 0xf IMPLEMENTATION DEFINED
    cmp     x22, #0xf
    csel    x22, xzr, x22, eq
    adr     x0, s_entry
    bl      uart_puts
    mov     x0, x22
    bl      uart_puthex
    cbz     x22, 1f
    adr     x0, s_pmevcntr0
    bl      uart_puts
    mrs     x0, pmevcntr0_el0
    bl      uart_puthex
    adr     x0, s_pmovsset
    bl      uart_puts
    mrs     x0, pmovsset_el0
    bl      uart_puthex
    adr     x0, s_pmcntenset
    bl      uart_puts
    mrs     x0, pmcntenset_el0
    bl      uart_puthex
1:  adr     x0, s_nl
    bl      uart_puts

    mov     x0, x19
    adr     x1, n_pmu
    adr     x2, p_interrupts
    bl      fdt_node_prop
    cbz     x0, no_node
    cmp     x2, #12
    b.lo    disagree
    ldr     w9, [x1]
    rev     w9, w9
    cmp     w9, #1                  // GIC_PPI
    b.ne    disagree
    ldr     w9, [x1, #4]
    rev     w9, w9
    add     x28, x9, #16            // PPI n is INTID 16 + n
    cbz     x22, disagree
    adr     x0, s_node
    bl      uart_puts
    mov     x0, x28
    bl      uart_puthex
    adr     x0, s_nl
    bl      uart_puts
    b       cycles
no_node:
    cbnz    x22, disagree
    adr     x0, s_absent
    bl      uart_puts
    bl      psci_system_off
disagree:
    adr     x0, s_disagree
    b       fail

cycles:
    mov     x9, #0x45               // PMCR_EL0: E, C (cycle counter to 0), LC (64-bit overflow)
    msr     pmcr_el0, x9
    mov     x9, #0x80000000         // the cycle counter's bit
    msr     pmcntenset_el0, x9
    isb
    mrs     x23, pmccntr_el0
    ldr     x9, =100000
1:  subs    x9, x9, #1
    b.ne    1b
    isb
    mrs     x24, pmccntr_el0
    adr     x0, s_cycles
    bl      uart_puts
    mov     x0, x23
    bl      uart_puthex
    adr     x0, s_arrow
    bl      uart_puts
    mov     x0, x24
    bl      uart_puthex
    adr     x0, s_nl
    bl      uart_puts
    cmp     x24, x23
    b.hi    gic
    adr     x0, s_still
    b       fail

    // The GIC: GICD and the second window from the node's reg, the version
    // from its compatible ("arm,gic-v3"); the PPI in group 1 (v3) or 0 (v2),
    // priority 0xa0, enabled; the CPU interface on.
gic:
    mov     x0, x19
    adr     x1, n_gic
    adr     x2, p_reg
    bl      fdt_node_prop
    cmp     x2, #32
    b.lo    no_gic
    ldr     w9, [x1]
    rev     w9, w9
    ldr     w10, [x1, #4]
    rev     w10, w10
    orr     x24, x10, x9, lsl #32
    ldr     w9, [x1, #16]
    rev     w9, w9
    ldr     w10, [x1, #20]
    rev     w10, w10
    orr     x26, x10, x9, lsl #32
    mov     x0, x19
    adr     x1, n_gic
    adr     x2, p_compatible
    bl      fdt_node_prop
    cbz     x0, no_gic
    mov     x27, #0
    ldrb    w9, [x1, #8]            // "arm,gic-v3": 'v' and '3' at 8 and 9
    ldrb    w10, [x1, #9]
    mov     w12, #'3'
    cmp     w9, #'v'
    ccmp    w10, w12, #0, eq
    cinc    x27, x27, eq
    mov     w11, #1
    lsl     w11, w11, w28           // the PPI's bit (INTID < 32)
    cbz     x27, gicv2
    mov     w9, #0x12               // GICD_CTLR: ARE, EnableGrp1
    str     w9, [x24]
    str     wzr, [x26, #0x14]       // GICR_WAKER: awake
    add     x12, x26, #0x10000      // SGI_base
    ldr     w9, [x12, #0x80]        // GICR_IGROUPR0
    orr     w9, w9, w11
    str     w9, [x12, #0x80]
    add     x13, x12, #0x400        // GICR_IPRIORITYR, a byte per INTID
    mov     w9, #0xa0
    strb    w9, [x13, x28]
    str     w11, [x12, #0x100]      // GICR_ISENABLER0
    mrs     x9, s3_0_c12_c12_5      // ICC_SRE_EL1.SRE
    orr     x9, x9, #1
    msr     s3_0_c12_c12_5, x9
    isb
    mov     x9, #0xff
    msr     s3_0_c4_c6_0, x9        // ICC_PMR_EL1
    msr     s3_0_c12_c12_3, xzr     // ICC_BPR1_EL1
    msr     s3_0_c12_c12_4, xzr     // ICC_CTLR_EL1: EOImode 0
    mov     x9, #1
    msr     s3_0_c12_c12_7, x9      // ICC_IGRPEN1_EL1
    isb
    b       swinc
gicv2:
    mov     w9, #1
    str     w9, [x24]               // GICD_CTLR: EnableGrp0
    add     x13, x24, #0x400        // GICD_IPRIORITYR
    mov     w9, #0xa0
    strb    w9, [x13, x28]
    str     w11, [x24, #0x100]      // GICD_ISENABLER0 (banked: this CPU's PPIs)
    mov     w9, #0xff
    str     w9, [x26, #0x4]         // GICC_PMR
    mov     w9, #1
    str     w9, [x26]               // GICC_CTLR: EnableGrp0, EOImode 0

swinc:
    msr     pmevtyper0_el0, xzr     // event 0x00, SW_INCR
    mov     w9, #-1
    msr     pmevcntr0_el0, x9       // 0xffffffff: one increment overflows
    mov     x9, #1
    msr     pmintenset_el1, x9
    msr     pmcntenset_el0, x9
    isb
    msr     pmswinc_el0, x9
    isb
    bl      wait_irq
    mov     x23, x0
    adr     x0, s_swinc
    bl      taken
    mrs     x9, pmovsset_el0
    tbz     x9, #0, no_flag
    mov     x9, #1
    msr     pmovsclr_el0, x9
    msr     pmintenclr_el1, x9
    msr     pmcntenclr_el0, x9
    isb
    bl      eoi

    mov     x9, #0x80000000
    msr     pmcntenclr_el0, x9
    ldr     x10, =0xfffffffffff00000 // 0x100000 cycles before the 64-bit overflow
    msr     pmccntr_el0, x10
    msr     pmintenset_el1, x9
    msr     pmcntenset_el0, x9
    isb
    bl      wait_irq
    mov     x23, x0
    adr     x0, s_cycle_overflow
    bl      taken
    mrs     x9, pmovsset_el0
    tbz     x9, #31, no_flag
    mov     x9, #0x80000000
    msr     pmovsclr_el0, x9
    msr     pmintenclr_el1, x9
    isb
    bl      eoi

    // State for the next boot to not inherit: counter 0 at 0x1234abcd,
    // counting, its overflow flag set.
    ldr     x9, =0x1234abcd
    msr     pmevcntr0_el0, x9
    mov     x9, #1
    msr     pmcntenset_el0, x9
    msr     pmovsset_el0, x9
    isb
    adr     x0, s_ok
    bl      uart_puts
    bl      psci_system_off

no_gic:
    adr     x0, s_no_gic
    b       fail
no_flag:
    adr     x0, s_no_flag
fail:
    bl      uart_puts
    mov     x0, x25
    movz    x1, #0x1000, lsl #16
    bl      guest_fail

// taken: x0 = what was taken; prints it with the INTID in x23 and fails
// unless the INTID is the PMU's.
taken:
    stp     x29, x30, [sp, #-16]!
    bl      uart_puts
    and     x0, x23, #0x3ff
    cbz     x27, 1f
    and     x0, x23, #0xffffff
1:  bl      uart_puthex
    adr     x0, s_nl
    bl      uart_puts
    ldp     x29, x30, [sp], #16
    and     x9, x23, #0x3ff
    cbz     x27, 2f
    and     x9, x23, #0xffffff
2:  cmp     x9, x28
    b.ne    1f
    ret
1:  adr     x0, s_wrong
    b       fail

// wait_irq: polls the IAR (IRQs stay masked) for up to a second of the
// virtual counter; x0 = the IAR value (1023, spurious, on a timeout).
wait_irq:
    mrs     x12, cntfrq_el0
    mrs     x13, cntvct_el0
    add     x13, x13, x12
1:  cbz     x27, 2f
    mrs     x0, s3_0_c12_c12_0      // ICC_IAR1_EL1
    and     w1, w0, #0xffffff
    b       3f
2:  ldr     w0, [x26, #0xc]         // GICC_IAR
    and     w1, w0, #0x3ff
3:  cmp     w1, #1023
    b.ne    4f
    mrs     x14, cntvct_el0
    cmp     x14, x13
    b.lo    1b
4:  ret

// eoi: x23 = the IAR value (EOImode 0: drops the priority and deactivates).
eoi:
    cbz     x27, 1f
    msr     s3_0_c12_c12_1, x23     // ICC_EOIR1_EL1
    isb
    ret
1:  str     w23, [x26, #0x10]       // GICC_EOIR
    ret

    .ltorg
    .section .rodata
n_pmu:     .asciz "pmu"
n_gic:     .asciz "interrupt-controller"
p_interrupts: .asciz "interrupts"
p_reg:     .asciz "reg"
p_compatible: .asciz "compatible"
s_entry:   .asciz "cleave-pmu-guest: at entry pmuver "
s_pmevcntr0: .asciz " pmevcntr0 "
s_pmovsset: .asciz " pmovsset "
s_pmcntenset: .asciz " pmcntenset "
s_nl:      .asciz "\n"
s_node:    .asciz "cleave-pmu-guest: pmu node INTID "
s_absent:  .asciz "cleave-pmu-guest: no PMU (PMUVer 0, no pmu node)\n"
s_disagree: .asciz "cleave-pmu-guest: the PMU and the tree's pmu node disagree\n"
s_cycles:  .asciz "cleave-pmu-guest: cycles "
s_arrow:   .asciz " -> "
s_still:   .asciz "cleave-pmu-guest: the cycle counter did not advance\n"
s_swinc:   .asciz "cleave-pmu-guest: SW_INCR overflow interrupt INTID "
s_cycle_overflow: .asciz "cleave-pmu-guest: cycle counter overflow interrupt INTID "
s_wrong:   .asciz "cleave-pmu-guest: not the PMU's interrupt (0x3ff: none within a second)\n"
s_no_flag: .asciz "cleave-pmu-guest: the overflow flag is not set\n"
s_no_gic:  .asciz "cleave-pmu-guest: no GIC node\n"
s_ok:      .asciz "cleave-pmu-guest: ok\n"
