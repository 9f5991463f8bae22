// The GPIO benchmark of issue 12, both ends: the Linux guest's (through the
// GPIO character device of its virtual PL061) and the host's (through the
// gpio-sim bank's sysfs files behind the guest's lines). Each end stamps its
// events with its virtual counter (CNTVCT_EL0); the supervisor logs the
// guest's counter offset at its first run (event=first-run counter_offset=),
// so the harness puts both on the host's clock.
//
//   gpio-bench guest CHIPDEV N        (in the guest)
//     line 0 an output, lines 1 (the host's "go" and acknowledgements, both
//     edges) and 2 (rising edges) inputs. Prints "CLEAVE-GPIO-BENCH ready",
//     waits for line 1 to rise, then N times: 20 ms, stamps and flips line 0,
//     waits for the host to flip line 1 (it saw the change; so no change is
//     missed however late the host's poller runs): "CLEAVE-GPIO-BENCH-WRITES
//     t,t,...". Then "CLEAVE-GPIO-BENCH-EDGES-READY", and N rising edges of
//     line 2 as the kernel's interrupt handler stamped them (the event's
//     CLOCK_MONOTONIC time, turned into counter ticks by two (counter, clock)
//     pairs around the run): "CLEAVE-GPIO-BENCH-EDGES t,t,...".
//   gpio-bench watch VALUE N GO       (on the host)
//     pulls GO up (gpio-sim "pull" file of the guest's line 1), then polls
//     VALUE (gpio-sim "value" of the guest's line 0) without sleeping, stamps
//     each of N changes and flips GO to say so: "CLEAVE-GPIO-BENCH-HOST-CHANGES
//     t,t,..."; GO down after.
//   gpio-bench toggle PULL N          (on the host)
//     N times: stamps, pulls PULL (the guest's line 2) up, 10 ms later down,
//     20 ms later the next: "CLEAVE-GPIO-BENCH-HOST-RISES t,t,...".
// Every wait is bounded (30 s); a missing event ends the run with status 1
// after printing what it has.
#include <errno.h>
#include <fcntl.h>
#include <linux/gpio.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static uint64_t counter(void) {
    uint64_t c;
    __asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(c));
    return c;
}

static uint64_t frequency(void) {
    uint64_t f;
    __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(f));
    return f;
}

static void sleep_ms(long ms) {
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) < 0 && errno == EINTR) {}
}

static void print_stamps(const char *tag, const uint64_t *t, int n) {
    printf("%s n=%d ", tag, n);
    for (int i = 0; i < n; i++) printf("%s%llu", i ? "," : "", (unsigned long long)t[i]);
    printf("\n");
    fflush(stdout);
}

static int request(int chip, unsigned offset, uint64_t flags, const char *what) {
    struct gpio_v2_line_request r;
    memset(&r, 0, sizeof r);
    r.offsets[0] = offset;
    r.num_lines = 1;
    r.config.flags = flags;
    snprintf(r.consumer, sizeof r.consumer, "gpio-bench-%s", what);
    if (ioctl(chip, GPIO_V2_GET_LINE_IOCTL, &r) < 0) {
        printf("CLEAVE-GPIO-BENCH error=request line %u (%s): %s\n", offset, what, strerror(errno));
        exit(1);
    }
    return r.fd;
}

// One event of `fd` within 30 s: its timestamp (ns), 0 when none came.
static uint64_t next_event(int fd) {
    struct pollfd p = {fd, POLLIN, 0};
    if (poll(&p, 1, 30000) != 1) return 0;
    struct gpio_v2_line_event e;
    if (read(fd, &e, sizeof e) != sizeof e) return 0;
    return e.timestamp_ns;
}

// A (counter, CLOCK_MONOTONIC ns) pair read together.
static void pair(double *c, double *ns) {
    struct timespec t;
    uint64_t a = counter();
    clock_gettime(CLOCK_MONOTONIC, &t);
    uint64_t b = counter();
    *c = ((double)a + (double)b) / 2;
    *ns = (double)t.tv_sec * 1e9 + (double)t.tv_nsec;
}

