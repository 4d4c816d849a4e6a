/*
 * arch/x86/vlapic.c, the emulated local APIC, against the Intel SDM vol. 3A
 * ch. 10: reset state, xAPIC registers, priorities, IPIs (destinations,
 * shorthands, INIT/SIPI), x2APIC MSRs and IA32_APIC_BASE transitions, and the
 * LVT timer in its three modes. Expected values are the SDM's, written out.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "arch/x86/vlapic.h"
#include "core/sched.h"
#include "core/time.h"
#include "core/vm.h"
#include "tests/fake_arch/fake_arch.h"
#include "tests/fake_arch/fake_test.h"

#define HZ 2000000000ull          /* 2 ticks per ns: both conversions are exact */
#define C0 1000000000ull
#define NCPU 4

/* SDM figures 10-7, 10-8, 10-23 */
#define SVR_ENABLED   0x1ffu
#define LVT_MASKED    (1u << 16)
#define TIMER_PERIODIC (1u << 17)
#define TIMER_TSCDL   (2u << 17)
#define ESR_RECV_ILLEGAL_VECTOR (1u << 6)
#define MSR_X2APIC(off) (MSR_X2APIC_FIRST + ((off) >> 4))
#define BASE_BSP_XAPIC 0xfee00900ull
#define BASE_AP_XAPIC  0xfee00800ull
#define BASE_AP_X2APIC 0xfee00c00ull
#define BASE_AP_OFF    0xfee00000ull

static struct vm *vm;
static struct vcpu *cpu[NCPU];

static int setup(void **state)
{
	fake_arch_reset();
	fake.counter = C0;
	time_init(HZ, C0, 0);
	vm = fake_vm_new();
	for (unsigned i = 0; i < NCPU; i++) {
		cpu[i] = fake_vcpu_new(vm);
		vlapic_reset(cpu[i]);         /* what arch_vcpu_init does on x86 */
	}
	cpu[0]->state = VCPU_RUNNABLE;    /* the APs wait for a start */
	return 0;
}

static int teardown(void **state)
{
	fake_cleanup();
	return 0;
}

static uint32_t rd(struct vcpu *v, uint32_t off) { return vlapic_mmio_read(v, off); }
static void wr(struct vcpu *v, uint32_t off, uint32_t val) { vlapic_mmio_write(v, off, val); }

static uint64_t msr(struct vcpu *v, uint32_t m)
{
	uint64_t val = 0xdeadbeefdeadbeefull;
	assert_int_equal(vlapic_msr_read(v, m, &val), 0);
	return val;
}

static bool irr_has(struct vcpu *v, unsigned vec)
{
	return rd(v, APIC_IRR + (vec / 32) * 0x10) & (1u << (vec % 32));
}

static bool isr_has(struct vcpu *v, unsigned vec)
{
	return rd(v, APIC_ISR + (vec / 32) * 0x10) & (1u << (vec % 32));
}

static unsigned irr_bits(struct vcpu *v)
{
	unsigned n = 0;
	for (unsigned i = 0; i < 8; i++)
		n += (unsigned)__builtin_popcount(rd(v, APIC_IRR + i * 0x10));
	return n;
}

/* Which of the vCPUs have exactly `vec` (and nothing else) requested: bit i for cpu[i]. */
static unsigned targets(unsigned vec)
{
	unsigned m = 0;
	for (unsigned i = 0; i < NCPU; i++) {
		if (irr_has(cpu[i], vec))
			m |= 1u << i;
		if (irr_bits(cpu[i]) > (irr_has(cpu[i], vec) ? 1u : 0u))
			fail_fmt("vcpu%u has other vectors requested", i);
	}
	return m;
}

static void clear_irrs(void)
{
	for (unsigned i = 0; i < NCPU; i++)
		memset(cpu[i]->arch.lapic.irr, 0, sizeof(cpu[i]->arch.lapic.irr));
}

static void enable_all(void)
{
	for (unsigned i = 0; i < NCPU; i++)
		wr(cpu[i], APIC_SVR, SVR_ENABLED);
}

/* An xAPIC IPI from `src`: destination in ICR[63:56], then the low word sends. */
static void xapic_ipi(struct vcpu *src, uint8_t dest, uint32_t icr)
{
	wr(src, APIC_ICR_HI, (uint32_t)dest << 24);
	wr(src, APIC_ICR_LO, icr);
}

static void to_x2apic(struct vcpu *v)
{
	uint64_t base = msr(v, MSR_IA32_APIC_BASE_NR);
	assert_int_equal(vlapic_msr_write(v, MSR_IA32_APIC_BASE_NR, base | (1u << 10)), 0);
	assert_true(vlapic_x2apic(v));
}

/* ---- reset ---- */

static void test_reset_values(void **state)
{
	for (unsigned i = 0; i < NCPU; i++) {
		struct vcpu *v = cpu[i];
		assert_int_equal(rd(v, APIC_ID), i << 24);
		assert_int_equal(rd(v, APIC_VERSION), 0x50014);
		assert_int_equal(rd(v, APIC_TPR), 0);
		assert_int_equal(rd(v, APIC_PPR), 0);
		assert_int_equal(rd(v, APIC_LDR), 0);
		assert_int_equal(rd(v, APIC_DFR), 0xffffffffu);
		assert_int_equal(rd(v, APIC_SVR), 0xff);
		assert_int_equal(rd(v, APIC_ESR), 0);
		assert_int_equal(rd(v, APIC_ICR_LO), 0);
		assert_int_equal(rd(v, APIC_ICR_HI), 0);
		for (uint32_t off = APIC_LVT_TIMER; off <= APIC_LVT_ERROR; off += 0x10)
			assert_int_equal(rd(v, off), LVT_MASKED);
		assert_int_equal(rd(v, APIC_TIMER_ICR), 0);
		assert_int_equal(rd(v, APIC_TIMER_CCR), 0);
		assert_int_equal(rd(v, APIC_TIMER_DCR), 0);
		for (uint32_t k = 0; k < 8; k++) {
			assert_int_equal(rd(v, APIC_ISR + k * 0x10), 0);
			assert_int_equal(rd(v, APIC_TMR + k * 0x10), 0);
			assert_int_equal(rd(v, APIC_IRR + k * 0x10), 0);
		}
		assert_int_equal(msr(v, MSR_IA32_APIC_BASE_NR), i == 0 ? BASE_BSP_XAPIC : BASE_AP_XAPIC);
		assert_int_equal(msr(v, MSR_IA32_TSC_DEADLINE), 0);
		assert_true(vlapic_hw_enabled(v));
		assert_false(vlapic_x2apic(v));
		assert_ptr_equal(vlapic_find(vm, i), v);
		assert_int_equal(vlapic_pending_vector(v), -1);
	}
	assert_null(vlapic_find(vm, NCPU));
}

static void test_mmio_page_and_holes(void **state)
{
	struct vcpu *v = cpu[1];
	assert_true(vlapic_mmio_page(v, 0xfee00000));
	assert_true(vlapic_mmio_page(v, 0xfee00fff));
	assert_false(vlapic_mmio_page(v, 0xfee01000));
	assert_false(vlapic_mmio_page(v, 0xfedff000));
	/* holes, and accesses not on a 16-byte register boundary, read 0 */
	assert_int_equal(rd(v, 0x000), 0);
	assert_int_equal(rd(v, 0x010), 0);
	assert_int_equal(rd(v, 0x040), 0);
	assert_int_equal(rd(v, APIC_ID + 4), 0);
	wr(v, APIC_TPR + 4, 0x80);
	assert_int_equal(rd(v, APIC_TPR), 0);
	to_x2apic(v);
	assert_false(vlapic_mmio_page(v, 0xfee00000));   /* x2APIC mode: no MMIO interface */
}

