// Linux system interfaces Swift cannot import by itself: variadic calls (open,
// ioctl), ioctl request numbers (function-like _IOW macros), errno, and the
// arm64-only KVM uapi, with stand-ins so the x86_64 build compiles. No logic.
// Every call returns its result, or -errno on failure, so Swift never reads errno.
#ifndef CLEAVE_CLINUX_H
#define CLEAVE_CLINUX_H

#include <stdint.h>
#include <stddef.h>
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <pthread.h>
#include <signal.h>
#include <time.h>
#include <poll.h>
#include <sys/mman.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <linux/kvm.h>
#include "CLinuxPassthrough.h"
#include "CLinuxForward.h"

#if !defined(__aarch64__)
// Stand-ins for <asm/kvm.h> on arm64 (Documentation/virt/kvm/api.rst 4.82),
// same layout and values, so the normal x86_64 build type-checks the KVM layer.
struct kvm_vcpu_init { uint32_t target; uint32_t features[7]; };
#define KVM_ARM_VCPU_INIT        _IOW(KVMIO, 0xae, struct kvm_vcpu_init)
#define KVM_ARM_PREFERRED_TARGET _IOR(KVMIO, 0xaf, struct kvm_vcpu_init)
#define KVM_ARM_VCPU_POWER_OFF   0
#define KVM_ARM_VCPU_PSCI_0_2    2
#define KVM_ARM_VCPU_PMU_V3      3
#define KVM_ARM_VCPU_PMU_V3_CTRL 0
#define KVM_ARM_VCPU_PMU_V3_IRQ  0
#define KVM_ARM_VCPU_PMU_V3_INIT 1
#define KVM_ARM_VCPU_SVE         4
#define KVM_REG_ARM64_SVE        (0x0015 << 16)
#define KVM_REG_ARM64_SVE_VLS    (KVM_REG_ARM64 | KVM_REG_ARM64_SVE | KVM_REG_SIZE_U512 | 0xffff)
#define KVM_ARM64_SVE_VLS_WORDS  8
#define KVM_ARM_VCPU_PTRAUTH_ADDRESS 5
#define KVM_ARM_VCPU_PTRAUTH_GENERIC 6
#define KVM_REG_ARM_CORE         (0x0010 << 16)
#define KVM_REG_ARM64_SYSREG     (0x0013 << 16)
#define KVM_DEV_ARM_VGIC_GRP_ADDR    0
#define KVM_DEV_ARM_VGIC_GRP_NR_IRQS 3
#define KVM_DEV_ARM_VGIC_GRP_CTRL    4
#define KVM_DEV_ARM_VGIC_CTRL_INIT   0
#define KVM_VGIC_V2_ADDR_TYPE_DIST   0
#define KVM_VGIC_V2_ADDR_TYPE_CPU    1
#define KVM_VGIC_V3_ADDR_TYPE_DIST   2
#define KVM_VGIC_V3_ADDR_TYPE_REDIST 3
#define KVM_VGIC_ITS_ADDR_TYPE       4
#define KVM_ARM_IRQ_TYPE_SHIFT       24
#define KVM_ARM_IRQ_TYPE_SPI         1
#endif
#ifndef KVM_REG_ARM64
#define KVM_REG_ARM64 0x6000000000000000ULL
#endif

