/*
 * kvmclock and the wall clock (Documentation/virt/kvm/x86/msr.rst) and
 * KVM_HC_CLOCK_PAIRING (Documentation/virt/kvm/x86/hypercalls.rst).
 * The VM's clock counts nanoseconds from the VM's creation; every value a
 * guest is given is computed with the same scale it uses to read it
 * (core/time.h), so guest and hypervisor agree to the nanosecond.
 */
#define LOG_SUB_FILE LOG_SUB_KVM   /* its messages: loglevel=kvm:LEVEL */
#include "core/arch.h"
#include "core/gmem.h"
#include "core/time.h"
#include "core/vm.h"
#include "hypercalls/kvm/kvm.h"
#include "hypercalls/kvm/kvm_abi.h"

static void kvm_write_system_time(struct vcpu *v)
{
	uint64_t msr = v->hc.kvm.system_time_msr;
	if (msr & KVM_SYSTEM_TIME_ENABLE)
		pvclock_publish(v, mk_gpa(msr & ~KVM_SYSTEM_TIME_ENABLE));
}

/* The wall-clock time at which the VM's kvmclock read 0. */
static void kvm_write_wall_clock(struct vcpu *v)
{
	gpa_t gpa = mk_gpa(v->vm->hc.kvm.wall_clock_msr);
	uint32_t version;
	if (!gpa.v)
		return;                 /* KVM: a zero address means "no wall clock" */
	if (!pvclock_begin_update(v->vm, gpa, sizeof(struct pvclock_wall_clock), &version))
		return;
	uint64_t host = arch_read_counter();
	uint64_t boot = time_wall_ns(host) - pvclock_ns(v->vm, host);
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
