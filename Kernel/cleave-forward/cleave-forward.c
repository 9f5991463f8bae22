// SPDX-License-Identifier: GPL-2.0
/*
 * cleave-forward: forwards one physical SPI to one KVM/arm64 VM per file
 * descriptor, the way KVM forwards its arch timer: the vGIC maps the virtual
 * INTID to the host IRQ (list register HW bit + physical INTID), the host IRQ
 * is flagged forwarded to a vCPU so the GIC driver only drops its priority,
 * and the guest's EOI deactivates the physical interrupt. No eventfd, no
 * workqueue, no exit to userspace per interrupt.
 *
 * Interface: cleave-forward.h. Facts relied on: docs/kernel-facts.md §24.
 */
#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <clocksource/arm_arch_timer.h>
#include <linux/anon_inodes.h>
#include <linux/capability.h>
#include <linux/cpumask.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/interrupt.h>
#include <linux/irq.h>
#include <linux/irqdomain.h>
#include <linux/kprobes.h>
#include <linux/kvm_host.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/of.h>
#include <linux/of_irq.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/utsname.h>
#include <generated/utsversion.h>
#include <kvm/arm_vgic.h>

#include "cleave-forward.h"

/*
 * KVM is built in and does not export these to modules; they are resolved
 * through kallsyms when the module loads.
 *
 * Each pointer has the type of the kernel's own declaration (typeof) in the
 * headers this module is compiled against. A call through a pointer whose
 * prototype differs from the running kernel's puts arguments in the wrong
 * registers with nothing to catch it (no modversions CRC covers an unexported
 * symbol): later kernels changed kvm_vgic_inject_irq's second argument from a
 * vCPU index to a vCPU pointer, and such a call from this hard IRQ handler
 * dereferences garbage and takes the host down. So the module is built
 * against one kernel's own headers (Scripts/build-modules: the
 * linux-headers package of exactly the kernel it runs), vermagic ties it to
 * that release, and init refuses to load when the running kernel's UTS
 * version is not the one those headers were generated with.
 */
static struct {
	typeof(&kvm_vgic_map_phys_irq) map_phys_irq;
	typeof(&kvm_vgic_unmap_phys_irq) unmap_phys_irq;
	typeof(&kvm_vgic_inject_irq) inject_irq;
} kvm_fn;

/* The primary GIC's node and IRQ domain, found at load. */
static struct device_node *gic_node;
static struct irq_domain *gic_domain;

struct cleave_forward {
	struct kvm *kvm;	/* referenced (kvm_get_kvm) for the forwarding's life */
	struct kvm_vcpu *vcpu;
	unsigned int irq;
	u32 intid;
	u32 vcpu_index;
	u32 host_cpu;
	struct cpumask affinity;	/* the IRQ's before forwarding, restored after */
	atomic_t handled;
	atomic_t off_cpu;
};

