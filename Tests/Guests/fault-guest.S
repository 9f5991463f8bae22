// A guest that stores to an address outside its RAM and devices (0x10000000:
// QEMU virt's PCIe window, not the guest's). KVM reports an MMIO exit; the
// supervisor must report it with the PC and stop the guest (status 2), never
// emulate it.
    .text
    .globl _start
_start:
    movz    x1, #0x1000, lsl #16
    str     w0, [x1]
    b       .
