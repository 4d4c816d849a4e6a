/*
 * The local APIC timer on the BSP (Intel SDM vol. 3A 10.5.4): one-shot,
 * periodic and TSC-deadline modes, and HLT woken by it. The timer counts
 * at 1 GHz before the divider (KVM's default APIC bus cycle of 1 ns), so an
 * initial count of N with divide-by-1 is N ns; elapsed time is measured with
 * the TSC at the rate smp_init took from kvmclock. Timing bounds only catch
 * a timer that fires early (10% slack for rounding); late is never a failure
 * on a shared, emulated CPU.
 */
#include "smp.h"

#define NS_PER_US	1000u
/* "fired before us microseconds": only when the TSC rate is known, with 10% slack */
#define TOO_EARLY(got, us)	(smp.tsc_known && (got) < (us) - (us) / 10)

static bool oneshot_works;

static void timer_stop(void)
{
	/* leaving TSC-deadline mode disarms it too (SDM 10.5.4.1) */
	apic_write(APIC_LVTT, APIC_LVT_MASKED | VEC_TIMER);
	apic_write(APIC_TMICT, 0);
}

/* Arms the timer with IF=0 and returns the TSC just before the count was written. */
static uint64_t timer_arm(uint32_t lvtt, uint32_t tdcr, uint32_t count)
{
	irq_disable();
	apic_write(APIC_TDCR, tdcr);
	apic_write(APIC_LVTT, lvtt);
	uint64_t t0 = rdtsc_ordered();
	apic_write(APIC_TMICT, count);
	return t0;
}

/* Waits (up to 1 s) for the timer count to reach want; *us: from t0 to the last interrupt. */
static bool timer_wait(uint32_t want, uint64_t t0, uint64_t *us)
{
	struct cpu *c = &cpus[0];

	irq_enable();
	bool ok = WAIT_MS(c->irqs[VEC_TIMER] >= want, 1000);
	irq_disable();
	if (us)
		*us = ok ? tsc_to_us(c->last_irq_tsc - t0) : 0;
	return ok;
}

static void expect_no_timer_irq(const char *what, unsigned int us)
{
	uint32_t n = cpus[0].irqs[VEC_TIMER];

	irq_enable();
	delay_us(us);
	irq_disable();
	if (cpus[0].irqs[VEC_TIMER] != n)
		check_fail("%s: %u timer interrupts in %u us, want none", what,
			   cpus[0].irqs[VEC_TIMER] - n, us);
}

void check_timer_oneshot(void)
{
	struct cpu *c = &cpus[0];
	const uint32_t count = 2000000;		/* 2 ms */
	uint64_t us;

	if (!smp_require(1, false))
		goto out;
	uint32_t n = c->irqs[VEC_TIMER];
	uint64_t t0 = timer_arm(VEC_TIMER, APIC_TDCR_DIV1, count);
	uint32_t ccr = apic_read(APIC_TMCCT);
	if (ccr > count)
		check_fail("current count %u right after an initial count of %u", ccr, count);
	if (ccr && apic_read(APIC_TMCCT) >= ccr)
		check_fail("current count not counting down from %u", ccr);
	if (!timer_wait(n + 1, t0, &us)) {
		check_fail("no timer interrupt within 1 s of a 2 ms one-shot");
		goto stop;
	}
	if (TOO_EARLY(us, count / NS_PER_US))
		check_fail("fired after %llu us, want >= 2000", (unsigned long long)us);
	expect_no_timer_irq("one-shot after it fired", 5000);
	ccr = apic_read(APIC_TMCCT);
	if (ccr)
		check_fail("current count %u after expiry, want 0", ccr);

	/* divide by 2 (TDCR 0000b, SDM figure 10-10): 1,000,000 counts take 2 ms */
	n = c->irqs[VEC_TIMER];
	t0 = timer_arm(VEC_TIMER, APIC_TDCR_DIV2, count / 2);
	if (!timer_wait(n + 1, t0, &us))
		check_fail("no interrupt from a one-shot with divide-by-2");
	else if (TOO_EARLY(us, count / NS_PER_US))
		check_fail("divide-by-2 one-shot of %u fired after %llu us, want >= 2000", count / 2,
			   (unsigned long long)us);
	else
		oneshot_works = true;
stop:
	timer_stop();
out:
	smp_check_done(LAPIC_SUITE, "timer_oneshot");
}