static int guest(const char *device, int n) {
    int chip = open(device, O_RDWR);
    if (chip < 0) { printf("CLEAVE-GPIO-BENCH error=%s: %s\n", device, strerror(errno)); return 1; }
    int out = request(chip, 0, GPIO_V2_LINE_FLAG_OUTPUT, "out");
    int go = request(chip, 1, GPIO_V2_LINE_FLAG_INPUT | GPIO_V2_LINE_FLAG_EDGE_RISING | GPIO_V2_LINE_FLAG_EDGE_FALLING, "go");
    int edge = request(chip, 2, GPIO_V2_LINE_FLAG_INPUT | GPIO_V2_LINE_FLAG_EDGE_RISING, "edge");
    uint64_t *t = calloc((size_t)n, sizeof *t);
    printf("CLEAVE-GPIO-BENCH ready frequency=%llu\n", (unsigned long long)frequency());
    fflush(stdout);
    if (!next_event(go)) { printf("CLEAVE-GPIO-BENCH error=no go edge on line 1 within 30 s\n"); return 1; }
    for (int i = 0; i < n; i++) {
        sleep_ms(20);
        struct gpio_v2_line_values v = {.bits = (uint64_t)((i + 1) & 1), .mask = 1};
        t[i] = counter();
        if (ioctl(out, GPIO_V2_LINE_SET_VALUES_IOCTL, &v) < 0) {
            printf("CLEAVE-GPIO-BENCH error=set line 0: %s\n", strerror(errno));
            return 1;
        }
        if (!next_event(go)) {
            printf("CLEAVE-GPIO-BENCH error=the host did not acknowledge write %d on line 1 within 30 s\n", i);
            print_stamps("CLEAVE-GPIO-BENCH-WRITES", t, i + 1);
            return 1;
        }
    }
    print_stamps("CLEAVE-GPIO-BENCH-WRITES", t, n);
    double c0, m0, c1, m1;
    pair(&c0, &m0);
    printf("CLEAVE-GPIO-BENCH-EDGES-READY\n");
    fflush(stdout);
    uint64_t *ns = calloc((size_t)n, sizeof *ns);
    int got = 0;
    while (got < n && (ns[got] = next_event(edge)) != 0) got++;
    pair(&c1, &m1);
    for (int i = 0; i < got; i++) t[i] = (uint64_t)(c0 + ((double)ns[i] - m0) * (c1 - c0) / (m1 - m0));
    print_stamps("CLEAVE-GPIO-BENCH-EDGES", t, got);
    return got == n ? 0 : 1;
}

static int write_file(const char *path, const char *text) {
    int fd = open(path, O_WRONLY);
    if (fd < 0) return -1;
    ssize_t w = write(fd, text, strlen(text));
    close(fd);
    return w < 0 ? -1 : 0;
}

static int watch(const char *value, int n, const char *go) {
    int fd = open(value, O_RDONLY);
    if (fd < 0) { printf("CLEAVE-GPIO-BENCH-HOST error=%s: %s\n", value, strerror(errno)); return 1; }
    uint64_t *t = calloc((size_t)n, sizeof *t);
    char last = 0, now = 0;
    if (pread(fd, &last, 1, 0) != 1) { printf("CLEAVE-GPIO-BENCH-HOST error=read %s\n", value); return 1; }
    if (write_file(go, "pull-up") < 0) { printf("CLEAVE-GPIO-BENCH-HOST error=%s: %s\n", go, strerror(errno)); return 1; }
    uint64_t deadline = counter() + 30 * frequency();
    int seen = 0;
    while (seen < n && counter() < deadline) {
        if (pread(fd, &now, 1, 0) != 1 || now == last) continue;
        t[seen++] = counter();
        last = now;
        write_file(go, seen % 2 ? "pull-down" : "pull-up");
    }
    write_file(go, "pull-down");
    print_stamps("CLEAVE-GPIO-BENCH-HOST-CHANGES", t, seen);
    return seen == n ? 0 : 1;
}

static int toggle(const char *pull, int n) {
    uint64_t *t = calloc((size_t)n, sizeof *t);
    for (int i = 0; i < n; i++) {
        t[i] = counter();
        if (write_file(pull, "pull-up") < 0) { printf("CLEAVE-GPIO-BENCH-HOST error=%s: %s\n", pull, strerror(errno)); return 1; }
        sleep_ms(10);
        write_file(pull, "pull-down");
        sleep_ms(20);
    }
    print_stamps("CLEAVE-GPIO-BENCH-HOST-RISES", t, n);
    return 0;
}

int main(int argc, char **argv) {
    int n = argc > 3 ? atoi(argv[3]) : 0;
    if (argc == 4 && !strcmp(argv[1], "guest") && n > 0) return guest(argv[2], n);
    if (argc == 5 && !strcmp(argv[1], "watch") && n > 0) return watch(argv[2], n, argv[4]);
    if (argc == 4 && !strcmp(argv[1], "toggle") && n > 0) return toggle(argv[2], n);
    fprintf(stderr, "usage: gpio-bench guest CHIPDEV N | watch VALUE N GO | toggle PULL N\n");
    return 2;
}
