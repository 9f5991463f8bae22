// cleave all-off guest: its only vCPU turns itself off (PSCI CPU_OFF), so
// nothing can ever start a CPU of this guest again, while KVM_RUN only
// sleeps. The supervisor's watchdog must end it as stuck (status 3) rather
// than wait forever. Loaded at RAM base + 0x80000.
    .text
    .globl _start
_start:
    movz    x0, #0x0002
    movk    x0, #0x8400, lsl #16    // PSCI_0_2_FN_CPU_OFF
    hvc     #0
1:  wfi                             // CPU_OFF does not return on success
    b       1b
