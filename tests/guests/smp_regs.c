/*
 * x86.smp_regs_preserved: every vCPU keeps its registers, and its own APIC,
 * while one physical CPU switches between all of them.
 */
#include "smp.h"

static volatile uint32_t regs_bad[SMP_MAX_CPUS], regs_rounds[SMP_MAX_CPUS];
static volatile uint32_t regs_read[SMP_MAX_CPUS];

/* 30 ms of regs_spin with interrupts on: long enough to be descheduled many times. */
static void regs_job(ulong id)
{
	uint64_t deadline = tsc_after_ms(30);

	irq_enable();
	while (!tsc_passed(deadline) && !regs_bad[id]) {
		regs_bad[id] = (uint32_t)regs_spin(100, APIC_DEFAULT_BASE + APIC_ID, (uint32_t)id << 24,
						   &regs_read[id]);
		regs_rounds[id]++;
	}
}

/*
 * Every vCPU runnable at once on the one physical CPU, each reading its own
 * xAPIC ID register (an exit the hypervisor emulates) in a loop: each is
 * preempted and resumed again and again, also in the middle of its exits,
 * and must find its registers as it left them and read its own ID. Runs right
 * after smp_boot: a scheduler that loses or mixes up vCPU state would
 * otherwise show up as strange failures in every later check.
 */
void check_smp_regs_preserved(void)
{
	static const char *const names[] = {
#ifdef __x86_64__
		"rbx", "rbp", "rsi", "rdi", "r8", "r9", "r10", "r11", "r12", "r13", "r14", "r15",
#else
		"ebx", "ebp", "esi", "edi",
#endif
	};

	if (!smp_require(2, true))
		goto out;
	for (unsigned int id = 1; id < smp.ncpus; id++)
		smp_post(id, regs_job, id);
	regs_job(0);
	irq_disable();
	for (unsigned int id = 1; id < smp.ncpus; id++)
		if (!smp_wait(id, 2000))
			check_fail("AP %u did not finish", id);
	for (unsigned int id = 0; id < smp.ncpus; id++) {
		uint32_t bad = regs_bad[id];

		if (bad == SPIN_BAD_READ)
			check_fail("CPU %u read 0x%x from its APIC ID register (round %u)", id,
				   regs_read[id], regs_rounds[id]);
		else if (bad)
			check_fail("CPU %u: %s changed while it ran (round %u)", id,
				   bad <= sizeof(names) / sizeof(names[0]) ? names[bad - 1] : "?",
				   regs_rounds[id]);
		else if (!regs_rounds[id])
			check_fail("CPU %u never ran its loop", id);
	}
out:
	smp_check_done(X86_SUITE, "smp_regs_preserved");
}