/* One dmesg line per refusal, naming the caller and why. */
#define refusal(fmt, ...) \
	pr_warn("pid %d (%s): refused: " fmt "\n", task_pid_nr(current), current->comm, ##__VA_ARGS__)
#define refuse(err, fmt, ...) ({ refusal(fmt, ##__VA_ARGS__); (err); })

/* kallsyms_lookup_name is not exported either: a kprobe on it yields its address. */
static unsigned long find_kallsyms_lookup_name(void)
{
	struct kprobe kp = { .symbol_name = "kallsyms_lookup_name" };
	unsigned long address;

	if (register_kprobe(&kp) < 0)
		return 0;
	address = (unsigned long)kp.addr;
	unregister_kprobe(&kp);
	return address;
}

static int resolve_kvm_symbols(void)
{
	unsigned long (*lookup)(const char *name);
	unsigned long map, unmap, inject;

	lookup = (void *)find_kallsyms_lookup_name();
	if (!lookup) {
		pr_err("cannot find kallsyms_lookup_name (a kprobe on it failed: CONFIG_KPROBES and CONFIG_KALLSYMS needed)\n");
		return -ENOENT;
	}
	map = lookup("kvm_vgic_map_phys_irq");
	unmap = lookup("kvm_vgic_unmap_phys_irq");
	inject = lookup("kvm_vgic_inject_irq");
	if (!map || !unmap || !inject) {
		pr_err("kallsyms lacks%s%s%s (a kernel without KVM?)\n", map ? "" : " kvm_vgic_map_phys_irq",
		       unmap ? "" : " kvm_vgic_unmap_phys_irq", inject ? "" : " kvm_vgic_inject_irq");
		return -ENOENT;
	}
	kvm_fn.map_phys_irq = (void *)map;
	kvm_fn.unmap_phys_irq = (void *)unmap;
	kvm_fn.inject_irq = (void *)inject;
	return 0;
}

/* The compatibles drivers/irqchip/irq-gic.c and irq-gic-v3.c declare. */
static const struct of_device_id gic_ids[] = {
	{ .compatible = "arm,gic-v3" },
	{ .compatible = "arm,gic-400" },
	{ .compatible = "arm,cortex-a15-gic" },
	{ .compatible = "arm,cortex-a9-gic" },
	{ .compatible = "arm,cortex-a7-gic" },
	{ .compatible = "arm,arm11mp-gic" },
	{ .compatible = "arm,arm1176jzf-devchip-gic" },
	{ .compatible = "arm,pl390" },
	{ .compatible = "qcom,msm-8660-qgic" },
	{ .compatible = "qcom,msm-qgic2" },
	{ }
};

/*
 * The first GIC node with an IRQ domain. arm64 boards have one GIC; a
 * cascaded secondary GICv2 (ARM32 boards) could come first, but the GICv2
 * driver gives only the primary one the EOImode=1 chip, so its SPIs would be
 * refused as not split.
 */
static int find_gic(void)
{
	struct device_node *np = NULL;

	while ((np = of_find_matching_node(np, gic_ids))) {
		if (!of_property_read_bool(np, "interrupt-controller"))
			continue;
		gic_domain = irq_find_host(np);
		if (gic_domain) {
			gic_node = np;
			return 0;
		}
	}
	pr_err("no primary GIC with an IRQ domain in the device tree (ACPI hosts are not supported)\n");
	return -ENODEV;
}

/*
 * The Linux IRQ of an SPI, created from the first device tree node whose
 * interrupt specifier names it on the primary GIC, as platform_get_irq()
 * would for that node's driver. Disabled nodes count: a device held from the
 * host still describes its interrupt.
 */
static unsigned int map_from_tree(u32 intid)
{
	struct device_node *np = NULL;
	struct of_phandle_args args;
	unsigned int irq;
	int i;

	while ((np = of_find_all_nodes(np))) {
		for (i = 0; !of_irq_parse_one(np, i, &args); i++) {
			/* <0 = GIC_SPI, number, flags>; 2 is GICv3's extended SPI range */
			bool match = args.np == gic_node && args.args_count >= 3 &&
				     args.args[0] == 0 && args.args[1] + 32 == intid;

			of_node_put(args.np);
			if (match) {
				irq = irq_create_of_mapping(&args);
				of_node_put(np);
				return irq;
			}
		}
	}
	return 0;
}

static u32 irq_state(unsigned int irq)
{
	struct irq_data *d = irq_get_irq_data(irq);
	struct irq_chip *chip = irq_data_get_irq_chip(d);
	bool active = false, pending = false;
	u32 state = 0;

	if (irq_has_action(irq))
		state |= CLEAVE_FORWARD_REQUESTED;
	if (irqd_is_forwarded_to_vcpu(d))
		state |= CLEAVE_FORWARD_FORWARDED;
	if (!irq_get_irqchip_state(irq, IRQCHIP_STATE_ACTIVE, &active) && active)
		state |= CLEAVE_FORWARD_ACTIVE;
	if (!irq_get_irqchip_state(irq, IRQCHIP_STATE_PENDING, &pending) && pending)
		state |= CLEAVE_FORWARD_PENDING;
	/*
	 * Both GIC drivers give their irq chip irq_set_vcpu_affinity only in
	 * EOImode=1 (gic_eoimode1_chip, gic_chip_mode1), chosen at mapping time
	 * from supports_deactivate_key, which nothing outside the driver reads.
	 */
	if (chip && chip->irq_set_vcpu_affinity)
		state |= CLEAVE_FORWARD_SPLIT_EOI;
	return state;
}

static int irq_cpu(unsigned int irq)
{
	const struct cpumask *mask = irq_data_get_effective_affinity_mask(irq_get_irq_data(irq));
	unsigned int cpu = cpumask_first(mask);

	return cpu < nr_cpu_ids ? cpu : -1;
}

static long irq_info(struct cleave_forward_irq_info __user *argp)
{
	struct cleave_forward_irq_info info;
	unsigned int irq;

	if (copy_from_user(&info, argp, sizeof(info)))
		return -EFAULT;
	if (info.flags & ~CLEAVE_FORWARD_INFO_MAP)
		return -EINVAL;
	if (info.intid < 32 || info.intid > 1019)
		return -ERANGE;
	irq = irq_find_mapping(gic_domain, info.intid);
	if (!irq && (info.flags & CLEAVE_FORWARD_INFO_MAP))
		irq = map_from_tree(info.intid);
	info.irq = irq;
	info.trigger = irq ? irq_get_trigger_type(irq) : 0;
	info.cpu = irq ? irq_cpu(irq) : -1;
	info.state = irq ? irq_state(irq) : 0;
	return copy_to_user(argp, &info, sizeof(info)) ? -EFAULT : 0;
}

/* The one CPU the vCPU's thread may run on, or CLEAVE_FORWARD_VCPU_*. */
static int vcpu_thread_cpu(struct kvm_vcpu *vcpu)
{
	struct task_struct *task;
	int cpu = CLEAVE_FORWARD_VCPU_NOT_RUN;

	rcu_read_lock();
	task = pid_task(rcu_dereference(vcpu->pid), PIDTYPE_PID);
	if (task)
		cpu = cpumask_weight(task->cpus_ptr) == 1 ? cpumask_first(task->cpus_ptr)
							  : CLEAVE_FORWARD_VCPU_UNPINNED;
	rcu_read_unlock();
	return cpu;
}

/*
 * Runs on every physical assertion. The GIC driver then only drops the
 * priority (the IRQ is forwarded), so the SPI stays active until the guest's
 * EOI deactivates it through the list register: a level line cannot fire
 * again before the guest has handled it.
 */
static irqreturn_t forward_handler(int irq, void *data)
{
	struct cleave_forward *f = data;

	atomic_inc(&f->handled);
	if (unlikely(raw_smp_processor_id() != f->host_cpu) && atomic_inc_return(&f->off_cpu) == 1)
		pr_warn("INTID %u taken on CPU %d, not CPU %u: its affinity was changed while forwarded\n",
			f->intid, raw_smp_processor_id(), f->host_cpu);
	/* cpuid is only read for private interrupts; NULL owner, as userspace injects */
	kvm_fn.inject_irq(f->kvm, 0, f->intid, true, NULL);
	return IRQ_HANDLED;
}

/*
 * Undoes a forwarding, in the order that leaves the IRQ inactive: free_irq
 * waits while the chip reports the IRQ active, and the GIC's mask deactivates
 * an IRQ only while it is flagged forwarded, so the IRQ is freed before the
 * flag is cleared. Then the IRQ goes back to the CPUs it had.
 */
static void unforward(struct cleave_forward *f)
{
	bool active = false, cleared = false;

	kvm_fn.unmap_phys_irq(f->vcpu, f->intid);
	free_irq(f->irq, f);
	if (!irq_get_irqchip_state(f->irq, IRQCHIP_STATE_ACTIVE, &active) && active)
		cleared = !irq_set_irqchip_state(f->irq, IRQCHIP_STATE_ACTIVE, false);
	irq_set_vcpu_affinity(f->irq, NULL);
	if (irq_set_affinity(f->irq, &f->affinity))
		pr_warn("INTID %u (IRQ %u): its affinity %*pbl could not be restored\n", f->intid, f->irq,
			cpumask_pr_args(&f->affinity));
	/* The handler may have raised the now unmapped virtual line: lower it. */
	kvm_fn.inject_irq(f->kvm, 0, f->intid, false, NULL);
	kvm_put_kvm(f->kvm);
	pr_info("INTID %u (IRQ %u) unforwarded after %u host interrupts%s\n", f->intid, f->irq,
		atomic_read(&f->handled), cleared ? "; its active state cleared" : "");
}

static int forward_release(struct inode *inode, struct file *file)
{
	struct cleave_forward *f = file->private_data;

	unforward(f);
	kfree(f);
	return 0;
}

static long forward_status(struct cleave_forward *f, struct cleave_forward_status __user *argp)
{
	struct cleave_forward_status s = {
		.intid = f->intid,
		.irq = f->irq,
		.vcpu = f->vcpu_index,
		.host_cpu = f->host_cpu,
		.state = irq_state(f->irq),
		.handled = atomic_read(&f->handled),
		.off_cpu = atomic_read(&f->off_cpu),
		.vcpu_thread_cpu = vcpu_thread_cpu(f->vcpu),
	};

	return copy_to_user(argp, &s, sizeof(s)) ? -EFAULT : 0;
}

static long forward_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct cleave_forward *f = file->private_data;

	switch (cmd) {
	case CLEAVE_FORWARD_STATUS:
		return forward_status(f, (void __user *)arg);
	case CLEAVE_FORWARD_RAISE:
		return irq_set_irqchip_state(f->irq, IRQCHIP_STATE_PENDING, true);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations forward_fops = {
	.owner = THIS_MODULE,
	.release = forward_release,
	.unlocked_ioctl = forward_ioctl,
	.llseek = noop_llseek,
};

/* A referenced KVM VM from its fd. */
static int get_vm(int fd, struct kvm **kvm)
{
	struct file *file = fget(fd);

	if (!file)
		return refuse(-EBADF, "fd %d is not open", fd);
	if (!file_is_kvm(file)) {
		fput(file);
		return refuse(-EINVAL, "fd %d is not a KVM VM (KVM_CREATE_VM)", fd);
	}
	*kvm = file->private_data;
	kvm_get_kvm(*kvm);
	fput(file);
	return 0;
}

/*
 * The host's side of a forwarding, checked before the VM's: the SPI's Linux
 * IRQ, its irq chip's mode, the CPU. 0 or a refusal.
 */
static int check_host(const struct cleave_forward_spi *req, unsigned int *irq)
{
	struct irq_chip *chip;

	*irq = irq_find_mapping(gic_domain, req->intid);
	if (!*irq)
		return refuse(-ENXIO, "INTID %u has no Linux IRQ on the host GIC (no device mapped it; CLEAVE_FORWARD_IRQ_INFO with CLEAVE_FORWARD_INFO_MAP maps it from the host's tree)",
			      req->intid);
	chip = irq_data_get_irq_chip(irq_get_irq_data(*irq));
	if (!chip || !chip->irq_set_vcpu_affinity)
		return refuse(-EOPNOTSUPP, "the host GIC is not in split EOI/Deactivate mode (EOImode=1), so INTID %u cannot be forwarded (the GIC drivers leave the mode off when the host did not boot at EL2, or when a GICv2 CPU interface window is under 8 KiB)",
			      req->intid);
	if (req->host_cpu >= nr_cpu_ids || !cpu_online(req->host_cpu))
		return refuse(-EXDEV, "host CPU %u is not online", req->host_cpu);
	return 0;
}

/* The VM's side: its vGIC, the INTID's line there, the vCPU and its thread. */
static int check_vm(const struct cleave_forward_spi *req, struct kvm *kvm, struct kvm_vcpu **vcpu)
{
	bool initialized;
	u32 spis, vcpus;
	int thread_cpu;

	/*
	 * vgic_init sets these under config_lock; stable once initialised (KVM
	 * refuses new vCPUs after the vGIC's init, and our reference keeps it).
	 */
	mutex_lock(&kvm->arch.config_lock);
	initialized = vgic_initialized(kvm);
	spis = kvm->arch.vgic.nr_spis;
	vcpus = atomic_read(&kvm->online_vcpus);
	mutex_unlock(&kvm->arch.config_lock);
	if (!initialized)
		return refuse(-ENODEV, "the VM's vGIC is not initialised (KVM_DEV_ARM_VGIC_CTRL_INIT)");
	if (req->intid >= VGIC_NR_PRIVATE_IRQS + spis)
		return refuse(-ERANGE, "INTID %u is beyond the VM's vGIC, which has INTIDs up to %u (KVM_DEV_ARM_VGIC_GRP_NR_IRQS)",
			      req->intid, VGIC_NR_PRIVATE_IRQS + spis - 1);
	/* kvm_get_vcpu takes an int: a huge index would turn negative */
	*vcpu = req->vcpu < vcpus ? kvm_get_vcpu(kvm, req->vcpu) : NULL;
	if (!*vcpu)
		return refuse(-ENOENT, "the VM has no vCPU %u", req->vcpu);
	thread_cpu = vcpu_thread_cpu(*vcpu);
	if (thread_cpu != CLEAVE_FORWARD_VCPU_NOT_RUN && thread_cpu != (int)req->host_cpu)
		return refuse(-EXDEV, "vCPU %u's thread is %s, not pinned to CPU %u alone", req->vcpu,
			      thread_cpu == CLEAVE_FORWARD_VCPU_UNPINNED ? "free to run on several CPUs" : "pinned elsewhere",
			      req->host_cpu);
	return 0;
}

static long forward_spi(struct cleave_forward_spi __user *argp)
{
	struct cleave_forward_spi req;
	struct cleave_forward *f;
	struct file *file;
	int fd, ret;

	if (copy_from_user(&req, argp, sizeof(req)))
		return -EFAULT;
	if (req.flags)
		return refuse(-EINVAL, "flags %#x (none are defined)", req.flags);
	if (req.intid < 32 || req.intid > 1019)
		return refuse(-ERANGE, "INTID %u is not an SPI (32-1019)", req.intid);

	f = kzalloc(sizeof(*f), GFP_KERNEL);
	if (!f)
		return -ENOMEM;
	f->intid = req.intid;
	f->vcpu_index = req.vcpu;
	f->host_cpu = req.host_cpu;
	ret = check_host(&req, &f->irq);
	if (ret)
		goto free;
	ret = get_vm(req.vm_fd, &f->kvm);
	if (ret)
		goto free;
	ret = check_vm(&req, f->kvm, &f->vcpu);
	if (ret)
		goto put_vm;

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		ret = fd;
		goto put_vm;
	}
	/* Claimed but left disabled until it is mapped and flagged forwarded. */
	ret = request_irq(f->irq, forward_handler, IRQF_NO_AUTOEN, KBUILD_MODNAME, f);
	if (ret) {
		if (ret == -EBUSY)
			refusal("INTID %u (IRQ %u) is already requested: a host driver, an open VFIO device or another forwarding holds it (see /proc/interrupts)",
			       f->intid, f->irq);
		else
			refusal("request_irq(%u) failed: %d", f->irq, ret);
		goto put_fd;
	}
	/*
	 * Steered once it is ours. The vCPU thread must run on that CPU: the
	 * GICv2 model of QEMU 7.2 keeps an SPI's active state per CPU, so a
	 * guest EOI on another CPU than the one that took it leaves it active.
	 */
	cpumask_copy(&f->affinity, irq_data_get_affinity_mask(irq_get_irq_data(f->irq)));
	ret = irq_set_affinity(f->irq, cpumask_of(f->host_cpu));
	if (ret) {
		refusal("INTID %u (IRQ %u) cannot be steered to CPU %u: %d", f->intid, f->irq, f->host_cpu, ret);
		ret = -EXDEV;
		goto free_irq;
	}
	ret = kvm_fn.map_phys_irq(f->vcpu, f->irq, f->intid, NULL);
	if (ret) {
		refusal("kvm_vgic_map_phys_irq(INTID %u, IRQ %u) failed: %d", f->intid, f->irq, ret);
		goto restore_affinity;
	}
	ret = irq_set_vcpu_affinity(f->irq, f->vcpu);
	if (ret) {
		refusal("irq_set_vcpu_affinity(%u) failed: %d", f->irq, ret);
		goto unmap;
	}
	file = anon_inode_getfile("[cleave-forward]", &forward_fops, f, O_RDWR | O_CLOEXEC);
	if (IS_ERR(file)) {
		ret = PTR_ERR(file);
		goto clear_forwarded;
	}
	enable_irq(f->irq);
	fd_install(fd, file);
	pr_info("pid %d (%s): INTID %u (IRQ %u, %s) forwarded to vCPU %u on CPU %u\n", task_pid_nr(current),
		current->comm, f->intid, f->irq, irq_get_trigger_type(f->irq) & IRQ_TYPE_LEVEL_MASK ? "level" : "edge",
		f->vcpu_index, f->host_cpu);
	return fd;

clear_forwarded:
	irq_set_vcpu_affinity(f->irq, NULL);
unmap:
	kvm_fn.unmap_phys_irq(f->vcpu, f->intid);
restore_affinity:
	irq_set_affinity(f->irq, &f->affinity);
free_irq:
	free_irq(f->irq, f);
put_fd:
	put_unused_fd(fd);
put_vm:
	kvm_put_kvm(f->kvm);
free:
	kfree(f);
	return ret;
}

/*
 * Makes an SPI pending at the host GIC, as its device would, and returns the
 * counter read just before. arch_timer_read_counter is what
 * kvm_phys_timer_read reads, so a guest's counter plus its KVM offset
 * compares with it.
 */
static long raise_spi(struct cleave_forward_raise __user *argp)
{
	struct cleave_forward_raise req;
	unsigned int irq;
	int ret;

	if (copy_from_user(&req, argp, sizeof(req)))
		return -EFAULT;
	if (req.flags)
		return -EINVAL;
	if (req.intid < 32 || req.intid > 1019)
		return -ERANGE;
	irq = irq_find_mapping(gic_domain, req.intid);
	if (!irq)
		return -ENXIO;
	req.counter = arch_timer_read_counter();
	ret = irq_set_irqchip_state(irq, IRQCHIP_STATE_PENDING, true);
	if (ret)
		return ret;
	return copy_to_user(argp, &req, sizeof(req)) ? -EFAULT : 0;
}

static long device_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	if (!capable(CAP_SYS_ADMIN))
		return -EPERM;
	switch (cmd) {
	case CLEAVE_FORWARD_IRQ_INFO:
		return irq_info((void __user *)arg);
	case CLEAVE_FORWARD_SPI:
		return forward_spi((void __user *)arg);
	case CLEAVE_FORWARD_RAISE_SPI:
		return raise_spi((void __user *)arg);
	default:
		return -ENOTTY;
	}
}

