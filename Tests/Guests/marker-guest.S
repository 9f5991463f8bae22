// cleave marker guest: proves what the supervisor's RAM scrub (plan
// ram-scrub, run --ram-scrub) leaves of one boot to the next. Each boot
// counts itself in a word of RAM below the image (the image and the tree are
// loaded again at a reset, this word is not covered by either), reports
// whether the marker a previous boot wrote is still there, writes it, and
// resets (PSCI SYSTEM_RESET) until its counter reaches 3, then powers off.
// Kept RAM (ram-scrub none): boots 1, 2, 3, marker absent, present, present,
// status 0 by SYSTEM_OFF. Zeroed RAM: every boot is boot 1 with the marker
// absent; the run ends at --max-restarts.
// Loaded at RAM base + 0x80000; the stack grows down from there.
    .text
    .globl _start
_start:
    bl      guest_start             // x19 DTB, x20 RAM base, x21 16550, sp
    add     x22, x20, #0x1000       // the boot counter
    add     x23, x20, #0x2000       // the marker (two words)
    ldr     w24, [x22]
    add     w24, w24, #1
    str     w24, [x22]
    adr     x0, s_boot
    bl      uart_puts
    mov     x0, x24
    bl      uart_puthex
    ldr     x0, [x23]
    ldr     x1, marker
    cmp     x0, x1
    b.ne    1f
    ldr     x0, [x23, #8]
    ldr     x1, marker_check
    cmp     x0, x1
    b.ne    1f
    adr     x0, s_present
    b       2f
1:  adr     x0, s_absent
2:  bl      uart_puts
    adr     x0, s_at
    bl      uart_puts
    mov     x0, x23
    bl      uart_puthex
    mov     w0, #'\n'
    bl      uart_putc
    ldr     x1, marker
    str     x1, [x23]
    ldr     x1, marker_check
    str     x1, [x23, #8]
    cmp     w24, #3
    b.hs    3f
    movz    x0, #0x0009
    movk    x0, #0x8400, lsl #16    // PSCI_0_2_FN_SYSTEM_RESET
    hvc     #0
    b       .
3:  bl      psci_system_off

    .balign 8
marker:       .quad 0xc1ea7e5ca1ab1e01
marker_check: .quad 0x3e15a1ab5e1eac7e
s_boot:    .asciz "cleave-marker-guest: boot "
s_present: .asciz " marker present"
s_absent:  .asciz " marker absent"
s_at:      .asciz " at "