/* ---- xAPIC registers ---- */

static void test_xapic_register_writes(void **state)
{
	struct vcpu *v = cpu[1];
	wr(v, APIC_TPR, 0x12345678);
	assert_int_equal(rd(v, APIC_TPR), 0x78);
	wr(v, APIC_LDR, 0x12345678);
	assert_int_equal(rd(v, APIC_LDR), 0x12000000);
	wr(v, APIC_DFR, 0);                               /* cluster model; bits 27:0 read as ones */
	assert_int_equal(rd(v, APIC_DFR), 0x0fffffff);
	wr(v, APIC_DFR, 0xf0000000);
	assert_int_equal(rd(v, APIC_DFR), 0xffffffff);
	wr(v, APIC_SVR, 0x1ff);
	assert_int_equal(rd(v, APIC_SVR), 0x1ff);
	wr(v, APIC_SVR, 0xffffefff);                      /* vector, enable, focus; the rest reserved */
	assert_int_equal(rd(v, APIC_SVR), 0x3ff);
	wr(v, APIC_ICR_HI, 0xffffffff);
	assert_int_equal(rd(v, APIC_ICR_HI), 0xff000000);
	wr(v, APIC_TIMER_DCR, 0xffffffff);
	assert_int_equal(rd(v, APIC_TIMER_DCR), 0xb);
	wr(v, APIC_LVT_ERROR, 0xffffffff);                /* vector and mask only */
	assert_int_equal(rd(v, APIC_LVT_ERROR), 0x100ff);
	wr(v, APIC_LVT_TIMER, 0x00020030);
	assert_int_equal(rd(v, APIC_LVT_TIMER), 0x00020030);
	/* read-only registers keep their values */
	wr(v, APIC_VERSION, 0);
	assert_int_equal(rd(v, APIC_VERSION), 0x50014);
	wr(v, APIC_PPR, 0xff);
	assert_int_equal(rd(v, APIC_PPR), 0x78);
	wr(v, APIC_IRR, 0xffffffff);
	assert_int_equal(rd(v, APIC_IRR), 0);
	wr(v, APIC_TIMER_CCR, 1234);
	assert_int_equal(rd(v, APIC_TIMER_CCR), 0);
}

static void test_xapic_id_is_writable(void **state)
{
	wr(cpu[2], APIC_ID, 0x07000000);
	assert_int_equal(rd(cpu[2], APIC_ID), 0x07000000);
	assert_ptr_equal(vlapic_find(vm, 7), cpu[2]);
	assert_null(vlapic_find(vm, 2));
}

static void test_icr_reads_back_without_busy(void **state)
{
	enable_all();
	xapic_ipi(cpu[0], 1, 0x000050f1);                 /* busy bit (12) written: not kept */
	assert_int_equal(rd(cpu[0], APIC_ICR_LO), 0x000040f1);
	assert_int_equal(rd(cpu[0], APIC_ICR_HI), 0x01000000);
	assert_true(irr_has(cpu[1], 0xf1));
}

static void test_ppr_from_tpr_and_isr(void **state)
{
	struct vcpu *v = cpu[0];
	wr(v, APIC_SVR, SVR_ENABLED);
	wr(v, APIC_TPR, 0x20);
	assert_int_equal(rd(v, APIC_PPR), 0x20);
	wr(v, APIC_TPR, 0x2f);
	assert_int_equal(rd(v, APIC_PPR), 0x2f);          /* TPR class >= ISR class: all of TPR */
	assert_int_equal(vlapic_deliver(v, APIC_DM_FIXED, 0x51, false), 1);
	vlapic_ack(v, 0x51);
	assert_int_equal(rd(v, APIC_PPR), 0x50);          /* ISR class, low nibble 0 */
	wr(v, APIC_TPR, 0x5a);
	assert_int_equal(rd(v, APIC_PPR), 0x5a);          /* equal classes: TPR */
	wr(v, APIC_TPR, 0x60);
	assert_int_equal(rd(v, APIC_PPR), 0x60);
	wr(v, APIC_TPR, 0);
	wr(v, APIC_EOI, 0);
	assert_int_equal(rd(v, APIC_PPR), 0);
}

/* ---- interrupt acceptance and priority ---- */

/* An auto-EOI vector (Hyper-V SINT AutoEOI) is over once accepted: lower classes go on at once. */
static void test_auto_eoi_vector_skips_isr(void **state)
{
	struct vcpu *v = cpu[0];
	const uint32_t auto_eoi[8] = { [0x62 / 32] = 1u << (0x62 % 32) };
	wr(v, APIC_SVR, SVR_ENABLED);
	arch_set_auto_eoi(v, auto_eoi);
	vlapic_deliver(v, APIC_DM_FIXED, 0x41, false);
	vlapic_deliver(v, APIC_DM_FIXED, 0x62, false);
	assert_int_equal(vlapic_pending_vector(v), 0x62);
	vlapic_ack(v, 0x62);
	assert_false(irr_has(v, 0x62));
	assert_false(isr_has(v, 0x62));
	assert_int_equal(rd(v, APIC_PPR), 0);
	assert_int_equal(vlapic_pending_vector(v), 0x41);   /* no EOI needed for it to come */
	vlapic_ack(v, 0x41);
	assert_true(isr_has(v, 0x41));                       /* other vectors as before */
}

static void test_pending_ack_eoi_by_priority_class(void **state)
{
	struct vcpu *v = cpu[0];
	wr(v, APIC_SVR, SVR_ENABLED);
	vlapic_deliver(v, APIC_DM_FIXED, 0x31, false);
	vlapic_deliver(v, APIC_DM_FIXED, 0x52, false);
	vlapic_deliver(v, APIC_DM_FIXED, 0x55, false);
	assert_int_equal(vlapic_pending_vector(v), 0x55);
	vlapic_ack(v, 0x55);
	assert_false(irr_has(v, 0x55));
	assert_true(isr_has(v, 0x55));
	/* 0x52 is in the class being serviced: it waits for the EOI */
	assert_int_equal(vlapic_pending_vector(v), -1);
	vlapic_deliver(v, APIC_DM_FIXED, 0x80, false);
	assert_int_equal(vlapic_pending_vector(v), 0x80);  /* a higher class nests */
	vlapic_ack(v, 0x80);
	assert_int_equal(rd(v, APIC_PPR), 0x80);
	wr(v, APIC_EOI, 0);                                /* ends the highest in service: 0x80 */
	assert_false(isr_has(v, 0x80));
	assert_true(isr_has(v, 0x55));
	assert_int_equal(vlapic_pending_vector(v), -1);
	wr(v, APIC_EOI, 0);
	assert_int_equal(vlapic_pending_vector(v), 0x52);
	vlapic_ack(v, 0x52);
	assert_int_equal(vlapic_pending_vector(v), -1);    /* 0x31 is a lower class */
	wr(v, APIC_EOI, 0);
	assert_int_equal(vlapic_pending_vector(v), 0x31);
	wr(v, APIC_TPR, 0x30);                             /* TPR masks its own class */
	assert_int_equal(vlapic_pending_vector(v), -1);
	wr(v, APIC_TPR, 0x2f);
	assert_int_equal(vlapic_pending_vector(v), 0x31);
	wr(v, APIC_EOI, 0);                                /* nothing in service: harmless */
	assert_int_equal(vlapic_pending_vector(v), 0x31);
}

