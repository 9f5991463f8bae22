// Out-of-line wrappers: _GNU_SOURCE must be defined before any libc header, and
// cannot live in the module header (it breaks fd_set on x86; docs/kernel-facts.md §21).
#define _GNU_SOURCE
#include <sched.h>
#include <poll.h>
#include <stdlib.h>
#include <stdio.h>
#include <termios.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/syscall.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <sys/file.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <string.h>
#include "CLinux.h"

static inline int result(long value) { return value < 0 ? -errno : (int)value; }

int cleave_open(const char *path, int flags, unsigned int mode) { return result(open(path, flags, mode)); }
int cleave_close(int fd) { return result(close(fd)); }
long cleave_read(int fd, void *buffer, size_t count) { long n = read(fd, buffer, count); return n < 0 ? -errno : n; }
long cleave_pread(int fd, void *buffer, size_t count, int64_t offset) { long n = pread(fd, buffer, count, offset); return n < 0 ? -errno : n; }
long cleave_write(int fd, const void *buffer, size_t count) { long n = write(fd, buffer, count); return n < 0 ? -errno : n; }
int64_t cleave_fd_size(int fd) { struct stat st; return fstat(fd, &st) < 0 ? -errno : (int64_t)st.st_size; }

static void identity_of(const struct stat *st, struct cleave_file_identity *out) {
    out->device = st->st_dev;
    out->inode = st->st_ino;
    out->size = (uint64_t)st->st_size;
    out->modified_ns = (uint64_t)st->st_mtim.tv_sec * 1000000000u + (uint64_t)st->st_mtim.tv_nsec;
    out->changed_ns = (uint64_t)st->st_ctim.tv_sec * 1000000000u + (uint64_t)st->st_ctim.tv_nsec;
}
int cleave_stat_identity(const char *path, struct cleave_file_identity *out) {
    struct stat st;
    if (stat(path, &st) < 0) return -errno;
    identity_of(&st, out);
    return 0;
}
int cleave_fstat_identity(int fd, struct cleave_file_identity *out) {
    struct stat st;
    if (fstat(fd, &st) < 0) return -errno;
    identity_of(&st, out);
    return 0;
}
int cleave_ioctl(int fd, unsigned long request, void *argument) { return result(ioctl(fd, request, argument)); }
int cleave_ioctl_value(int fd, unsigned long request, unsigned long value) { return result(ioctl(fd, request, value)); }

void *cleave_mmap(void *address, size_t length, int protection, int flags, int fd, int64_t offset, int *error) {
    void *p = mmap(address, length, protection, flags, fd, offset);
    if (p == MAP_FAILED) { *error = errno; return NULL; }
    *error = 0;
    return p;
}
int cleave_munmap(void *address, size_t length) { return result(munmap(address, length)); }
int cleave_eventfd(unsigned int initial) { return result(eventfd(initial, EFD_CLOEXEC)); }
int cleave_getrandom(void *buffer, size_t count) { return result(getrandom(buffer, count, 0)); }
int cleave_unlink(const char *path) { return result(unlink(path)); }
int cleave_rename(const char *from, const char *to) { return result(rename(from, to)); }

int cleave_pin_current_thread(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    return result(sched_setaffinity(0, sizeof set, &set));
}
int cleave_current_cpu(void) { return sched_getcpu(); }
int cleave_gettid(void) { return (int)syscall(SYS_gettid); }
int cleave_online_cpus(void) { return (int)sysconf(_SC_NPROCESSORS_ONLN); }

int cleave_signal_install(int signal, void (*handler)(int)) {
    struct sigaction action = {0};
    action.sa_handler = handler;
    sigemptyset(&action.sa_mask);
    action.sa_flags = 0;
    return result(sigaction(signal, &action, NULL));
}
int cleave_signal_ignore(int signal) {
    struct sigaction action = {0};
    action.sa_handler = SIG_IGN;
    return result(sigaction(signal, &action, NULL));
}
int cleave_thread_kill(uintptr_t thread, int signal) { return -pthread_kill((pthread_t)thread, signal); }
int cleave_thread_create(uintptr_t *thread, void *(*entry)(void *), void *argument) {
    // An explicit stack size: musl's default (128 KiB) and glibc's (8 MiB)
    // differ too much for one code base to rely on either.
    pthread_attr_t attributes;
    pthread_attr_init(&attributes);
    pthread_attr_setstacksize(&attributes, 512 * 1024);
    pthread_t t;
    int r = pthread_create(&t, &attributes, entry, argument);
    pthread_attr_destroy(&attributes);
    if (r == 0) *thread = (uintptr_t)t;
    return -r;
}
int cleave_thread_join(uintptr_t thread) { return -pthread_join((pthread_t)thread, NULL); }

