// cleave reset guest: exercises PSCI SYSTEM_RESET (the supervisor reboots the
// guest with fresh images and tree into the same RAM). A boot counter kept in
// RAM outside the image survives the reset: the first boot asks for a reset,
// the second powers off. Loaded at RAM base + 0x80000 like the test guest.
// The first boot runs half a second (its virtual counter) before its reset,
// as a guest does that resets after running: the supervisor has built the
// VM of the next boot meanwhile (Supervisor.standby), so the harness's
// "restart reset" bench is a restart with it ready; the marker guest's
// (keep, scrub) resets at once, before it is ready.
    .text
    .globl _start
_start:
    adr     x20, _start
    sub     x20, x20, #0x80000      // RAM base
    add     x1, x20, #0x1000        // boot counter (hugepage RAM starts zeroed)
    ldr     w2, [x1]
    add     w2, w2, #1
    str     w2, [x1]
    cmp     w2, #1
    b.ne    1f
    mrs     x3, cntfrq_el0
    lsr     x3, x3, #1              // ticks in half a second
    mrs     x4, cntvct_el0
    add     x4, x4, x3
2:  mrs     x5, cntvct_el0
    cmp     x5, x4
    b.lo    2b
    movz    x0, #0x0009
    movk    x0, #0x8400, lsl #16    // PSCI_0_2_FN_SYSTEM_RESET
    hvc     #0
    b       .
1:  movz    x0, #0x0008
    movk    x0, #0x8400, lsl #16    // PSCI_0_2_FN_SYSTEM_OFF
    hvc     #0
    b       .