/* What SVM's TPR window waits on: the class of a request only the TPR holds back. */
static void test_tpr_blocked_class(void **state)
{
	struct vcpu *v = cpu[1];
	wr(v, APIC_SVR, SVR_ENABLED);
	assert_int_equal(vlapic_tpr_blocked_class(v), -1);          /* nothing requested */
	wr(v, APIC_TPR, 0x70);
	vlapic_deliver(v, APIC_DM_FIXED, 0x75, false);
	assert_int_equal(vlapic_pending_vector(v), -1);
	assert_int_equal(vlapic_tpr_blocked_class(v), 7);
	wr(v, APIC_TPR, 0x60);                                      /* deliverable: no TPR wait */
	assert_int_equal(vlapic_tpr_blocked_class(v), -1);
	assert_int_equal(vlapic_pending_vector(v), 0x75);
	vlapic_ack(v, 0x75);
	vlapic_deliver(v, APIC_DM_FIXED, 0x72, false);              /* held by the one in service, not the TPR */
	assert_int_equal(vlapic_tpr_blocked_class(v), -1);
}

static void test_level_triggered_sets_tmr_until_eoi(void **state)
{
	struct vcpu *v = cpu[0];
	wr(v, APIC_SVR, SVR_ENABLED);
	assert_int_equal(vlapic_deliver(v, APIC_DM_FIXED, 0x61, true), 1);
	assert_int_equal(rd(v, APIC_TMR + 0x30), 1u << 1);
	vlapic_ack(v, 0x61);
	wr(v, APIC_EOI, 0);
	assert_int_equal(rd(v, APIC_TMR + 0x30), 0);
}

static void test_illegal_vectors_refused(void **state)
{
	struct vcpu *v = cpu[1];
	wr(v, APIC_SVR, SVR_ENABLED);
	for (unsigned vec = 0; vec < 16; vec++)
		assert_int_equal(vlapic_deliver(v, APIC_DM_FIXED, (uint8_t)vec, false), 0);
	assert_int_equal(irr_bits(v), 0);
	/* the SDM's protocol: write the ESR, then read what was logged since the last write */
	assert_int_equal(rd(v, APIC_ESR), 0);
	wr(v, APIC_ESR, 0);
	assert_int_equal(rd(v, APIC_ESR), ESR_RECV_ILLEGAL_VECTOR);
	wr(v, APIC_ESR, 0);                  /* back-to-back writes clear it */
	assert_int_equal(rd(v, APIC_ESR), 0);
	assert_int_equal(vlapic_deliver(v, APIC_DM_FIXED, 16, false), 1);
	assert_true(irr_has(v, 16));
}

/* The sender logs "send illegal vector" (ESR bit 5), SDM §10.5.3. */
static void test_send_illegal_vector_sets_sender_esr(void **state)
{
	struct vcpu *v = cpu[0];
	wr(v, APIC_SVR, SVR_ENABLED);
	wr(v, APIC_ICR_HI, 1u << 24);
	wr(v, APIC_ICR_LO, 0x00004005);
	wr(v, APIC_ESR, 0);
	assert_int_equal(rd(v, APIC_ESR), 1u << 5);
}

/* With IA32_APIC_BASE[11] clear the CPU acts as if it had no APIC (SDM §10.4.3): no NMI, INIT or SIPI either. */
static void test_hw_disabled_apic_takes_no_ipi(void **state)
{
	cpu[1]->state = VCPU_RUNNABLE;
	assert_int_equal(vlapic_msr_write(cpu[1], MSR_IA32_APIC_BASE_NR, 0xfee00000), 0);
	assert_int_equal(vlapic_send_ipi(cpu[0], 0x00004400, 1), 0);   /* NMI */
	assert_false(cpu[1]->arch.lapic.nmi_pending);
	assert_int_equal(vlapic_send_ipi(cpu[0], 0x00004500, 1), 0);   /* INIT */
	assert_int_equal(cpu[1]->state, VCPU_RUNNABLE);
}

/* SVR bit 12 (EOI-broadcast suppression) is reserved: the version register does not offer it. */
static void test_svr_bit12_reserved(void **state)
{
	assert_int_equal(rd(cpu[0], APIC_VERSION) & (1u << 24), 0);
	wr(cpu[0], APIC_SVR, 0x11ff);
	assert_int_equal(rd(cpu[0], APIC_SVR), 0x1ff);
}

static void test_software_disabled_takes_only_nmi(void **state)
{
	struct vcpu *v = cpu[1];                           /* SVR 0xff after reset: disabled */
	assert_int_equal(vlapic_deliver(v, APIC_DM_FIXED, 0x40, false), 0);
	assert_int_equal(vlapic_deliver(v, APIC_DM_LOWEST, 0x40, false), 0);
	assert_int_equal(irr_bits(v), 0);
	assert_int_equal(vlapic_deliver(v, APIC_DM_NMI, 0, false), 1);
	assert_true(v->arch.lapic.nmi_pending);
	/* LVT masks cannot be cleared while disabled (SDM §10.4.7.2) */
	wr(v, APIC_LVT_TIMER, 0x40);
	assert_int_equal(rd(v, APIC_LVT_TIMER), LVT_MASKED | 0x40);
	/* enabled, the mask can be cleared; disabling again sets every LVT mask */
	wr(v, APIC_SVR, SVR_ENABLED);
	wr(v, APIC_LVT_TIMER, 0x40);
	wr(v, APIC_LVT_ERROR, 0xfe);
	assert_int_equal(rd(v, APIC_LVT_TIMER), 0x40);
	assert_int_equal(vlapic_deliver(v, APIC_DM_FIXED, 0x40, false), 1);
	wr(v, APIC_SVR, 0xff);
	for (uint32_t off = APIC_LVT_TIMER; off <= APIC_LVT_ERROR; off += 0x10)
		assert_true(rd(v, off) & LVT_MASKED);
	assert_int_equal(rd(v, APIC_LVT_TIMER), LVT_MASKED | 0x40);
	assert_int_equal(rd(v, APIC_LVT_ERROR), LVT_MASKED | 0xfe);
}

/* ---- IPIs ---- */

static void test_ipi_physical(void **state)
{
	enable_all();
	xapic_ipi(cpu[0], 2, 0x000040a0);
	assert_int_equal(targets(0xa0), 1u << 2);
	clear_irrs();
	xapic_ipi(cpu[3], 0, 0x000040a1);
	assert_int_equal(targets(0xa1), 1u << 0);
	clear_irrs();
	xapic_ipi(cpu[0], 9, 0x000040a2);                 /* no such APIC */
	assert_int_equal(targets(0xa2), 0);
	assert_int_equal(vlapic_send_ipi(cpu[0], 0x000040a3, 3), 1);
	assert_int_equal(vlapic_send_ipi(cpu[0], 0x000040a4, 9), 0);
}

static void test_ipi_broadcast_and_shorthands(void **state)
{
	enable_all();
	assert_int_equal(vlapic_send_ipi(cpu[1], 0x000040b0, 0xff), NCPU);   /* broadcast includes self */
	assert_int_equal(targets(0xb0), 0xf);
	clear_irrs();
	assert_int_equal(vlapic_send_ipi(cpu[1], 0x000440b1, 3), 1);        /* self; dest ignored */
	assert_int_equal(targets(0xb1), 1u << 1);
	clear_irrs();
	assert_int_equal(vlapic_send_ipi(cpu[1], 0x000840b2, 3), NCPU);     /* all including self */
	assert_int_equal(targets(0xb2), 0xf);
	clear_irrs();
	assert_int_equal(vlapic_send_ipi(cpu[1], 0x000c40b3, 1), NCPU - 1); /* all excluding self */
	assert_int_equal(targets(0xb3), 0xf & ~(1u << 1));
}

