/*
 * KVM's paravirtual calls for multi-vCPU guests, from the inside:
 * KVM_HC_KICK_CPU, KVM_HC_SEND_IPI, KVM_HC_SCHED_YIELD and PV EOI. Sources:
 * Linux include/uapi/linux/kvm_para.h and arch/x86/include/uapi/asm/kvm_para.h
 * (numbers, layouts), arch/x86/kvm/x86.c (kvm_emulate_hypercall,
 * kvm_set_msr_common, __kvm_emulate_halt), arch/x86/kvm/lapic.c
 * (kvm_pv_send_ipi, PV EOI) and the guest side, arch/x86/kernel/kvm.c.
 */
#include "smp.h"

#define KVM_HC_KICK_CPU		5
#define KVM_HC_SEND_IPI		10
#define KVM_HC_SCHED_YIELD	11
#define KVM_EINVAL		22
#define MSR_KVM_PV_EOI_EN	0x4b564d04u
#define KVM_MSR_ENABLED		1u

/* The BSP's hypercalls: a VMMCALL that faults fails the check instead of returning RAX = nr. */
bool kvm_hypercall(ulong *ret, ulong nr, ulong a0, ulong a1, ulong a2, ulong a3)
{
	*ret = vmmcall(nr, a0, a1, a2, a3);
	if (fault_vector == NO_FAULT)
		return true;
	check_fail("hypercall %lu raised vector %lu", nr, fault_vector);
	return false;
}

/* For APs: no fault probe (it is the BSP's); a faulting VMMCALL parks the AP instead. */
ulong ap_hypercall(ulong nr, ulong a0, ulong a1)
{
	__asm__ volatile(".byte 0x0f, 0x01, 0xd9" : "+a"(nr), "+b"(a0), "+c"(a1) : : "memory");
	return nr;
}

bool kvm_need_feature(unsigned int bit, const char *name)
{
	if (kvm_has_feature(bit))
		return true;
	check_fail("CPUID 0x40000001 EAX bit %u (%s) clear", bit, name);
	return false;
}

/* ---- kvm.kick_cpu ---- */

static volatile uint32_t kick_state, kick_go;

/*
 * On the AP. IF stays 1 until the BSP says go, so a VEC_WAKE sent along with
 * the job is taken now and can't be what ends the HLT; then cli;hlt as Linux's
 * kvm_wait does with interrupts off. State: 1 waiting for go, 2 halting,
 * 3 past the HLT.
 */
static void kick_job(ulong unused)
{
	(void)unused;
	kick_state = 1;
	if (!WAIT_MS(kick_go, 2000))
		return;
	irq_disable();
	kick_state = 2;
	__asm__ volatile("hlt" : : : "memory");
	kick_state = 3;
	irq_enable();
}

/* An NMI ends any HLT (SDM HLT): gets a stuck AP back for the later checks. */
static void rescue(unsigned int id)
{
	apic_send(id, ICR_NMI);
	smp_wait(id, 1000);
}

static void kick_halted(void)
{
	ulong ret;

	kick_state = 0;
	kick_go = 0;
	if (!smp_post(1, kick_job, 0) || !WAIT_MS(kick_state == 1, 1000)) {
		check_fail("AP 1 did not take the job");
		return;
	}
	kick_go = 1;
	WAIT_MS(kick_state == 2, 1000);
	delay_us(20000);
	if (kick_state != 2)
		check_fail("AP 1 left cli;hlt within 20 ms without a kick (state %u)", kick_state);
	if (kvm_hypercall(&ret, KVM_HC_KICK_CPU, 0, 1, 0, 0) && ret != 0)
		check_fail("KICK_CPU(APIC ID 1) returned %ld, want 0", (long)ret);
	if (!WAIT_MS(kick_state == 3, 1000)) {
		check_fail("AP 1 still halted 1 s after KICK_CPU");
		rescue(1);
		return;
	}
	smp_wait(1, 1000);
}

/*
 * A kick that arrives before the HLT is kept and makes that HLT return at
 * once: KVM sets pv_unhalted and __kvm_emulate_halt does not block while it
 * is set. Linux's pv spinlock unlocker may kick before the waiter halts.
 */
static void kick_before_halt(void)
{
	kick_state = 0;
	kick_go = 0;
	if (!smp_post(1, kick_job, 0) || !WAIT_MS(kick_state == 1, 1000)) {
		check_fail("AP 1 did not take the second job");
		return;
	}
	ulong ret;
	bool ok = kvm_hypercall(&ret, KVM_HC_KICK_CPU, 0, 1, 0, 0);
	kick_go = 1;
	if (ok && ret != 0)
		check_fail("KICK_CPU(APIC ID 1) to a running vCPU returned %ld, want 0", (long)ret);
	if (!WAIT_MS(kick_state == 3, 1000)) {
		check_fail("a kick sent just before cli;hlt was lost (KVM keeps it: pv_unhalted)");
		rescue(1);
		return;
	}
	smp_wait(1, 1000);
}

