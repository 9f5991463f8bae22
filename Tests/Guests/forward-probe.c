// The userspace side of cleave-forward's proofs in the QEMU-virt board
// (Tests/QEMUVirt/board/cleave-forward-run): a minimal VMM for
// forward-guest.bin, with one SPI forwarded through /dev/cleave-forward
// (Kernel/cleave-forward/cleave-forward.h). Every line it prints starts with
// CLEAVE-FWD-.
//
//   forward-probe info INTID [map]     the host side of INTID (map: create its
//                                      Linux IRQ from the host's tree)
//   forward-probe run GUEST INTID CPU COUNT rtc|raise [hold] [vfio|vfio-first]
//        maps INTID, pins itself to CPU, creates a VM (1 vCPU, the host's
//        vGIC model, the PL031 page from /dev/mem with `rtc`), forwards INTID
//        to vCPU 0 on CPU and runs the guest (forward-guest.S):
//        COUNT interrupts then one held. Reports at each guest mark: the
//        host's /proc/interrupts count, the forwarding's status, this
//        process's KVM_RUN returns. With `hold` the guest keeps the SPI
//        active forever: the probe says HOLDING and runs until killed. With
//        `vfio` the PL031's page comes from its VFIO device (bound to
//        vfio-platform, no-IOMMU), opened after the forwarding: the MMIO
//        works, and VFIO's own trigger for the IRQ is refused. With
//        `vfio-first` the VFIO device is opened before: the forwarding is
//        refused (vfio-platform holds the IRQ) and the probe says so.
//   forward-probe bench GUEST INTID CPU COUNT forward|irqfd|uio DEVICE
//        the benchmark (issue 10): the same guest (forward-guest.S, its
//        benchmark area) takes COUNT interrupts of INTID through one path:
//        forwarded; VFIO's eventfd + KVM_IRQFD (DEVICE bound to
//        vfio-platform; a level SPI with KVM's resamplefd as VFIO's unmask);
//        the supervisor's UIO relay (DEVICE bound to uio_pdrv_genirq: an
//        edge SPI by KVM_IRQ_LINE high and low, then re-enabled; a level SPI
//        by an irqfd, re-enabled when its resamplefd fires). The trigger is
//        the host tree's; a level SPI made pending by the host stays so
//        until the host takes it, and forwarded, the raiser then stands in
//        for its device's line until the guest acknowledges it (line_held).
//        A thread on the other CPU raises each one at the host GIC
//        (CLEAVE_FORWARD_RAISE_SPI, which stamps the counter) 2 ms after the
//        guest asked, while it sleeps in WFI. Prints one CLEAVE-FWD-BENCH
//        line: latency from the stamp to the guest's first instruction after
//        the wake (median, min, max), and per interrupt the host's
//        /proc/interrupts count, KVM's irqfd wake-ups and its injections
//        from its workqueue (the kprobe events cleave_irqfd_wakeup and
//        cleave_irqfd_inject, which the caller sets; -1 without them), the
//        relay's wake-ups with an event (UIO or resamplefd), the vCPU's
//        exits (KVM's "exits" statistic) and KVM_RUN returns to this process.
//   forward-probe refuse INTID CPU     each refusal of CLEAVE_FORWARD_SPI, one
//                                      line each: case, errno (INTID: an SPI of
//                                      the host's tree no host driver holds)
//   forward-probe refuse-split INTID CPU   the refusal of a host GIC that is
//                                      not in split EOI/Deactivate mode
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/vfio.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "cleave-forward.h"

#define RAM_BASE 0x40000000ull
#define RAM_SIZE 0x200000ull
#define LOAD_OFFSET 0x80000ull
#define GICD_BASE 0x08000000ull
#define GICR_BASE 0x080a0000ull /* v3: redistributors */
#define GICC_BASE 0x08010000ull /* v2: CPU interface */
#define PL031_BASE 0x09010000ull
#define MARK_ADDRESS 0x0b000000ull /* no slot: each store is an MMIO exit */
#define RUN_SECONDS 60

enum { MARK_START = 1, MARK_RAISE = 2, MARK_HELD = 3, MARK_EOIED = 4, MARK_END = 0x100, MARK_WRONG = 0xe00 };

static void die(const char *what) {
    printf("CLEAVE-FWD-ERROR %s: %s\n", what, strerror(errno));
    exit(1);
}

static const char *errno_name(int e) {
    switch (e) {
    case 0: return "0";
    case EBADF: return "EBADF";
    case EINVAL: return "EINVAL";
    case ENODEV: return "ENODEV";
    case ENOENT: return "ENOENT";
    case ERANGE: return "ERANGE";
    case ENXIO: return "ENXIO";
    case EOPNOTSUPP: return "EOPNOTSUPP";
    case EXDEV: return "EXDEV";
    case EBUSY: return "EBUSY";
    case EPERM: return "EPERM";
    default: return strerror(e);
    }
}

static int device(void) {
    int fd = open(CLEAVE_FORWARD_DEVICE, O_RDWR | O_CLOEXEC);
    if (fd < 0) die(CLEAVE_FORWARD_DEVICE);
    return fd;
}

static struct cleave_forward_irq_info irq_info(int dev, unsigned intid, int map) {
    struct cleave_forward_irq_info info = { .intid = intid, .flags = map ? CLEAVE_FORWARD_INFO_MAP : 0 };
    if (ioctl(dev, CLEAVE_FORWARD_IRQ_INFO, &info) < 0) die("CLEAVE_FORWARD_IRQ_INFO");
    return info;
}

static void print_state(unsigned state) {
    printf("requested=%d forwarded=%d active=%d pending=%d split=%d", !!(state & CLEAVE_FORWARD_REQUESTED),
           !!(state & CLEAVE_FORWARD_FORWARDED), !!(state & CLEAVE_FORWARD_ACTIVE), !!(state & CLEAVE_FORWARD_PENDING),
           !!(state & CLEAVE_FORWARD_SPLIT_EOI));
}

