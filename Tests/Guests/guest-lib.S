// Routines the bare-metal test guests share; Tests/Guests/build links this
// object after each guest's own (whose _start stays at offset 0).
//
// Convention: arguments and results in x0-x3; x0-x15 and x30 are clobbered,
// callers keep their state in x19-x28. Routines that call others save x30 on
// the stack. The uart_* routines print to the 16550 whose base is in x21.
// The MMU is off, so data accesses are Device memory: no unaligned loads.

    .text

// fdt_node_prop_nth: x0 = DTB, x1 = node name (NUL-terminated; a node
// matches when its name equals it up to the unit address, "cpu" matches cpu@1
// but not cpus), x2 = property name (NUL-terminated), x3 = which matching
// node that has the property (0 = the first) -> x0 = 1 found / 0 not, x1 = the
// value's address (big-endian cells), x2 = its length in bytes.
// FDT tokens (devicetree spec 5.4): BEGIN_NODE 1, END_NODE 2, PROP 3, NOP 4, END 9.
    .globl fdt_node_prop_nth
fdt_node_prop_nth:
    mov     x12, x3                 // nodes still to skip
    mov     x13, x2                 // the property's name
    ldr     w3, [x0, #8]            // off_dt_struct
    rev     w3, w3
    add     x3, x0, x3              // cursor
    ldr     w4, [x0, #12]           // off_dt_strings
    rev     w4, w4
    add     x4, x0, x4
    mov     x5, #0                  // inside a node that matches
1:  ldr     w6, [x3], #4
    rev     w6, w6
    cmp     w6, #1
    b.eq    2f
    cmp     w6, #3
    b.eq    5f
    cmp     w6, #9
    b.eq    9f
    cmp     w6, #2
    b.ne    1b                      // NOP
    mov     x5, #0                  // END_NODE (properties precede subnodes)
    b       1b
2:  mov     x7, x1                  // BEGIN_NODE: compare the name with x1
    mov     x5, #0
3:  ldrb    w8, [x3]
    ldrb    w9, [x7], #1
    cbz     w9, 4f
    cmp     w8, w9
    b.ne    7f
    add     x3, x3, #1
    b       3b
4:  cmp     w8, #'@'                // x1 ended: the name must end or go on with '@'
    ccmp    w8, #0, #4, ne
    cset    x5, eq
7:  ldrb    w8, [x3], #1            // skip the rest of the name, then pad to 4
    cbnz    w8, 7b
    add     x3, x3, #3
    and     x3, x3, #~3
    b       1b
5:  ldr     w6, [x3], #4            // PROP: len
    rev     w6, w6
    ldr     w7, [x3], #4            // nameoff
    rev     w7, w7
    add     x7, x4, x7
    mov     x8, x3                  // value
    add     x3, x3, x6
    add     x3, x3, #3
    and     x3, x3, #~3
    cbz     x5, 1b
    mov     x10, x13                // the property's name == x13?
6:  ldrb    w9, [x7], #1
    ldrb    w11, [x10], #1
    cmp     w9, w11
    b.ne    1b
    cbnz    w9, 6b
    cbz     x12, 8f
    sub     x12, x12, #1            // not the node asked for
    mov     x5, #0
    b       1b
8:  mov     x1, x8
    mov     x2, x6
    mov     x0, #1
    ret
9:  mov     x0, #0
    mov     x1, #0
    mov     x2, #0
    ret

// fdt_node_prop: fdt_node_prop_nth of the first matching node that has the
// property (x0 = DTB, x1 = node name, x2 = property name).
    .globl fdt_node_prop
fdt_node_prop:
    mov     x3, #0
    b       fdt_node_prop_nth

// fdt_node_reg: x0 = DTB, x1 = node name (matched as above), x2 = which
// matching node that has `reg` (0 = the first) -> x0 = 1 found / 0 not,
// x1 = reg's first address, x2 = its size. A reg of 4 bytes is one address
// cell and no size (cpu nodes: /cpus has #address-cells 1, #size-cells 0);
// 16 bytes or more are two address and two size cells (the root's cells in
// the trees cleave generates). Anything else counts as not found.
    .globl fdt_node_reg
fdt_node_reg:
    stp     x29, x30, [sp, #-16]!
    mov     x3, x2
    adr     x2, s_reg
    bl      fdt_node_prop_nth
    ldp     x29, x30, [sp], #16
    cbz     x0, 9f
    mov     x8, x1
    cmp     x2, #4
    b.eq    8f
    cmp     x2, #16
    b.lo    9f
    ldr     w9, [x8]
    rev     w9, w9
    ldr     w10, [x8, #4]
    rev     w10, w10
    orr     x1, x10, x9, lsl #32
    ldr     w9, [x8, #8]
    rev     w9, w9
    ldr     w10, [x8, #12]
    rev     w10, w10
    orr     x2, x10, x9, lsl #32
    mov     x0, #1
    ret
8:  ldr     w1, [x8]
    rev     w1, w1
    mov     x2, #0
    mov     x0, #1
    ret
9:  mov     x0, #0
    mov     x1, #0
    mov     x2, #0
    ret

// guest_start: the set-up of a guest that prints, called first thing by its
// _start (the image's first instruction, loaded at RAM base + 0x80000) with
// x0 = the DTB as the VMM passed it -> x19 = the DTB, x20 = the RAM base,
// sp = the image's base (the stack grows down from it), x21 = the console's
// 16550 (0: none), x25 = the pvpanic register (0: none).
    .globl guest_start
guest_start:
    mov     x19, x0
    sub     x20, x30, #4            // _start
    sub     x20, x20, #0x80000
    add     sp, x20, #0x80000
    stp     x29, x30, [sp, #-16]!
    bl      guest_devices
    mov     x21, x0
    mov     x25, x1
    ldp     x29, x30, [sp], #16
    ret

// guest_devices: x0 = DTB -> x0 = the console's 16550 base (the first
// `serial` node's reg; 0: none), x1 = the pvpanic register (the first
// `pvpanic` node's; 0: none). What every test guest looks up first.
    .globl guest_devices
guest_devices:
    stp     x19, x30, [sp, #-32]!
    str     x20, [sp, #16]
    mov     x19, x0
    adr     x1, s_serial
    mov     x2, #0
    bl      fdt_node_reg
    mov     x20, x1
    mov     x0, x19
    adr     x1, s_pvpanic
    mov     x2, #0
    bl      fdt_node_reg
    mov     x0, x20
    ldr     x20, [sp, #16]
    ldp     x19, x30, [sp], #32
    ret

// fnv1a: x0 = bytes, x1 = count -> x0 = 32-bit FNV-1a hash
    .globl fnv1a
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

// uart_putc: w0 -> THR (offset 0), once LSR.THRE (bit 5 of offset 5) is set
    .globl uart_putc
uart_putc:
1:  ldrb    w9, [x21, #5]
    tbz     w9, #5, 1b
    strb    w0, [x21]
    ret

// uart_puts: x0 = NUL-terminated string
    .globl uart_puts
uart_puts:
    stp     x29, x30, [sp, #-16]!
    mov     x11, x0
1:  ldrb    w0, [x11], #1
    cbz     w0, 2f
    bl      uart_putc
    b       1b
2:  ldp     x29, x30, [sp], #16
    ret

// uart_puthex: x0 as 0x-prefixed hex, leading zeros dropped
    .globl uart_puthex
uart_puthex:
    stp     x29, x30, [sp, #-16]!
    mov     x13, x0
    mov     w0, #'0'
    bl      uart_putc
    mov     w0, #'x'
    bl      uart_putc
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
    bl      uart_putc
3:  subs    x14, x14, #4
    b.pl    1b
    ldp     x29, x30, [sp], #16
    ret

// psci_system_off: PSCI SYSTEM_OFF (function 0x84000008) through HVC; exit status 0.
    .globl psci_system_off
psci_system_off:
    movz    x0, #0x0008
    movk    x0, #0x8400, lsl #16
    hvc     #0
    b       .

// guest_fail: ends the run as a failure, never as a power-off. x0 = the
// pvpanic register (0: none): PVPANIC_PANICKED there makes the supervisor stop
// the guest as crashed (status 4). x1 = an address outside the guest's RAM
// and devices: touched when there is no pvpanic register (or the write did
// not stop the guest), the supervisor reports the access (status 2).
    .globl guest_fail
guest_fail:
    mov     w2, #1                  // PVPANIC_PANICKED
    cbz     x0, 1f
    strb    w2, [x0]
1:  str     w2, [x1]
2:  wfi
    b       2b

    .section .rodata
s_reg:     .asciz "reg"
s_serial:  .asciz "serial"
s_pvpanic: .asciz "pvpanic"
    .balign 4
