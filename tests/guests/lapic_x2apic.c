/*
 * lapic.x2apic on the BSP: entering x2APIC mode, the registers as MSRs
 * 0x800-0x8ff (Intel SDM vol. 3A 10.12), and the way back through the
 * disabled state. Last of the SMP checks: the BSP's APIC is re-initialised
 * afterwards, but nothing it held survives.
 */
#include "smp.h"

static void expect_gp(const char *what, bool write, uint32_t msr, uint64_t val)
{
	uint64_t got = 0;
	int faulted = write ? wrmsr_probe(msr, val) : rdmsr_probe(msr, &got);

	if (!faulted)
		check_fail("%s (MSR 0x%x) did not #GP", what, msr);
	else if (fault_vector != 13)
		check_fail("%s (MSR 0x%x) raised vector %lu, want #GP", what, msr, fault_vector);
}

static void expect_msr(const char *what, uint32_t msr, uint64_t want)
{
	uint64_t got = 0;

	if (rdmsr_probe(msr, &got))
		check_fail("%s: RDMSR 0x%x faulted", what, msr);
	else if (got != want)
		check_fail("%s: MSR 0x%x reads 0x%llx want 0x%llx", what, msr,
			   (unsigned long long)got, (unsigned long long)want);
}

/* Sets the APIC mode flag from what IA32_APIC_BASE says now, whatever the writes did. */
static void sync_mode(void)
{
	uint64_t b = rdmsr64(MSR_APIC_BASE);

	cpus[0].x2apic = (b & (APIC_BASE_EN | APIC_BASE_EXTD)) == (APIC_BASE_EN | APIC_BASE_EXTD);
}

static void x2apic_registers(uint32_t xapic_ver)
{
	struct cpu *c = &cpus[0];
	const uint32_t id = c->apic_id;

	expect_msr("ID", X2APIC_MSR(APIC_ID), id);
	expect_msr("version", X2APIC_MSR(APIC_LVR), xapic_ver);
	/* cluster ID >> 4 in 31:16, bit ID & 15 in 15:0 (SDM 10.12.10.2; KVM kvm_apic_calc_x2apic_ldr) */
	expect_msr("LDR", X2APIC_MSR(APIC_LDR), ((id >> 4) << 16) | (1u << (id & 15)));
	/* KVM kvm_lapic_reg_write / kvm_lapic_readable_reg_mask: 1 -> #GP */
	expect_gp("WRMSR to the read-only ID", true, X2APIC_MSR(APIC_ID), id + 1);
	expect_gp("WRMSR to the read-only LDR", true, X2APIC_MSR(APIC_LDR), 1);
	expect_gp("RDMSR of DFR, gone in x2APIC mode", false, X2APIC_MSR(APIC_DFR), 0);
	expect_gp("RDMSR of ICR high, gone in x2APIC mode", false, X2APIC_MSR(APIC_ICR_HI), 0);
	/* SELF IPI: bits 31:8 reserved (SDM 10.12.11; KVM lapic.c APIC_SELF_IPI) */
	expect_gp("SELF_IPI with reserved bits 31:8", true, MSR_X2APIC_SELF_IPI, 0x100 | VEC_X2_SELF);

	/*
	 * Registers are MSRs now; the xAPIC page is not touched: what it does in
	 * x2APIC mode is not architectural (SDM 10.12.1.2 "not available"; KVM
	 * reads all ones only under KVM_X86_QUIRK_LAPIC_MMIO_HOLE).
	 */
	wrmsr64(X2APIC_MSR(APIC_TPR), 0x20);
	expect_msr("TPR", X2APIC_MSR(APIC_TPR), 0x20);
	wrmsr64(X2APIC_MSR(APIC_TPR), 0);

	uint32_t n = c->irqs[VEC_X2_SELF];
	wrmsr64(MSR_X2APIC_SELF_IPI, VEC_X2_SELF);
	if (!apic_irr(VEC_X2_SELF))
		check_fail("SELF_IPI: vector not pending in IRR (MSR 0x%x)",
			   X2APIC_MSR(APIC_IRR + (VEC_X2_SELF >> 5) * 0x10));
	irq_enable();
	if (!WAIT_MS(c->irqs[VEC_X2_SELF] != n, 100))
		check_fail("SELF_IPI (MSR 0x83f) not delivered");
	irq_disable();

	if (cpu_usable(1)) {
		uint32_t before[SMP_MAX_CPUS];

		irq_snapshot(before, VEC_IPI);
		wrmsr64(MSR_X2APIC_ICR, (1ull << 32) | ICR_FIXED | VEC_IPI);
		irq_expect("x2APIC ICR (destination in bits 63:32) to APIC ID 1", before, 1u << 1,
			   VEC_IPI);
	}
}

void check_x2apic(void)
{
	const uint64_t b = APIC_DEFAULT_BASE | APIC_BASE_BSP;
	uint32_t r[4];

	if (!smp_require(1, false))
		goto out;
	cpuid(1, r);
	if (!(r[2] & CPUID1_ECX_X2APIC)) {
		check_fail("CPUID.1:ECX bit 21 (x2APIC) clear");
		goto out;
	}
	irq_disable();
	expect_gp("RDMSR of the x2APIC ID in xAPIC mode", false, X2APIC_MSR(APIC_ID), 0);
	uint32_t ver = xapic_read(APIC_LVR);
	if (wrmsr_probe(MSR_APIC_BASE, b | APIC_BASE_EN | APIC_BASE_EXTD)) {
		check_fail("setting IA32_APIC_BASE bit 10 (EXTD) raised vector %lu", fault_vector);
		goto out;
	}
	sync_mode();
	expect_msr("IA32_APIC_BASE in x2APIC mode", MSR_APIC_BASE, b | APIC_BASE_EN | APIC_BASE_EXTD);
	if (cpus[0].x2apic)
		x2apic_registers(ver);

	/* the way back goes through disabled (SDM 10.12.5, figure 10-27; KVM kvm_apic_set_base) */
	expect_gp("x2APIC -> xAPIC directly", true, MSR_APIC_BASE, b | APIC_BASE_EN);
	if (wrmsr_probe(MSR_APIC_BASE, b))
		check_fail("x2APIC -> disabled raised vector %lu", fault_vector);
	sync_mode();
	cpuid(1, r);
	if (r[3] & CPUID1_EDX_APIC)
		check_fail("CPUID.1:EDX bit 9 still set with the APIC disabled (SDM 10.4.3)");
	expect_gp("disabled -> x2APIC directly", true, MSR_APIC_BASE, b | APIC_BASE_EN | APIC_BASE_EXTD);
	expect_gp("EXTD without EN (invalid)", true, MSR_APIC_BASE, b | APIC_BASE_EXTD);
	if (wrmsr_probe(MSR_APIC_BASE, b | APIC_BASE_EN))
		check_fail("disabled -> xAPIC raised vector %lu", fault_vector);
	sync_mode();
	if (!cpus[0].x2apic) {
		/* KVM re-sets the xAPIC ID on enabling (__kvm_apic_set_base) */
		uint32_t id = xapic_read(APIC_ID);
		if (id != 0)
			check_fail("back in xAPIC mode the ID register reads 0x%x, want 0", id);
	}
	lapic_local_init();
out:
	smp_check_done(LAPIC_SUITE, "x2apic");
}