static void test_ipi_logical_flat(void **state)
{
	enable_all();
	for (unsigned i = 0; i < NCPU; i++)
		wr(cpu[i], APIC_LDR, (1u << i) << 24);
	xapic_ipi(cpu[0], 0x06, 0x000048c0);              /* logical: bit 11 */
	assert_int_equal(targets(0xc0), (1u << 1) | (1u << 2));
	clear_irrs();
	xapic_ipi(cpu[0], 0x30, 0x000048c1);              /* no APIC has these bits */
	assert_int_equal(targets(0xc1), 0);
	clear_irrs();
	xapic_ipi(cpu[0], 0x09, 0x000048c2);
	assert_int_equal(targets(0xc2), (1u << 0) | (1u << 3));
	clear_irrs();
	/* physical mode with the same destination names APIC ID 9: nobody */
	xapic_ipi(cpu[0], 0x09, 0x000040c3);
	assert_int_equal(targets(0xc3), 0);
}

static void test_ipi_logical_cluster(void **state)
{
	static const uint8_t ldr[NCPU] = { 0x11, 0x12, 0x21, 0x22 };
	enable_all();
	for (unsigned i = 0; i < NCPU; i++) {
		wr(cpu[i], APIC_DFR, 0x0fffffff);
		wr(cpu[i], APIC_LDR, (uint32_t)ldr[i] << 24);
	}
	xapic_ipi(cpu[0], 0x13, 0x000048d0);              /* cluster 1, members 0 and 1 */
	assert_int_equal(targets(0xd0), (1u << 0) | (1u << 1));
	clear_irrs();
	xapic_ipi(cpu[0], 0x22, 0x000048d1);              /* cluster 2, member 1 */
	assert_int_equal(targets(0xd1), 1u << 3);
	clear_irrs();
	xapic_ipi(cpu[0], 0x32, 0x000048d2);              /* cluster 3: empty */
	assert_int_equal(targets(0xd2), 0);
	clear_irrs();
	/* flat would have matched bit 1 in both clusters */
	xapic_ipi(cpu[0], 0x12, 0x000048d3);
	assert_int_equal(targets(0xd3), 1u << 1);
}

static void test_lowest_priority_reaches_one(void **state)
{
	enable_all();
	assert_int_equal(vlapic_send_ipi(cpu[0], 0x000041e0, 0xff), 1);
	unsigned t = targets(0xe0);
	assert_int_equal(__builtin_popcount(t), 1);
}

static void test_nmi_ipi(void **state)
{
	/* NMI reaches a software-disabled APIC */
	assert_int_equal(vlapic_send_ipi(cpu[0], 0x00004400, 2), 1);
	assert_true(cpu[2]->arch.lapic.nmi_pending);
	assert_false(cpu[1]->arch.lapic.nmi_pending);
	assert_false(cpu[3]->arch.lapic.nmi_pending);
}

static void test_fixed_level_deassert_not_delivered(void **state)
{
	enable_all();
	/* level-triggered with the level bit clear is a de-assert message */
	assert_int_equal(vlapic_send_ipi(cpu[0], 0x000080f0, 1), 0);
	assert_int_equal(targets(0xf0), 0);
	assert_int_equal(vlapic_send_ipi(cpu[0], 0x0000c0f1, 1), 1);
	assert_int_equal(targets(0xf1), 1u << 1);
	assert_int_equal(rd(cpu[1], APIC_TMR + 0x70), 1u << 17);
}

/* ---- INIT and SIPI ---- */

static void test_init_puts_ap_in_wait_for_sipi(void **state)
{
	struct vcpu *ap = cpu[2];
	ap->state = VCPU_RUNNABLE;
	enable_all();
	wr(ap, APIC_TPR, 0x40);
	wr(ap, APIC_LDR, 0x04000000);
	vlapic_deliver(ap, APIC_DM_FIXED, 0x70, false);
	vlapic_deliver(ap, APIC_DM_NMI, 0, false);
	ap->hc.kvm.steal_time_msr = 0x2001;               /* a paravirtual MSR the guest had set */
	xapic_ipi(cpu[0], 2, 0x00004500);                 /* INIT, level assert */
	assert_int_equal(ap->state, VCPU_WAIT_SIPI);
	/* the rest of the CPU's INIT state, and the paravirtual MSRs off (KVM kvm_vcpu_reset) */
	assert_int_equal(fake.init_events, 1);
	assert_int_equal(ap->hc.kvm.steal_time_msr, 0);
	assert_false(ap->arch.lapic.nmi_pending);
	/* APIC back to its reset state, except the ID and IA32_APIC_BASE */
	assert_int_equal(rd(ap, APIC_ID), 2u << 24);
	assert_int_equal(msr(ap, MSR_IA32_APIC_BASE_NR), BASE_AP_XAPIC);
	assert_int_equal(rd(ap, APIC_SVR), 0xff);
	assert_int_equal(rd(ap, APIC_TPR), 0);
	assert_int_equal(rd(ap, APIC_LDR), 0);
	assert_int_equal(irr_bits(ap), 0);
	assert_int_equal(rd(ap, APIC_LVT_TIMER), LVT_MASKED);
	assert_int_equal(fake.sipi_calls, 0);
	/* the others are untouched */
	assert_int_equal(cpu[1]->state, VCPU_WAIT_SIPI);
	assert_int_equal(rd(cpu[1], APIC_SVR), SVR_ENABLED);
}

static void test_init_to_bsp_refused(void **state)
{
	struct vcpu *bsp = cpu[0];
	enable_all();
	wr(bsp, APIC_TPR, 0x30);
	assert_int_equal(vlapic_send_ipi(cpu[1], 0x00004500, 0), 0);
	assert_int_equal(bsp->state, VCPU_RUNNABLE);
	assert_int_equal(rd(bsp, APIC_SVR), SVR_ENABLED);
	assert_int_equal(rd(bsp, APIC_TPR), 0x30);
	/* INIT to all but self from the BSP reaches the three APs */
	for (unsigned i = 1; i < NCPU; i++)
		cpu[i]->state = VCPU_RUNNABLE;
	assert_int_equal(vlapic_send_ipi(bsp, 0x000c4500, 0), NCPU - 1);
	for (unsigned i = 1; i < NCPU; i++)
		assert_int_equal(cpu[i]->state, VCPU_WAIT_SIPI);
}

static void test_init_deassert_does_nothing(void **state)
{
	struct vcpu *ap = cpu[1];
	ap->state = VCPU_RUNNABLE;
	wr(ap, APIC_SVR, SVR_ENABLED);
	wr(ap, APIC_TPR, 0x40);
	xapic_ipi(cpu[0], 1, 0x00008500);                 /* INIT level de-assert: trigger level, level 0 */
	assert_int_equal(ap->state, VCPU_RUNNABLE);
	assert_int_equal(rd(ap, APIC_SVR), SVR_ENABLED);
	assert_int_equal(rd(ap, APIC_TPR), 0x40);
	assert_int_equal(vlapic_send_ipi(cpu[0], 0x00088500, 0), 0);   /* to all: still nothing */
	assert_int_equal(ap->state, VCPU_RUNNABLE);
}

static void test_sipi_starts_waiting_ap(void **state)
{
	struct vcpu *ap = cpu[3];
	xapic_ipi(cpu[0], 3, 0x00004500);                 /* INIT */
	xapic_ipi(cpu[0], 3, 0x0000469a);                 /* SIPI, vector 0x9a */
	assert_int_equal(fake.sipi_calls, 1);
	assert_ptr_equal(fake.sipi_vcpu, ap);
	assert_int_equal(fake.sipi_vector, 0x9a);
	assert_int_equal(ap->state, VCPU_RUNNABLE);
	assert_int_equal(ap->ready_since, C0);
	/* the second SIPI of INIT-SIPI-SIPI finds it running: ignored */
	xapic_ipi(cpu[0], 3, 0x0000469b);
	assert_int_equal(fake.sipi_calls, 1);
	assert_int_equal(fake.sipi_vector, 0x9a);
	/* an SIPI to a running BSP is ignored too */
	assert_int_equal(vlapic_send_ipi(cpu[1], 0x00004610, 0), 0);
	assert_int_equal(fake.sipi_calls, 1);
	assert_int_equal(cpu[1]->state, VCPU_WAIT_SIPI);
}

