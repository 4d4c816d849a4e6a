/*
 * The local APIC as a guest kernel uses it: registers (xAPIC MMIO and x2APIC
 * MSRs), interrupt and NMI dispatch, self-IPIs and IPIs between vCPUs.
 * Expected values are the architecture's (Intel SDM vol. 3A ch. 10) and,
 * where the SDM leaves room, KVM's (arch/x86/kvm/lapic.c).
 */
#include "smp.h"

#define APIC_LVR_EXPECTED	0x50014u	/* KVM: APIC_VERSION 0x14, 6 LVTs (max LVT 5) */
#define APIC_LVR_DIRECTED_EOI	(1u << 24)	/* KVM may set it with x2APIC (kvm_apic_set_version) */
#define APIC_LDR_MASK		0xff000000u	/* bits 23:0 reserved (KVM kvm_lapic_reg_write) */
#define APIC_DFR_FLAT		0xffffffffu
#define APIC_DFR_CLUSTER	0x0fffffffu	/* bits 27:0 read as ones (SDM figure 10-14) */

/* Plain 32-bit MOVs, as the SDM asks (10.4.1) and as an MMIO decoder expects. */
uint32_t xapic_read(unsigned int reg)
{
	uint32_t v;

	__asm__ volatile("movl (%1), %0" : "=r"(v) : "r"((ulong)APIC_DEFAULT_BASE + reg) : "memory");
	return v;
}

static void xapic_write(unsigned int reg, uint32_t v)
{
	__asm__ volatile("movl %0, (%1)" : : "r"(v), "r"((ulong)APIC_DEFAULT_BASE + reg) : "memory");
}

static bool in_x2apic(void)
{
	unsigned int id = this_cpu();

	return id < SMP_MAX_CPUS && cpus[id].x2apic;
}

uint32_t apic_read(unsigned int reg)
{
	return in_x2apic() ? (uint32_t)rdmsr64(X2APIC_MSR(reg)) : xapic_read(reg);
}

void apic_write(unsigned int reg, uint32_t val)
{
	if (in_x2apic())
		wrmsr64(X2APIC_MSR(reg), val);
	else
		xapic_write(reg, val);
}

/* False if the xAPIC delivery status (ICR bit 12) stays busy; KVM clears it at once. */
bool apic_send(uint32_t dest, uint32_t icr_low)
{
	if (in_x2apic()) {
		wrmsr64(MSR_X2APIC_ICR, (uint64_t)dest << 32 | icr_low);
		return true;
	}
	xapic_write(APIC_ICR_HI, dest << 24);
	xapic_write(APIC_ICR_LO, icr_low);
	return WAIT_MS(!(xapic_read(APIC_ICR_LO) & ICR_BUSY), 100);
}

static bool vector_bit(unsigned int base, unsigned int vec)
{
	return apic_read(base + (vec >> 5) * 0x10) >> (vec & 31) & 1;
}

bool apic_irr(unsigned int vec) { return vector_bit(APIC_IRR, vec); }
bool apic_isr(unsigned int vec) { return vector_bit(APIC_ISR, vec); }
void apic_eoi(void) { apic_write(APIC_EOI, 0); }

/* Software-enables the APIC (SVR bit 8, SDM 10.4.7.2) with no task priority. */
void lapic_local_init(void)
{
	apic_write(APIC_TPR, 0);
	apic_write(APIC_SVR, APIC_SVR_ENABLE | VEC_SPURIOUS);
	apic_write(APIC_LVTT, APIC_LVT_MASKED | VEC_TIMER);
}

