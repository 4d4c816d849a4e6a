/*
 * KVM's paravirtual scheduling calls and steal time, as arch/x86/kvm/x86.c
 * (kvm_emulate_hypercall, record_steal_time) and lapic.c (kvm_pv_send_ipi)
 * define them. Interrupts go through the arch's interrupt controller
 * (core/arch.h), wake-ups and yields through the scheduler.
 */
#define LOG_SUB_FILE LOG_SUB_KVM   /* its messages: loglevel=kvm:LEVEL */
#include "core/arch.h"
#include "core/gmem.h"
#include "core/sched.h"
#include "core/time.h"
#include "core/vm.h"
#include "hypercalls/kvm/kvm.h"
#include "hypercalls/kvm/kvm_abi.h"

/*
 * KVM_HC_KICK_CPU(a0 flags, a1 APIC ID): the vCPU with that APIC ID leaves
 * its halt, or skips its next one (a kick that races ahead of the HLT of a
 * PV spinlock waiter). KVM then yields to it; the result is always 0.
 */
int64_t kvm_hc_kick_cpu(struct vcpu *v, const struct hc_args *a)
{
	struct vcpu *t = arch_vcpu_by_irq_id(v->vm, (uint32_t)a->arg[1]);
	if (t) {
		t->pv_unhalt = true;
		if (t->state == VCPU_HALTED)
			vcpu_wake(t);
		vcpu_yield_to(v, t);
	}
	return 0;
}

/*
 * One bitmap word: bit i names APIC ID min + i. IDs with no vCPU are
 * skipped; the count is of the interrupt controllers that accepted.
 */
static int64_t send_bitmap(struct vcpu *v, uint64_t bitmap, uint64_t min, unsigned bits, uint32_t icr)
{
	int64_t n = 0;
	for (unsigned i = 0; i < bits && bitmap; i++, bitmap >>= 1) {
		if (!(bitmap & 1) || min + i > UINT32_MAX)
			continue;
		struct vcpu *t = arch_vcpu_by_irq_id(v->vm, (uint32_t)(min + i));
		if (t)
			n += arch_send_ipi(t, icr);
	}
	return n;
}

/*
 * KVM_HC_SEND_IPI(a0 bitmap low, a1 bitmap high, a2 min APIC ID, a3 ICR):
 * physical destinations only, no shorthand (-KVM_EINVAL otherwise); the
 * high word starts at min + 64 in 64-bit mode, min + 32 outside it (the
 * dispatcher already cut the words to 32 bits there). Unlike KVM's u32
 * arithmetic, min + 64 does not wrap to APIC ID 0.
 */
int64_t kvm_hc_send_ipi(struct vcpu *v, const struct hc_args *a)
{
	uint32_t icr = (uint32_t)a->arg[3];
	unsigned cluster = a->long_mode ? 64 : 32;
	if (icr & (KVM_SEND_IPI_DEST_LOGICAL | KVM_SEND_IPI_SHORTHAND))
		return -KVM_EINVAL;
	uint64_t min = (uint32_t)a->arg[2];
	return send_bitmap(v, a->arg[0], min, cluster, icr) +
	       send_bitmap(v, a->arg[1], min + cluster, cluster, icr);
}

/* KVM_HC_SCHED_YIELD(a0 APIC ID): give the CPU to that vCPU if it is runnable; always 0. */
int64_t kvm_hc_sched_yield(struct vcpu *v, const struct hc_args *a)
{
	struct vcpu *t = arch_vcpu_by_irq_id(v->vm, (uint32_t)a->arg[0]);
	if (t)
		vcpu_yield_to(v, t);
	return 0;
}

/*
 * The steal-time record: version odd while it changes, steal (ns) grows by
 * the time the vCPU waited for the CPU since the last update. A record the
 * gate refuses is skipped, as KVM skips one it cannot map.
 */
static void write_steal_time(struct vcpu *v)
{
	struct kvm_vcpu_state *k = &v->hc.kvm;
	if (!(k->steal_time_msr & KVM_MSR_ENABLED))
		return;
	gpa_t gpa = mk_gpa(k->steal_time_msr & KVM_STEAL_VALID_BITS);
	struct kvm_steal_time st;
	if (gmem_read(v->vm, gpa, &st, sizeof(st)))
		return;
	if (st.version & 1)
		st.version++;              /* a guest left it odd: make it even first, as KVM does */
	st.version++;
	st.preempted = 0;
	if (gmem_write(v->vm, gpa, &st, sizeof(st)))
		return;
	uint64_t ticks = v->steal - k->steal_reported;
	k->steal_reported = v->steal;
	st.steal += time_apply_scale(ticks, time_ns_scale());
	st.version++;
	gmem_write(v->vm, gpa, &st, sizeof(st));
}

void kvm_vcpu_scheduled(struct vcpu *v)
{
	write_steal_time(v);
}

/*
 * Descheduled while runnable: the guest's vcpu_is_preempted() reads this
 * (KVM kvm_steal_time_set_preempted); the next write_steal_time clears it.
 */
void kvm_vcpu_preempted(struct vcpu *v)
{
	const struct kvm_vcpu_state *k = &v->hc.kvm;
	if (!(k->steal_time_msr & KVM_MSR_ENABLED))
		return;
	uint8_t flag = KVM_VCPU_PREEMPTED;
	gmem_write(v->vm, mk_gpa((k->steal_time_msr & KVM_STEAL_VALID_BITS) +
	                         offsetof(struct kvm_steal_time, preempted)), &flag, 1);
}

int kvm_steal_msr_write(struct vcpu *v, uint64_t val)
{
	if (val & KVM_STEAL_RESERVED_MASK)
		return -EINVAL;
	v->hc.kvm.steal_time_msr = val;
	write_steal_time(v);
	return 0;
}