static void test_sipi_broadcast_to_waiting_aps(void **state)
{
	assert_int_equal(vlapic_send_ipi(cpu[0], 0x000c4620, 0), NCPU - 1);
	assert_int_equal(fake.sipi_calls, NCPU - 1);
	assert_int_equal(fake.sipi_vector, 0x20);
	for (unsigned i = 0; i < NCPU; i++)
		assert_int_equal(cpu[i]->state, VCPU_RUNNABLE);
}

static void test_sipi_that_cannot_start_leaves_ap_waiting(void **state)
{
	fake.fail_sipi = -EOPNOTSUPP;
	assert_int_equal(vlapic_send_ipi(cpu[0], 0x00004608, 1), 0);
	assert_int_equal(fake.sipi_calls, 1);
	assert_int_equal(cpu[1]->state, VCPU_WAIT_SIPI);
}

/* ---- IA32_APIC_BASE and x2APIC ---- */

static void test_apic_base_transitions(void **state)
{
	struct vcpu *v = cpu[1];
	const uint32_t B = MSR_IA32_APIC_BASE_NR;
	/* EXTD without EN is not a state */
	assert_int_equal(vlapic_msr_write(v, B, 0xfee00400), -EINVAL);
	/* reserved bits 0-7, 9, 52-63 */
	assert_int_equal(vlapic_msr_write(v, B, BASE_AP_XAPIC | 1), -EINVAL);
	assert_int_equal(vlapic_msr_write(v, B, BASE_AP_XAPIC | 0x80), -EINVAL);
	assert_int_equal(vlapic_msr_write(v, B, BASE_AP_XAPIC | 0x200), -EINVAL);
	assert_int_equal(vlapic_msr_write(v, B, BASE_AP_XAPIC | (1ull << 52)), -EINVAL);
	assert_int_equal(vlapic_msr_write(v, B, BASE_AP_XAPIC | (1ull << 63)), -EINVAL);
	/* the BSP flag is not the guest's to change */
	assert_int_equal(vlapic_msr_write(v, B, BASE_AP_XAPIC | 0x100), -EINVAL);
	assert_int_equal(vlapic_msr_write(cpu[0], B, BASE_AP_XAPIC), -EINVAL);
	assert_int_equal(msr(v, B), BASE_AP_XAPIC);
	assert_int_equal(msr(cpu[0], B), BASE_BSP_XAPIC);
	/* xAPIC -> x2APIC */
	assert_int_equal(vlapic_msr_write(v, B, BASE_AP_X2APIC), 0);
	assert_true(vlapic_x2apic(v));
	/* x2APIC -> xAPIC is invalid */
	assert_int_equal(vlapic_msr_write(v, B, BASE_AP_XAPIC), -EINVAL);
	assert_int_equal(msr(v, B), BASE_AP_X2APIC);
	/* x2APIC -> disabled -> x2APIC is invalid; -> xAPIC then x2APIC is fine */
	assert_int_equal(vlapic_msr_write(v, B, BASE_AP_OFF), 0);
	assert_false(vlapic_hw_enabled(v));
	assert_false(vlapic_mmio_page(v, 0xfee00000));
	assert_int_equal(vlapic_msr_write(v, B, BASE_AP_X2APIC), -EINVAL);
	assert_int_equal(msr(v, B), BASE_AP_OFF);
	assert_int_equal(vlapic_msr_write(v, B, BASE_AP_XAPIC), 0);
	assert_int_equal(vlapic_msr_write(v, B, BASE_AP_X2APIC), 0);
	/* the xAPIC page can move */
	assert_int_equal(vlapic_msr_write(cpu[2], B, 0xfed00800), 0);
	assert_true(vlapic_mmio_page(cpu[2], 0xfed00010));
	assert_false(vlapic_mmio_page(cpu[2], 0xfee00010));
}

static void test_disable_resets_registers(void **state)
{
	struct vcpu *v = cpu[1];
	wr(v, APIC_SVR, SVR_ENABLED);
	wr(v, APIC_TPR, 0x50);
	vlapic_deliver(v, APIC_DM_FIXED, 0x44, false);
	assert_int_equal(vlapic_msr_write(v, MSR_IA32_APIC_BASE_NR, BASE_AP_OFF), 0);
	assert_int_equal(vlapic_deliver(v, APIC_DM_FIXED, 0x45, false), 0);
	assert_int_equal(vlapic_msr_write(v, MSR_IA32_APIC_BASE_NR, BASE_AP_XAPIC), 0);
	assert_int_equal(rd(v, APIC_SVR), 0xff);
	assert_int_equal(rd(v, APIC_TPR), 0);
	assert_int_equal(irr_bits(v), 0);
	assert_int_equal(rd(v, APIC_ID), 1u << 24);
}

static void test_x2apic_id_and_ldr(void **state)
{
	wr(cpu[1], APIC_ID, 0x09000000);                  /* an xAPIC ID the guest chose... */
	to_x2apic(cpu[1]);
	assert_int_equal(msr(cpu[1], MSR_X2APIC(APIC_ID)), 1);   /* ...x2APIC uses the initial one */
	assert_int_equal(msr(cpu[1], MSR_X2APIC(APIC_LDR)), 0x2);
	assert_int_equal(msr(cpu[1], MSR_X2APIC(APIC_VERSION)), 0x50014);
	/* cluster = id >> 4 in 31:16, one bit of 16 in 15:0 */
	struct vcpu *big = fake_vcpu_new(vm);
	big->id = 0x2b;
	vlapic_reset(big);
	to_x2apic(big);
	assert_int_equal(msr(big, MSR_X2APIC(APIC_ID)), 0x2b);
	assert_int_equal(msr(big, MSR_X2APIC(APIC_LDR)), 0x20800);
	/* and INIT keeps them */
	assert_int_equal(vlapic_deliver(big, APIC_DM_INIT, 0, false), 1);
	assert_int_equal(msr(big, MSR_X2APIC(APIC_LDR)), 0x20800);
	assert_int_equal(msr(big, MSR_X2APIC(APIC_ID)), 0x2b);
}

static void test_x2apic_msrs_need_x2apic_mode(void **state)
{
	uint64_t val = 0;
	struct vcpu *v = cpu[1];
	assert_int_equal(vlapic_msr_read(v, MSR_X2APIC(APIC_ID), &val), -EINVAL);
	assert_int_equal(vlapic_msr_write(v, MSR_X2APIC(APIC_TPR), 0x10), -EINVAL);
	assert_int_equal(rd(v, APIC_TPR), 0);
	assert_int_equal(vlapic_msr_read(v, 0x8ff, &val), -EINVAL);
	/* not this APIC's MSRs at all */
	assert_int_equal(vlapic_msr_read(v, 0x900, &val), -ENOENT);
	assert_int_equal(vlapic_msr_write(v, 0x7ff, 0), -ENOENT);
	assert_int_equal(vlapic_msr_read(v, 0x1a, &val), -ENOENT);
}