/* NULL when there is an xAPIC at 0xfee00000 to test; never touches the MMIO page otherwise. */
const char *lapic_absent_reason(void)
{
	uint32_t r[4];
	uint64_t base;

	cpuid(1, r);
	if (!(r[3] & CPUID1_EDX_APIC))
		return "no local APIC: CPUID.1:EDX bit 9 clear";
	if (rdmsr_probe(MSR_APIC_BASE, &base))
		return "no local APIC: RDMSR IA32_APIC_BASE (0x1b) faulted";
	if ((base & ~0xfffull) != APIC_DEFAULT_BASE || !(base & APIC_BASE_EN) ||
	    (base & APIC_BASE_EXTD))
		return "IA32_APIC_BASE is not an enabled xAPIC at 0xfee00000";
	return NULL;
}

/* ---- dispatch, from cpu.c's exception_handler ---- */

/* Linux kvm_guest_apic_eoi_write: a non-locked test-and-clear; only this vCPU and KVM touch it. */
static bool pv_eoi_test_and_clear(volatile uint32_t *word)
{
	bool was;

	__asm__ volatile("btrl $0, %0; setc %1" : "+m"(*word), "=r"(was) : : "memory", "cc");
	return was;
}

void smp_irq(unsigned int vec, ulong ip)
{
	unsigned int id = this_cpu();

	if (id >= SMP_MAX_CPUS)
		return;
	struct cpu *c = &cpus[id];
	c->irqs[vec]++;
	c->last_irq_tsc = rdtsc_ordered();
	c->last_irq_ip = ip;
	if (vec == VEC_SPURIOUS)
		return;			/* SDM 10.9: a spurious interrupt takes no EOI */
	if (c->irq_hook)
		c->irq_hook(vec);
	if (c->pv_eoi_on && pv_eoi_test_and_clear(&c->pv_eoi_word)) {
		c->pv_eoi_skipped++;
		return;
	}
	apic_eoi();
}

void smp_nmi(void)
{
	unsigned int id = this_cpu();

	if (id < SMP_MAX_CPUS)
		cpus[id].nmis++;
}

/* ---- lapic.xapic_regs ---- */

static void expect_reg(const char *name, unsigned int reg, uint32_t write, uint32_t want)
{
	apic_write(reg, write);
	uint32_t got = apic_read(reg);
	if (got != want)
		check_fail("%s: wrote 0x%x, reads 0x%x, want 0x%x", name, write, got, want);
}

void check_xapic_regs(void)
{
	if (!smp_require(1, false))
		goto out;
	uint64_t base = rdmsr64(MSR_APIC_BASE);
	if (base != (APIC_DEFAULT_BASE | APIC_BASE_EN | APIC_BASE_BSP))
		check_fail("BSP IA32_APIC_BASE 0x%llx want 0xfee00900", (unsigned long long)base);
	uint32_t id = apic_read(APIC_ID);
	if (id != 0)
		check_fail("BSP ID register 0x%x want 0 (ID 0 in bits 31:24)", id);
	uint32_t ver = apic_read(APIC_LVR);
	if ((ver & ~APIC_LVR_DIRECTED_EOI) != APIC_LVR_EXPECTED)
		check_fail("version register 0x%x want 0x%x (bit 24 optional)", ver, APIC_LVR_EXPECTED);
	for (unsigned int ap = 1; ap < smp.ncpus; ap++) {
		struct cpu *c = &cpus[ap];

		if (!c->up)
			continue;
		if (c->apic_base != (APIC_DEFAULT_BASE | APIC_BASE_EN))
			check_fail("AP %u IA32_APIC_BASE 0x%llx want 0xfee00800 (no BSP bit)", ap,
				   (unsigned long long)c->apic_base);
		if (c->svr_at_start != 0xff)
			check_fail("AP %u SVR 0x%x at start, want the reset value 0xff", ap, c->svr_at_start);
		if (!(c->lvtt_at_start & APIC_LVT_MASKED))
			check_fail("AP %u LVT timer 0x%x at start, want masked", ap, c->lvtt_at_start);
	}
	expect_reg("LDR", APIC_LDR, 0xa5123456, 0xa5123456 & APIC_LDR_MASK);
	expect_reg("LDR", APIC_LDR, 0, 0);
	uint32_t dfr = apic_read(APIC_DFR);
	if (dfr != APIC_DFR_FLAT)
		check_fail("DFR 0x%x want the reset value 0xffffffff", dfr);
	expect_reg("DFR", APIC_DFR, 0, APIC_DFR_CLUSTER);
	expect_reg("DFR", APIC_DFR, APIC_DFR_FLAT, APIC_DFR_FLAT);
	expect_reg("TPR", APIC_TPR, 0x5a, 0x5a);
	/* nothing in service: PPR = TPR (SDM 10.8.3.1, KVM __apic_update_ppr) */
	uint32_t ppr = apic_read(APIC_PPR);
	if (ppr != 0x5a)
		check_fail("PPR 0x%x with TPR 0x5a and nothing in service, want 0x5a", ppr);
	expect_reg("TPR", APIC_TPR, 0x1a5, 0xa5);	/* bits 31:8 reserved */
	expect_reg("TPR", APIC_TPR, 0, 0);
	uint32_t svr = apic_read(APIC_SVR);
	if (svr != (APIC_SVR_ENABLE | VEC_SPURIOUS))
		check_fail("SVR reads 0x%x after writing 0x1ff", svr);
	expect_reg("divide configuration", APIC_TDCR, 0x3, 0x3);
	expect_reg("divide configuration", APIC_TDCR, APIC_TDCR_DIV1, APIC_TDCR_DIV1);
out:
	smp_check_done(LAPIC_SUITE, "xapic_regs");
}

