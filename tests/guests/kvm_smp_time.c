/*
 * KVM time per vCPU: every vCPU's own kvmclock (one clock for all of them,
 * checked against KVM_HC_CLOCK_PAIRING and the wall clock) and steal time.
 * Sources: Linux arch/x86/include/uapi/asm/kvm_para.h (layouts),
 * arch/x86/kvm/x86.c (kvm_set_msr_common, record_steal_time,
 * kvm_steal_time_set_preempted, kvm_pv_clock_pairing) and the guest side,
 * arch/x86/kernel/kvm.c and pvclock.c.
 */
#include "smp.h"

#define KVM_HC_CLOCK_PAIRING	9
#define KVM_FEATURE_CLOCKSOURCE2 3
#define MSR_KVM_WALL_CLOCK_NEW	0x4b564d00u
#define MSR_KVM_SYSTEM_TIME_NEW	0x4b564d01u
#define MSR_KVM_STEAL_TIME	0x4b564d03u
#define KVM_MSR_ENABLED		1u
#define KVM_VCPU_PREEMPTED	(1u << 0)
#define NSEC_PER_SEC		1000000000ll


struct kvm_steal_time {
	uint64_t steal;
	uint32_t version, flags;
	uint8_t preempted, u8_pad[3];
	uint32_t pad[11];
};
_Static_assert(sizeof(struct kvm_steal_time) == 64, "kvm_steal_time layout");

struct kvm_clock_pairing {
	int64_t sec, nsec;
	uint64_t tsc;
	uint32_t flags, pad[9];
};
_Static_assert(sizeof(struct kvm_clock_pairing) == 64, "kvm_clock_pairing layout");

/* One 64-byte slot per vCPU: each its own registration, as Linux's per-CPU variables. */
static struct { struct pvclock_vcpu_time_info t; uint8_t pad[32]; } pvti[SMP_MAX_CPUS]
	__attribute__((aligned(64)));
/* volatile: the hypervisor writes them behind the compiler's back */
static volatile struct kvm_steal_time steal[SMP_MAX_CPUS] __attribute__((aligned(64)));
static volatile struct kvm_clock_pairing pairing[SMP_MAX_CPUS] __attribute__((aligned(64)));
static volatile struct pvclock_wall_clock wall __attribute__((aligned(16)));

static ulong gpa(volatile const void *p) { return (ulong)p; }

/* ---- kvmclock (the pvclock sum of Linux arch/x86/kernel/pvclock.c, written out) ---- */

static uint64_t kvmclock_at(const volatile struct pvclock_vcpu_time_info *t, uint64_t tsc)
{
	return t->system_time + pvclock_scale(tsc - t->tsc_timestamp, t->tsc_to_system_mul, t->tsc_shift);
}

/* Reads this vCPU's kvmclock with the version protocol; *tsc gets the TSC it used. */
static uint64_t kvmclock_read(const volatile struct pvclock_vcpu_time_info *t, uint64_t *tsc)
{
	uint32_t v;
	uint64_t ns;

	do {
		v = t->version;
		barrier();
		*tsc = rdtsc_ordered();
		ns = kvmclock_at(t, *tsc);
		barrier();
	} while ((v & 1) || v != t->version);
	return ns;
}

static bool kvmclock_register(unsigned int id, bool probe)
{
	volatile struct pvclock_vcpu_time_info *t = &pvti[id].t;
	uint64_t val = gpa(t) | KVM_MSR_ENABLED;

	if (probe)
		return !wrmsr_probe(MSR_KVM_SYSTEM_TIME_NEW, val);
	wrmsr64(MSR_KVM_SYSTEM_TIME_NEW, val);
	return true;
}

/* smp_init: TSC ticks per ms from the BSP's kvmclock scale, 0 without kvmclock. */
uint64_t kvmclock_tsc_per_ms(void)
{
	volatile struct pvclock_vcpu_time_info *t = &pvti[0].t;

	if (!kvm_has_feature(KVM_FEATURE_CLOCKSOURCE2) || !kvmclock_register(0, true) ||
	    !t->tsc_to_system_mul)
		return 0;
	/* ns = (tsc << shift) * mul >> 32, solved for 10^6 ns */
	uint64_t ticks = udiv64(1000000ull << 32, t->tsc_to_system_mul);
	return t->tsc_shift >= 0 ? ticks >> t->tsc_shift : ticks << -t->tsc_shift;
}

/* ---- kvm.kvmclock_smp ---- */

static struct {
	volatile uint32_t lock, go, lock_timeout;
	uint64_t last_ns, last_tsc, worst_ns, worst_tsc;
	uint32_t back_ns, back_tsc, reads[SMP_MAX_CPUS];
	volatile ulong pair_ret[SMP_MAX_CPUS];
} ord;