void check_kick_cpu(void)
{
	if (!smp_require(2, true) || !kvm_need_feature(KVM_FEATURE_PV_UNHALT, "PV_UNHALT"))
		goto out;
	kick_halted();
	if (cpu_usable(1))
		kick_before_halt();
	ulong ret;
	if (kvm_hypercall(&ret, KVM_HC_KICK_CPU, 0, smp.ncpus, 0, 0) && ret != 0)
		check_fail("KICK_CPU(absent APIC ID %u) returned %ld, want 0", smp.ncpus, (long)ret);
out:
	smp_check_done(KVM_SUITE, "kick_cpu");
}

/* ---- kvm.send_ipi ---- */

/* KVM_HC_SEND_IPI and its deliveries: ret must be want_ret, vector (or NMI) on exactly mask. */
static bool pv_ipi(const char *what, ulong lo, ulong hi, ulong min, ulong icr, long want_ret,
		   uint32_t mask)
{
	uint32_t before[SMP_MAX_CPUS];
	int vec = (icr & ICR_NMI) == ICR_NMI ? NMI_COUNT : VEC_PV_IPI;

	irq_snapshot(before, vec);
	ulong ret;
	if (!kvm_hypercall(&ret, KVM_HC_SEND_IPI, lo, hi, min, icr))
		return false;
	if (ret != (ulong)want_ret)
		check_fail("%s: returned %ld, want %ld", what, (long)ret, want_ret);
	irq_expect(what, before, mask, vec);
	return true;
}

void check_send_ipi(void)
{
	uint32_t odd = 0;
	unsigned int nodd = 0;

	if (!smp_require(2, true) || !kvm_need_feature(KVM_FEATURE_PV_SEND_IPI, "PV_SEND_IPI"))
		goto out;
	irq_disable();
	for (unsigned int id = 1; id < smp.ncpus; id += 2) {
		odd |= 1u << id;
		nodd++;
	}
	if (!pv_ipi("odd APs", odd, 0, 0, ICR_FIXED | VEC_PV_IPI, nodd, odd))
		goto out;
	/*
	 * Bits naming absent APIC IDs are skipped and not counted (__pv_send_ipi).
	 * A bitmap word covers 64 APIC IDs in 64-bit mode, 32 otherwise (kvm_pv_send_ipi's
	 * cluster_size): a ulong here, so the high word names IDs 64.. or 32.., all absent.
	 */
	pv_ipi("APIC ID 1 plus absent IDs in both words", (1ul << 1) | (~0ul << smp.ncpus), ~0ul, 0,
	       ICR_FIXED | VEC_PV_IPI, 1, 1u << 1);
	pv_ipi("bit 0 with min 1", 1, 0, 1, ICR_FIXED | VEC_PV_IPI, 1, 1u << 1);
	pv_ipi("min above every APIC ID", ~0ul, ~0ul, 0x100, ICR_FIXED | VEC_PV_IPI, 0, 0);
	pv_ipi("min = first absent ID", 1, 0, smp.ncpus, ICR_FIXED | VEC_PV_IPI, 0, 0);
	/* logical destination or a shorthand in the ICR: -KVM_EINVAL, nothing sent */
	pv_ipi("ICR with logical destination mode", odd, 0, 0, ICR_LOGICAL | VEC_PV_IPI,
	       -KVM_EINVAL, 0);
	pv_ipi("ICR with a shorthand", odd, 0, 0, ICR_ALL_BUT_SELF | VEC_PV_IPI, -KVM_EINVAL, 0);
	/* Linux sends NMIs this way too (kvm.c __send_ipi_mask: icr = APIC_DM_NMI) */
	pv_ipi("NMI to APIC ID 1", 1ul << 1, 0, 0, ICR_NMI, 1, 1u << 1);
out:
	smp_check_done(KVM_SUITE, "send_ipi");
}

/* ---- kvm.sched_yield ---- */

/*
 * How many of 20 hypercalls saw AP 1's counter move between just before and
 * just after. Each gets `tries` attempts: under emulation a slice can end
 * before its vCPU has run an instruction (the host stalled between arming
 * the slice's timer and entering), so one miss in a row is not proof.
 */