void check_timer_periodic(void)
{
	struct cpu *c = &cpus[0];
	const uint32_t period = 1000000;	/* 1 ms */

	if (!smp_require(1, false))
		goto out;
	uint32_t n = c->irqs[VEC_TIMER];
	uint64_t t0 = timer_arm(VEC_TIMER | APIC_LVTT_PERIODIC, APIC_TDCR_DIV1, period);
	uint64_t us;
	if (!timer_wait(n + 5, t0, &us)) {
		check_fail("%u interrupts within 1 s of a 1 ms periodic timer, want 5",
			   c->irqs[VEC_TIMER] - n);
		goto stop;
	}
	if (TOO_EARLY(us, 5 * period / NS_PER_US))
		check_fail("5 periods of 1 ms took %llu us", (unsigned long long)us);
	uint32_t ccr = apic_read(APIC_TMCCT);
	if (ccr > period)
		check_fail("current count %u while periodic with initial count %u", ccr, period);

	/* masked: no interrupts; one already pending may still come (SDM 10.5.1) */
	apic_write(APIC_LVTT, VEC_TIMER | APIC_LVTT_PERIODIC | APIC_LVT_MASKED);
	n = c->irqs[VEC_TIMER];
	irq_enable();
	delay_us(5000);
	irq_disable();
	if (c->irqs[VEC_TIMER] > n + 1)
		check_fail("%u interrupts in 5 ms with the LVT masked", c->irqs[VEC_TIMER] - n);
	/* the count kept reloading while masked: unmasking resumes the interrupts */
	apic_write(APIC_LVTT, VEC_TIMER | APIC_LVTT_PERIODIC);
	if (!timer_wait(c->irqs[VEC_TIMER] + 2, t0, NULL))
		check_fail("no interrupts after unmasking the periodic timer");

	/* "A write of 0 to the initial-count register effectively stops the timer" (10.5.4) */
	apic_write(APIC_TMICT, 0);
	n = c->irqs[VEC_TIMER];
	irq_enable();
	delay_us(5000);
	irq_disable();
	if (c->irqs[VEC_TIMER] > n + 1)
		check_fail("%u interrupts in 5 ms after initial count 0", c->irqs[VEC_TIMER] - n);
	ccr = apic_read(APIC_TMCCT);
	if (ccr)
		check_fail("current count %u after initial count 0", ccr);
stop:
	timer_stop();
out:
	smp_check_done(LAPIC_SUITE, "timer_periodic");
}

static void deadline_write(uint64_t tsc)
{
	/* in xAPIC mode the SDM asks for MFENCE between the LVT write and the WRMSR */
	mfence();
	wrmsr64(MSR_TSC_DEADLINE, tsc);
}

static void deadline_fires_once(struct cpu *c)
{
	uint32_t n = c->irqs[VEC_TIMER];
	uint64_t dl = tsc_after_us(2000);

	deadline_write(dl);
	uint64_t rd = rdmsr64(MSR_TSC_DEADLINE);
	if (rd != dl && !(rd == 0 && tsc_passed(dl)))
		check_fail("IA32_TSC_DEADLINE reads 0x%llx while armed for 0x%llx",
			   (unsigned long long)rd, (unsigned long long)dl);
	if (!timer_wait(n + 1, dl, NULL)) {
		check_fail("no interrupt within 1 s of a deadline 2 ms ahead");
		return;
	}
	if (c->last_irq_tsc < dl)
		check_fail("interrupt %llu TSC ticks before the deadline",
			   (unsigned long long)(dl - c->last_irq_tsc));
	/* "it disarms itself and clears the IA32_TSC_DEADLINE MSR" (10.5.4.1) */
	rd = rdmsr64(MSR_TSC_DEADLINE);
	if (rd)
		check_fail("IA32_TSC_DEADLINE reads 0x%llx after firing, want 0", (unsigned long long)rd);
	expect_no_timer_irq("after the deadline fired", 3000);
}

void check_timer_tsc_deadline(void)
{
	struct cpu *c = &cpus[0];
	uint32_t r[4];

	if (!smp_require(1, false))
		goto out;
	cpuid(1, r);
	if (!(r[2] & CPUID1_ECX_TSC_DEADLINE)) {
		check_fail("CPUID.1:ECX bit 24 (TSC-deadline) clear");
		goto out;
	}
	/* outside TSC-deadline mode the MSR reads 0 and ignores writes (10.5.4.1; KVM the same) */
	timer_arm(VEC_TIMER, APIC_TDCR_DIV1, 0);
	mfence();
	if (wrmsr_probe(MSR_TSC_DEADLINE, tsc_after_us(1000))) {
		check_fail("WRMSR IA32_TSC_DEADLINE raised vector %lu", fault_vector);
		goto stop;
	}
	if (rdmsr64(MSR_TSC_DEADLINE))
		check_fail("IA32_TSC_DEADLINE reads non-zero in one-shot mode");
	expect_no_timer_irq("deadline written in one-shot mode", 3000);

	apic_write(APIC_LVTT, VEC_TIMER | APIC_LVTT_TSCDEADLINE);
	deadline_fires_once(c);

	/* initial count ignored, current count 0 */
	apic_write(APIC_TMICT, 1000);
	if (apic_read(APIC_TMCCT))
		check_fail("current count non-zero in TSC-deadline mode");
	/* a deadline already past fires at once */
	uint32_t n = c->irqs[VEC_TIMER];
	deadline_write(rdtsc_ordered() - 1000);
	if (!timer_wait(n + 1, 0, NULL))
		check_fail("a deadline in the past did not fire");
	expect_no_timer_irq("initial count written in TSC-deadline mode", 3000);

	/* far enough off that losing the CPU between the two writes (other VMs run too) cannot reach it */
	deadline_write(tsc_after_us(50000));
	deadline_write(0);
	expect_no_timer_irq("deadline disarmed by writing 0", 60000);

	deadline_write(tsc_after_us(50000));                /* as above: out of reach of a lost CPU */
	apic_write(APIC_LVTT, VEC_TIMER);
	expect_no_timer_irq("deadline armed, then LVT switched to one-shot", 60000);
stop:
	wrmsr_probe(MSR_TSC_DEADLINE, 0);
	timer_stop();
out:
	smp_check_done(LAPIC_SUITE, "timer_tsc_deadline");
}