static void print_info(const char *tag, const struct cleave_forward_irq_info *info) {
    printf("%s intid=%u irq=%u trigger=%s cpu=%d ", tag, info->intid, info->irq,
           info->trigger == 1 ? "edge" : info->trigger == 4 ? "level" : "none", info->cpu);
    print_state(info->state);
    printf("\n");
    fflush(stdout);
}

// The host's interrupt count of a GIC INTID, all CPUs, from /proc/interrupts
// (the line "IRQ: counts... GICv3 INTID Level name"); -1 when it has none.
static long host_count(unsigned intid) {
    FILE *f = fopen("/proc/interrupts", "r");
    char line[512];
    long found = -1;
    if (!f) return -1;
    while (found < 0 && fgets(line, sizeof line, f)) {
        char *fields[64], *save = NULL;
        int n = 0;
        for (char *t = strtok_r(line, " \t\n", &save); t && n < 64; t = strtok_r(NULL, " \t\n", &save)) fields[n++] = t;
        for (int i = 1; i + 1 < n; i++) {
            if (strncmp(fields[i], "GIC", 3) || strtoul(fields[i + 1], NULL, 10) != intid) continue;
            found = 0;
            for (int j = 1; j < i; j++) found += strtol(fields[j], NULL, 10);
            break;
        }
    }
    fclose(f);
    return found;
}

static void pin(int cpu) {
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    if (sched_setaffinity(0, sizeof set, &set)) die("sched_setaffinity");
}

struct vm {
    int kvm, fd, vcpu, gic_fd, gic_version;
    struct kvm_run *run;
    uint8_t *ram;
};

static void set_attr(int fd, uint32_t group, uint64_t attr, void *value, const char *what) {
    struct kvm_device_attr a = { .group = group, .attr = attr, .addr = (uint64_t)(uintptr_t)value };
    if (ioctl(fd, KVM_SET_DEVICE_ATTR, &a) < 0) die(what);
}

// A VM with RAM, one vCPU and a vGIC of the host's model with NR_IRQS lines,
// initialised when `init`.
static struct vm make_vm(unsigned nr_irqs, int init) {
    struct vm vm = { .gic_fd = -1 };
    vm.kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC);
    if (vm.kvm < 0) die("/dev/kvm");
    vm.fd = ioctl(vm.kvm, KVM_CREATE_VM, 0);
    if (vm.fd < 0) die("KVM_CREATE_VM");
    vm.ram = mmap(NULL, RAM_SIZE, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (vm.ram == MAP_FAILED) die("mmap RAM");
    struct kvm_userspace_memory_region region = { .slot = 0, .guest_phys_addr = RAM_BASE, .memory_size = RAM_SIZE,
                                                  .userspace_addr = (uint64_t)(uintptr_t)vm.ram };
    if (ioctl(vm.fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) die("KVM_SET_USER_MEMORY_REGION RAM");
    vm.vcpu = ioctl(vm.fd, KVM_CREATE_VCPU, 0);
    if (vm.vcpu < 0) die("KVM_CREATE_VCPU");
    struct kvm_vcpu_init vcpu_init;
    if (ioctl(vm.fd, KVM_ARM_PREFERRED_TARGET, &vcpu_init) < 0) die("KVM_ARM_PREFERRED_TARGET");
    vcpu_init.features[0] |= 1u << KVM_ARM_VCPU_PSCI_0_2;
    if (ioctl(vm.vcpu, KVM_ARM_VCPU_INIT, &vcpu_init) < 0) die("KVM_ARM_VCPU_INIT");
    int size = ioctl(vm.kvm, KVM_GET_VCPU_MMAP_SIZE, 0);
    vm.run = mmap(NULL, (size_t)size, PROT_READ | PROT_WRITE, MAP_SHARED, vm.vcpu, 0);
    if (vm.run == MAP_FAILED) die("mmap kvm_run");

    struct kvm_create_device gic = { .type = KVM_DEV_TYPE_ARM_VGIC_V3 };
    vm.gic_version = 3;
    if (ioctl(vm.fd, KVM_CREATE_DEVICE, &gic) < 0) {
        gic.type = KVM_DEV_TYPE_ARM_VGIC_V2; // a GICv2 host has no vGICv3 (ENODEV)
        vm.gic_version = 2;
        if (ioctl(vm.fd, KVM_CREATE_DEVICE, &gic) < 0) die("KVM_CREATE_DEVICE vGIC");
    }
    vm.gic_fd = (int)gic.fd;
    uint64_t dist = GICD_BASE, cpu = vm.gic_version == 3 ? GICR_BASE : GICC_BASE;
    set_attr(vm.gic_fd, KVM_DEV_ARM_VGIC_GRP_ADDR, vm.gic_version == 3 ? KVM_VGIC_V3_ADDR_TYPE_DIST : KVM_VGIC_V2_ADDR_TYPE_DIST, &dist, "vGIC distributor address");
    set_attr(vm.gic_fd, KVM_DEV_ARM_VGIC_GRP_ADDR, vm.gic_version == 3 ? KVM_VGIC_V3_ADDR_TYPE_REDIST : KVM_VGIC_V2_ADDR_TYPE_CPU, &cpu, "vGIC redistributor/CPU address");
    uint32_t lines = nr_irqs;
    set_attr(vm.gic_fd, KVM_DEV_ARM_VGIC_GRP_NR_IRQS, 0, &lines, "vGIC NR_IRQS");
    if (init) set_attr(vm.gic_fd, KVM_DEV_ARM_VGIC_GRP_CTRL, KVM_DEV_ARM_VGIC_CTRL_INIT, NULL, "vGIC CTRL_INIT");
    return vm;
}

static void set_reg(struct vm *vm, uint64_t id, uint64_t value) {
    struct kvm_one_reg reg = { .id = id, .addr = (uint64_t)(uintptr_t)&value };
    if (ioctl(vm->vcpu, KVM_SET_ONE_REG, &reg) < 0) die("KVM_SET_ONE_REG");
}

#define CORE_REG(name) (KVM_REG_ARM64 | KVM_REG_SIZE_U64 | KVM_REG_ARM_CORE | KVM_REG_ARM_CORE_REG(name))

static int forward(int dev, int vm_fd, unsigned vcpu, unsigned intid, unsigned cpu) {
    struct cleave_forward_spi req = { .vm_fd = vm_fd, .vcpu = vcpu, .intid = intid, .host_cpu = cpu };
    return ioctl(dev, CLEAVE_FORWARD_SPI, &req);
}

static struct cleave_forward_status status(int fwd) {
    struct cleave_forward_status s;
    if (ioctl(fwd, CLEAVE_FORWARD_STATUS, &s) < 0) die("CLEAVE_FORWARD_STATUS");
    return s;
}

static void timeout(int signal) { (void)signal; }

// A platform device bound to vfio-platform (no-IOMMU group): its VFIO device
// fd, open for the rest of the run.
static int vfio_device(const char *device) {
    char path[160], link[160];
    snprintf(path, sizeof path, "/sys/bus/platform/devices/%s/iommu_group", device);
    ssize_t n = readlink(path, link, sizeof link - 1);
    if (n < 0) die(path);
    link[n] = 0;
    snprintf(path, sizeof path, "/dev/vfio/noiommu-%s", strrchr(link, '/') + 1);
    int container = open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC), group = open(path, O_RDWR | O_CLOEXEC);
    if (container < 0 || group < 0) die(path);
    if (ioctl(group, VFIO_GROUP_SET_CONTAINER, &container) < 0) die("VFIO_GROUP_SET_CONTAINER");
    if (ioctl(container, VFIO_SET_IOMMU, VFIO_NOIOMMU_IOMMU) < 0) die("VFIO_SET_IOMMU");
    int dev = ioctl(group, VFIO_GROUP_GET_DEVICE_FD, device);
    if (dev < 0) die("VFIO_GROUP_GET_DEVICE_FD");
    return dev;
}

