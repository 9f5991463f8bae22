/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * cleave-forward: userspace interface of /dev/cleave-forward, which forwards
 * one physical SPI to one KVM/arm64 VM with the list register's HW bit: the
 * host only drops the priority, the guest's EOI deactivates the physical
 * interrupt (docs/kernel-facts.md §24). Shared by the module and its callers.
 *
 * The INTID is the same on the host GIC and in the guest (Cleave gives guests
 * the board's own INTIDs).
 *
 * On /dev/cleave-forward (root only):
 *
 *   CLEAVE_FORWARD_IRQ_INFO  the host side of one INTID: Linux IRQ, trigger,
 *                            CPU, state bits. With CLEAVE_FORWARD_INFO_MAP an
 *                            INTID that has no Linux IRQ yet gets one from the
 *                            host's device tree node that names it, as a
 *                            driver's platform_get_irq() would. ERANGE
 *                            for an INTID that is not an SPI; irq 0 when
 *                            there is no mapping (and none could be made).
 *   CLEAVE_FORWARD_RAISE_SPI makes an SPI pending at the host GIC, whoever owns
 *                            its IRQ (a forwarding, VFIO, UIO), and returns
 *                            the host counter read just before: the start
 *                            of a latency measurement (the benchmark in
 *                            Tests/Guests/forward-probe.c). ERANGE for an
 *                            INTID that is not an SPI, ENXIO for one with
 *                            no Linux IRQ; EINVAL for flags other than 0.
 *   CLEAVE_FORWARD_SPI       forwards; returns a new file descriptor
 *                            (O_CLOEXEC) that owns the forwarding. The IRQ is
 *                            steered to host_cpu, where the vCPU's thread must
 *                            be pinned. Closing the fd, or the process dying
 *                            (SIGKILL included), undoes it all: the IRQ is
 *                            freed, inactive, no longer flagged forwarded, on
 *                            the CPUs it had, and the VM's reference dropped.
 *
 * On a forwarding fd:
 *
 *   CLEAVE_FORWARD_STATUS    the forwarding's state and counters.
 *   CLEAVE_FORWARD_RAISE     makes the physical SPI pending at the host GIC,
 *                            as the device would (tests and latency probes).
 *
 * CLEAVE_FORWARD_SPI refuses with (and logs one dmesg line saying why), in
 * the order it checks, the arguments, then the host, then the VM:
 *   EINVAL      flags are not 0
 *   ERANGE      intid is not an SPI (32-1019)
 *   ENXIO       the INTID has no Linux IRQ on the host GIC (map it first with
 *               CLEAVE_FORWARD_IRQ_INFO + CLEAVE_FORWARD_INFO_MAP)
 *   EOPNOTSUPP  the host GIC is not in split EOI/Deactivate mode (EOImode=1)
 *   EXDEV       host_cpu is offline
 *   EBADF       vm_fd is not open
 *   EINVAL      vm_fd is not a KVM VM (KVM_CREATE_VM)
 *   ENODEV      the VM's vGIC is not initialised (KVM_DEV_ARM_VGIC_CTRL_INIT)
 *   ERANGE      intid is beyond the VM's vGIC (KVM_DEV_ARM_VGIC_GRP_NR_IRQS)
 *   ENOENT      the VM has no vCPU of that index
 *   EXDEV       the vCPU's thread has entered KVM_RUN and may run elsewhere
 *               than host_cpu alone (before its first KVM_RUN the thread is
 *               unknown: pin it to host_cpu; STATUS reports what it became)
 *   EBUSY       the IRQ is already requested (a host driver, an open VFIO
 *               device, or another forwarding holds it)
 *   EXDEV       the IRQ cannot be steered to host_cpu
 *   EPERM       the caller lacks CAP_SYS_ADMIN
 */
#ifndef CLEAVE_FORWARD_H
#define CLEAVE_FORWARD_H

#include <linux/ioctl.h>
#include <linux/types.h>

#define CLEAVE_FORWARD_DEVICE "/dev/cleave-forward"

/* state bits of cleave_forward_irq_info and cleave_forward_status */
#define CLEAVE_FORWARD_REQUESTED (1u << 0) /* the IRQ has a handler (any owner) */
#define CLEAVE_FORWARD_FORWARDED (1u << 1) /* irqd_is_forwarded_to_vcpu */
#define CLEAVE_FORWARD_ACTIVE    (1u << 2) /* physical active state (irq_get_irqchip_state) */
#define CLEAVE_FORWARD_PENDING   (1u << 3) /* physical pending state */
#define CLEAVE_FORWARD_SPLIT_EOI (1u << 4) /* its irq chip can forward (EOImode=1) */

#define CLEAVE_FORWARD_INFO_MAP  (1u << 0) /* create the Linux IRQ from the tree */

struct cleave_forward_irq_info {
	__u32 intid;   /* in: GIC INTID */
	__u32 flags;   /* in: CLEAVE_FORWARD_INFO_MAP or 0 */
	__u32 irq;     /* out: Linux IRQ, 0 when the INTID has none */
	__u32 trigger; /* out: IRQ_TYPE_EDGE_RISING 1, IRQ_TYPE_LEVEL_HIGH 4 */
	__s32 cpu;     /* out: the CPU the IRQ is steered to, -1 when none */
	__u32 state;   /* out: CLEAVE_FORWARD_* state bits */
};

struct cleave_forward_spi {
	__s32 vm_fd;    /* a KVM VM whose vGIC is initialised */
	__u32 vcpu;     /* index of the vCPU the guest routes the SPI to */
	__u32 intid;    /* the SPI, same INTID on host and guest */
	__u32 host_cpu; /* the CPU that vCPU's thread is pinned to: the IRQ goes there */
	__u32 flags;    /* 0 */
};

/* vcpu_thread_cpu of cleave_forward_status */
#define CLEAVE_FORWARD_VCPU_NOT_RUN  (-2) /* the vCPU has not entered KVM_RUN */
#define CLEAVE_FORWARD_VCPU_UNPINNED (-1) /* its thread may run on several CPUs */

struct cleave_forward_status {
	__u32 intid;
	__u32 irq;
	__u32 vcpu;
	__u32 host_cpu;
	__u32 state;    /* CLEAVE_FORWARD_* state bits */
	__u32 handled;  /* host handler runs (physical assertions injected) */
	__u32 off_cpu;  /* of which taken on a CPU other than host_cpu */
	__s32 vcpu_thread_cpu; /* the one CPU the vCPU's thread may run on, or VCPU_* */
};

struct cleave_forward_raise {
	__u32 intid;   /* in: an SPI with a Linux IRQ */
	__u32 flags;   /* in: 0 */
	__u64 counter; /* out: the counter KVM's guest offsets are relative to
			* (arch_timer_read_counter), read before the SPI is
			* made pending */
};

#define CLEAVE_FORWARD_MAGIC 0xCF
#define CLEAVE_FORWARD_IRQ_INFO _IOWR(CLEAVE_FORWARD_MAGIC, 0x00, struct cleave_forward_irq_info)
#define CLEAVE_FORWARD_SPI      _IOW(CLEAVE_FORWARD_MAGIC, 0x01, struct cleave_forward_spi)
#define CLEAVE_FORWARD_STATUS   _IOR(CLEAVE_FORWARD_MAGIC, 0x02, struct cleave_forward_status)
#define CLEAVE_FORWARD_RAISE    _IO(CLEAVE_FORWARD_MAGIC, 0x03)
#define CLEAVE_FORWARD_RAISE_SPI _IOWR(CLEAVE_FORWARD_MAGIC, 0x04, struct cleave_forward_raise)

#endif
