// cleave unmapped guest: touches addresses outside its RAM and devices (QEMU
// virt's PCIe window at 0x10000000, not the guest's), as a payload probing for
// hardware would: reads 0x10000000, writes 0x10000004, reads 0x10000000 again.
// Under `run --unmapped-mmio fault` (the default) the supervisor stops it at
// the first read (status 2, the address and PC in the report). Under
// `--unmapped-mmio ignore` both reads must give 0 (the registers are loaded
// with a non-zero value first, so an untouched register shows); it prints
// what it read and powers off (status 0), or ends through pvpanic (status 4)
// when a read gave anything else.
// Registers: x19 dtb, x20 ram base, x21 uart, x25 pvpanic register, x22/x23 the reads.
    .text
    .globl _start
_start:
    bl      guest_start

    movz    x1, #0x1000, lsl #16    // 0x10000000
    mov     x22, #-1
    mov     x23, #-1
    ldr     w22, [x1]
    mov     w2, #0x5a
    str     w2, [x1, #4]
    ldr     w23, [x1]

    adr     x0, s_read
    bl      uart_puts
    mov     x0, x22
    bl      uart_puthex
    adr     x0, s_again
    bl      uart_puts
    mov     x0, x23
    bl      uart_puthex
    adr     x0, s_nl
    bl      uart_puts
    orr     x0, x22, x23
    cbnz    x0, 1f
    bl      psci_system_off
1:  adr     x0, s_bad
    bl      uart_puts
    mov     x0, x25
    movz    x1, #0x1000, lsl #16
    bl      guest_fail

    .section .rodata
s_read:    .asciz "cleave-unmapped-guest: read 0x10000000 = "
s_again:   .asciz ", after a write to 0x10000004 read again = "
s_nl:      .asciz "\n"
s_bad:     .asciz "cleave-unmapped-guest: a read of an unmapped address gave non-zero\n"
