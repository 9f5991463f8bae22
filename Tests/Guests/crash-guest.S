// cleave crash guest: reports a panic through the pvpanic device, as Linux's
// pvpanic driver does from its panic notifier (drivers/misc/pvpanic/). The
// register's address comes from the DTB's `pvpanic` node (qemu,pvpanic-mmio),
// never from a constant, so a run proves the generated tree describes it.
// It prints through the 16550 (the DTB's serial node) the register and the
// events a read of it returns (PANICKED | CRASH_LOADED = 0x3); writes
// PVPANIC_CRASH_LOADED (2), which the supervisor logs and lets it go on from
// (a kdump kernel would run now), and says so; then writes PVPANIC_PANICKED
// (1). The supervisor must stop it as crashed (status 4).
// Still running after the write, or no pvpanic node: it says so and powers
// off (status 0), which the harness's status check catches.
// Loaded at RAM base + 0x80000 like the test guest.
// Registers: x19 dtb, x20 ram base, x21 uart (0: none), x25 pvpanic register.
    .text
    .globl _start
_start:
    bl      guest_start
    cbz     x25, no_pvpanic

    cbz     x21, 1f
    adr     x0, s_line
    bl      uart_puts
    mov     x0, x25
    bl      uart_puthex
    adr     x0, s_events
    bl      uart_puts
    ldrb    w0, [x25]
    bl      uart_puthex
    adr     x0, s_nl
    bl      uart_puts
1:  mov     w0, #2                  // PVPANIC_CRASH_LOADED
    strb    w0, [x25]
    cbz     x21, 4f
    adr     x0, s_crash_loaded
    bl      uart_puts
4:  mov     w0, #1                  // PVPANIC_PANICKED
    strb    w0, [x25]

    adr     x0, s_still
    b       2f
no_pvpanic:
    adr     x0, s_none
2:  cbz     x21, 3f
    bl      uart_puts
3:  bl      psci_system_off

    .section .rodata
s_line:    .asciz "cleave-crash-guest: pvpanic "
s_events:  .asciz " events "
s_nl:      .asciz "\n"
s_crash_loaded: .asciz "cleave-crash-guest: running on after PVPANIC_CRASH_LOADED, writing PVPANIC_PANICKED\n"
s_still:   .asciz "cleave-crash-guest: still running after PVPANIC_PANICKED\n"
s_none:    .asciz "cleave-crash-guest: no pvpanic node in the tree\n"