static uint64_t clock_ns(clockid_t clock) {
    struct timespec t;
    clock_gettime(clock, &t);
    return (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec;
}
uint64_t cleave_monotonic_ns(void) { return clock_ns(CLOCK_MONOTONIC); }
uint64_t cleave_boottime_ns(void) { return clock_ns(CLOCK_BOOTTIME); }
void cleave_sleep_ns(uint64_t ns) {
    struct timespec t = { (time_t)(ns / 1000000000ull), (long)(ns % 1000000000ull) };
    while (nanosleep(&t, &t) < 0 && errno == EINTR) {}
}
void cleave_zero(void *memory, size_t count) { memset(memory, 0, count); }
int cleave_cond_init_monotonic(pthread_cond_t *condition) {
    pthread_condattr_t attributes;
    pthread_condattr_init(&attributes);
    pthread_condattr_setclock(&attributes, CLOCK_MONOTONIC);
    int r = pthread_cond_init(condition, &attributes);
    pthread_condattr_destroy(&attributes);
    return -r;
}
int cleave_cond_wait_ns(pthread_cond_t *condition, pthread_mutex_t *mutex, uint64_t ns) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    uint64_t end = (uint64_t)t.tv_sec * 1000000000ull + (uint64_t)t.tv_nsec + ns;
    t.tv_sec = (time_t)(end / 1000000000ull);
    t.tv_nsec = (long)(end % 1000000000ull);
    return -pthread_cond_timedwait(condition, mutex, &t);
}
long cleave_peak_rss_kib(void) {
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) < 0) return -errno;
    return usage.ru_maxrss;
}
#if !defined(__GLIBC__)
/// musl (the static boot-time binary's libc) has no arc4random_buf, which
/// Embedded Swift's Hasher seeds itself from.
void arc4random_buf(void *buffer, size_t count) {
    unsigned char *p = buffer;
    while (count > 0) {
        ssize_t n = getrandom(p, count, 0);
        if (n <= 0) { if (n < 0 && errno == EINTR) continue; break; }
        p += n;
        count -= (size_t)n;
    }
}
#endif
uint64_t cleave_counter_frequency(void) {
#if defined(__aarch64__)
    uint64_t frequency;
    __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(frequency));
    return frequency;
#else
    return 0;
#endif
}
uint64_t cleave_counter(void) {
#if defined(__aarch64__)
    uint64_t count;
    __asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(count));
    return count;
#else
    return 0;
#endif
}
long cleave_minor_faults(void) {
    struct rusage usage;
    if (getrusage(RUSAGE_SELF, &usage) < 0) return -errno;
    return usage.ru_minflt;
}
int cleave_poll_in(int fd, int timeout_ms) {
    struct pollfd p = { .fd = fd, .events = POLLIN };
    return result(poll(&p, 1, timeout_ms));
}
int cleave_set_raw_terminal(int fd, int raw) {
    static struct termios saved;
    static int have_saved;
    if (!raw) return have_saved ? result(tcsetattr(fd, TCSANOW, &saved)) : 0;
    struct termios t;
    if (tcgetattr(fd, &t) < 0) return -errno;
    saved = t;
    have_saved = 1;
    cfmakeraw(&t);
    t.c_oflag |= OPOST;
    return result(tcsetattr(fd, TCSANOW, &t));
}
_Noreturn void cleave_exit(int status) { fflush(stdout); exit(status); }

// Embedded Swift has no CommandLine, so argc/argv are kept here. glibc calls
// ELF constructors with (argc, argv, envp); musl (the static boot-time binary)
// does not, so that binary enters through cleave_start instead (linked as
// main by Scripts/build-static), which saves them and calls Swift's main.
static int saved_argc;
static char **saved_argv;
#if defined(__GLIBC__)
__attribute__((constructor)) static void cleave_save_arguments(int argc, char **argv, char **envp) {
    (void)envp;
    saved_argc = argc;
    saved_argv = argv;
}
#endif
// The cleave-boot module's main; absent (weak, never called) in other programs.
extern int cleave_boot_main(int argc, char **argv) __attribute__((weak));
int cleave_start(int argc, char **argv) {
    saved_argc = argc;
    saved_argv = argv;
    return cleave_boot_main(argc, argv);
}
int cleave_argc(void) { return saved_argc; }
const char *cleave_argv(int index) { return index < saved_argc ? saved_argv[index] : NULL; }
const char *cleave_getenv(const char *name) { return getenv(name); }

