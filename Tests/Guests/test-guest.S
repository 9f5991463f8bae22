// cleave test guest: a bare-metal arm64 payload for the QEMU-virt harness.
//
// Entered per Documentation/arch/arm64/booting.rst: MMU off, x0 = the DTB's
// physical address. Loaded at RAM base + 0x80000 (cleave's default offset for raw
// images), so RAM base = (address of _start) - 0x80000. It:
//   1. finds in its DTB the `reg` of the memory node, of the serial node (the
//      console the supervisor emulates, a 16550) and of the pvpanic node;
//   2. prints, through that 16550: its PC-derived RAM base, the memory node, and
//      the DTB's size and FNV-1a hash (the harness compares them with what the
//      host planned and wrote), and the pvpanic register with the events it reads;
//   3. says "check ram-base ok" when PC-derived base == memory node base;
//   4. with a second cpu node, starts that vCPU with PSCI CPU_ON; the secondary
//      prints "cpu1 up" with its MPIDR and the context id, raises a flag in RAM
//      and turns itself off (PSCI CPU_OFF); the primary waits for the flag (up
//      to 10 s of the generic timer), printing nothing meanwhile since the UART
//      is shared, then says "secondary ok" (or "secondary MISSING"). With one
//      cpu node it says "single cpu";
//   5. powers off with PSCI SYSTEM_OFF (status 0). A failed check (no console,
//      RAM base mismatch, CPU_ON refused, secondary missing) ends the run as a
//      failure instead: PVPANIC_PANICKED when the tree has a pvpanic node
//      (status 4), else a store outside its RAM (status 2). A guest that finds
//      something wrong must make its run fail.
// Registers: x19 dtb, x20 ram base, x21 uart, x22 mem base, x23 mem size,
// x24 dtb size, x25 pvpanic register (0: none), x26 failure address,
// x27 secondary's MPIDR. RAM base + 0x1000: the mailbox (flag, uart base).
    .equ stack_top_offset, 0x80000      // primary stack grows down from the image
    .equ secondary_stack_offset, 0x40000
    .equ mailbox_offset, 0x1000
    .equ context_id, 0xc1ea7e

    .text
    .globl _start
_start:
    mov     x19, x0
    adr     x20, _start
    sub     x20, x20, #0x80000
    ldr     x1, =stack_top_offset
    add     sp, x20, x1

    mov     x0, x19
    adr     x1, n_memory
    mov     x2, #0
    bl      fdt_node_reg
    mov     x22, x1
    mov     x23, x2
    // Failing by a fault: the first byte past the memory node's RAM, or
    // without one the page below the PC-derived base; neither is this guest's.
    add     x26, x22, x23
    cbnz    x23, 1f
    sub     x26, x20, #0x1000