// VFIO's eventfd trigger for the device's IRQ 0: 0 or an errno.
static int vfio_trigger(int dev, int eventfd) {
    struct { struct vfio_irq_set set; int32_t fd; } trigger = {
        { .argsz = sizeof trigger, .flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, .count = 1 },
        eventfd };
    return ioctl(dev, VFIO_DEVICE_SET_IRQS, &trigger) < 0 ? errno : 0;
}

// The first region of a platform device bound to vfio-platform, mapped;
// tries VFIO's own eventfd trigger for its IRQ 0 and says how that went.
static void *vfio_window(const char *device) {
    int dev = vfio_device(device);
    struct vfio_region_info region = { .argsz = sizeof region, .index = 0 };
    if (ioctl(dev, VFIO_DEVICE_GET_REGION_INFO, &region) < 0) die("VFIO_DEVICE_GET_REGION_INFO");
    void *window = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED, dev, (off_t)region.offset);
    if (window == MAP_FAILED) die("mmap VFIO region 0");
    int set = vfio_trigger(dev, eventfd(0, EFD_CLOEXEC));
    printf("CLEAVE-FWD-VFIO device=%s opened=1 region_size=%#llx set_irqs=%s\n", device,
           (unsigned long long)region.size, errno_name(set));
    return window;
}