static unsigned int progress_across(ulong nr, ulong a0, unsigned int tries, unsigned int *bad_ret)
{
	unsigned int moved = 0;

	for (int i = 0; i < 20; i++) {
		for (unsigned int t = 0; t < tries; t++) {
			uint32_t p0 = spin_progress;
			ulong ret = vmmcall(nr, a0, 0, 0, 0);
			uint32_t p1 = spin_progress;

			if (fault_vector != NO_FAULT) {
				check_fail("hypercall %lu raised vector %lu", nr, fault_vector);
				*bad_ret = 20;
				return 0;
			}
			*bad_ret += ret != 0;
			if (p1 != p0) {
				moved++;
				break;
			}
		}
	}
	return moved;
}

void check_sched_yield(void)
{
	unsigned int bad = 0, yielded, noop;

	if (!smp_require(2, true) || !kvm_need_feature(KVM_FEATURE_PV_SCHED_YIELD, "PV_SCHED_YIELD"))
		goto out;
	spin_progress = 0;
	spin_stop = 0;
	if (!smp_post(1, spin_job, 3000) || !WAIT_MS(spin_progress != 0, 1000)) {
		check_fail("AP 1 did not start spinning");
		goto stop;
	}
	/* three tries each: with other VMs sharing the CPU, an emulator stall costs more slices */
	yielded = progress_across(KVM_HC_SCHED_YIELD, 1, 3, &bad);
	if (bad >= 20)
		goto stop;
	noop = progress_across(KVM_HC_VAPIC_POLL_IRQ, 0, 1, &bad);
	if (bad)
		check_fail("%u hypercalls returned non-zero", bad);
	if (yielded != 20)
		check_fail("AP 1 ran during %u of 20 SCHED_YIELD(1) calls, want 20", yielded);
	if (noop > 10)
		check_fail("AP 1 also ran during %u of 20 no-op hypercalls: yielding proves nothing", noop);
	ulong r1 = vmmcall(KVM_HC_SCHED_YIELD, smp.ncpus, 0, 0, 0);
	ulong r2 = vmmcall(KVM_HC_SCHED_YIELD, 0, 0, 0, 0);
	if (r1 || r2)
		check_fail("SCHED_YIELD to absent APIC ID %u returned %ld, to itself %ld, want 0",
			   smp.ncpus, (long)r1, (long)r2);
stop:
	spin_stop = 1;
	smp_wait(1, 1000);
out:
	smp_check_done(KVM_SUITE, "sched_yield");
}

/* ---- kvm.pv_eoi ---- */

void check_pv_eoi(void)
{
	struct cpu *c = &cpus[0];
	ulong g = (ulong)&c->pv_eoi_word;
	uint64_t got;

	if (!smp_require(1, false) || !kvm_need_feature(KVM_FEATURE_PV_EOI, "PV_EOI"))
		goto out;
	/* lapic.c kvm_lapic_set_pv_eoi: the address must be 4-byte aligned */
	if (!wrmsr_probe(MSR_KVM_PV_EOI_EN, (g + 2) | KVM_MSR_ENABLED))
		check_fail("an address 2 bytes off accepted, want #GP");
	c->pv_eoi_word = 0;
	if (wrmsr_probe(MSR_KVM_PV_EOI_EN, g | KVM_MSR_ENABLED)) {
		check_fail("enabling PV EOI raised vector %lu", fault_vector);
		goto out;
	}
	if (rdmsr_probe(MSR_KVM_PV_EOI_EN, &got) || got != (g | KVM_MSR_ENABLED))
		check_fail("MSR_KVM_PV_EOI_EN reads 0x%llx", (unsigned long long)got);
	irq_disable();
	uint32_t skipped = c->pv_eoi_skipped;
	c->pv_eoi_on = 1;
	for (int i = 0; i < 8; i++) {
		uint32_t n = c->irqs[VEC_PV_EOI];

		apic_send(0, ICR_SELF | ICR_FIXED | VEC_PV_EOI);
		irq_enable();
		bool ok = WAIT_MS(c->irqs[VEC_PV_EOI] != n, 100);
		irq_disable();
		if (!ok) {
			check_fail("self-IPI %d of 8 not delivered: an EOI done through the PV word was lost", i + 1);
			break;
		}
		/* the exit this read causes is where KVM applies the EOI (kvm_lapic_sync_from_vapic) */
		if (apic_isr(VEC_PV_EOI)) {
			check_fail("ISR bit still set after interrupt %d", i + 1);
			break;
		}
	}
	c->pv_eoi_on = 0;
	wrmsr64(MSR_KVM_PV_EOI_EN, 0);
	/*
	 * KVM sets the bit whenever the vector is alone in service and nothing is
	 * pending (lapic.c apic_sync_pv_eoi_to_guest): a lone self-IPI qualifies.
	 */
	if (c->pv_eoi_skipped == skipped)
		check_fail("the hypervisor never set the PV EOI bit in 8 lone self-IPIs");
out:
	smp_check_done(KVM_SUITE, "pv_eoi");
}
