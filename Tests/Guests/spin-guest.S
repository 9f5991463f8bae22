// A guest that spins in RAM forever (not stuck by the watchdog's rules: PC is
// in RAM, not in the vectors). Used to test SIGTERM teardown (status 143).
    .text
    .globl _start
_start:
    b       .