static int run(int argc, char **argv) {
    if (argc < 7) return 2;
    const char *guest = argv[2];
    unsigned intid = (unsigned)atoi(argv[3]), count = (unsigned)atoi(argv[5]);
    int cpu = atoi(argv[4]), rtc = !strcmp(argv[6], "rtc"), hold = 0, vfio = 0, vfio_first = 0;
    for (int i = 7; i < argc; i++) {
        hold |= !strcmp(argv[i], "hold");
        vfio |= !strcmp(argv[i], "vfio");
        vfio_first |= !strcmp(argv[i], "vfio-first");
    }
    int dev = device();

    // The order the supervisor follows: the INTID's Linux IRQ, the vCPU
    // thread pinned to its CPU, then the forwarding (which steers the IRQ there).
    struct cleave_forward_irq_info info = irq_info(dev, intid, 1);
    if (!info.irq) { printf("CLEAVE-FWD-ERROR INTID %u: no Linux IRQ and no host tree node names it\n", intid); return 1; }
    print_info("CLEAVE-FWD-BEFORE", &info);
    pin(cpu);
    struct vm vm = make_vm(256, 1);
    FILE *image = fopen(guest, "r");
    if (!image) die(guest);
    size_t n = fread(vm.ram + LOAD_OFFSET, 1, RAM_SIZE - LOAD_OFFSET, image);
    fclose(image);
    if (!n) die("reading the guest");
    set_reg(&vm, CORE_REG(regs.pc), RAM_BASE + LOAD_OFFSET);
    uint64_t args[9] = { (uint64_t)vm.gic_version, GICD_BASE, vm.gic_version == 3 ? GICR_BASE : GICC_BASE,
                         rtc ? PL031_BASE : 0, MARK_ADDRESS, (uint64_t)hold, intid, count, info.trigger == 1 };
    for (int i = 0; i < 9; i++) set_reg(&vm, CORE_REG(regs.regs[i]), args[i]);

    if (vfio_first) {
        vfio_window("9010000.pl031");
        int fd = forward(dev, vm.fd, 0, intid, (unsigned)cpu);
        printf("CLEAVE-FWD-REFUSE case=vfio-opened-first errno=%s\n", errno_name(fd < 0 ? errno : 0));
        return fd < 0 ? 0 : 1;
    }
    int fwd = forward(dev, vm.fd, 0, intid, (unsigned)cpu);
    if (fwd < 0) die("CLEAVE_FORWARD_SPI");
    info = irq_info(dev, intid, 0);
    if (rtc) {
        // The device's page: from its VFIO device, opened only now (vfio-platform
        // requests the device's IRQs when it is opened), or from /dev/mem.
        void *window = MAP_FAILED;
        if (vfio) {
            window = vfio_window("9010000.pl031");
        } else {
            int mem = open("/dev/mem", O_RDWR | O_SYNC | O_CLOEXEC);
            if (mem < 0) die("/dev/mem");
            window = mmap(NULL, 0x1000, PROT_READ | PROT_WRITE, MAP_SHARED, mem, PL031_BASE);
            if (window == MAP_FAILED) die("mmap /dev/mem PL031");
        }
        struct kvm_userspace_memory_region region = { .slot = 1, .guest_phys_addr = PL031_BASE, .memory_size = 0x1000,
                                                      .userspace_addr = (uint64_t)(uintptr_t)window };
        if (ioctl(vm.fd, KVM_SET_USER_MEMORY_REGION, &region) < 0) die("KVM_SET_USER_MEMORY_REGION PL031");
    }
    printf("CLEAVE-FWD-RUN pid=%d gic=v%d cpu=%d mode=%s ", getpid(), vm.gic_version, cpu, rtc ? "rtc" : "raise");
    print_info("forwarded", &info);

    struct sigaction action = { .sa_handler = timeout }; // no SA_RESTART: KVM_RUN returns EINTR
    sigaction(SIGALRM, &action, NULL);
    alarm(RUN_SECONDS);
    long runs = 0, start_runs = 0, start_count = 0;
    unsigned held_handled = 0;
    int status_code = 1;
    for (;;) {
        if (ioctl(vm.vcpu, KVM_RUN, 0) < 0) {
            if (errno == EINTR) { printf("CLEAVE-FWD-TIMEOUT after %d s\n", RUN_SECONDS); break; }
            die("KVM_RUN");
        }
        runs++;
        if (vm.run->exit_reason == KVM_EXIT_SYSTEM_EVENT) { status_code = 0; break; }
        if (vm.run->exit_reason != KVM_EXIT_MMIO || vm.run->mmio.phys_addr != MARK_ADDRESS || !vm.run->mmio.is_write) {
            printf("CLEAVE-FWD-ERROR exit %u at %#llx\n", vm.run->exit_reason, (unsigned long long)vm.run->mmio.phys_addr);
            break;
        }
        uint32_t mark;
        memcpy(&mark, vm.run->mmio.data, sizeof mark);
        struct cleave_forward_status s = status(fwd);
        if (mark == MARK_START) {
            start_runs = runs;
            start_count = host_count(intid);
        } else if (mark == MARK_RAISE) {
            if (ioctl(fwd, CLEAVE_FORWARD_RAISE) < 0) die("CLEAVE_FORWARD_RAISE");
        } else if ((mark & ~0xffu) == MARK_END) {
            // KVM_RUN returns between the START and END marks, the END one excluded.
            printf("CLEAVE-FWD-PHASE interrupts=%u host_irqs=%ld handled=%u user_exits=%ld%s\n", mark & 0xff,
                   host_count(intid) - start_count, s.handled, runs - start_runs - 1,
                   rtc ? "" : " (each after a RAISE mark)");
        } else if (mark == MARK_HELD) {
            held_handled = s.handled;
            printf("CLEAVE-FWD-HELD handled=%u ", s.handled);
            print_state(s.state);
            printf("\n");
            if (hold) {
                printf("CLEAVE-FWD-HOLDING pid=%d\n", getpid());
                fflush(stdout);
                alarm(0);
            }
        } else if (mark == MARK_EOIED) {
            printf("CLEAVE-FWD-EOIED handled=%u handled_since_held=%u ", s.handled, s.handled - held_handled);
            print_state(s.state);
            printf("\n");
        } else {
            printf("CLEAVE-FWD-ERROR guest mark %#x%s\n", mark, (mark & ~0xffu) == MARK_WRONG ? " (wrong INTID)" : "");
            break;
        }
        fflush(stdout);
    }
    struct cleave_forward_status s = status(fwd);
    printf("CLEAVE-FWD-STATUS handled=%u off_cpu=%u vcpu_thread_cpu=%d host_cpu=%u ", s.handled, s.off_cpu,
           s.vcpu_thread_cpu, s.host_cpu);
    print_state(s.state);
    printf("\n");
    close(fwd);
    info = irq_info(dev, intid, 0);
    print_info("CLEAVE-FWD-AFTER", &info);
    printf("CLEAVE-FWD-DONE status=%d\n", status_code);
    return status_code;
}

