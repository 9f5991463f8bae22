// In the board (Tests/QEMUVirt/rtc-alarm-probe; docs/kernel-facts.md §35):
// relative wake alarms ("+N" to /sys/class/rtc/rtc0/wakealarm) written at a
// chosen point late in an RTC second, and how each one ends: the alarm
// event the RTC core reports on /dev/rtc0 (poll and read), and whether the
// PL031's interrupt came with it (its /proc/interrupts count).
//
//   rtc-alarm-probe AHEAD FIRST_US LAST_US STEP_US
//
// For each delay from FIRST_US to LAST_US: waits for an RTC second to begin
// (RTC_RD_TIME until it changes), sleeps the delay from then, writes
// "+AHEAD", and waits up to AHEAD + 2 s for the event. One line per try:
//   CLEAVE-RTCP ahead=1 delay_us=999200 wrote_at_us=999231 event=1 interrupts=0
// wrote_at_us: the write's end, from the second's first read (monotonic).
#include <fcntl.h>
#include <linux/rtc.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

static long long now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000LL + t.tv_nsec / 1000;
}

// The PL031's interrupt count over every CPU, -1 if no line names it.
static long long pl031_interrupts(void) {
    FILE *f = fopen("/proc/interrupts", "r");
    if (!f) return -1;
    char line[1024];
    long long total = -1;
    while (fgets(line, sizeof line, f)) {
        if (!strstr(line, "pl031")) continue;
        char *p = strchr(line, ':');
        if (!p) continue;
        total = 0;
        for (p++;;) {
            char *end;
            long long n = strtoll(p, &end, 10);
            if (end == p) break;
            total += n;
            p = end;
        }
    }
    fclose(f);
    return total;
}

static int write_text(const char *path, const char *text) {
    int fd = open(path, O_WRONLY);
    if (fd < 0) return -1;
    ssize_t n = write(fd, text, strlen(text));
    close(fd);
    return n == (ssize_t)strlen(text) ? 0 : -1;
}

int main(int argc, char **argv) {
    if (argc != 5) { fprintf(stderr, "usage: rtc-alarm-probe AHEAD FIRST_US LAST_US STEP_US\n"); return 2; }
    int ahead = atoi(argv[1]);
    long first = atol(argv[2]), last = atol(argv[3]), step = atol(argv[4]);
    if (ahead < 1 || ahead > 5 || first < 0 || last > 999999 || step < 1) { fprintf(stderr, "rtc-alarm-probe: bad arguments\n"); return 2; }
    int rtc = open("/dev/rtc0", O_RDONLY | O_NONBLOCK);
    if (rtc < 0) { perror("rtc-alarm-probe: /dev/rtc0"); return 1; }
    char text[16];
    snprintf(text, sizeof text, "+%d\n", ahead);
    for (long delay = first; delay <= last; delay += step) {
        write_text("/sys/class/rtc/rtc0/wakealarm", "0\n");
        unsigned long data;
        while (read(rtc, &data, sizeof data) > 0) {} // a late event of the try before
        struct rtc_time t0, t;
        if (ioctl(rtc, RTC_RD_TIME, &t0) < 0) { perror("RTC_RD_TIME"); return 1; }
        do { if (ioctl(rtc, RTC_RD_TIME, &t) < 0) { perror("RTC_RD_TIME"); return 1; } } while (t.tm_sec == t0.tm_sec);
        long long start = now_us();
        long long before = pl031_interrupts();
        long long wait = start + delay - now_us();
        if (wait > 0) { struct timespec d = { wait / 1000000, (wait % 1000000) * 1000 }; nanosleep(&d, NULL); }
        int written = write_text("/sys/class/rtc/rtc0/wakealarm", text);
        long long wrote = now_us() - start;
        // The alarm's event: from the interrupt or from the RTC core's own
        // expiry of an alarm found in the past (rtc_timer_do_work).
        struct pollfd p = { rtc, POLLIN, 0 };
        int event = poll(&p, 1, (ahead + 2) * 1000) > 0 && read(rtc, &data, sizeof data) == sizeof data;
        usleep(200000); // the interrupt's count, should it lag the event
        printf("CLEAVE-RTCP ahead=%d delay_us=%ld wrote_at_us=%lld written=%d event=%d interrupts=%lld\n",
               ahead, delay, wrote, written == 0, event, pl031_interrupts() - before);
        fflush(stdout);
    }
    close(rtc);
    return 0;
}