// ioctl request numbers (api.rst section 4). Macros built from _IO* cannot be
// imported by Swift, so each is a constant here.
static const unsigned long CLEAVE_KVM_GET_API_VERSION = KVM_GET_API_VERSION;
static const unsigned long CLEAVE_KVM_CREATE_VM = KVM_CREATE_VM;
static const unsigned long CLEAVE_KVM_CHECK_EXTENSION = KVM_CHECK_EXTENSION;
static const unsigned long CLEAVE_KVM_GET_VCPU_MMAP_SIZE = KVM_GET_VCPU_MMAP_SIZE;
static const unsigned long CLEAVE_KVM_CREATE_VCPU = KVM_CREATE_VCPU;
static const unsigned long CLEAVE_KVM_SET_USER_MEMORY_REGION = KVM_SET_USER_MEMORY_REGION;
static const unsigned long CLEAVE_KVM_RUN = KVM_RUN;
static const unsigned long CLEAVE_KVM_IRQ_LINE = KVM_IRQ_LINE;
static const unsigned long CLEAVE_KVM_IRQFD = KVM_IRQFD;
static const unsigned long CLEAVE_KVM_CREATE_DEVICE = KVM_CREATE_DEVICE;
static const unsigned long CLEAVE_KVM_SET_DEVICE_ATTR = KVM_SET_DEVICE_ATTR;
static const unsigned long CLEAVE_KVM_HAS_DEVICE_ATTR = KVM_HAS_DEVICE_ATTR;
static const unsigned long CLEAVE_KVM_GET_ONE_REG = KVM_GET_ONE_REG;
static const unsigned long CLEAVE_KVM_SET_ONE_REG = KVM_SET_ONE_REG;
static const unsigned long CLEAVE_KVM_GET_MP_STATE = KVM_GET_MP_STATE;
static const unsigned long CLEAVE_KVM_ARM_VCPU_INIT = KVM_ARM_VCPU_INIT;
static const unsigned long CLEAVE_KVM_ARM_PREFERRED_TARGET = KVM_ARM_PREFERRED_TARGET;
static const unsigned long CLEAVE_KVM_ARM_VCPU_FINALIZE = KVM_ARM_VCPU_FINALIZE;
static const uint64_t CLEAVE_KVM_REG_ARM64_SVE_VLS = KVM_REG_ARM64_SVE_VLS;
static const int CLEAVE_KVM_ARM64_SVE_VLS_WORDS = KVM_ARM64_SVE_VLS_WORDS;
static const uint64_t CLEAVE_KVM_REG_ARM64 = KVM_REG_ARM64;
static const uint64_t CLEAVE_KVM_REG_SIZE_U64 = KVM_REG_SIZE_U64;
static const uint64_t CLEAVE_KVM_REG_ARM_CORE = KVM_REG_ARM_CORE;
static const uint64_t CLEAVE_KVM_REG_ARM64_SYSREG = KVM_REG_ARM64_SYSREG;

static const int CLEAVE_MAP_HUGE_SHIFT = MAP_HUGE_SHIFT;
static const void *const CLEAVE_MAP_FAILED = MAP_FAILED;

int cleave_open(const char *path, int flags, unsigned int mode);
int cleave_close(int fd);
long cleave_read(int fd, void *buffer, size_t count);
long cleave_pread(int fd, void *buffer, size_t count, int64_t offset);
long cleave_write(int fd, const void *buffer, size_t count);
/// Size in bytes of an open file (fstat st_size), or -errno.
int64_t cleave_fd_size(int fd);
/// What tells one version of a file from another: a file replaced (a new
/// inode) or written (size, mtime, ctime) differs in at least one field.
struct cleave_file_identity { uint64_t device, inode, size, modified_ns, changed_ns; };
/// stat / fstat into `out`; 0, or -errno.
int cleave_stat_identity(const char *path, struct cleave_file_identity *out);
int cleave_fstat_identity(int fd, struct cleave_file_identity *out);
int cleave_ioctl(int fd, unsigned long request, void *argument);
int cleave_ioctl_value(int fd, unsigned long request, unsigned long value);
/// mmap returning NULL (and *error = errno) instead of MAP_FAILED.
void *cleave_mmap(void *address, size_t length, int protection, int flags, int fd, int64_t offset, int *error);
int cleave_munmap(void *address, size_t length);
int cleave_eventfd(unsigned int initial);
int cleave_getrandom(void *buffer, size_t count);
int cleave_unlink(const char *path);
int cleave_rename(const char *from, const char *to);

/// Pins the calling thread to one CPU; returns 0 or -errno.
int cleave_pin_current_thread(int cpu);
int cleave_current_cpu(void);
int cleave_gettid(void);
int cleave_online_cpus(void);

/// Installs `handler` for `signal` without SA_RESTART, so a blocked KVM_RUN
/// returns EINTR (api.rst 4.10: "KVM_RUN ... returns -EINTR on a pending signal").
int cleave_signal_install(int signal, void (*handler)(int));
int cleave_signal_ignore(int signal);
/// Sends `signal` to one thread of this process.
/// Threads by an integer handle: pthread_t is an integer in glibc and a
/// pointer in musl (the static boot-time binary), so Swift never sees it.
int cleave_thread_kill(uintptr_t thread, int signal);
int cleave_thread_create(uintptr_t *thread, void *(*entry)(void *), void *argument);
int cleave_thread_join(uintptr_t thread);