// Each refusal, from one initialised VM unless the case needs another.
static int refuse(int argc, char **argv) {
    if (argc < 4) return 2;
    unsigned intid = (unsigned)atoi(argv[2]);
    int cpu = atoi(argv[3]), other = cpu ? 0 : 1, dev = device();
    struct vm vm = make_vm(64, 1);
    struct cleave_forward_irq_info info = irq_info(dev, intid, 1);
    // A host SPI past the 64 lines of that VM's vGIC: the last virtio-mmio transport's.
    irq_info(dev, 79, 1);
    struct cleave_forward_irq_info console = irq_info(dev, 33, 0); // the PL011: the host's console driver holds it
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    struct { const char *name; int vm_fd; unsigned vcpu, intid, cpu; } cases[] = {
        { "closed-fd", 999, 0, intid, (unsigned)cpu },
        { "not-a-vm", devnull, 0, intid, (unsigned)cpu },
        { "ppi", vm.fd, 0, 27, (unsigned)cpu },
        { "beyond-1019", vm.fd, 0, 1020, (unsigned)cpu },
        { "beyond-the-vgic", vm.fd, 0, 79, (unsigned)cpu },
        { "no-vcpu", vm.fd, 7, intid, (unsigned)cpu },
        { "cpu-offline", vm.fd, 0, intid, 7 },
        { "host-driver", vm.fd, 0, 33, console.cpu < 0 ? 0u : (unsigned)console.cpu },
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        int fd = forward(dev, cases[i].vm_fd, cases[i].vcpu, cases[i].intid, cases[i].cpu);
        printf("CLEAVE-FWD-REFUSE case=%s errno=%s\n", cases[i].name, errno_name(fd < 0 ? errno : 0));
        if (fd >= 0) close(fd);
    }
    // An INTID no host device names: no Linux IRQ even when asked to map one.
    struct vm big = make_vm(256, 1);
    struct cleave_forward_irq_info none = irq_info(dev, 200, 1);
    int fd = forward(dev, big.fd, 0, 200, (unsigned)cpu);
    printf("CLEAVE-FWD-REFUSE case=no-host-mapping errno=%s irq=%u\n", errno_name(fd < 0 ? errno : 0), none.irq);
    // A vGIC created but not initialised.
    struct vm raw = make_vm(64, 0);
    fd = forward(dev, raw.fd, 0, intid, (unsigned)cpu);
    printf("CLEAVE-FWD-REFUSE case=vgic-not-initialised errno=%s\n", errno_name(fd < 0 ? errno : 0));
    // Forwarded once: the second forwarding of the same INTID is refused.
    int first = forward(dev, vm.fd, 0, intid, (unsigned)cpu);
    fd = forward(dev, big.fd, 0, intid, (unsigned)cpu);
    printf("CLEAVE-FWD-REFUSE case=already-forwarded errno=%s first=%s\n", errno_name(fd < 0 ? errno : 0),
           first >= 0 ? "ok" : errno_name(errno));
    if (first >= 0) close(first);
    // A vCPU whose thread has run (KVM_RUN with immediate_exit) pinned to
    // another CPU than the one asked for.
    pin(other);
    vm.run->immediate_exit = 1;
    int ran = ioctl(vm.vcpu, KVM_RUN, 0) < 0 && errno == EINTR;
    fd = forward(dev, vm.fd, 0, intid, (unsigned)cpu);
    printf("CLEAVE-FWD-REFUSE case=vcpu-thread-elsewhere errno=%s ran=%d\n", errno_name(fd < 0 ? errno : 0), ran);
    if (fd >= 0) close(fd);
    // The same vCPU, its thread now pinned to the IRQ's CPU (it runs again): accepted.
    pin(cpu);
    ioctl(vm.vcpu, KVM_RUN, 0);
    fd = forward(dev, vm.fd, 0, intid, (unsigned)cpu);
    struct cleave_forward_status s = { 0 };
    if (fd >= 0) s = status(fd);
    printf("CLEAVE-FWD-ACCEPT case=vcpu-thread-pinned errno=%s vcpu_thread_cpu=%d\n", errno_name(fd < 0 ? errno : 0),
           s.vcpu_thread_cpu);
    if (fd >= 0) close(fd);
    info = irq_info(dev, intid, 0);
    print_info("CLEAVE-FWD-AFTER-REFUSALS", &info);
    return 0;
}

// The host GIC's mode is checked before the VM, so /dev/null stands in for
// it. Also says whether KVM can give a VM an in-kernel vGIC on such a host.
static int refuse_split(int argc, char **argv) {
    if (argc < 4) return 2;
    unsigned intid = (unsigned)atoi(argv[2]);
    int cpu = atoi(argv[3]), dev = device();
    struct cleave_forward_irq_info info = irq_info(dev, intid, 1);
    int devnull = open("/dev/null", O_RDONLY | O_CLOEXEC);
    int kvm = open("/dev/kvm", O_RDWR | O_CLOEXEC), vm = kvm < 0 ? -1 : ioctl(kvm, KVM_CREATE_VM, 0);
    struct kvm_create_device gic = { .type = KVM_DEV_TYPE_ARM_VGIC_V2 };
    int created = vm < 0 ? -1 : ioctl(vm, KVM_CREATE_DEVICE, &gic);
    printf("CLEAVE-FWD-KVM kvm=%s vm=%s vgic-v2=%s\n", kvm < 0 ? "absent" : "present", vm < 0 ? "no" : "yes",
           created < 0 ? errno_name(errno) : "created");
    int fd = forward(dev, devnull, 0, intid, (unsigned)cpu);
    printf("CLEAVE-FWD-REFUSE case=not-split errno=%s irq=%u\n", errno_name(fd < 0 ? errno : 0), info.irq);
    if (fd >= 0) close(fd);
    return 0;
}

// The benchmark (issue 10; docs/kernel-facts.md §24). Latency is taken on
// one counter: the module stamps the host counter (arch_timer_read_counter,
// the physical count kvm_phys_timer_read reads) before it makes the SPI
// pending; the guest reads its CNTVCT_EL0 on waking from WFI, and guest +
// offset is the host counter, the offset read as KVM_REG_ARM_TIMER_CNT
// (physical count - the vCPU's CNTVOFF) between two reads of this thread's
// CNTVCT_EL0 (the host's EL0 sees an offset of 0: VHE fixes it, nVHE
// KVM zeroes CNTVOFF_EL2 on vcpu_put; checked: every stamp must lie between
// the raiser's own reads before and after the ioctl).

#define BENCH_AREA 0x100000ull /* RAM offset: [0] the trigger asked for, [n] the guest's stamp n */
#define BENCH_MAX 255 /* the END mark carries the count in 8 bits */
#define BENCH_ACKED (BENCH_MAX + 2) /* [257]: interrupts the guest has acknowledged (forward-guest.S) */

static inline uint64_t counter(void) {
    uint64_t v;
    __asm__ volatile("isb; mrs %0, cntvct_el0" : "=r"(v) :: "memory");
    return v;
}

static inline uint64_t counter_frequency(void) {
    uint64_t v;
    __asm__ volatile("mrs %0, cntfrq_el0" : "=r"(v));
    return v;
}

// One statistic of a vCPU (KVM_GET_STATS_FD, Documentation/virt/kvm/api.rst
// "KVM_GET_STATS_FD"); -1 when KVM has no statistic of that name.
static long long vcpu_stat(int stats, const char *name) {
    struct kvm_stats_header h;
    if (pread(stats, &h, sizeof h, 0) != sizeof h) return -1;
    size_t stride = sizeof(struct kvm_stats_desc) + h.name_size;
    char buffer[sizeof(struct kvm_stats_desc) + 128];
    if (stride > sizeof buffer) return -1;
    for (uint32_t i = 0; i < h.num_desc; i++) {
        struct kvm_stats_desc *d = (struct kvm_stats_desc *)buffer;
        if (pread(stats, buffer, stride, h.desc_offset + i * stride) != (ssize_t)stride) return -1;
        if (strncmp(d->name, name, h.name_size)) continue;
        uint64_t value;
        if (pread(stats, &value, sizeof value, h.data_offset + d->offset) != sizeof value) return -1;
        return (long long)value;
    }
    return -1;
}

