// Prints the guest's own clock for the harness's overhead benchmark: the
// virtual counter CNTVCT_EL0 over CNTFRQ_EL0. KVM zeroes the guest's virtual
// counter when it creates the vCPU (CNTVOFF = host counter then), so this is
// the time since the supervisor created the vCPU, including the guest's early
// boot that /proc/uptime (which starts at timekeeping init) leaves out.
#include <stdint.h>
#include <stdio.h>

int main(void) {
    uint64_t count, frequency;
    __asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(count));
    __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(frequency));
    printf("counter_ms=%llu", (unsigned long long)(count * 1000 / frequency));
    return 0;
}