static const struct file_operations device_fops = {
	.owner = THIS_MODULE,
	.unlocked_ioctl = device_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice device = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "cleave-forward",
	.fops = &device_fops,
	.mode = 0600,
};

static int __init cleave_forward_init(void)
{
	int ret;

	if (strcmp(init_utsname()->version, UTS_VERSION)) {
		pr_err("built for kernel \"%s\", running \"%s\": rebuild against the running kernel's own headers\n",
		       UTS_VERSION, init_utsname()->version);
		return -EINVAL;
	}
	ret = resolve_kvm_symbols();
	if (ret)
		return ret;
	ret = find_gic();
	if (ret)
		return ret;
	ret = misc_register(&device);
	if (ret) {
		of_node_put(gic_node);
		return ret;
	}
	pr_info("/dev/cleave-forward ready (GIC %pOF; kvm_vgic_map_phys_irq %pS)\n", gic_node, kvm_fn.map_phys_irq);
	return 0;
}

static void __exit cleave_forward_exit(void)
{
	misc_deregister(&device);
	of_node_put(gic_node);
}

module_init(cleave_forward_init);
module_exit(cleave_forward_exit);
MODULE_DESCRIPTION("Forwards a physical SPI to a KVM guest with the HW bit (Cleave)");
MODULE_LICENSE("GPL");
