// cleave pointer-authentication guest: prints the pointer-authentication
// fields of ID_AA64ISAR1_EL1 (APA 7:4, API 11:8, GPA 27:24, GPI 31:28) as
// the supervisor logs them. Without any (KVM hides all four from a vCPU
// without pointer authentication) it says so and powers off (status 0)
// having run no PAC instruction: they would be UNDEFINED. With them it sets
// TCR_EL1 (48-bit VAs, no top-byte ignore: the PAC goes in bits 63:56 and
// 54:48), the APIA and APGA keys and SCTLR_EL1.EnIA, then:
//   1. PACIA signs a pointer into this image with modifier 0x1234: the
//      result must differ from the pointer;
//   2. AUTIA with the same modifier must give the pointer back;
//   3. AUTIA with modifier 0x5678 must fail: a corrupted pointer (not the
//      original), or with FEAT_FPAC (field value 4 or more) a PAC fail
//      exception (ESR_EL1.EC 0x1c) instead, which the vector table catches;
//   4. PACGA of the pointer must be non-zero;
// prints each result and "ok", and powers off (status 0). A check that
// fails, only one of address and generic authentication, or any other
// exception ends through pvpanic (status 4).
// Loaded at RAM base + 0x80000 like the test guest.
// Registers: x19 dtb, x20 ram base, x21 uart, x25 pvpanic register,
// x22 the address feature level (APA | API), x23 GPA | GPI, x24 where an
// expected exception resumes (0: none expected), x26 ESR_EL1 of the last
// exception (0: none), x27 the pointer, x28 ID_AA64ISAR1_EL1, then the
// signed pointer.
    .arch armv8.3-a
    .text
    .globl _start
_start:
    bl      guest_start
    mov     x24, #0
    mov     x26, #0
    adr     x9, vectors
    msr     vbar_el1, x9
    isb

    mrs     x28, id_aa64isar1_el1
    adr     x0, s_apa
    mov     x1, #4
    bl      put_field
    adr     x0, s_api
    mov     x1, #8
    bl      put_field
    adr     x0, s_gpa
    mov     x1, #24
    bl      put_field
    adr     x0, s_gpi
    mov     x1, #28
    bl      put_field
    adr     x0, s_nl
    bl      uart_puts
    ubfx    x22, x28, #4, #4
    ubfx    x9, x28, #8, #4
    orr     x22, x22, x9
    ubfx    x23, x28, #24, #4
    ubfx    x9, x28, #28, #4
    orr     x23, x23, x9
    cbnz    x22, 1f
    cbnz    x23, half
    adr     x0, s_none
    bl      uart_puts
    bl      psci_system_off
1:  cbz     x23, half

    mov     x9, #16                 // TCR_EL1.T0SZ: 48-bit VAs below
    orr     x9, x9, #(16 << 16)     // T1SZ: and above; TBI0/TBI1 0
    msr     tcr_el1, x9
    ldr     x9, =0x0123456789abcdef
    msr     apiakeylo_el1, x9
    ldr     x9, =0xfedcba9876543210
    msr     apiakeyhi_el1, x9
    ldr     x9, =0x0f1e2d3c4b5a6978
    msr     apgakeylo_el1, x9
    ldr     x9, =0x8796a5b4c3d2e1f0
    msr     apgakeyhi_el1, x9
    mrs     x9, sctlr_el1
    orr     x9, x9, #(1 << 31)      // EnIA: PACIA and AUTIA use the APIA key
    msr     sctlr_el1, x9
    isb

    // 1. Sign.
    adr     x27, pointer
    mov     x28, x27
    mov     x9, #0x1234
    pacia   x28, x9
    adr     x0, s_pacia
    bl      uart_puts
    mov     x0, x27
    bl      uart_puthex
    adr     x0, s_arrow
    bl      uart_puts
    mov     x0, x28
    bl      uart_puthex
    adr     x0, s_nl
    bl      uart_puts
    cmp     x28, x27
    b.ne    2f
    adr     x0, s_unsigned
    b       fail

    // 2. Authenticate with the same modifier.