1:  mov     x0, x19
    bl      guest_devices
    mov     x21, x0
    mov     x25, x1
    cbz     x21, fail               // no console: nothing we can say

    adr     x0, s_hello
    bl      uart_puts
    adr     x0, s_base
    bl      uart_puts
    mov     x0, x20
    bl      uart_puthex
    adr     x0, s_mem
    bl      uart_puts
    mov     x0, x22
    bl      uart_puthex
    adr     x0, s_size
    bl      uart_puts
    mov     x0, x23
    bl      uart_puthex
    adr     x0, s_dtb
    bl      uart_puts
    mov     x0, x19
    bl      uart_puthex
    adr     x0, s_size
    bl      uart_puts
    ldr     w0, [x19, #4]           // totalsize, big-endian
    rev     w0, w0
    mov     x24, x0
    bl      uart_puthex
    adr     x0, s_fnv
    bl      uart_puts
    mov     x0, x19
    mov     x1, x24
    bl      fnv1a
    bl      uart_puthex
    adr     x0, s_nl
    bl      uart_puts

    cbz     x25, 2f
    adr     x0, s_pvpanic
    bl      uart_puts
    mov     x0, x25
    bl      uart_puthex
    adr     x0, s_events
    bl      uart_puts
    ldrb    w0, [x25]               // the events the device supports
    bl      uart_puthex
    adr     x0, s_nl
    bl      uart_puts

2:  cmp     x20, x22
    b.ne    mismatch
    adr     x0, s_ok
    bl      uart_puts

    // A second cpu node: start it (PSCI 0.2 CPU_ON, SMC64 function 0xC4000003).
    mov     x0, x19
    adr     x1, n_cpu
    mov     x2, #1
    bl      fdt_node_reg
    cbz     x0, single
    mov     x27, x1
    add     x9, x20, #mailbox_offset
    str     xzr, [x9]
    str     x21, [x9, #8]
    dmb     sy
    movz    x0, #0x0003
    movk    x0, #0xc400, lsl #16
    mov     x1, x27                 // target MPIDR: the cpu node's reg
    adr     x2, secondary_entry     // physical: the MMU is off
    ldr     x3, =context_id
    hvc     #0
    cbnz    x0, cpu_on_refused
    // Wait for the flag, bounded by the generic timer: 10 s.
    mrs     x10, cntfrq_el0
    mov     x11, #10
    mul     x10, x10, x11
    isb
    mrs     x11, cntvct_el0
    add     x10, x10, x11
    add     x9, x20, #mailbox_offset
3:  ldr     x12, [x9]
    cbnz    x12, 4f
    isb
    mrs     x11, cntvct_el0
    cmp     x11, x10
    b.lo    3b
    adr     x0, s_missing
    bl      uart_puts
    b       fail
4:  adr     x0, s_secondary_ok
    bl      uart_puts
    bl      psci_system_off

single:
    adr     x0, s_single
    bl      uart_puts
    bl      psci_system_off

cpu_on_refused:
    mov     x28, x0
    adr     x0, s_cpu_on
    bl      uart_puts
    mov     x0, x28
    bl      uart_puthex
    adr     x0, s_nl
    bl      uart_puts
    b       fail

mismatch:
    adr     x0, s_bad
    bl      uart_puts
fail:
    cbz     x21, 5f
    adr     x0, s_fail
    bl      uart_puts
5:  mov     x0, x25
    mov     x1, x26
    bl      guest_fail

// The secondary, entered by CPU_ON: MMU off, EL1, x0 = the context id.
secondary_entry:
    adr     x20, _start
    sub     x20, x20, #0x80000
    ldr     x1, =secondary_stack_offset
    add     sp, x20, x1
    mov     x24, x0
    add     x9, x20, #mailbox_offset
    ldr     x21, [x9, #8]
    adr     x0, s_cpu_up
    bl      uart_puts
    mrs     x0, mpidr_el1
    mov     x1, #0xffffff           // affinity: Aff2-Aff0 and Aff3
    movk    x1, #0xff, lsl #32
    and     x0, x0, x1
    bl      uart_puthex
    adr     x0, s_context
    bl      uart_puts
    mov     x0, x24
    bl      uart_puthex
    adr     x0, s_nl
    bl      uart_puts
    dmb     sy
    mov     x1, #1
    add     x9, x20, #mailbox_offset
    str     x1, [x9]
    dmb     sy
    // PSCI CPU_OFF (0x84000002): back to powered off, which the supervisor's
    // loop for this vCPU must also handle. It does not return when it works.
    movz    x0, #0x0002
    movk    x0, #0x8400, lsl #16
    hvc     #0
6:  wfi
    b       6b

    .section .rodata
n_memory:  .asciz "memory"
n_cpu:     .asciz "cpu"
s_hello: .asciz "cleave-test-guest: hello from EL1\n"
s_base:  .asciz "cleave-test-guest: ram-base "
s_mem:   .asciz " memory-node "
s_size:  .asciz " size "
s_dtb:   .asciz "\ncleave-test-guest: dtb "
s_fnv:   .asciz " fnv1a "
s_nl:    .asciz "\n"
s_pvpanic: .asciz "cleave-test-guest: pvpanic "
s_events:  .asciz " events "
s_ok:    .asciz "cleave-test-guest: check ram-base ok\n"
s_bad:   .asciz "cleave-test-guest: check ram-base MISMATCH\n"
s_single: .asciz "cleave-test-guest: single cpu\n"
s_cpu_on: .asciz "cleave-test-guest: CPU_ON refused, returned "
s_cpu_up: .asciz "cleave-test-guest: cpu1 up mpidr "
s_context: .asciz " context "
s_secondary_ok: .asciz "cleave-test-guest: secondary ok\n"
s_missing: .asciz "cleave-test-guest: secondary MISSING\n"
s_fail:  .asciz "cleave-test-guest: FAILED, ending the run as a failure\n"