static void test_x2apic_register_rules(void **state)
{
	uint64_t val = 0;
	struct vcpu *v = cpu[1];
	to_x2apic(v);
	assert_int_equal(vlapic_msr_write(v, MSR_X2APIC(APIC_SVR), SVR_ENABLED), 0);
	assert_int_equal(msr(v, MSR_X2APIC(APIC_SVR)), SVR_ENABLED);
	assert_int_equal(vlapic_msr_write(v, MSR_X2APIC(APIC_TPR), 0x20), 0);
	assert_int_equal(msr(v, MSR_X2APIC(APIC_TPR)), 0x20);
	/* reserved upper halves #GP */
	assert_int_equal(vlapic_msr_write(v, MSR_X2APIC(APIC_TPR), 1ull << 32), -EINVAL);
	assert_int_equal(vlapic_msr_write(v, MSR_X2APIC(APIC_LVT_TIMER), 1ull << 40), -EINVAL);
	assert_int_equal(msr(v, MSR_X2APIC(APIC_TPR)), 0x20);
	/* read-only in x2APIC mode: ID, LDR, version, PPR, ISR/TMR/IRR, current count */
	assert_int_equal(vlapic_msr_write(v, MSR_X2APIC(APIC_ID), 5), -EINVAL);
	assert_int_equal(vlapic_msr_write(v, MSR_X2APIC(APIC_LDR), 5), -EINVAL);
	assert_int_equal(vlapic_msr_write(v, MSR_X2APIC(APIC_VERSION), 0), -EINVAL);
	assert_int_equal(vlapic_msr_write(v, MSR_X2APIC(APIC_PPR), 0), -EINVAL);
	assert_int_equal(vlapic_msr_write(v, MSR_X2APIC(APIC_IRR), 0), -EINVAL);
	assert_int_equal(vlapic_msr_write(v, MSR_X2APIC(APIC_TIMER_CCR), 0), -EINVAL);
	assert_int_equal(msr(v, MSR_X2APIC(APIC_ID)), 1);
	/* write-only: EOI and SELF IPI; no DFR and no ICR high half in x2APIC mode */
	assert_int_equal(vlapic_msr_read(v, MSR_X2APIC(APIC_EOI), &val), -EINVAL);
	assert_int_equal(vlapic_msr_read(v, MSR_X2APIC(APIC_SELF_IPI), &val), -EINVAL);
	assert_int_equal(vlapic_msr_read(v, MSR_X2APIC(APIC_DFR), &val), -EINVAL);
	assert_int_equal(vlapic_msr_write(v, MSR_X2APIC(APIC_DFR), 0), -EINVAL);
	assert_int_equal(vlapic_msr_read(v, MSR_X2APIC(APIC_ICR_HI), &val), -EINVAL);
	assert_int_equal(vlapic_msr_write(v, MSR_X2APIC(APIC_ICR_HI), 0), -EINVAL);
	/* EOI and ESR take only 0 */
	vlapic_deliver(v, APIC_DM_FIXED, 0x90, false);
	vlapic_ack(v, 0x90);
	assert_int_equal(vlapic_msr_write(v, MSR_X2APIC(APIC_EOI), 1), -EINVAL);
	assert_true(isr_has(v, 0x90));
	assert_int_equal(vlapic_msr_write(v, MSR_X2APIC(APIC_EOI), 0), 0);
	assert_false(isr_has(v, 0x90));
	assert_int_equal(vlapic_msr_write(v, MSR_X2APIC(APIC_ESR), 1), -EINVAL);
	assert_int_equal(vlapic_msr_write(v, MSR_X2APIC(APIC_ESR), 0), 0);
	/* the ISR, IRR and timer registers read through MSRs */
	vlapic_deliver(v, APIC_DM_FIXED, 0x91, false);
	assert_int_equal(msr(v, MSR_X2APIC(APIC_IRR + 0x40)), 1u << 17);
	assert_int_equal(msr(v, MSR_X2APIC(APIC_TIMER_DCR)), 0);
}

static void test_x2apic_icr_and_self_ipi(void **state)
{
	for (unsigned i = 0; i < NCPU; i++) {
		to_x2apic(cpu[i]);
		assert_int_equal(vlapic_msr_write(cpu[i], MSR_X2APIC(APIC_SVR), SVR_ENABLED), 0);
	}
	/* one 64-bit write: destination in 63:32 */
	assert_int_equal(vlapic_msr_write(cpu[0], MSR_X2APIC(APIC_ICR_LO), (2ull << 32) | 0x4045), 0);
	assert_int_equal(targets(0x45), 1u << 2);
	assert_int_equal(msr(cpu[0], MSR_X2APIC(APIC_ICR_LO)), (2ull << 32) | 0x4045);
	clear_irrs();
	/* 32-bit destination: APIC ID 0x102 is nobody, not APIC 2 */
	assert_int_equal(vlapic_msr_write(cpu[0], MSR_X2APIC(APIC_ICR_LO), (0x102ull << 32) | 0x4046), 0);
	assert_int_equal(targets(0x46), 0);
	/* x2APIC broadcast */
	assert_int_equal(vlapic_msr_write(cpu[0], MSR_X2APIC(APIC_ICR_LO), (0xffffffffull << 32) | 0x4047), 0);
	assert_int_equal(targets(0x47), 0xf);
	clear_irrs();
	/* logical: cluster 0, members 1 and 3 */
	assert_int_equal(vlapic_msr_write(cpu[0], MSR_X2APIC(APIC_ICR_LO), (0xaull << 32) | 0x4848), 0);
	assert_int_equal(targets(0x48), (1u << 1) | (1u << 3));
	clear_irrs();
	/* logical cluster 1 names nobody here */
	assert_int_equal(vlapic_msr_write(cpu[0], MSR_X2APIC(APIC_ICR_LO), (0x1000aull << 32) | 0x4849), 0);
	assert_int_equal(targets(0x49), 0);
	/* SELF IPI */
	assert_int_equal(vlapic_msr_write(cpu[3], MSR_X2APIC(APIC_SELF_IPI), 0x66), 0);
	assert_int_equal(targets(0x66), 1u << 3);
}

/* ---- the LVT timer ---- */

static void test_timer_one_shot(void **state)
{
	struct vcpu *v = cpu[0];
	wr(v, APIC_SVR, SVR_ENABLED);
	wr(v, APIC_TIMER_DCR, 0xb);                       /* divide by 1 */
	wr(v, APIC_LVT_TIMER, 0x40);
	wr(v, APIC_TIMER_ICR, 1000);                      /* 1000 ns = 2000 ticks */
	assert_int_equal(rd(v, APIC_TIMER_CCR), 1000);
	assert_int_equal(vlapic_timer_poll(v, C0), C0 + 2000);
	fake.counter = C0 + 1000;
	assert_int_equal(rd(v, APIC_TIMER_CCR), 500);
	fake.counter = C0 + 1998;
	assert_int_equal(rd(v, APIC_TIMER_CCR), 1);
	assert_int_equal(vlapic_timer_poll(v, C0 + 1999), C0 + 2000);
	assert_false(irr_has(v, 0x40));
	fake.counter = C0 + 2000;
	assert_int_equal(vlapic_timer_poll(v, C0 + 2000), UINT64_MAX);
	assert_true(irr_has(v, 0x40));
	assert_int_equal(rd(v, APIC_TIMER_CCR), 0);
	assert_int_equal(rd(v, APIC_TIMER_ICR), 1000);
	clear_irrs();
	assert_int_equal(vlapic_timer_poll(v, C0 + 10000), UINT64_MAX);   /* once only */
	assert_false(irr_has(v, 0x40));
}

static void test_timer_zero_count_stops_it(void **state)
{
	struct vcpu *v = cpu[0];
	wr(v, APIC_SVR, SVR_ENABLED);
	wr(v, APIC_LVT_TIMER, 0x40);
	wr(v, APIC_TIMER_ICR, 1000);
	wr(v, APIC_TIMER_ICR, 0);
	assert_int_equal(vlapic_timer_poll(v, C0 + 1000000), UINT64_MAX);
	assert_false(irr_has(v, 0x40));
}

