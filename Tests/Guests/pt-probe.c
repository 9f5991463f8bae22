// Passthrough probe for the Linux guest (Tests/QEMUVirt/run): times O_DIRECT
// reads of one block from a virtio-blk disk on a passed-through virtio-mmio
// transport. Each read is a round trip: the guest's queue notify (trapped and
// forwarded, or direct) -> the device -> its SPI -> the host -> the guest's
// handler, so the difference between backends is the interrupt path's cost.
//   pt-probe DEVICE COUNT   prints "blk_read_us median=.. min=.. max=.. n=.."
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static uint64_t now_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}

static int compare(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

int main(int argc, char **argv) {
    if (argc < 3) { fprintf(stderr, "usage: pt-probe DEVICE COUNT\n"); return 2; }
    int count = atoi(argv[2]);
    if (count < 1 || count > 100000) return 2;
    int fd = open(argv[1], O_RDONLY | O_DIRECT);
    if (fd < 0) { perror(argv[1]); return 1; }
    void *buffer;
    if (posix_memalign(&buffer, 4096, 4096)) return 1;
    uint64_t *samples = calloc((size_t)count, sizeof *samples);
    for (int i = 0; i < count; i++) {
        uint64_t t0 = now_ns();
        if (pread(fd, buffer, 4096, 0) != 4096) { perror("pread"); return 1; }
        samples[i] = now_ns() - t0;
    }
    qsort(samples, (size_t)count, sizeof *samples, compare);
    printf("blk_read_us median=%llu min=%llu max=%llu n=%d\n", (unsigned long long)(samples[count / 2] / 1000),
           (unsigned long long)(samples[0] / 1000), (unsigned long long)(samples[count - 1] / 1000), count);
    return 0;
}
