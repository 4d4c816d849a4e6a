/*
 * x86 behaviour the hypervisor must keep while it intercepts things for its
 * own safety: #DB (intercepted against CVE-2015-8104) still reaches the
 * guest with DR6 right, INT1 still traps, RDPMC without a PMU faults, and
 * CR8 is the guest's own, never the host's task priority.
 */
#include "guest.h"

#ifdef __x86_64__
#define SUF "q"
#define SP "%%rsp"
#else
#define SUF "l"
#define SP "%%esp"
#endif

#define DR6_BS (1ul << 14)
#define VEC_DB 1
#define VEC_GP 13

static ulong read_dr6(void)
{
	ulong v;
	__asm__ volatile("mov %%db6, %0" : "=r"(v));
	return v;
}

/* On AMD the CPU fills DR6 (in the VMCB) before the intercept; on Intel we merge it ourselves. */
static bool cpu_is_intel(void)
{
	uint32_t r[4];
	cpuid(0, r);
	return r[1] == 0x756e6547 && r[3] == 0x49656e69 && r[2] == 0x6c65746e;   /* "GenuineIntel" */
}

void check_single_step(void)
{
	__asm__ volatile("mov %0, %%db6" :: "r"(0xffff0ff0ul));
	fault_vector = NO_FAULT;
	__asm__ volatile(
		"mov" SUF " $1f, %[rip]\n\t"
		"movl $1, %[armed]\n\t"
		"pushf\n\t"
		"or" SUF " $0x100, (" SP ")\n\t"
		"popf\n\t"
		"nop\n\t"                      /* the trap comes after this one */
		"nop\n"
		"1:"
		: [rip] "=m"(fault_recover_ip), [armed] "=m"(fault_armed) :: "memory", "cc");
	fault_armed = 0;
	ulong dr6 = read_dr6();
	if (fault_vector != VEC_DB)
		check_fail("vector %lu after a single step, want 1", fault_vector);
	else if (cpu_is_intel() && !(dr6 & DR6_BS))
		check_fail("DR6 0x%lx: BS (bit 14) clear", dr6);
	check_done(X86_SUITE, "single_step");
}

void check_int1(void)
{
	ulong after = 0;
	fault_vector = NO_FAULT;
	__asm__ volatile(
		"mov" SUF " $1f, %[rip]\n\t"
		"mov" SUF " $2f, %[after]\n\t"
		"movl $1, %[armed]\n\t"
		".byte 0xf1\n"                 /* INT1 (ICEBP): a trap, RIP after it */
		"2: nop\n"
		"1:"
		: [rip] "=m"(fault_recover_ip), [armed] "=m"(fault_armed), [after] "=m"(after)
		:: "memory", "cc");
	fault_armed = 0;
	if (fault_vector != VEC_DB)
		check_fail("vector %lu from INT1, want 1", fault_vector);
	else if (fault_ip != after)
		check_fail("#DB at 0x%lx, want 0x%lx (after the INT1)", fault_ip, after);
	check_done(X86_SUITE, "int1_db");
}

void check_rdpmc_gp(void)
{
	fault_vector = NO_FAULT;
	__asm__ volatile(
		"mov" SUF " $1f, %[rip]\n\t"
		"movl $1, %[armed]\n\t"
		"xor %%ecx, %%ecx\n\t"
		"rdpmc\n"
		"1:"
		: [rip] "=m"(fault_recover_ip), [armed] "=m"(fault_armed) :: "eax", "ecx", "edx", "memory");
	fault_armed = 0;
	if (fault_vector != VEC_GP)
		check_fail("RDPMC gave vector %ld, want #GP (no PMU is offered)", (long)fault_vector);
	check_done(X86_SUITE, "rdpmc_gp");
}

#ifdef __x86_64__
void check_cr8(bool reserved_bits_fault)
{
	ulong got;
	__asm__ volatile("mov %0, %%cr8" :: "r"(5ul));
	__asm__ volatile("mov %%cr8, %0" : "=r"(got));
	if (got != 5)
		check_fail("CR8 reads %lu after writing 5", got);
	fault_vector = NO_FAULT;
	if (reserved_bits_fault) {
		__asm__ volatile(
			"movq $1f, %[rip]\n\t"
			"movl $1, %[armed]\n\t"
			"mov %[bad], %%cr8\n"
			"1:"
			: [rip] "=m"(fault_recover_ip), [armed] "=m"(fault_armed) : [bad] "r"(16ul) : "memory");
		fault_armed = 0;
		if (fault_vector != VEC_GP)
			check_fail("CR8 <- 16 gave vector %ld, want #GP", (long)fault_vector);
	}
	__asm__ volatile("mov %0, %%cr8" :: "r"(0ul));
	check_done(X86_SUITE, "cr8");
}
#endif