static void test_timer_divide_values(void **state)
{
	static const struct { uint32_t dcr; uint64_t div; } cases[] = {
		{ 0x0, 2 }, { 0x1, 4 }, { 0x2, 8 }, { 0x3, 16 },
		{ 0x8, 32 }, { 0x9, 64 }, { 0xa, 128 }, { 0xb, 1 },
		{ 0xf4, 2 },                                  /* bits other than 3,1,0 do not count */
	};
	struct vcpu *v = cpu[0];
	wr(v, APIC_SVR, SVR_ENABLED);
	wr(v, APIC_LVT_TIMER, 0x40);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		wr(v, APIC_TIMER_DCR, cases[i].dcr);
		wr(v, APIC_TIMER_ICR, 100);
		uint64_t due = vlapic_timer_poll(v, C0);
		if (due != C0 + 100 * cases[i].div * 2)
			fail_fmt("DCR 0x%x: due at +%llu ticks, expected +%llu", cases[i].dcr,
			         (unsigned long long)(due - C0), (unsigned long long)(100 * cases[i].div * 2));
		/* halfway through, half the count is left */
		fake.counter = C0 + 100 * cases[i].div;
		assert_int_equal(rd(v, APIC_TIMER_CCR), 50);
		fake.counter = C0;
	}
}

static void test_timer_periodic(void **state)
{
	struct vcpu *v = cpu[0];
	const uint64_t P = 600000;                        /* 300 us */
	wr(v, APIC_SVR, SVR_ENABLED);
	wr(v, APIC_TIMER_DCR, 0xb);
	wr(v, APIC_LVT_TIMER, TIMER_PERIODIC | 0x41);
	wr(v, APIC_TIMER_ICR, 300000);
	assert_int_equal(vlapic_timer_poll(v, C0 + P - 1), C0 + P);
	assert_int_equal(vlapic_timer_poll(v, C0 + P), C0 + 2 * P);
	assert_true(irr_has(v, 0x41));
	clear_irrs();
	assert_int_equal(vlapic_timer_poll(v, C0 + 2 * P + 3), C0 + 3 * P);   /* period kept, not drift */
	assert_true(irr_has(v, 0x41));
	clear_irrs();
	/* far behind: one interrupt, the next a period from now */
	assert_int_equal(vlapic_timer_poll(v, C0 + 10 * P + 5), C0 + 11 * P + 5);
	assert_true(irr_has(v, 0x41));
	/* to one-shot: the period running is the last */
	clear_irrs();
	wr(v, APIC_LVT_TIMER, 0x41);
	assert_int_equal(vlapic_timer_poll(v, C0 + 11 * P + 5), UINT64_MAX);
	assert_true(irr_has(v, 0x41));
}

/* One-shot to periodic while armed: the mode at expiry decides, so it goes on (KVM apic_timer_expired). */
static void test_timer_one_shot_made_periodic_while_armed(void **state)
{
	struct vcpu *v = cpu[0];
	const uint64_t P = 600000;
	wr(v, APIC_SVR, SVR_ENABLED);
	wr(v, APIC_TIMER_DCR, 0xb);
	wr(v, APIC_LVT_TIMER, 0x41);
	wr(v, APIC_TIMER_ICR, 300000);
	wr(v, APIC_LVT_TIMER, TIMER_PERIODIC | 0x41);
	assert_int_equal(vlapic_timer_poll(v, C0 + P), C0 + 2 * P);
	assert_true(irr_has(v, 0x41));
}

/* A deadline 2^63 or more cycles ahead is far future, not the past (unsigned compare, as KVM). */
static void test_tsc_deadline_far_future(void **state)
{
	struct vcpu *v = cpu[0];
	const uint64_t far = C0 + (1ull << 63) + 5;
	wr(v, APIC_SVR, SVR_ENABLED);
	wr(v, APIC_LVT_TIMER, TIMER_TSCDL | 0x42);
	assert_int_equal(vlapic_msr_write(v, MSR_IA32_TSC_DEADLINE, far), 0);
	assert_int_equal(vlapic_timer_poll(v, C0), far);
	assert_false(irr_has(v, 0x42));
}

static void test_timer_periodic_floor_200us(void **state)
{
	struct vcpu *v = cpu[0];
	wr(v, APIC_SVR, SVR_ENABLED);
	wr(v, APIC_TIMER_DCR, 0xb);
	wr(v, APIC_LVT_TIMER, TIMER_PERIODIC | 0x41);
	wr(v, APIC_TIMER_ICR, 1000);                      /* asks for 1 us */
	assert_int_equal(vlapic_timer_poll(v, C0), C0 + 400000);
	assert_int_equal(vlapic_timer_poll(v, C0 + 400000), C0 + 800000);
	/* a one-shot of 1 us is not stretched */
	wr(v, APIC_LVT_TIMER, 0x41);
	wr(v, APIC_TIMER_ICR, 1000);
	assert_int_equal(vlapic_timer_poll(v, C0), C0 + 2000);
}

static void test_timer_masked_fires_nothing(void **state)
{
	struct vcpu *v = cpu[0];
	wr(v, APIC_SVR, SVR_ENABLED);
	wr(v, APIC_TIMER_DCR, 0xb);
	wr(v, APIC_LVT_TIMER, LVT_MASKED | 0x40);
	wr(v, APIC_TIMER_ICR, 1000);
	assert_int_equal(vlapic_timer_poll(v, C0), C0 + 2000);
	assert_int_equal(vlapic_timer_poll(v, C0 + 2000), UINT64_MAX);
	assert_int_equal(irr_bits(v), 0);
	assert_int_equal(rd(v, APIC_TIMER_CCR), 0);
}

static void test_timer_reserved_mode_is_one_shot(void **state)
{
	struct vcpu *v = cpu[0];
	wr(v, APIC_SVR, SVR_ENABLED);
	wr(v, APIC_LVT_TIMER, (3u << 17) | 0x40);
	assert_int_equal(rd(v, APIC_LVT_TIMER), 0x40);
}

static void test_tsc_deadline(void **state)
{
	struct vcpu *v = cpu[0];
	v->arch.tsc_offset = 777;
	wr(v, APIC_SVR, SVR_ENABLED);
	wr(v, APIC_LVT_TIMER, TIMER_TSCDL | 0x42);
	assert_int_equal(rd(v, APIC_LVT_TIMER), TIMER_TSCDL | 0x42);
	assert_int_equal(vlapic_msr_write(v, MSR_IA32_TSC_DEADLINE, C0 + 777 + 5000), 0);
	assert_int_equal(msr(v, MSR_IA32_TSC_DEADLINE), C0 + 777 + 5000);
	assert_int_equal(rd(v, APIC_TIMER_CCR), 0);       /* no count in this mode */
	assert_int_equal(vlapic_timer_poll(v, C0 + 4999), C0 + 5000);
	assert_false(irr_has(v, 0x42));
	assert_int_equal(vlapic_timer_poll(v, C0 + 5000), UINT64_MAX);
	assert_true(irr_has(v, 0x42));
	assert_int_equal(msr(v, MSR_IA32_TSC_DEADLINE), 0);   /* cleared when it fired */
	/* a deadline already past fires at once */
	clear_irrs();
	fake.counter = C0 + 9000;
	assert_int_equal(vlapic_msr_write(v, MSR_IA32_TSC_DEADLINE, 777 + C0 + 100), 0);
	assert_int_equal(vlapic_timer_poll(v, C0 + 9000), UINT64_MAX);
	assert_true(irr_has(v, 0x42));
	/* 0 disarms */
	clear_irrs();
	assert_int_equal(vlapic_msr_write(v, MSR_IA32_TSC_DEADLINE, C0 + 777 + 20000), 0);
	assert_int_equal(vlapic_msr_write(v, MSR_IA32_TSC_DEADLINE, 0), 0);
	assert_int_equal(vlapic_timer_poll(v, C0 + 30000), UINT64_MAX);
	assert_false(irr_has(v, 0x42));
}

