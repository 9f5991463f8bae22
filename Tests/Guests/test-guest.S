// cleave test guest: a bare-metal arm64 payload for the QEMU-virt harness.
//
// Entered per Documentation/arch/arm64/booting.rst: MMU off, x0 = the DTB's
// physical address. Loaded at RAM base + 0x80000 (cleave's default offset for raw
// images), so RAM base = (address of _start) - 0x80000. It:
//   1. walks the DTB's structure block for `reg` of the first `memory*` node and
//      of the first `serial*` node (the console the supervisor emulates, a 16550);
//   2. prints, through that 16550: its PC-derived RAM base, the memory node, and
//      the DTB's size and FNV-1a hash (the harness compares them with what the
//      host planned and wrote);
//   3. says "check ram-base ok" when PC-derived base == memory node base;
//   4. powers off with PSCI SYSTEM_OFF (function 0x84000008) through HVC.
// Registers: x19 dtb, x20 ram base, x21 uart, x22 mem base, x23 mem size.
    .text
    .globl _start
_start:
    mov     x19, x0
    adr     x20, _start
    sub     x20, x20, #0x80000
    ldr     x1, =stack_top_offset
    add     sp, x20, x1

    bl      fdt_walk
    cbz     x21, power_off          // no console: nothing we can say

    adr     x0, s_hello
    bl      puts
    adr     x0, s_base
    bl      puts
    mov     x0, x20
    bl      puthex
    adr     x0, s_mem
    bl      puts
    mov     x0, x22
    bl      puthex
    adr     x0, s_size
    bl      puts
    mov     x0, x23
    bl      puthex
    adr     x0, s_dtb
    bl      puts
    mov     x0, x19
    bl      puthex
    adr     x0, s_size
    bl      puts
    ldr     w0, [x19, #4]           // totalsize, big-endian
    rev     w0, w0
    mov     x24, x0
    bl      puthex
    adr     x0, s_fnv
    bl      puts
    mov     x0, x19
    mov     x1, x24
    bl      fnv1a
    bl      puthex
    adr     x0, s_nl
    bl      puts

    cmp     x20, x22
    b.ne    1f
    adr     x0, s_ok
    bl      puts
    b       power_off
1:  adr     x0, s_bad
    bl      puts

power_off:
    movz    x0, #0x0008
    movk    x0, #0x8400, lsl #16    // PSCI_0_2_FN_SYSTEM_OFF
    hvc     #0
    b       .

// fdt_walk: sets x21 (uart base), x22/x23 (memory base/size) from the tree at x19.
// FDT tokens (devicetree spec 5.4): BEGIN_NODE 1, END_NODE 2, PROP 3, NOP 4, END 9.
fdt_walk:
    mov     x21, #0
    mov     x22, #0
    mov     x23, #0
    ldr     w1, [x19, #8]           // off_dt_struct
    rev     w1, w1
    add     x1, x19, x1             // cursor
    ldr     w2, [x19, #12]          // off_dt_strings
    rev     w2, w2
    add     x2, x19, x2
    mov     x3, #0                  // current node name
2:  ldr     w4, [x1], #4
    rev     w4, w4
    cmp     w4, #1
    b.eq    3f
    cmp     w4, #3
    b.eq    5f
    cmp     w4, #9
    b.eq    9f
    b       2b                      // END_NODE, NOP
3:  mov     x3, x1                  // node name, NUL-terminated, padded to 4
4:  ldrb    w5, [x1], #1
    cbnz    w5, 4b
    add     x1, x1, #3
    and     x1, x1, #~3
    b       2b
5:  ldr     w5, [x1], #4            // len
    rev     w5, w5
    ldr     w6, [x1], #4            // nameoff
    rev     w6, w6
    add     x6, x2, x6
    mov     x7, x1                  // value
    add     x1, x1, x5
    add     x1, x1, #3
    and     x1, x1, #~3
    // name == "reg"?
    ldrb    w8, [x6]
    cmp     w8, #'r'
    b.ne    2b
    ldrb    w8, [x6, #1]
    cmp     w8, #'e'
    b.ne    2b
    ldrb    w8, [x6, #2]
    cmp     w8, #'g'
    b.ne    2b
    ldrb    w8, [x6, #3]
    cbnz    w8, 2b
    cmp     w5, #16                 // 2 address + 2 size cells
    b.lo    2b
    // MMU off: data accesses are Device memory, so no unaligned 8-byte loads.
    ldr     w9, [x7]
    rev     w9, w9
    ldr     w11, [x7, #4]
    rev     w11, w11
    orr     x9, x11, x9, lsl #32
    ldr     w10, [x7, #8]
    rev     w10, w10
    ldr     w11, [x7, #12]
    rev     w11, w11
    orr     x10, x11, x10, lsl #32
    ldrb    w8, [x3]
    cmp     w8, #'m'
    b.ne    6f
    cbnz    x22, 2b
    mov     x22, x9
    mov     x23, x10
    b       2b
6:  cmp     w8, #'s'
    b.ne    2b
    ldrb    w8, [x3, #1]
    cmp     w8, #'e'
    b.ne    2b
    cbnz    x21, 2b
    mov     x21, x9
    b       2b
9:  ret

// fnv1a: x0 = bytes, x1 = count -> x0 = 32-bit FNV-1a hash
fnv1a:
    movz    w2, #0x9dc5
    movk    w2, #0x811c, lsl #16
    movz    w3, #0x0193
    movk    w3, #0x0100, lsl #16
1:  cbz     x1, 2f
    ldrb    w4, [x0], #1
    eor     w2, w2, w4
    mul     w2, w2, w3
    sub     x1, x1, #1
    b       1b
2:  mov     w0, w2
    ret

// putc: w0 -> 16550 at x21 (THR offset 0; wait for LSR.THRE, bit 5 of offset 5)
putc:
1:  ldrb    w9, [x21, #5]
    tbz     w9, #5, 1b
    strb    w0, [x21]
    ret

puts:
    mov     x10, x30
    mov     x11, x0
1:  ldrb    w0, [x11], #1
    cbz     w0, 2f
    bl      putc
    b       1b
2:  mov     x30, x10
    ret

// puthex: x0 as 0x-prefixed hex, leading zeros dropped
puthex:
    mov     x12, x30
    mov     x13, x0
    mov     w0, #'0'
    bl      putc
    mov     w0, #'x'
    bl      putc
    mov     x14, #60
    mov     x15, #0                 // seen a non-zero digit
1:  lsr     x0, x13, x14
    and     x0, x0, #0xf
    cbnz    x0, 2f
    cbnz    x15, 2f
    cbz     x14, 2f
    b       3f
2:  mov     x15, #1
    cmp     x0, #10
    add     x1, x0, #'0'
    add     x2, x0, #('a' - 10)
    csel    x0, x1, x2, lo
    bl      putc
3:  subs    x14, x14, #4
    b.pl    1b
    mov     x30, x12
    ret

    .section .rodata
s_hello: .asciz "cleave-test-guest: hello from EL1\n"
s_base:  .asciz "cleave-test-guest: ram-base "
s_mem:   .asciz " memory-node "
s_size:  .asciz " size "
s_dtb:   .asciz "\ncleave-test-guest: dtb "
s_fnv:   .asciz " fnv1a "
s_nl:    .asciz "\n"
s_ok:    .asciz "cleave-test-guest: check ram-base ok\n"
s_bad:   .asciz "cleave-test-guest: check ram-base MISMATCH\n"

    .equ stack_top_offset, 0x80000   // stack grows down from the image's load address