// The hits of a kprobe event from tracefs's kprobe_profile; -1 without it.
static long kprobe_hits(const char *event) {
    FILE *f = fopen("/sys/kernel/debug/tracing/kprobe_profile", "r");
    char name[128];
    long hits, missed, found = -1;
    if (!f) return -1;
    while (found < 0 && fscanf(f, "%127s %ld %ld", name, &hits, &missed) == 3)
        if (!strcmp(name, event)) found = hits;
    fclose(f);
    return found;
}

struct bench {
    int dev, vm_fd, uio, cpu;
    int trigger, resample; // a level SPI's irqfd and resamplefd (UIO relay)
    unsigned intid, count;
    volatile uint64_t *area;
    uint64_t stamps[BENCH_MAX + 2];
    int hold_line; // a forwarded level SPI: the raiser stands in for its device's line (line_held)
    volatile int stop;
    long relayed, outside; // UIO relay wake-ups with an event (UIO or resamplefd); stamps outside the raiser's reads
    long reraised; // line_held's raises again of an SPI KVM dropped
};

// A forwarded level SPI raised by software has no device line behind it:
// the host's acknowledge consumes the pending state the raise set. When a
// vCPU exits while the SPI sits in a list register the guest has not yet
// acknowledged, KVM samples the physical line (vgic_v2/v3_fold_lr_state:
// vgic_get_phys_line_level, the physical pending state), reads it low and
// deactivates the physical SPI (vgic_irq_set_phys_active): the interrupt is
// gone and the guest waits forever. A device holds its line until the guest
// clears it, so KVM reads it high (active and pending) and keeps it. Measured
// in the board (gicv2, a busy loop on the vCPU's CPU): one such drop in 86
// raises, one vgic_irq_set_phys_active call (docs/kernel-facts.md §24,
// "A level SPI raised by software"). So until the guest has acknowledged
// interrupt n, the raiser plays the line: whenever the SPI is neither active
// nor pending at the host GIC it raises it again (not stamped again: a line
// would have stood since the first raise). The guest stores its count before
// its EOI, so an SPI the guest deactivated always reads as acknowledged.
static void line_held(struct bench *b, unsigned n) {
    while (!b->stop && b->area[BENCH_ACKED] < n) {
        usleep(500);
        struct cleave_forward_irq_info info = irq_info(b->dev, b->intid, 0);
        if (info.state & (CLEAVE_FORWARD_ACTIVE | CLEAVE_FORWARD_PENDING) || b->area[BENCH_ACKED] >= n) continue;
        struct cleave_forward_raise r = { .intid = b->intid };
        if (ioctl(b->dev, CLEAVE_FORWARD_RAISE_SPI, &r) < 0) die("CLEAVE_FORWARD_RAISE_SPI");
        b->reraised++;
    }
}

// Raises SPI n once the guest has asked for it and had 2 ms to sleep in WFI.
static void *raiser(void *arg) {
    struct bench *b = arg;
    pin(b->cpu);
    for (unsigned n = 1; n <= b->count + 1 && !b->stop; n++) {
        while (b->area[0] != n && !b->stop) usleep(200);
        if (b->stop) break;
        usleep(2000);
        struct cleave_forward_raise r = { .intid = b->intid };
        uint64_t before = counter();
        if (ioctl(b->dev, CLEAVE_FORWARD_RAISE_SPI, &r) < 0) die("CLEAVE_FORWARD_RAISE_SPI");
        uint64_t after = counter();
        b->outside += r.counter < before || r.counter > after;
        b->stamps[n] = r.counter;
        if (b->hold_line) line_held(b, n);
    }
    return NULL;
}

// The supervisor's UIO relay (PassthroughSet.relay): wait for the UIO
// event; an edge SPI: KVM_IRQ_LINE high then low, re-enable; a level SPI:
// signal its irqfd, re-enable when the guest's EOI signals the resamplefd.
static void *relay(void *arg) {
    struct bench *b = arg;
    pin(b->cpu);
    struct kvm_irq_level high = { .irq = (KVM_ARM_IRQ_TYPE_SPI << KVM_ARM_IRQ_TYPE_SHIFT) | b->intid, .level = 1 },
                         low = high;
    low.level = 0;
    uint32_t events, enable = 1;
    uint64_t one = 1, acks;
    while (!b->stop) {
        struct pollfd p[2] = { { .fd = b->uio, .events = POLLIN }, { .fd = b->resample, .events = POLLIN } };
        if (poll(p, b->resample < 0 ? 1 : 2, 100) <= 0) continue;
        if ((p[0].revents & POLLIN) && read(b->uio, &events, sizeof events) == sizeof events) {
            b->relayed++;
            if (b->resample >= 0) {
                if (write(b->trigger, &one, sizeof one) != sizeof one) die("irqfd signal");
            } else {
                if (ioctl(b->vm_fd, KVM_IRQ_LINE, &high) < 0 || ioctl(b->vm_fd, KVM_IRQ_LINE, &low) < 0) die("KVM_IRQ_LINE");
                if (write(b->uio, &enable, sizeof enable) != sizeof enable) die("UIO re-enable");
            }
        }
        if (b->resample >= 0 && (p[1].revents & POLLIN) && read(b->resample, &acks, sizeof acks) == sizeof acks) {
            b->relayed++;
            if (write(b->uio, &enable, sizeof enable) != sizeof enable) die("UIO re-enable");
        }
    }
    return NULL;
}

