// Runs a program with CLEAVE_EXEC_NS set to CLOCK_MONOTONIC just before the
// execve, so cleave-boot measures its times ("t_ms=") from the exec itself:
// kernel exec, the static-pie self-relocation and libc start-up included,
// which a clock read at the top of main would leave out (issue 3's "exec to
// the guest's first instruction" benchmark).
//   exec-clock PROGRAM [ARG...]
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

int main(int argc, char **argv) {
    if (argc < 2) {
        fprintf(stderr, "usage: exec-clock PROGRAM [ARG...]\n");
        return 2;
    }
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    char value[32];
    snprintf(value, sizeof value, "%llu", (unsigned long long)t.tv_sec * 1000000000ull + (unsigned long long)t.tv_nsec);
    setenv("CLEAVE_EXEC_NS", value, 1);
    execvp(argv[1], argv + 1);
    perror(argv[1]);
    return 127;
}