/* In TSC-deadline mode the initial-count register ignores writes (SDM §10.5.4.1): the deadline stays armed. */
static void test_initial_count_ignored_in_tsc_deadline_mode(void **state)
{
	struct vcpu *v = cpu[0];
	wr(v, APIC_SVR, SVR_ENABLED);
	wr(v, APIC_LVT_TIMER, TIMER_TSCDL | 0x42);
	assert_int_equal(vlapic_msr_write(v, MSR_IA32_TSC_DEADLINE, C0 + 5000), 0);
	wr(v, APIC_TIMER_ICR, 1000);
	assert_int_equal(rd(v, APIC_TIMER_ICR), 0);
	assert_int_equal(vlapic_timer_poll(v, C0 + 5000), UINT64_MAX);
	assert_true(irr_has(v, 0x42));
}

/* The deadline is in guest TSC: a write to the TSC moves when it is due in host time. */
static void test_tsc_deadline_follows_tsc_writes(void **state)
{
	struct vcpu *v = cpu[0];
	wr(v, APIC_SVR, SVR_ENABLED);
	wr(v, APIC_LVT_TIMER, TIMER_TSCDL | 0x42);
	assert_int_equal(vlapic_msr_write(v, MSR_IA32_TSC_DEADLINE, C0 + 5000), 0);
	assert_int_equal(vlapic_timer_poll(v, C0), C0 + 5000);
	v->arch.tsc_offset = 1000;             /* what a TSC write does: the guest's TSC runs 1000 ahead */
	vlapic_tsc_changed(v);
	assert_int_equal(vlapic_timer_poll(v, C0), C0 + 4000);
	v->arch.tsc_offset = 0;
	wr(v, APIC_LVT_TIMER, 0x42);           /* one-shot mode: the TSC does not matter */
	vlapic_tsc_changed(v);
	assert_int_equal(vlapic_timer_poll(v, C0), UINT64_MAX);
}

static void test_tsc_deadline_msr_ignored_in_other_modes(void **state)
{
	struct vcpu *v = cpu[0];
	wr(v, APIC_SVR, SVR_ENABLED);
	wr(v, APIC_LVT_TIMER, 0x42);                      /* one-shot */
	assert_int_equal(vlapic_msr_write(v, MSR_IA32_TSC_DEADLINE, C0 + 5000), 0);
	assert_int_equal(msr(v, MSR_IA32_TSC_DEADLINE), 0);
	assert_int_equal(vlapic_timer_poll(v, C0 + 5000), UINT64_MAX);
	wr(v, APIC_LVT_TIMER, TIMER_PERIODIC | 0x42);
	assert_int_equal(vlapic_msr_write(v, MSR_IA32_TSC_DEADLINE, C0 + 5000), 0);
	assert_int_equal(vlapic_timer_poll(v, C0 + 5000), UINT64_MAX);
	assert_int_equal(irr_bits(v), 0);
}

static void test_mode_switch_disarms(void **state)
{
	struct vcpu *v = cpu[0];
	wr(v, APIC_SVR, SVR_ENABLED);
	wr(v, APIC_TIMER_DCR, 0xb);
	/* one-shot running, then TSC-deadline: stopped, initial count gone */
	wr(v, APIC_LVT_TIMER, 0x43);
	wr(v, APIC_TIMER_ICR, 1000);
	wr(v, APIC_LVT_TIMER, TIMER_TSCDL | 0x43);
	assert_int_equal(vlapic_timer_poll(v, C0 + 2000), UINT64_MAX);
	assert_int_equal(rd(v, APIC_TIMER_ICR), 0);
	/* deadline armed, then periodic: stopped, MSR cleared */
	assert_int_equal(vlapic_msr_write(v, MSR_IA32_TSC_DEADLINE, C0 + 5000), 0);
	wr(v, APIC_LVT_TIMER, TIMER_PERIODIC | 0x43);
	assert_int_equal(vlapic_timer_poll(v, C0 + 5000), UINT64_MAX);
	assert_int_equal(msr(v, MSR_IA32_TSC_DEADLINE), 0);
	assert_int_equal(irr_bits(v), 0);
	/* a vector change within the mode keeps it running */
	wr(v, APIC_LVT_TIMER, 0x43);
	wr(v, APIC_TIMER_ICR, 1000);
	wr(v, APIC_LVT_TIMER, 0x44);
	assert_int_equal(vlapic_timer_poll(v, C0 + 2000), UINT64_MAX);
	assert_true(irr_has(v, 0x44));
}

/* ---- KVM PV EOI condition ---- */

static void test_eoi_skippable_only_with_one_in_service(void **state)
{
	struct vcpu *v = cpu[0];
	wr(v, APIC_SVR, SVR_ENABLED);
	assert_false(vlapic_eoi_skippable(v));            /* nothing in service */
	vlapic_deliver(v, APIC_DM_FIXED, 0x50, false);
	vlapic_ack(v, 0x50);
	assert_true(vlapic_eoi_skippable(v));
	vlapic_deliver(v, APIC_DM_FIXED, 0x30, false);
	assert_false(vlapic_eoi_skippable(v));            /* something requested */
	vlapic_ack(v, 0x30);
	assert_false(vlapic_eoi_skippable(v));            /* two in service */
	vlapic_eoi(v);
	assert_true(vlapic_eoi_skippable(v));
	assert_true(isr_has(v, 0x30));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_reset_values),
		T(test_mmio_page_and_holes),
		T(test_xapic_register_writes),
		T(test_xapic_id_is_writable),
		T(test_icr_reads_back_without_busy),
		T(test_ppr_from_tpr_and_isr),
		T(test_pending_ack_eoi_by_priority_class),
		T(test_auto_eoi_vector_skips_isr),
		T(test_level_triggered_sets_tmr_until_eoi),
		T(test_illegal_vectors_refused),
		T(test_software_disabled_takes_only_nmi),
		T(test_ipi_physical),
		T(test_ipi_broadcast_and_shorthands),
		T(test_ipi_logical_flat),
		T(test_ipi_logical_cluster),
		T(test_lowest_priority_reaches_one),
		T(test_nmi_ipi),
		T(test_fixed_level_deassert_not_delivered),
		T(test_init_puts_ap_in_wait_for_sipi),
		T(test_init_to_bsp_refused),
		T(test_init_deassert_does_nothing),
		T(test_sipi_starts_waiting_ap),
		T(test_sipi_broadcast_to_waiting_aps),
		T(test_sipi_that_cannot_start_leaves_ap_waiting),
		T(test_apic_base_transitions),
		T(test_disable_resets_registers),
		T(test_x2apic_id_and_ldr),
		T(test_x2apic_msrs_need_x2apic_mode),
		T(test_x2apic_register_rules),
		T(test_x2apic_icr_and_self_ipi),
		T(test_timer_one_shot),
		T(test_timer_zero_count_stops_it),
		T(test_timer_divide_values),
		T(test_timer_periodic),
		T(test_timer_periodic_floor_200us),
		T(test_timer_one_shot_made_periodic_while_armed),
		T(test_tsc_deadline_far_future),
		T(test_tpr_blocked_class),
		T(test_timer_masked_fires_nothing),
		T(test_timer_reserved_mode_is_one_shot),
		T(test_tsc_deadline),
		T(test_tsc_deadline_msr_ignored_in_other_modes),
		T(test_mode_switch_disarms),
		T(test_eoi_skippable_only_with_one_in_service),
		T(test_send_illegal_vector_sets_sender_esr),
		T(test_hw_disabled_apic_takes_no_ipi),
		T(test_svr_bit12_reserved),
		T(test_initial_count_ignored_in_tsc_deadline_mode),
		T(test_tsc_deadline_follows_tsc_writes),
	};
	return cmocka_run_group_tests_name("vlapic", tests, NULL, NULL);
}
