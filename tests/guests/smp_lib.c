/*
 * Small things the SMP checks share: TSC deadlines (the rate comes from
 * kvmclock, smp_init), 64-bit division for the 32-bit build, a spinlock,
 * counting interrupts per vCPU, and a job that keeps a vCPU busy.
 */
#include "smp.h"

/* ---- time ---- */

uint64_t udiv64(uint64_t n, uint64_t d)
{
	uint64_t q = 0, r = 0;

	/* bit by bit: the 32-bit build has no libgcc for __udivdi3 */
	for (int i = 63; i >= 0; i--) {
		r = (r << 1) | ((n >> i) & 1);
		if (r >= d) {
			r -= d;
			q |= 1ull << i;
		}
	}
	return q;
}

uint64_t tsc_after_ms(unsigned int ms)
{
	return rdtsc_ordered() + (uint64_t)ms * smp.tsc_per_ms;
}

uint64_t tsc_after_us(unsigned int us)
{
	return rdtsc_ordered() + udiv64((uint64_t)us * smp.tsc_per_ms, 1000);
}

bool tsc_passed(uint64_t deadline)
{
	return (int64_t)(rdtsc_ordered() - deadline) >= 0;
}

void delay_us(unsigned int us)
{
	uint64_t deadline = tsc_after_us(us);

	while (!tsc_passed(deadline))
		cpu_relax();
}

uint64_t tsc_to_us(uint64_t ticks)
{
	return udiv64(ticks * 1000, smp.tsc_per_ms);
}

/* ---- a spinlock ---- */

bool spin_lock(volatile uint32_t *lock)
{
	uint64_t deadline = tsc_after_ms(2000);

	while (__sync_lock_test_and_set(lock, 1)) {
		while (*lock) {
			if (tsc_passed(deadline))
				return false;
			cpu_relax();
		}
	}
	return true;
}

void spin_unlock(volatile uint32_t *lock)
{
	__sync_lock_release(lock);
}

/* ---- interrupt accounting helpers for the checks ---- */

static uint32_t irq_count(unsigned int id, int vec)
{
	return vec < 0 ? cpus[id].nmis : cpus[id].irqs[vec];
}

/* Each vCPU's count of vec so far (vec NMI_COUNT: its NMIs). */
void irq_snapshot(uint32_t *before, int vec)
{
	for (unsigned int id = 0; id < smp.ncpus; id++)
		before[id] = irq_count(id, vec);
}

static bool irq_all_arrived(const uint32_t *before, uint32_t mask, int vec)
{
	for (unsigned int id = 0; id < smp.ncpus; id++)
		if ((mask >> id & 1) && irq_count(id, vec) == before[id])
			return false;
	return true;
}

/*
 * Waits (interrupts on) until every CPU in mask took vec since the snapshot,
 * lets 5 ms pass for deliveries that should not happen, then wants exactly
 * one on each CPU in mask and none elsewhere.
 */
bool irq_expect(const char *what, const uint32_t *before, uint32_t mask, int vec)
{
	bool ok = true;

	irq_enable();
	WAIT_MS(irq_all_arrived(before, mask, vec), 1000);
	delay_us(5000);
	irq_disable();
	for (unsigned int id = 0; id < smp.ncpus; id++) {
		uint32_t got = irq_count(id, vec) - before[id], want = mask >> id & 1;

		if (got != want) {
			check_fail("%s: CPU %u took it %u times, want %u", what, id, got, want);
			ok = false;
		}
	}
	return ok;
}

/* ---- keeping a vCPU runnable ---- */

volatile uint32_t spin_progress, spin_stop;

/* Counts as fast as it can until spin_stop or ms of TSC: a vCPU that always wants the CPU. */
void spin_job(ulong ms)
{
	uint64_t deadline = tsc_after_ms((unsigned int)ms);

	while (!spin_stop && !tsc_passed(deadline))
		spin_progress++;
}
