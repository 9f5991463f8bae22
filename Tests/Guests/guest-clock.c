// Prints the guest's own clock for the harness's overhead benchmark: the
// virtual counter CNTVCT_EL0 over CNTFRQ_EL0, then the marker given as the
// argument on the same line, in one write (so the supervisor sees the marker
// right after the counter was read). KVM zeroes the guest's virtual counter
// when it creates the vCPU (CNTVOFF = host counter then); the supervisor logs
// the counter at the first KVM_RUN, so the difference is the guest's own time
// from its first instruction to the marker.
#include <stdint.h>
#include <stdio.h>

int main(int argc, char **argv) {
    uint64_t count, frequency;
    __asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(count));
    __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(frequency));
    printf("counter_us=%llu %s\n", (unsigned long long)(count * 1000000 / frequency), argc > 1 ? argv[1] : "");
    return 0;
}