int cleave_spawn(const char *path, char *const argv[], int parent_death_signal) {
    pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) return -errno;
    if (pid == 0) {
        // Only async-signal-safe calls between fork and exec.
        if (parent_death_signal && prctl(PR_SET_PDEATHSIG, parent_death_signal) < 0) _exit(127);
        if (getppid() != parent) _exit(127);
        // Its own process group: a terminal's Ctrl-C reaches the service,
        // which stops its guests in order, not every guest at once behind its back.
        setpgid(0, 0);
        execv(path, argv);
        _exit(127);
    }
    return pid;
}
int cleave_reap_any(int *status) { return result(waitpid(-1, status, WNOHANG)); }
int cleave_exit_code(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }
int cleave_exit_signal(int status) { return WIFSIGNALED(status) ? WTERMSIG(status) : 0; }
int cleave_kill(int pid, int signal) { return result(kill(pid, signal)); }
#ifndef SYS_pidfd_open
#define SYS_pidfd_open 434 /* asm-generic/unistd.h, arm64 and x86-64 alike */
#endif
int cleave_pidfd_open(int pid) { return result((int)syscall(SYS_pidfd_open, pid, 0)); }
int cleave_getpid(void) { return getpid(); }
int cleave_getuid(void) { return (int)getuid(); }
int cleave_flock_exclusive(int fd) { return result(flock(fd, LOCK_EX | LOCK_NB)); }
int cleave_flock_exclusive_wait(int fd) { return result(flock(fd, LOCK_EX)); }
int cleave_ftruncate(int fd, int64_t length) { return result(ftruncate(fd, length)); }
int cleave_exists(const char *path) { return access(path, F_OK) == 0; }
int cleave_notify(const char *socket_path, const void *message, size_t length) {
    struct sockaddr_un address = { .sun_family = AF_UNIX };
    size_t n = strlen(socket_path);
    if (n == 0 || n >= sizeof address.sun_path) return -EINVAL;
    memcpy(address.sun_path, socket_path, n);
    if (address.sun_path[0] == '@') address.sun_path[0] = 0;
    int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    long sent = sendto(fd, message, length, MSG_NOSIGNAL, (struct sockaddr *)&address,
                       (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n));
    int error = sent < 0 ? -errno : 0;
    close(fd);
    return error;
}

static int unix_address(const char *path, struct sockaddr_un *address, socklen_t *length) {
    size_t n = strlen(path);
    if (n == 0 || n >= sizeof address->sun_path) return -ENAMETOOLONG;
    memset(address, 0, sizeof *address);
    address->sun_family = AF_UNIX;
    memcpy(address->sun_path, path, n);
    *length = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + 1);
    return 0;
}
int cleave_unix_listen(const char *path, unsigned int mode, int backlog) {
    struct sockaddr_un address;
    socklen_t length;
    int r = unix_address(path, &address, &length);
    if (r < 0) return r;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    if (bind(fd, (struct sockaddr *)&address, length) < 0 || chmod(path, mode) < 0 || listen(fd, backlog) < 0) {
        int error = -errno;
        close(fd);
        return error;
    }
    return fd;
}
int cleave_unix_connect(const char *path) {
    struct sockaddr_un address;
    socklen_t length;
    int r = unix_address(path, &address, &length);
    if (r < 0) return r;
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) return -errno;
    if (connect(fd, (struct sockaddr *)&address, length) < 0) {
        int error = -errno;
        close(fd);
        return error;
    }
    return fd;
}
int cleave_accept(int fd) { return result(accept4(fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC)); }
int cleave_peer_pid(int fd) {
    struct ucred credentials;
    socklen_t length = sizeof credentials;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &credentials, &length) < 0) return -errno;
    return credentials.pid;
}
long cleave_send_nowait(int fd, const void *buffer, size_t count) {
    long n = send(fd, buffer, count, MSG_DONTWAIT | MSG_NOSIGNAL);
    return n < 0 ? -errno : n;
}
int cleave_poll(struct pollfd *fds, unsigned long count, int timeout_ms) { return result(poll(fds, (nfds_t)count, timeout_ms)); }
int cleave_set_nonblocking(int fd, int on) {
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0) return -errno;
    return result(fcntl(fd, F_SETFL, on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK));
}
int cleave_isatty(int fd) { return isatty(fd); }
