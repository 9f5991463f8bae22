// Device passthrough interfaces Swift cannot import by itself: VFIO ioctl
// request numbers (_IO macros), struct vfio_irq_set's flexible array, volatile
// MMIO accesses, and a few libc calls wrapped to return -errno. No logic.
#ifndef CLEAVE_CLINUX_PASSTHROUGH_H
#define CLEAVE_CLINUX_PASSTHROUGH_H

#include <stdint.h>
#include <stddef.h>
#include <linux/vfio.h>

// Documentation/driver-api/vfio.rst; include/uapi/linux/vfio.h.
static const unsigned long CLEAVE_VFIO_GET_API_VERSION = VFIO_GET_API_VERSION;
static const unsigned long CLEAVE_VFIO_CHECK_EXTENSION = VFIO_CHECK_EXTENSION;
static const unsigned long CLEAVE_VFIO_SET_IOMMU = VFIO_SET_IOMMU;
static const unsigned long CLEAVE_VFIO_GROUP_GET_STATUS = VFIO_GROUP_GET_STATUS;
static const unsigned long CLEAVE_VFIO_GROUP_SET_CONTAINER = VFIO_GROUP_SET_CONTAINER;
static const unsigned long CLEAVE_VFIO_GROUP_GET_DEVICE_FD = VFIO_GROUP_GET_DEVICE_FD;
static const unsigned long CLEAVE_VFIO_DEVICE_GET_INFO = VFIO_DEVICE_GET_INFO;
static const unsigned long CLEAVE_VFIO_DEVICE_GET_REGION_INFO = VFIO_DEVICE_GET_REGION_INFO;
static const unsigned long CLEAVE_VFIO_DEVICE_GET_IRQ_INFO = VFIO_DEVICE_GET_IRQ_INFO;
static const unsigned long CLEAVE_VFIO_DEVICE_RESET = VFIO_DEVICE_RESET;
/// VFIO_NOIOMMU_IOMMU (8): the container type of the no-IOMMU mode.
static const unsigned long CLEAVE_VFIO_NOIOMMU_IOMMU = 8;

/// VFIO_DEVICE_SET_IRQS for one vector (`start` 0, `count` 1) of `index`:
/// `flags` is VFIO_IRQ_SET_DATA_* | VFIO_IRQ_SET_ACTION_*; `eventfd` is the
/// data for DATA_EVENTFD (-1 tears the eventfd down) and ignored otherwise.
int cleave_vfio_set_irq(int device, uint32_t index, uint32_t flags, int32_t eventfd);

/// realpath(3) into `buffer`; returns the length or -errno.
int cleave_realpath(const char *path, char *buffer, size_t size);
/// The names in a directory (without . and ..), each NUL-terminated, packed
/// into `buffer`; returns the bytes used or -errno (-ENOSPC when it is full).
long cleave_list_directory(const char *path, char *buffer, size_t size);
/// klogctl(SYSLOG_ACTION_READ_ALL): the kernel log ring; bytes or -errno.
int cleave_kernel_log(char *buffer, int size);
int cleave_mkdir(const char *path, unsigned int mode);
long cleave_pwrite(int fd, const void *buffer, size_t count, int64_t offset);
/// poll(2) for input on `count` (at most 64) descriptors; `ready[i]` is set to 1 for each
/// readable (or hung-up) one. Returns the number ready, 0 on timeout, or -errno.
int cleave_poll_inputs(const int *fds, int count, int timeout_ms, uint8_t *ready);

/// One MMIO access of exactly `size` bytes (1, 2, 4, 8) through a volatile
/// pointer: device registers must not be split, merged or cached.
uint64_t cleave_mmio_read(const void *address, int size);
void cleave_mmio_write(void *address, int size, uint64_t value);

#endif
