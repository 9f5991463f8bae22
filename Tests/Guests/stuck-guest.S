// A guest that takes an exception with no vector table: VBAR_EL1 is 0 after
// reset, so the undefined instruction below vectors to 0x200, an IPA with no
// memory; the instruction abort there vectors to 0x200 again, forever, inside
// KVM_RUN (docs/kernel-facts.md §7). The supervisor's watchdog must stop it (status 3).
    .text
    .globl _start
_start:
    udf     #0