/* Readings on all vCPUs, ordered by the lock, must never go back (as Linux's check_tsc_warp). */
static void ordered_reads(unsigned int id)
{
	uint64_t deadline = tsc_after_ms(50);

	for (int i = 0; i < 300 && !tsc_passed(deadline); i++) {
		if (!spin_lock(&ord.lock)) {
			ord.lock_timeout = 1;
			return;
		}
		uint64_t tsc, ns = kvmclock_read(&pvti[id].t, &tsc);
		if (ns < ord.last_ns) {
			ord.back_ns++;
			if (ord.last_ns - ns > ord.worst_ns)
				ord.worst_ns = ord.last_ns - ns;
		}
		if (tsc < ord.last_tsc) {
			ord.back_tsc++;
			if (ord.last_tsc - tsc > ord.worst_tsc)
				ord.worst_tsc = ord.last_tsc - tsc;
		}
		ord.last_ns = ns;
		ord.last_tsc = tsc;
		ord.reads[id]++;
		spin_unlock(&ord.lock);
		cpu_relax();
	}
}

static void clock_job(ulong id)
{
	kvmclock_register((unsigned int)id, false);
	ord.pair_ret[id] = ap_hypercall(KVM_HC_CLOCK_PAIRING, gpa(&pairing[id]), 0);
	if (WAIT_MS(ord.go, 2000))
		ordered_reads((unsigned int)id);
}

/* CLOCK_PAIRING's wall-clock ns minus this vCPU's kvmclock at the same TSC: the boot time. */
static int64_t boot_ns_seen(unsigned int id)
{
	const volatile struct kvm_clock_pairing *p = &pairing[id];

	return p->sec * NSEC_PER_SEC + p->nsec - (int64_t)kvmclock_at(&pvti[id].t, p->tsc);
}

static void check_clock_agreement(void)
{
	int64_t lo = 0, hi = 0;

	for (unsigned int id = 0; id < smp.ncpus; id++) {
		const volatile struct pvclock_vcpu_time_info *t = &pvti[id].t;

		if (!t->version || (t->version & 1) || !t->tsc_to_system_mul)
			check_fail("CPU %u kvmclock version %u mul %u: not published", id, t->version,
				   t->tsc_to_system_mul);
		if (ord.pair_ret[id] != 0) {
			check_fail("CPU %u CLOCK_PAIRING returned %ld", id, (long)ord.pair_ret[id]);
			return;
		}
		int64_t b = boot_ns_seen(id);
		if (id == 0 || b < lo)
			lo = b;
		if (id == 0 || b > hi)
			hi = b;
	}
	/* the same clocks on every vCPU: 1 ms is generous */
	if (hi - lo > 1000000)
		check_fail("wall clock minus kvmclock differs by %lld ns between vCPUs", (long long)(hi - lo));
	if (wrmsr_probe(MSR_KVM_WALL_CLOCK_NEW, gpa(&wall))) {
		check_fail("WRMSR MSR_KVM_WALL_CLOCK_NEW raised vector %lu", fault_vector);
		return;
	}
	int64_t boot = (int64_t)wall.sec * NSEC_PER_SEC + wall.nsec, d = boot - lo;
	if (d > 10000000 || d < -10000000)
		check_fail("CLOCK_PAIRING minus kvmclock is %lld ns from the wall clock MSR's boot time",
			   (long long)d);
}

void check_kvmclock_smp(void)
{
	if (!smp_require(2, true))
		goto out;
	memset((void *)&ord, 0, sizeof(ord));
	if (!kvmclock_register(0, true)) {
		check_fail("WRMSR MSR_KVM_SYSTEM_TIME_NEW raised vector %lu", fault_vector);
		goto out;
	}
	for (unsigned int id = 1; id < smp.ncpus; id++)
		smp_post(id, clock_job, id);
	ulong ret;
	ord.pair_ret[0] = kvm_hypercall(&ret, KVM_HC_CLOCK_PAIRING, gpa(&pairing[0]), 0, 0, 0) ?
			  ret : ~0ul;
	ord.go = 1;
	ordered_reads(0);
	for (unsigned int id = 1; id < smp.ncpus; id++)
		if (!smp_wait(id, 2000)) {
			check_fail("AP %u did not finish its clock readings", id);
			goto out;
		}
	if (ord.lock_timeout)
		check_fail("the shared lock was held for 2 s");
	for (unsigned int id = 0; id < smp.ncpus; id++)
		if (!ord.reads[id])
			check_fail("CPU %u took no reading", id);
	if (ord.back_ns)
		check_fail("kvmclock went back %u times across vCPUs, worst %llu ns", ord.back_ns,
			   (unsigned long long)ord.worst_ns);
	if (ord.back_tsc)
		check_fail("TSC went back %u times across vCPUs, worst %llu ticks", ord.back_tsc,
			   (unsigned long long)ord.worst_tsc);
	check_clock_agreement();
out:
	smp_check_done(KVM_SUITE, "kvmclock_smp");
}

/* ---- kvm.steal_time ---- */