/* ---- lapic.self_ipi ---- */

static volatile uint32_t hook_order[4], hook_n, hook_isr, hook_irr;

static void self_ipi_hook(unsigned int vec)
{
	if (hook_n < 4)
		hook_order[hook_n++] = vec;
	if (vec == VEC_SELF) {
		hook_isr = apic_isr(VEC_SELF);
		hook_irr = apic_irr(VEC_SELF);
	}
}

static void self_ipi(unsigned int vec)
{
	apic_send(0, ICR_SELF | ICR_FIXED | vec);
}

static void self_ipi_basics(struct cpu *c)
{
	uint32_t n0 = c->irqs[VEC_SELF];

	self_ipi(VEC_SELF);
	if (!apic_irr(VEC_SELF) || apic_isr(VEC_SELF))
		check_fail("IF=0: IRR/ISR bits %u/%u after a self-IPI, want 1/0",
			   apic_irr(VEC_SELF), apic_isr(VEC_SELF));
	if (c->irqs[VEC_SELF] != n0)
		check_fail("self-IPI delivered with IF=0");
	irq_window();
	if (c->irqs[VEC_SELF] == n0) {
		check_fail("not taken right after STI's shadow (sti; nop)");
		irq_enable();
		if (!WAIT_MS(c->irqs[VEC_SELF] != n0, 100))
			check_fail("self-IPI never delivered");
		irq_disable();
	}
	if (c->irqs[VEC_SELF] != n0 + 1)
		return;
	if (!hook_isr || hook_irr)
		check_fail("in the handler ISR/IRR bits %u/%u, want 1/0", hook_isr, hook_irr);
	if (apic_isr(VEC_SELF))
		check_fail("ISR bit still set after EOI");

	/* IRR holds one bit per vector: two requests before delivery are one interrupt */
	self_ipi(VEC_SELF);
	self_ipi(VEC_SELF);
	irq_enable();
	delay_us(5000);
	irq_disable();
	if (c->irqs[VEC_SELF] != n0 + 2)
		check_fail("two self-IPIs of one vector with IF=0 gave %u interrupts, want 1",
			   c->irqs[VEC_SELF] - n0 - 1);
}