uint64_t cleave_monotonic_ns(void);
/// CLOCK_BOOTTIME in ns: includes time before this process existed.
uint64_t cleave_boottime_ns(void);
void cleave_sleep_ns(uint64_t ns);
/// memset(0): the C library's, which stores 16 or more bytes at a time.
void cleave_zero(void *memory, size_t count);
/// pthread_cond_init with CLOCK_MONOTONIC (pthread_condattr_setclock), so a
/// timed wait is not moved by changes of the wall clock.
int cleave_cond_init_monotonic(pthread_cond_t *condition);
/// pthread_cond_timedwait for at most `ns` from now on CLOCK_MONOTONIC;
/// 0 when signalled (or spuriously woken), -ETIMEDOUT after the time.
int cleave_cond_wait_ns(pthread_cond_t *condition, pthread_mutex_t *mutex, uint64_t ns);
/// Peak resident set size in KiB (getrusage ru_maxrss). hugetlb pages are not
/// counted in RSS, so guest RAM from hugetlbfs is excluded.
long cleave_peak_rss_kib(void);
/// CNTFRQ_EL0 (the generic timer's frequency in Hz) on arm64, 0 elsewhere.
uint64_t cleave_counter_frequency(void);
/// CNTVCT_EL0 (this process's virtual counter: the host's, offset 0) on arm64, 0 elsewhere.
uint64_t cleave_counter(void);
/// Minor page faults of this process so far (getrusage ru_minflt).
long cleave_minor_faults(void);
int cleave_poll_in(int fd, int timeout_ms);
int cleave_set_raw_terminal(int fd, int raw);
_Noreturn void cleave_exit(int status);
/// The process arguments, saved by an ELF constructor (Embedded Swift has no CommandLine).
int cleave_argc(void);
const char *cleave_argv(int index);
/// getenv, for builds without Foundation's ProcessInfo (Embedded Swift).
const char *cleave_getenv(const char *name);

// Processes, for the partition service (`cleave-boot start`).
/// fork + execv(path, argv) (argv NULL-terminated). The child asks for
/// `parent_death_signal` when its parent dies (prctl PR_SET_PDEATHSIG) and
/// exits 127 at once if the parent is already gone; it gets a process group
/// of its own. Returns the child's pid or -errno.
int cleave_spawn(const char *path, char *const argv[], int parent_death_signal);
/// waitpid(-1, WNOHANG): a child's pid with *status filled, 0 when none has
/// ended, -ECHILD when there are none.
int cleave_reap_any(int *status);
/// The exit code of a wait status, or -1 when the child did not exit normally.
int cleave_exit_code(int status);
/// The signal that killed the child of a wait status, or 0.
int cleave_exit_signal(int status);
int cleave_kill(int pid, int signal);
/// pidfd_open(pid, 0) (Linux 5.3): a pidfd of a thread-group leader, or
/// -errno (-ESRCH when no such process, reaped or never was). poll(POLLIN)
/// on it is ready once the whole thread group has exited, not when only the
/// leader has (kernel/pid.c pidfd_poll, thread_group_exited).
int cleave_pidfd_open(int pid);
int cleave_getpid(void);
int cleave_getuid(void);
/// flock(fd, LOCK_EX | LOCK_NB): 0, -EWOULDBLOCK when another holds it, or -errno.
int cleave_flock_exclusive(int fd);
/// flock(fd, LOCK_EX): waits while another holds it; -EINTR when a signal came first.
int cleave_flock_exclusive_wait(int fd);
int cleave_ftruncate(int fd, int64_t length);
/// Whether `path` exists (access F_OK): 1 or 0.
int cleave_exists(const char *path);
/// One datagram to a unix socket (`@name`: the abstract namespace), as
/// sd_notify(3) sends to $NOTIFY_SOCKET. Returns 0 or -errno.
int cleave_notify(const char *socket_path, const void *message, size_t length);

// Unix stream sockets, for a guest's console socket (`cleave-boot console`).
/// socket + bind + chmod(path, mode) + listen: a non-blocking, close-on-exec
/// listening socket at `path`. Returns the fd or -errno (the fd is closed on failure).
int cleave_unix_listen(const char *path, unsigned int mode, int backlog);
/// A close-on-exec stream socket connected to `path`: the fd or -errno
/// (-ENOENT: no socket there; -ECONNREFUSED: nothing listens on it).
int cleave_unix_connect(const char *path);
/// accept4(SOCK_NONBLOCK | SOCK_CLOEXEC): the new fd, or -errno (-EAGAIN: none waits).
int cleave_accept(int fd);
/// The pid of a connected unix socket's peer (SO_PEERCRED), or -errno.
int cleave_peer_pid(int fd);
/// send(MSG_DONTWAIT | MSG_NOSIGNAL): the bytes sent or -errno (-EAGAIN: the peer's buffer is full).
long cleave_send_nowait(int fd, const void *buffer, size_t count);
/// poll(2) on `count` descriptors: the number ready, or -errno.
int cleave_poll(struct pollfd *fds, unsigned long count, int timeout_ms);
/// O_NONBLOCK set (1) or cleared (0) on `fd`: 0 or -errno.
int cleave_set_nonblocking(int fd, int on);
int cleave_isatty(int fd);

#endif