// A level SPI's irqfd with a resamplefd: KVM lowers the line and signals the
// resamplefd at the guest's EOI.
static void irqfd_resample(int vm_fd, unsigned intid, int trigger, int resample) {
    struct kvm_irqfd request = { .fd = (uint32_t)trigger, .gsi = intid - 32, .flags = KVM_IRQFD_FLAG_RESAMPLE,
                                 .resamplefd = (uint32_t)resample };
    if (ioctl(vm_fd, KVM_IRQFD, &request) < 0) die("KVM_IRQFD resample");
}

static void steer(unsigned irq, int cpu) {
    char path[64];
    snprintf(path, sizeof path, "/proc/irq/%u/smp_affinity_list", irq);
    FILE *f = fopen(path, "w");
    if (!f || fprintf(f, "%d\n", cpu) < 0 || fclose(f)) die(path);
}

static int compare(const void *a, const void *b) {
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int bench(int argc, char **argv) {
    if (argc < 8) return 2;
    const char *guest = argv[2], *path = argv[6], *device_name = argv[7];
    unsigned intid = (unsigned)atoi(argv[3]), count = (unsigned)atoi(argv[5]);
    int cpu = atoi(argv[4]), other = cpu ? 0 : 1;
    int forwarded = !strcmp(path, "forward"), irqfd = !strcmp(path, "irqfd"), uio = !strcmp(path, "uio");
    if (!forwarded && !irqfd && !uio) return 2;
    if (count < 1 || count > BENCH_MAX) return 2;
    static struct bench b;
    b.dev = device();
    b.intid = intid;
    b.count = count;
    b.uio = b.trigger = b.resample = -1;
    b.cpu = other;
    struct cleave_forward_irq_info info = irq_info(b.dev, intid, 1);
    if (!info.irq) { printf("CLEAVE-FWD-ERROR INTID %u: no Linux IRQ\n", intid); return 1; }
    int level = info.trigger != 1;
    b.hold_line = forwarded && level;
    pin(cpu);
    struct vm vm = make_vm(256, 1);
    b.vm_fd = vm.fd;
    FILE *image = fopen(guest, "r");
    if (!image) die(guest);
    size_t n = fread(vm.ram + LOAD_OFFSET, 1, BENCH_AREA - LOAD_OFFSET, image);
    fclose(image);
    if (!n) die("reading the guest");
    b.area = (volatile uint64_t *)(vm.ram + BENCH_AREA);
    set_reg(&vm, CORE_REG(regs.pc), RAM_BASE + LOAD_OFFSET);
    uint64_t args[10] = { (uint64_t)vm.gic_version, GICD_BASE, vm.gic_version == 3 ? GICR_BASE : GICC_BASE, 0,
                          MARK_ADDRESS, 0, intid, count, !level, RAM_BASE + BENCH_AREA };
    for (int i = 0; i < 10; i++) set_reg(&vm, CORE_REG(regs.regs[i]), args[i]);

    int fwd = -1;
    if (forwarded) {
        fwd = forward(b.dev, vm.fd, 0, intid, (unsigned)cpu);
        if (fwd < 0) die("CLEAVE_FORWARD_SPI");
    } else if (irqfd) {
        // VFIO's trigger eventfd injected by KVM_IRQFD (gsi: the SPI number,
        // §4); a level SPI's resamplefd unmasks it in VFIO (§3).
        int vfio = vfio_device(device_name), e = eventfd(0, EFD_CLOEXEC), r = eventfd(0, EFD_CLOEXEC);
        if (e < 0 || r < 0) die("eventfd");
        errno = vfio_trigger(vfio, e);
        if (errno) die("VFIO_DEVICE_SET_IRQS trigger");
        if (level) {
            struct { struct vfio_irq_set set; int32_t fd; } unmask = {
                { .argsz = sizeof unmask, .flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_UNMASK, .count = 1 }, r };
            if (ioctl(vfio, VFIO_DEVICE_SET_IRQS, &unmask) < 0) die("VFIO_DEVICE_SET_IRQS unmask");
            irqfd_resample(vm.fd, intid, e, r);
        } else {
            struct kvm_irqfd request = { .fd = (uint32_t)e, .gsi = intid - 32 };
            if (ioctl(vm.fd, KVM_IRQFD, &request) < 0) die("KVM_IRQFD");
        }
        steer(info.irq, cpu);
    } else {
        char path_uio[300];
        snprintf(path_uio, sizeof path_uio, "/sys/bus/platform/devices/%s/uio", device_name);
        DIR *d = opendir(path_uio);
        struct dirent *entry = NULL;
        while (d && (entry = readdir(d)) && strncmp(entry->d_name, "uio", 3)) {}
        if (!entry) die(path_uio);
        snprintf(path_uio, sizeof path_uio, "/dev/%s", entry->d_name);
        closedir(d);
        b.uio = open(path_uio, O_RDWR | O_CLOEXEC);
        if (b.uio < 0) die(path_uio);
        if (level) {
            b.trigger = eventfd(0, EFD_CLOEXEC);
            b.resample = eventfd(0, EFD_CLOEXEC);
            if (b.trigger < 0 || b.resample < 0) die("eventfd");
            irqfd_resample(vm.fd, intid, b.trigger, b.resample);
        }
        steer(info.irq, cpu);
    }
    info = irq_info(b.dev, intid, 0);

    // The guest's counter offset, from the raiser's CPU, before the vCPU
    // first runs: the read with the tightest bracket of 16 (under nested
    // TCG the first ones are slow).
    pin(other);
    int64_t offset = 0; // host = guest + offset
    uint64_t bracket = UINT64_MAX;
    for (int i = 0; i < 16; i++) {
        uint64_t guest_count, before = counter();
        struct kvm_one_reg reg = { .id = KVM_REG_ARM_TIMER_CNT, .addr = (uint64_t)(uintptr_t)&guest_count };
        if (ioctl(vm.vcpu, KVM_GET_ONE_REG, &reg) < 0) die("KVM_GET_ONE_REG TIMER_CNT");
        uint64_t after = counter();
        if (after - before < bracket) {
            bracket = after - before;
            offset = (int64_t)(before + (after - before) / 2) - (int64_t)guest_count;
        }
    }
    pin(cpu);
    int stats = ioctl(vm.vcpu, KVM_GET_STATS_FD, NULL);
    if (stats < 0) die("KVM_GET_STATS_FD");

    // The helper threads block SIGALRM, so the timeout interrupts KVM_RUN.
    pthread_t raise_thread, relay_thread;
    sigset_t alarm_set;
    sigemptyset(&alarm_set);
    sigaddset(&alarm_set, SIGALRM);
    pthread_sigmask(SIG_BLOCK, &alarm_set, NULL);
    if (pthread_create(&raise_thread, NULL, raiser, &b)) die("pthread_create");
    if (uio && pthread_create(&relay_thread, NULL, relay, &b)) die("pthread_create");
    pthread_sigmask(SIG_UNBLOCK, &alarm_set, NULL);
    struct sigaction action = { .sa_handler = timeout };
    sigaction(SIGALRM, &action, NULL);
    alarm(RUN_SECONDS);
    long runs = 0, start_runs = 0, user_exits = -1, host0 = 0, host1 = 0, wq0 = 0, wq1 = 0, wake0 = 0, wake1 = 0,
         relayed0 = 0, relayed1 = 0;
    long long exits0 = 0, exits1 = 0;
    unsigned taken = 0;
    int status_code = 1;
    for (;;) {
        if (ioctl(vm.vcpu, KVM_RUN, 0) < 0) {
            if (errno == EINTR) { printf("CLEAVE-FWD-BENCH-TIMEOUT after %d s\n", RUN_SECONDS); break; }
            die("KVM_RUN");
        }
        runs++;
        if (vm.run->exit_reason == KVM_EXIT_SYSTEM_EVENT) { status_code = taken == count ? 0 : 1; break; }
        if (vm.run->exit_reason != KVM_EXIT_MMIO || vm.run->mmio.phys_addr != MARK_ADDRESS || !vm.run->mmio.is_write) {
            printf("CLEAVE-FWD-ERROR exit %u at %#llx\n", vm.run->exit_reason, (unsigned long long)vm.run->mmio.phys_addr);
            break;
        }
        uint32_t mark;
        memcpy(&mark, vm.run->mmio.data, sizeof mark);
        if (mark == MARK_START) {
            start_runs = runs;
            host0 = host_count(intid);
            wq0 = kprobe_hits("cleave_irqfd_inject");
            wake0 = kprobe_hits("cleave_irqfd_wakeup");
            exits0 = vcpu_stat(stats, "exits");
            relayed0 = b.relayed;
        } else if ((mark & ~0xffu) == MARK_END) {
            taken = mark - MARK_END;
            host1 = host_count(intid);
            wq1 = kprobe_hits("cleave_irqfd_inject");
            wake1 = kprobe_hits("cleave_irqfd_wakeup");
            exits1 = vcpu_stat(stats, "exits");
            relayed1 = b.relayed;
            user_exits = runs - start_runs - 1; // KVM_RUN returns between START and END, END excluded
        } else if (mark == MARK_HELD || mark == MARK_EOIED) {
        } else {
            printf("CLEAVE-FWD-ERROR guest mark %#x\n", mark);
            break;
        }
    }
    alarm(0);
    b.stop = 1;
    pthread_join(raise_thread, NULL);
    if (uio) pthread_join(relay_thread, NULL);

    // Latency n: the guest's stamp n on the host's counter, less the module's stamp n.
    int64_t latency[BENCH_MAX];
    unsigned valid = 0;
    for (unsigned i = 1; i <= taken && i <= count; i++)
        if (b.stamps[i] && b.area[i]) latency[valid++] = (int64_t)(b.area[i] + (uint64_t)offset) - (int64_t)b.stamps[i];
    qsort(latency, valid, sizeof latency[0], compare);
    double us = 1e6 / (double)counter_frequency(), per = taken ? 1.0 / taken : 0;
    printf("CLEAVE-FWD-BENCH path=%s intid=%u trigger=%s cpu=%d interrupts=%u/%u", path, intid,
           level ? "level" : "edge", cpu, taken, count);
    if (valid)
        printf(" latency_us median=%.1f min=%.1f max=%.1f", latency[valid / 2] * us, latency[0] * us,
               latency[valid - 1] * us);
    printf(" per_interrupt host_irqs=%.2f irqfd_wakeups=%.2f workqueue_injections=%.2f supervisor_wakeups=%.2f guest_exits=%.2f user_exits=%.2f",
           (host1 - host0) * per, wake0 < 0 ? -1.0 : (wake1 - wake0) * per, wq0 < 0 ? -1.0 : (wq1 - wq0) * per,
           (relayed1 - relayed0) * per,
           exits0 < 0 ? -1.0 : (double)(exits1 - exits0) * per, user_exits < 0 ? -1.0 : user_exits * per);
    printf(" offset_uncertainty_us=%.1f stamps_outside=%ld raised_again=%ld counter_hz=%llu status=%d\n",
           (double)bracket / 2 * us, b.outside, b.reraised, (unsigned long long)counter_frequency(), status_code);
    if (fwd >= 0) close(fwd);
    return status_code;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
    if (argc >= 3 && !strcmp(argv[1], "info")) {
        struct cleave_forward_irq_info info = irq_info(device(), (unsigned)atoi(argv[2]), argc > 3 && !strcmp(argv[3], "map"));
        print_info("CLEAVE-FWD-INFO", &info);
        return 0;
    }
    if (argc >= 2 && !strcmp(argv[1], "run")) return run(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "bench")) return bench(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "refuse")) return refuse(argc, argv);
    if (argc >= 2 && !strcmp(argv[1], "refuse-split")) return refuse_split(argc, argv);
    fprintf(stderr, "usage: forward-probe info INTID [map] | run GUEST INTID CPU COUNT rtc|raise [hold] | bench GUEST INTID CPU COUNT forward|irqfd|uio DEVICE | refuse[-split] INTID CPU\n");
    return 2;
}