/* ---- lapic.hlt_wake ---- */

static volatile uint32_t watchdog_cancel;

/*
 * On AP 1: an NMI to the BSP if it still sleeps after ms, so a lost wake-up
 * can't hang the run. With a working timer the AP sleeps on its own one-shot
 * meanwhile: no other vCPU may be runnable while the BSP halts, or a HLT that
 * does not sleep would pass unseen (the BSP descheduled past its timer).
 */
static void hlt_watchdog(ulong ms)
{
	struct cpu *c = &cpus[this_cpu()];
	uint64_t deadline = tsc_after_ms((unsigned int)ms);

	if (oneshot_works) {
		uint32_t n = c->irqs[VEC_TIMER];

		timer_arm(VEC_TIMER, APIC_TDCR_DIV1, (uint32_t)ms * 1000000);
		while (!watchdog_cancel && c->irqs[VEC_TIMER] == n && !tsc_passed(deadline))
			__asm__ volatile("sti; hlt; cli" : : : "memory");
		timer_stop();
		irq_enable();
	}
	while (!watchdog_cancel && !tsc_passed(deadline))
		cpu_relax();
	if (!watchdog_cancel)
		apic_send(0, ICR_NMI);
}

void check_hlt_wake(void)
{
	struct cpu *c = &cpus[0];
	const uint32_t count = 3000000;		/* 3 ms */
	bool watchdog = false;

	if (!smp_require(1, false))
		goto out;
	watchdog_cancel = 0;
	if (cpu_usable(1))
		watchdog = smp_post(1, hlt_watchdog, 500);
	if (!watchdog && !oneshot_works) {
		check_fail("not run: no AP to act as watchdog and the one-shot timer failed");
		goto out;
	}
	uint32_t n = c->irqs[VEC_TIMER], nmis = c->nmis;
	uint64_t t0 = timer_arm(VEC_TIMER, APIC_TDCR_DIV1, count);
	/*
	 * With other VMs on the CPU this vCPU may lose it for longer than the
	 * 3 ms before its HLT: the timer has then fired already, and QEMU's
	 * TCG delivers an interrupt inside STI's shadow. Such a run proves
	 * nothing: start again (a few times).
	 */
	for (unsigned int tries = 0; tries < 4 && !apic_read(APIC_TMCCT); tries++) {
		irq_window();
		n = c->irqs[VEC_TIMER];
		t0 = timer_arm(VEC_TIMER, APIC_TDCR_DIV1, count);
	}
	/* STI's shadow covers the HLT: no interrupt can slip in between (SDM STI) */
	__asm__ volatile("sti; hlt; cli" : : : "memory");
	uint64_t us = tsc_to_us(rdtsc_ordered() - t0);
	watchdog_cancel = 1;
	if (watchdog)
		apic_send(1, ICR_FIXED | VEC_WAKE);	/* out of its HLT */
	if (watchdog && !smp_wait(1, 1000))
		check_fail("the watchdog AP did not finish");
	if (c->nmis != nmis)
		check_fail("HLT woken by the watchdog NMI after %llu us, not by the timer",
			   (unsigned long long)us);
	else if (c->irqs[VEC_TIMER] != n + 1)
		check_fail("HLT returned after %llu us without the timer interrupt",
			   (unsigned long long)us);
	else if (TOO_EARLY(us, count / NS_PER_US))
		check_fail("HLT returned after %llu us, before the 3000 us timer",
			   (unsigned long long)us);
	timer_stop();
out:
	smp_check_done(LAPIC_SUITE, "hlt_wake");
}