void check_self_ipi(void)
{
	struct cpu *c = &cpus[0];

	if (!smp_require(1, false))
		goto out;
	irq_disable();
	hook_n = 0;
	c->irq_hook = self_ipi_hook;
	self_ipi_basics(c);

	/* the higher priority class is taken first (SDM 10.8.3) */
	hook_n = 0;
	self_ipi(VEC_SELF);
	self_ipi(VEC_SELF_HI);
	irq_enable();
	WAIT_MS(hook_n >= 2, 100);
	irq_disable();
	if (hook_n != 2 || hook_order[0] != VEC_SELF_HI || hook_order[1] != VEC_SELF)
		check_fail("pending 0x%x and 0x%x were taken as %u interrupts, first 0x%x",
			   VEC_SELF, VEC_SELF_HI, hook_n, hook_n ? hook_order[0] : 0);

	/* TPR: a vector is taken only if its class is above PPR's (SDM 10.8.3.1) */
	uint32_t n = c->irqs[VEC_TPR];
	apic_write(APIC_TPR, 0x70);
	self_ipi(VEC_TPR);
	irq_enable();
	delay_us(5000);
	irq_disable();
	if (c->irqs[VEC_TPR] != n)
		check_fail("vector 0x%x delivered with TPR 0x70", VEC_TPR);
	else if (!apic_irr(VEC_TPR))
		check_fail("vector 0x%x held back by TPR 0x70 but not pending in IRR", VEC_TPR);
	apic_write(APIC_TPR, 0x60);
	irq_enable();
	if (!WAIT_MS(c->irqs[VEC_TPR] != n, 100))
		check_fail("vector 0x%x not delivered after lowering TPR to 0x60", VEC_TPR);
	irq_disable();
	apic_write(APIC_TPR, 0);
	c->irq_hook = NULL;
out:
	smp_check_done(LAPIC_SUITE, "self_ipi");
}

/* ---- lapic.ipi_fixed ---- */

static void set_logical_id(ulong unused)
{
	unsigned int id = this_cpu();

	(void)unused;
	apic_write(APIC_DFR, APIC_DFR_FLAT);
	apic_write(APIC_LDR, (1u << id) << 24);
}

void check_ipi_fixed(void)
{
	uint32_t before[SMP_MAX_CPUS], all = (1u << smp.ncpus) - 1, odd = 0;

	if (!smp_require(2, true))
		goto out;
	irq_disable();
	for (unsigned int id = 1; id < smp.ncpus; id++) {
		irq_snapshot(before, VEC_IPI);
		apic_send(id, ICR_FIXED | VEC_IPI);
		if (!irq_expect("physical destination", before, 1u << id, VEC_IPI))
			goto out;
	}

	/* flat logical model: bit n of the 8-bit logical ID is CPU n (SDM 10.6.2.2) */
	set_logical_id(0);
	for (unsigned int id = 1; id < smp.ncpus; id++) {
		if (!smp_call(id, set_logical_id, 0, 1000)) {
			check_fail("AP %u did not set its LDR", id);
			goto out;
		}
		if (id & 1)
			odd |= 1u << id;
	}
	irq_snapshot(before, VEC_IPI);
	apic_send(odd, ICR_FIXED | ICR_LOGICAL | VEC_IPI);
	irq_expect("logical destination (odd APs)", before, odd, VEC_IPI);

	irq_snapshot(before, VEC_IPI);
	apic_send(0, ICR_FIXED | ICR_ALL_BUT_SELF | VEC_IPI);
	irq_expect("all-but-self shorthand", before, all & ~1u, VEC_IPI);

	irq_snapshot(before, VEC_IPI);
	apic_send(0, ICR_FIXED | ICR_ALL_INC_SELF | VEC_IPI);
	irq_expect("all-including-self shorthand", before, all, VEC_IPI);

	irq_snapshot(before, NMI_COUNT);
	apic_send(1, ICR_NMI);
	irq_expect("NMI delivery mode to APIC ID 1", before, 1u << 1, NMI_COUNT);
out:
	smp_check_done(LAPIC_SUITE, "ipi_fixed");
}
