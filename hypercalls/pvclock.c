/*
 * The pvclock time structure shared by kvmclock and Xen's vcpu_time_info.
 * The VM's clock counts nanoseconds from the VM's creation; every value a
 * guest is given is computed with the same scale it uses to read it
 * (core/time.h), so guest and hypervisor agree to the nanosecond.
 */
#include "core/arch.h"
#include "core/gmem.h"
#include "core/time.h"
#include "core/vm.h"
#include "hypercalls/pvclock.h"

uint64_t pvclock_ns(const struct vm *vm, uint64_t host)
{
	return time_apply_scale(host - vm->clock_base, time_ns_scale());
}

/* Times beyond this (about 3.5 years of the VM's clock) never come: keeps the conversion exact. */
#define PVCLOCK_NS_NEVER (1ull << 57)

uint64_t pvclock_counter_at(const struct vm *vm, uint64_t ns)
{
	if (ns >= PVCLOCK_NS_NEVER)
		return UINT64_MAX;
	/* the scale is made once per counter rate: timers are polled after every exit */
	static uint64_t scale_hz;
	static struct time_scale to_counter;
	if (scale_hz != time_counter_hz()) {
		scale_hz = time_counter_hz();
		to_counter = time_make_scale(NSEC_PER_SEC, scale_hz);
	}
	uint64_t per_ns = scale_hz / NSEC_PER_SEC + 1;                 /* ticks per ns, rounded up */
	uint64_t c = vm->clock_base + time_apply_scale(ns, to_counter);
	for (uint64_t at; (at = pvclock_ns(vm, c)) < ns;)
		c += (ns - at) * per_ns;
	return c;
}

/*
 * The version protocol: odd while we write, even after, starting from
 * whatever the guest's memory held (KVM: x86.c kvm_setup_guest_pvclock;
 * Xen: time.c update_vcpu_system_time). KVM maps the structure as one page
 * and publishes nothing if it crosses one; so do we.
 */
bool pvclock_begin_update(struct vm *vm, gpa_t gpa, size_t size, uint32_t *version)
{
	if (!gmem_range_ok(vm, gpa, size, true) || gmem_read(vm, gpa, version, sizeof(*version)))
		return false;
	*version = (*version + 1) | 1;
	return !gmem_write(vm, gpa, version, sizeof(*version));
}

bool pvclock_publish(struct vcpu *v, gpa_t gpa)
{
	struct time_scale s = time_ns_scale();
	uint32_t version;
	/* kvmclock must sit in one page (KVM maps it through a one-page gfn_to_hva cache) */
	if ((gpa.v & (PAGE_SIZE - 1)) + sizeof(struct pvclock_vcpu_time_info) > PAGE_SIZE ||
	    !pvclock_begin_update(v->vm, gpa, sizeof(struct pvclock_vcpu_time_info), &version))
		return false;
	uint64_t host = arch_read_counter();
	struct pvclock_vcpu_time_info ti = {
		.version = version,
		.tsc_timestamp = arch_guest_counter(v, host),
		.system_time = pvclock_ns(v->vm, host),
		.tsc_to_system_mul = s.mul,
		.tsc_shift = s.shift,
		.flags = arch_counter_is_stable() ? PVCLOCK_TSC_STABLE_BIT : 0,
	};
	gmem_write(v->vm, gpa, &ti, sizeof(ti));
	ti.version++;
	gmem_write(v->vm, gpa, &ti.version, sizeof(ti.version));
	return true;
}
