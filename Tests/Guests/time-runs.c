// Times COMMAND run N times one after the other (host side, in the board):
// fork, execvp, wait, each on CLOCK_MONOTONIC, its output to /dev/null. Prints
// "runs=N failed=F median_ms=M min_ms=A max_ms=B" (failed: a run whose status
// was not 0, so a latency of failures cannot pass for the command's).
//   time-runs N COMMAND [ARG...]
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static double now_ms(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e3 + t.tv_nsec / 1e6;
}

static int compare(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

int main(int argc, char **argv) {
    int n = argc > 2 ? atoi(argv[1]) : 0;
    if (n < 1 || n > 1000) { fprintf(stderr, "usage: time-runs N(1-1000) COMMAND [ARG...]\n"); return 2; }
    double *ms = calloc(n, sizeof *ms);
    int failed = 0;
    for (int i = 0; i < n; i++) {
        double t0 = now_ms();
        pid_t pid = fork();
        if (pid < 0) { perror("fork"); return 1; }
        if (pid == 0) {
            int null = open("/dev/null", O_WRONLY);
            if (null >= 0) { dup2(null, 1); dup2(null, 2); }
            execvp(argv[2], argv + 2);
            _exit(127);
        }
        int status = 0;
        while (waitpid(pid, &status, 0) < 0) {}
        ms[i] = now_ms() - t0;
        if (!WIFEXITED(status) || WEXITSTATUS(status) != 0) failed++;
    }
    qsort(ms, n, sizeof *ms, compare);
    double median = n % 2 ? ms[n / 2] : (ms[n / 2 - 1] + ms[n / 2]) / 2;
    printf("runs=%d failed=%d median_ms=%.2f min_ms=%.2f max_ms=%.2f\n", n, failed, median, ms[0], ms[n - 1]);
    return 0;
}
