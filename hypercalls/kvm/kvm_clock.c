/*
 * kvmclock and the wall clock (Documentation/virt/kvm/x86/msr.rst) and
 * KVM_HC_CLOCK_PAIRING (Documentation/virt/kvm/x86/hypercalls.rst).
 * The VM's clock counts nanoseconds from the VM's creation; every value a
 * guest is given is computed with the same scale it uses to read it
 * (core/time.h), so guest and hypervisor agree to the nanosecond.
 */
#include "core/arch.h"
#include "core/gmem.h"
#include "core/time.h"
#include "core/vm.h"
#include "hypercalls/kvm/kvm.h"
#include "hypercalls/kvm/kvm_abi.h"

uint64_t kvm_clock_ns(const struct vm *vm, uint64_t host)
{
	return time_apply_scale(host - vm->clock_base, time_ns_scale());
}

/*
 * The version protocol of both structures: odd while we write, even after;
 * starting from whatever the guest's memory held (KVM: x86.c
 * kvm_write_wall_clock and kvm_setup_guest_pvclock). A structure that is not
 * wholly in guest RAM is not written at all, as in KVM: a half-written one
 * would leave the version odd and the guest spinning.
 */
static bool begin_update(struct vm *vm, gpa_t gpa, size_t size, uint32_t *version)
{
	/* KVM maps the structure as one page and publishes nothing if it crosses one */
	if ((gpa.v & (PAGE_SIZE - 1)) + size > PAGE_SIZE)
		return false;
	if (!gmem_range_ok(vm, gpa, size, true) || gmem_read(vm, gpa, version, sizeof(*version)))
		return false;
	*version = (*version + 1) | 1;
	return !gmem_write(vm, gpa, version, sizeof(*version));
}

static void kvm_write_system_time(struct vcpu *v)
{
	uint64_t msr = v->hc.kvm.system_time_msr;
	gpa_t gpa = mk_gpa(msr & ~KVM_SYSTEM_TIME_ENABLE);
	struct time_scale s = time_ns_scale();
	uint32_t version;
	if (!(msr & KVM_SYSTEM_TIME_ENABLE) ||
	    !begin_update(v->vm, gpa, sizeof(struct pvclock_vcpu_time_info), &version))
		return;
	uint64_t host = arch_read_counter();
	struct pvclock_vcpu_time_info ti = {
		.version = version,
		.tsc_timestamp = arch_guest_counter(v, host),
		.system_time = kvm_clock_ns(v->vm, host),
		.tsc_to_system_mul = s.mul,
		.tsc_shift = s.shift,
		.flags = arch_counter_is_stable() ? PVCLOCK_TSC_STABLE_BIT : 0,
	};
	gmem_write(v->vm, gpa, &ti, sizeof(ti));
	ti.version++;
	gmem_write(v->vm, gpa, &ti.version, sizeof(ti.version));
}

/* The wall-clock time at which the VM's kvmclock read 0. */
static void kvm_write_wall_clock(struct vcpu *v)
{
	gpa_t gpa = mk_gpa(v->vm->hc.kvm.wall_clock_msr);
	uint32_t version;
	if (!gpa.v)
		return;                 /* KVM: a zero address means "no wall clock" */
	if (!begin_update(v->vm, gpa, sizeof(struct pvclock_wall_clock), &version))
		return;
	uint64_t host = arch_read_counter();
	uint64_t boot = time_wall_ns(host) - kvm_clock_ns(v->vm, host);
	struct pvclock_wall_clock wc = {
		.version = version,
		.sec = (uint32_t)(boot / NSEC_PER_SEC),   /* 32 bits, as in KVM: overflows in 2106 */
		.nsec = (uint32_t)(boot % NSEC_PER_SEC),
	};
	gmem_write(v->vm, gpa, &wc, sizeof(wc));
	wc.version++;
	gmem_write(v->vm, gpa, &wc.version, sizeof(wc.version));
}

/* The guest's TSC moved (a TSC write): what kvmclock published must follow it. */
void kvm_clock_changed(struct vcpu *v)
{
	kvm_write_system_time(v);
}

int kvm_clock_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	switch (msr) {
	case MSR_KVM_WALL_CLOCK:
	case MSR_KVM_WALL_CLOCK_NEW:
		*val = v->vm->hc.kvm.wall_clock_msr;
		return 0;
	case MSR_KVM_SYSTEM_TIME:
	case MSR_KVM_SYSTEM_TIME_NEW:
		*val = v->hc.kvm.system_time_msr;
		return 0;
	}
	return -ENOENT;
}

int kvm_clock_msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	switch (msr) {
	case MSR_KVM_WALL_CLOCK:
	case MSR_KVM_WALL_CLOCK_NEW:
		v->vm->hc.kvm.wall_clock_msr = val;
		kvm_write_wall_clock(v);
		return 0;
	case MSR_KVM_SYSTEM_TIME:
	case MSR_KVM_SYSTEM_TIME_NEW:
		v->hc.kvm.system_time_msr = val;
		kvm_write_system_time(v);
		return 0;
	}
	return -ENOENT;
}

/* a0: GPA of struct kvm_clock_pairing, a1: clock type (only the wall clock exists). */
int64_t kvm_hc_clock_pairing(struct vcpu *v, const struct hc_args *a)
{
	if (a->arg[1] != KVM_CLOCK_PAIRING_WALLCLOCK)
		return -KVM_EOPNOTSUPP;
	uint64_t host = arch_read_counter(), wall = time_wall_ns(host);
	struct kvm_clock_pairing cp = {
		.sec = (int64_t)(wall / NSEC_PER_SEC),
		.nsec = (int64_t)(wall % NSEC_PER_SEC),
		.tsc = arch_guest_counter(v, host),
	};
	return gmem_write(v->vm, mk_gpa(a->arg[0]), &cp, sizeof(cp)) ? -KVM_EFAULT : 0;
}