static uint64_t steal_read(unsigned int id, uint32_t *version)
{
	const volatile struct kvm_steal_time *st = &steal[id];
	uint32_t v;
	uint64_t ns;

	/* Linux kvm_steal_clock: retry while odd or changed */
	do {
		v = st->version;
		barrier();
		ns = st->steal;
		barrier();
	} while ((v & 1) || v != st->version);
	*version = v;
	return ns;
}

static void steal_register(ulong id)
{
	wrmsr64(MSR_KVM_STEAL_TIME, gpa(&steal[id]) | KVM_MSR_ENABLED);
}

static bool steal_setup_bsp(void)
{
	ulong g = gpa(&steal[0]);
	uint64_t got;

	/* bits 1-5 are reserved, the struct 64-byte aligned (kvm_para.h KVM_STEAL_RESERVED_MASK) */
	for (unsigned int bit = 1; bit <= 5; bit += 4)
		if (!wrmsr_probe(MSR_KVM_STEAL_TIME, g | KVM_MSR_ENABLED | (1u << bit)))
			check_fail("reserved bit %u accepted, want #GP", bit);
	if (wrmsr_probe(MSR_KVM_STEAL_TIME, g | KVM_MSR_ENABLED)) {
		check_fail("registering steal time raised vector %lu", fault_vector);
		return false;
	}
	if (rdmsr_probe(MSR_KVM_STEAL_TIME, &got) || got != (g | KVM_MSR_ENABLED))
		check_fail("MSR_KVM_STEAL_TIME reads 0x%llx, want 0x%lx", (unsigned long long)got,
			   g | KVM_MSR_ENABLED);
	return true;
}

void check_steal_time(void)
{
	uint64_t s0[SMP_MAX_CPUS], s1[SMP_MAX_CPUS];
	uint32_t v[SMP_MAX_CPUS];
	bool own_preempted = false, ap_preempted = false;

	if (!smp_require(2, true) || !kvm_need_feature(KVM_FEATURE_STEAL_TIME, "STEAL_TIME") ||
	    !steal_setup_bsp())
		goto out;
	for (unsigned int id = 1; id < smp.ncpus; id++)
		if (!smp_call(id, steal_register, id, 1000))
			check_fail("AP %u did not register steal time", id);
	/* the BSP's own steal is bounded by the time from its first reading to its last */
	uint64_t t0 = rdtsc_ordered();
	for (unsigned int id = 0; id < smp.ncpus; id++)
		s0[id] = steal_read(id, &v[id]);

	/* every vCPU runnable for 40 ms on one physical CPU: each waits while the others run */
	spin_stop = 0;
	for (unsigned int id = 1; id < smp.ncpus; id++)
		smp_post(id, spin_job, 40);
	uint64_t deadline = tsc_after_ms(40);
	/*
	 * Interrupts on while spinning: Bochs's SVM takes no physical interrupt
	 * (the hypervisor's slice timer) while a guest runs with IF=0, although
	 * V_INTR_MASKING says it should (APM 15.21.1); with other VMs running,
	 * an unpreempted 40 ms would hide every moment AP 1 waits.
	 */
	irq_enable();
	while (!tsc_passed(deadline)) {
		own_preempted |= steal[0].preempted & KVM_VCPU_PREEMPTED;
		ap_preempted |= steal[1].preempted & KVM_VCPU_PREEMPTED;
	}
	irq_disable();
	for (unsigned int id = 1; id < smp.ncpus; id++)
		smp_wait(id, 1000);

	for (unsigned int id = 0; id < smp.ncpus; id++) {
		s1[id] = steal_read(id, &v[id]);
		if (v[id] < 2)
			check_fail("CPU %u version %u: never updated", id, v[id]);
		if (s1[id] <= s0[id])
			check_fail("CPU %u steal stayed at %llu ns while %u vCPUs competed", id,
				   (unsigned long long)s1[id], smp.ncpus);
	}
	/* steal is time the vCPU wanted to run and didn't: never more than the time that passed */
	uint64_t ns = (tsc_to_us(rdtsc_ordered() - t0) + 1) * 1000;
	if (smp.tsc_known && s1[0] > s0[0] && s1[0] - s0[0] > ns + 2000000)
		check_fail("BSP steal grew %llu ns in %llu ns", (unsigned long long)(s1[0] - s0[0]),
			   (unsigned long long)ns);
	/* x86.c record_steal_time clears preempted before every entry ... */
	if (own_preempted)
		check_fail("the BSP saw its own preempted byte set while running");
	/* ... and kvm_steal_time_set_preempted sets it when a runnable vCPU is scheduled out */
	if (!ap_preempted)
		check_fail("AP 1's preempted byte never read 1 while it waited for the CPU");
	print("INFO " KVM_SUITE ".steal_time BSP steal +%llu us in %llu us\n",
	      (unsigned long long)udiv64(s1[0] - s0[0], 1000), (unsigned long long)udiv64(ns, 1000));
out:
	smp_check_done(KVM_SUITE, "steal_time");
}
