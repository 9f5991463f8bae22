// Out-of-line passthrough shims (CLinuxPassthrough.h).
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/klog.h>
#include <sys/stat.h>
#include <unistd.h>
#include "CLinuxPassthrough.h"

int cleave_vfio_set_irq(int device, uint32_t index, uint32_t flags, int32_t eventfd) {
    struct { struct vfio_irq_set set; int32_t fd; } request;
    memset(&request, 0, sizeof request);
    request.set.argsz = sizeof request;
    request.set.flags = flags;
    request.set.index = index;
    request.set.start = 0;
    request.set.count = 1;
    request.fd = eventfd;
    if (!(flags & VFIO_IRQ_SET_DATA_EVENTFD)) request.set.argsz = sizeof request.set;
    return ioctl(device, VFIO_DEVICE_SET_IRQS, &request) < 0 ? -errno : 0;
}

int cleave_realpath(const char *path, char *buffer, size_t size) {
    char resolved[PATH_MAX];
    if (!realpath(path, resolved)) return -errno;
    size_t n = strlen(resolved);
    if (n + 1 > size) return -ENAMETOOLONG;
    memcpy(buffer, resolved, n + 1);
    return (int)n;
}

long cleave_list_directory(const char *path, char *buffer, size_t size) {
    DIR *d = opendir(path);
    if (!d) return -errno;
    size_t used = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        size_t n = strlen(e->d_name) + 1;
        if (used + n > size) { closedir(d); return -ENOSPC; }
        memcpy(buffer + used, e->d_name, n);
        used += n;
    }
    closedir(d);
    return (long)used;
}

int cleave_kernel_log(char *buffer, int size) {
    int n = klogctl(3, buffer, size);
    return n < 0 ? -errno : n;
}

int cleave_mkdir(const char *path, unsigned int mode) { return mkdir(path, mode) < 0 ? -errno : 0; }

int cleave_poll_inputs(const int *fds, int count, int timeout_ms, uint8_t *ready) {
    struct pollfd p[64];
    if (count < 0 || count > 64) return -EINVAL;
    for (int i = 0; i < count; i++) { p[i].fd = fds[i]; p[i].events = POLLIN; p[i].revents = 0; }
    int n = poll(p, (nfds_t)count, timeout_ms);
    if (n < 0) return -errno;
    for (int i = 0; i < count; i++) ready[i] = (p[i].revents & (POLLIN | POLLHUP | POLLERR)) ? 1 : 0;
    return n;
}

uint64_t cleave_mmio_read(const void *address, int size) {
    switch (size) {
    case 1: return *(const volatile uint8_t *)address;
    case 2: return *(const volatile uint16_t *)address;
    case 4: return *(const volatile uint32_t *)address;
    default: return *(const volatile uint64_t *)address;
    }
}

void cleave_mmio_write(void *address, int size, uint64_t value) {
    switch (size) {
    case 1: *(volatile uint8_t *)address = (uint8_t)value; break;
    case 2: *(volatile uint16_t *)address = (uint16_t)value; break;
    case 4: *(volatile uint32_t *)address = (uint32_t)value; break;
    default: *(volatile uint64_t *)address = value; break;
    }
}

long cleave_pwrite(int fd, const void *buffer, size_t count, int64_t offset) {
    long n = pwrite(fd, buffer, count, offset);
    return n < 0 ? -errno : n;
}
