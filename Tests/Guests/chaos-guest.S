// cleave chaos guest: a hostile guest for the supervisor. For a bounded number
// of iterations, driven by a xorshift64 generator seeded from the virtual
// counter (the seed is printed), it
//   - writes and reads the virtual 16550's page at random offsets and widths
//     (registers and the rest of its half page; writes to THR are letters so
//     the log stays text), with random values;
//   - writes and reads the pvpanic register and the byte after it (never
//     PANICKED, which would end the run as a crash);
//   - makes HVC and SMC calls with random function IDs and arguments (never an
//     ID of PSCI's range, which holds SYSTEM_OFF, SYSTEM_RESET and CPU_OFF);
//   - makes PSCI calls with bad arguments: CPU_ON of a target that does not
//     exist or is malformed, CPU_ON of itself (already on) with a bad entry
//     point, CPU_ON of vCPU 1 (whose entry turns itself off again),
//     AFFINITY_INFO with a bad target or level, PSCI_FEATURES of random IDs,
//     MIGRATE.
// It checks each answer the SMCCC and PSCI specifications fix (NOT_SUPPORTED
// -1 for an unknown ID, INVALID_PARAMETERS -2, ALREADY_ON -4, ON_PENDING -5)
// and counts what it did the way the supervisor's conduct line counts it,
// then puts the 16550 back in order, prints one summary line and powers off.
// Needs 2 vCPUs. Loaded at RAM base + 0x80000.
    .equ ITERATIONS, 4000
    // Counters, 8 bytes each, at RAM base + 0x3000 (below the image).
    .equ C_UART_W, 0
    .equ C_UART_R, 8
    .equ C_BEYOND, 16       // 16550-beyond-registers
    .equ C_WIDE, 24         // 16550-wide-access
    .equ C_RO, 32           // 16550-read-only-register
    .equ C_PV_W, 40
    .equ C_PV_BEYOND, 48    // pvpanic-beyond-register
    .equ C_PV_CRASH, 56     // pvpanic-crash-loaded
    .equ C_PV_UNKNOWN, 64   // pvpanic-unknown-bits
    .equ C_HVC, 72
    .equ C_SMC, 80
    .equ C_PSCI, 88
    .equ C_MISMATCH, 96
    .equ C_FIRST_FN, 104
    .equ C_FIRST_RET, 112
    .equ C_SECONDARY, 120   // written by vCPU 1 each time it starts
    .equ C_CPU_ON_OK, 128
    .equ C_UNCHECKED, 136   // HVC/SMC IDs in a range KVM serves: answer not checked
    .equ C_SIZE, 144

    .macro count off
    ldr     x9, [x24, #\off]
    add     x9, x9, #1
    str     x9, [x24, #\off]
    .endm

    .text
    .globl _start
_start:
    bl      guest_start             // x19 DTB, x20 RAM base, x21 16550, x25 pvpanic, sp
    cbz     x21, fail
    cbz     x25, fail
    add     x24, x20, #0x3000
    mov     x0, #0
1:  str     xzr, [x24, x0]
    add     x0, x0, #8
    cmp     x0, #C_SIZE
    b.lo    1b
    mrs     x22, cntvct_el0
    orr     x22, x22, #1            // xorshift needs a non-zero state
    mov     x26, x22
    adr     x0, s_seed
    bl      uart_puts
    mov     x0, x26
    bl      uart_puthex
    mov     w0, #'\n'
    bl      uart_putc
    movz    x23, #ITERATIONS

loop:
    cbz     x23, done
    sub     x23, x23, #1
    bl      rand
    mov     x27, x0
    and     x1, x27, #15
    cmp     x1, #4
    b.lo    uart_write
    cmp     x1, #6
    b.lo    uart_read
    cmp     x1, #7
    b.lo    pv_write
    b.eq    pv_read
    cmp     x1, #10
    b.lo    hvc_call
    cmp     x1, #12
    b.lo    smc_call
    b       psci_call

// The 16550: x4 = offset in its half page, x2 = log2 of the width, from x27.
// Half the accesses are a byte wide; a quarter go past the 8 registers.
uart_place:
    ubfx    x2, x27, #8, #2
    tst     x27, #(1 << 10)
    csel    x2, xzr, x2, eq
    ubfx    x3, x27, #11, #2
    cbz     x3, 1f
    ubfx    x4, x27, #16, #3        // a register
    b       2f
1:  ubfx    x4, x27, #16, #11       // past the registers: 8..0x7ff
    orr     x4, x4, #8
2:  mov     x5, #1
    lsl     x5, x5, x2
    sub     x5, x5, #1
    bic     x4, x4, x5              // aligned (Device memory: the MMU is off)
    ret

// Counts the access's kind as the supervisor does (GuestConduct, one kind
// each: past the registers, else wider than a byte, else a write to LSR or
// MSR). x4 offset, x2 log2 width, x6 = 1 for a write.
uart_kind:
    cmp     x4, #8
    b.lo    1f
    count   C_BEYOND
    ret
1:  cbz     x2, 2f
    count   C_WIDE
    ret
2:  cbz     x6, 3f
    cmp     x4, #5
    b.eq    4f
    cmp     x4, #6
    b.ne    3f
4:  count   C_RO
3:  ret

uart_write:
    bl      uart_place
    bl      rand
    mov     x7, x0
    cbnz    x4, 1f
    and     x8, x7, #0xff           // THR: a letter, so the log stays text
    mov     x9, #26
    udiv    x10, x8, x9
    msub    x8, x10, x9, x8
    add     x8, x8, #'a'
    bic     x7, x7, #0xff
    orr     x7, x7, x8
1:  add     x6, x21, x4
    cmp     x2, #1
    b.lo    10f
    b.eq    11f
    cmp     x2, #2
    b.eq    12f
    str     x7, [x6]
    b       13f
10: strb    w7, [x6]
    b       13f
11: strh    w7, [x6]
    b       13f
12: str     w7, [x6]
13: count   C_UART_W
    mov     x6, #1
    bl      uart_kind
    b       loop

uart_read:
    bl      uart_place
    add     x6, x21, x4
    cmp     x2, #1
    b.lo    10f
    b.eq    11f
    cmp     x2, #2
    b.eq    12f
    ldr     x7, [x6]
    b       13f
10: ldrb    w7, [x6]
    b       13f
11: ldrh    w7, [x6]
    b       13f
12: ldr     w7, [x6]
13: count   C_UART_R
    mov     x6, #0
    bl      uart_kind
    b       loop

// pvpanic: a byte at the register or the one after it, PANICKED cleared.
pv_write:
    ubfx    x4, x27, #8, #1
    ubfx    x7, x27, #16, #8
    and     x7, x7, #0xfe
    strb    w7, [x25, x4]
    count   C_PV_W
    cbz     x4, 1f
    count   C_PV_BEYOND
    b       loop
1:  cbz     x7, loop
    tbz     x7, #1, 2f
    count   C_PV_CRASH
    b       loop
2:  count   C_PV_UNKNOWN
    b       loop

pv_read:
    ubfx    x4, x27, #8, #1
    ldrb    w7, [x25, x4]
    b       loop

// x10 = a random SMCCC function ID outside PSCI's 0x84000000-0x8400001f
// (and its SMC64 twin); x11 = 1 when KVM serves the ID's range (fast call,
// owner 0 arch, 4 standard or 6 vendor hypervisor): its answer is not checked.
random_id:
    mov     x28, x30
    bl      rand
    mov     w10, w0
    movz    w2, #0xffe0
    movk    w2, #0xbfff, lsl #16
    and     w1, w10, w2
    movz    w2, #0x8400, lsl #16
    cmp     w1, w2
    b.ne    1f
    eor     w10, w10, #0x100000
1:  mov     x11, #0
    tbz     w10, #31, 2f
    ubfx    w1, w10, #24, #6
    cmp     w1, #0
    ccmp    w1, #4, #4, ne
    ccmp    w1, #6, #4, ne
    cset    x11, eq
2:  mov     x30, x28
    ret

// Random arguments in x1-x7 (x12-x15 keep the caller's x10, x11).
random_args:
    mov     x28, x30
    mov     x12, x10
    mov     x13, x11
    bl      rand
    mov     x1, x0
    bl      rand
    mov     x2, x0
    bl      rand
    mov     x3, x0
    eor     x4, x1, x2, ror #7
    eor     x5, x2, x3, ror #13
    eor     x6, x3, x1, ror #29
    eor     x7, x4, x5, ror #3
    mov     x10, x12
    mov     x11, x13
    mov     x30, x28
    ret

hvc_call:
    bl      random_id
    bl      random_args
    mov     x0, x10
    tbz     x27, #8, 1f
    hvc     #0x1234
    b       2f
1:  hvc     #0
2:  count   C_HVC
    b       not_supported

smc_call:
    bl      random_id
    bl      random_args
    mov     x0, x10
    smc     #0
    count   C_SMC

// x0 = the answer to ID x10: NOT_SUPPORTED (-1) unless x11 says KVM serves it.
not_supported:
    cbz     x11, 1f
    count   C_UNCHECKED
    b       loop
1:  mov     w11, #-1
    bl      expect
    b       loop

// expect: the answer w0 must be w11, else a mismatch (the first one's
// function ID x10 and answer x0 are kept).
expect:
    cmp     w0, w11
    b.eq    1f
    ldr     x9, [x24, #C_MISMATCH]
    cbnz    x9, 2f
    str     x10, [x24, #C_FIRST_FN]
    str     x0, [x24, #C_FIRST_RET]
2:  add     x9, x9, #1
    str     x9, [x24, #C_MISMATCH]
1:  ret

psci_call:
    count   C_PSCI
    ubfx    x1, x27, #8, #3
    bl      rand
    mov     x12, x0                 // garbage
    cmp     x1, #1
    b.lo    p_on_malformed
    b.eq    p_on_absent
    cmp     x1, #3
    b.lo    p_on_self
    b.eq    p_on_secondary
    cmp     x1, #5
    b.lo    p_affinity_target
    b.eq    p_affinity_level
    cmp     x1, #6
    b.eq    p_features

// MIGRATE (no trusted OS to migrate): NOT_SUPPORTED.
p_migrate:
    movz    x10, #0x0005
    movk    x10, #0xc400, lsl #16
    mov     x0, x10
    mov     x1, x12
    hvc     #0
    mov     w11, #-1
    bl      expect
    b       loop

// CPU_ON (SMC64) of a target with bits outside the MPIDR affinity fields: INVALID_PARAMETERS.
p_on_malformed:
    movz    x10, #0x0003
    movk    x10, #0xc400, lsl #16
    mov     x0, x10
    orr     x1, x12, #(1 << 40)
    mov     x2, x12
    mov     x3, x12
    hvc     #0
    mov     w11, #-2
    bl      expect
    b       loop

// CPU_ON (SMC32) of an MPIDR no vCPU has (Aff1 set: the guest's two are 0 and 1).
p_on_absent:
    movz    x10, #0x0003
    movk    x10, #0x8400, lsl #16
    mov     x0, x10
    and     x1, x12, #0xffffff
    orr     x1, x1, #0x100
    ror     x2, x12, #17
    mov     x3, x12
    hvc     #0
    mov     w11, #-2
    bl      expect
    b       loop

// CPU_ON of itself (MPIDR 0) with a garbage entry point: ALREADY_ON.
p_on_self:
    movz    x10, #0x0003
    movk    x10, #0xc400, lsl #16
    mov     x0, x10
    mov     x1, #0
    mov     x2, x12
    mov     x3, x12
    hvc     #0
    mov     w11, #-4
    bl      expect
    b       loop

// CPU_ON of vCPU 1 at `secondary` (which counts itself and turns itself off):
// SUCCESS, ALREADY_ON or ON_PENDING, depending on where it is.
p_on_secondary:
    movz    x10, #0x0003
    movk    x10, #0xc400, lsl #16
    mov     x0, x10
    mov     x1, #1
    adr     x2, secondary
    mov     x3, x24
    hvc     #0
    cbnz    w0, 1f
    count   C_CPU_ON_OK
    b       loop
1:  cmn     w0, #4
    b.eq    loop
    cmn     w0, #5
    b.eq    loop
    mov     w11, #0
    bl      expect
    b       loop

// AFFINITY_INFO (SMC64) of a malformed target: INVALID_PARAMETERS.
p_affinity_target:
    movz    x10, #0x0004
    movk    x10, #0xc400, lsl #16
    mov     x0, x10
    orr     x1, x12, #(1 << 40)
    mov     x2, #0
    hvc     #0
    mov     w11, #-2
    bl      expect
    b       loop

// AFFINITY_INFO of vCPU 0 at a level above 3: INVALID_PARAMETERS.
p_affinity_level:
    movz    x10, #0x0004
    movk    x10, #0xc400, lsl #16
    mov     x0, x10
    mov     x1, #0
    and     x2, x12, #0xff
    orr     x2, x2, #4
    hvc     #0
    mov     w11, #-2
    bl      expect
    b       loop

// PSCI_FEATURES of a random non-PSCI ID: NOT_SUPPORTED (unless KVM serves its range).
p_features:
    bl      random_id
    mov     x1, x10
    movz    x10, #0x000a
    movk    x10, #0x8400, lsl #16
    mov     x0, x10
    hvc     #0
    b       not_supported

// vCPU 1's entry: x0 = the counters (CPU_ON's context ID).
secondary:
    ldr     x1, [x0, #C_SECONDARY]
    add     x1, x1, #1
    str     x1, [x0, #C_SECONDARY]
    movz    x0, #0x0002
    movk    x0, #0x8400, lsl #16    // CPU_OFF
    hvc     #0
1:  wfi
    b       1b

done:
    // The 16550 back in order: DLAB off, no interrupts, no loopback, FIFOs cleared.
    mov     w0, #0x03
    strb    w0, [x21, #3]
    strb    wzr, [x21, #1]
    mov     w0, #0x08
    strb    w0, [x21, #4]
    mov     w0, #0x07
    strb    w0, [x21, #2]
    adr     x0, s_done
    bl      uart_puts
    adr     x27, names
    mov     x28, #0
1:  ldr     x0, [x27], #8           // name, then the counter's offset
    cbz     x0, 2f
    add     x0, x0, x20             // names are image offsets: add the load address
    add     x0, x0, #0x80000
    bl      uart_puts
    ldr     x1, [x27], #8
    ldr     x0, [x24, x1]
    bl      uart_puthex
    b       1b
2:  mov     w0, #'\n'
    bl      uart_putc
    bl      psci_system_off

fail:
    mov     x0, x25
    movz    x1, #0x1000, lsl #16
    bl      guest_fail

rand:
    eor     x22, x22, x22, lsl #13
    eor     x22, x22, x22, lsr #7
    eor     x22, x22, x22, lsl #17
    mov     x0, x22
    ret

    .balign 8
names:
    .quad n_uart_w, C_UART_W
    .quad n_uart_r, C_UART_R
    .quad n_beyond, C_BEYOND
    .quad n_wide, C_WIDE
    .quad n_ro, C_RO
    .quad n_pv_w, C_PV_W
    .quad n_pv_beyond, C_PV_BEYOND
    .quad n_pv_crash, C_PV_CRASH
    .quad n_pv_unknown, C_PV_UNKNOWN
    .quad n_hvc, C_HVC
    .quad n_smc, C_SMC
    .quad n_psci, C_PSCI
    .quad n_unchecked, C_UNCHECKED
    .quad n_cpu_on, C_CPU_ON_OK
    .quad n_secondary, C_SECONDARY
    .quad n_mismatch, C_MISMATCH
    .quad n_first_fn, C_FIRST_FN
    .quad n_first_ret, C_FIRST_RET
    .quad 0, 0

s_seed:       .asciz "cleave-chaos-guest: seed "
s_done:       .asciz "\ncleave-chaos-guest: done"
n_uart_w:     .asciz " uart-writes="
n_uart_r:     .asciz " uart-reads="
n_beyond:     .asciz " 16550-beyond-registers="
n_wide:       .asciz " 16550-wide-access="
n_ro:         .asciz " 16550-read-only-register="
n_pv_w:       .asciz " pvpanic-writes="
n_pv_beyond:  .asciz " pvpanic-beyond-register="
n_pv_crash:   .asciz " pvpanic-crash-loaded="
n_pv_unknown: .asciz " pvpanic-unknown-bits="
n_hvc:        .asciz " hvc="
n_smc:        .asciz " smc="
n_psci:       .asciz " psci="
n_unchecked:  .asciz " unchecked="
n_cpu_on:     .asciz " cpu-on-ok="
n_secondary:  .asciz " secondary-runs="
n_mismatch:   .asciz " mismatches="
n_first_fn:   .asciz " first-mismatch-fn="
n_first_ret:  .asciz " first-mismatch-ret="