2:  mov     x0, x28
    mov     x9, #0x1234
    autia   x0, x9
    str     x0, [sp, #-16]!
    adr     x0, s_autia
    bl      uart_puts
    ldr     x0, [sp]
    bl      uart_puthex
    adr     x0, s_nl
    bl      uart_puts
    ldr     x0, [sp], #16
    cmp     x0, x27
    b.eq    3f
    adr     x0, s_not_back
    b       fail

    // 3. Authenticate with another modifier: a corrupted pointer, or a PAC
    // fail exception (FEAT_FPAC) that resumes at 4f.
3:  adr     x24, 4f
    mov     x0, x28
    mov     x9, #0x5678
    autia   x0, x9
4:  mov     x24, #0
    cbnz    x26, fpac
    mov     x28, x0
    adr     x0, s_wrong
    bl      uart_puts
    mov     x0, x28
    bl      uart_puthex
    adr     x0, s_corrupted
    bl      uart_puts
    cmp     x28, x27
    b.ne    1f
    adr     x0, s_accepted
    b       fail
1:  cmp     x22, #4
    b.lo    generic
    adr     x0, s_no_fpac
    b       fail
fpac:
    adr     x0, s_wrong_fpac
    bl      uart_puts
    mov     x0, x26
    bl      uart_puthex
    adr     x0, s_nl
    bl      uart_puts
    lsr     x9, x26, #26            // ESR_EL1.EC
    cmp     x9, #0x1c               // PAC fail (FEAT_FPAC)
    b.ne    unexpected
    cmp     x22, #4
    b.hs    generic
    adr     x0, s_fpac_unsaid
    b       fail

    // 4. Generic authentication.
generic:
    mov     x9, #0x1234
    pacga   x28, x27, x9
    adr     x0, s_pacga
    bl      uart_puts
    mov     x0, x28
    bl      uart_puthex
    adr     x0, s_nl
    bl      uart_puts
    cbnz    x28, 1f
    adr     x0, s_pacga_zero
    b       fail
1:  adr     x0, s_ok
    bl      uart_puts
    bl      psci_system_off

half:
    adr     x0, s_half
fail:
    bl      uart_puts
    mov     x0, x25
    movz    x1, #0x1000, lsl #16
    bl      guest_fail

// An exception: resumes at x24 when one is expected (ESR_EL1 in x26), else
// reports ESR_EL1 and ELR_EL1 and fails.
exception:
    mrs     x26, esr_el1
    cbz     x24, unexpected
    msr     elr_el1, x24
    eret
unexpected:
    adr     x0, s_exception
    bl      uart_puts
    mov     x0, x26
    bl      uart_puthex
    adr     x0, s_elr
    bl      uart_puts
    mrs     x0, elr_el1
    bl      uart_puthex
    adr     x0, s_nl
    b       fail

// put_field: x0 = its name (" api="), x1 = its shift in ID_AA64ISAR1_EL1 (x28);
// prints the name and the field's 4 bits.
put_field:
    stp     x29, x30, [sp, #-16]!
    lsr     x29, x28, x1
    and     x29, x29, #0xf
    bl      uart_puts
    mov     x0, x29
    bl      uart_puthex
    ldp     x29, x30, [sp], #16
    ret

pointer:
    nop

    // VBAR_EL1: 16 entries of 0x80 bytes, 2 KiB aligned (the image is loaded
    // 2 KiB aligned); every one goes to `exception`.
    .balign 2048
vectors:
    .rept 16
    b       exception
    .balign 128
    .endr

    .ltorg
    .section .rodata
s_apa:     .asciz "cleave-pauth-guest: id_aa64isar1_el1 apa="
s_api:     .asciz " api="
s_gpa:     .asciz " gpa="
s_gpi:     .asciz " gpi="
s_nl:      .asciz "\n"
s_none:    .asciz "cleave-pauth-guest: no pointer authentication\n"
s_half:    .asciz "cleave-pauth-guest: only one of address and generic authentication\n"
s_pacia:   .asciz "cleave-pauth-guest: pacia modifier 0x1234: "
s_arrow:   .asciz " -> "
s_unsigned: .asciz "cleave-pauth-guest: pacia left the pointer as it was\n"
s_autia:   .asciz "cleave-pauth-guest: autia modifier 0x1234: "
s_not_back: .asciz "cleave-pauth-guest: autia did not give the pointer back\n"
s_wrong:   .asciz "cleave-pauth-guest: autia modifier 0x5678: "
s_corrupted: .asciz " (corrupted)\n"
s_accepted: .asciz "cleave-pauth-guest: autia with another modifier gave the pointer back\n"
s_no_fpac: .asciz "cleave-pauth-guest: FEAT_FPAC said but no PAC fail exception\n"
s_wrong_fpac: .asciz "cleave-pauth-guest: autia modifier 0x5678: PAC fail exception, esr "
s_fpac_unsaid: .asciz "cleave-pauth-guest: a PAC fail exception without FEAT_FPAC\n"
s_pacga:   .asciz "cleave-pauth-guest: pacga "
s_pacga_zero: .asciz "cleave-pauth-guest: pacga gave 0\n"
s_exception: .asciz "cleave-pauth-guest: unexpected exception, esr "
s_elr:     .asciz " elr "
s_ok:      .asciz "cleave-pauth-guest: ok\n"
