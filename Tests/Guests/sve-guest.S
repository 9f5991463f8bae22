// cleave SVE guest: with SVE (ID_AA64PFR0_EL1.SVE != 0) it enables SVE and
// FP at EL1 (CPACR_EL1.ZEN, FPEN), asks for the longest vector length
// (ZCR_EL1.LEN = 0xf: the hypervisor's limit caps it, so the length it gets
// is the longest the supervisor configured), reads it with RDVL, and executes
// SVE instructions: UADDV over a vector of ones, which gives the length in
// bytes again. Prints both, and ZCR_EL1; powers off (status 0), or through
// pvpanic (status 4) when they disagree. Without SVE it says so and powers off.
// Loaded at RAM base + 0x80000 like the test guest.
// Registers: x19 dtb, x20 ram base, x21 uart, x25 pvpanic register,
// x22 ID_AA64PFR0_EL1.SVE, x23 RDVL, x24 ZCR_EL1, x26 UADDV.
    .arch armv8.2-a+sve
    .text
    .globl _start
_start:
    bl      guest_start

    mrs     x9, id_aa64pfr0_el1
    ubfx    x22, x9, #32, #4
    cbnz    x22, 1f
    adr     x0, s_none
    bl      uart_puts
    bl      psci_system_off
1:  mrs     x9, cpacr_el1
    orr     x9, x9, #(3 << 16)      // ZEN: no SVE traps at EL1/EL0
    orr     x9, x9, #(3 << 20)      // FPEN
    msr     cpacr_el1, x9
    isb
    mov     x9, #0xf
    msr     zcr_el1, x9
    isb
    rdvl    x23, #1                 // the vector length in bytes
    mrs     x24, zcr_el1
    ptrue   p0.b
    mov     z0.b, #1
    uaddv   d1, p0, z0.b
    fmov    x26, d1

    adr     x0, s_vl
    bl      uart_puts
    mov     x0, x23
    bl      uart_puthex
    adr     x0, s_uaddv
    bl      uart_puts
    mov     x0, x26
    bl      uart_puthex
    adr     x0, s_zcr
    bl      uart_puts
    mov     x0, x24
    bl      uart_puthex
    adr     x0, s_nl
    bl      uart_puts
    cmp     x23, x26
    b.ne    2f
    bl      psci_system_off
2:  adr     x0, s_bad
    bl      uart_puts
    mov     x0, x25
    movz    x1, #0x1000, lsl #16
    bl      guest_fail

    .ltorg
    .section .rodata
s_none:    .asciz "cleave-sve-guest: no SVE (ID_AA64PFR0_EL1.SVE 0)\n"
s_vl:      .asciz "cleave-sve-guest: vector length (rdvl) "
s_uaddv:   .asciz " bytes, uaddv of ones "
s_zcr:     .asciz ", zcr_el1 "
s_nl:      .asciz "\n"
s_bad:     .asciz "cleave-sve-guest: uaddv disagrees with rdvl\n"
