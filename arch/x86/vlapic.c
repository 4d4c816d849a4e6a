/*
 * The emulated local APIC (vlapic.h). Facts from the Intel SDM vol. 3A
 * ch. 10; where hardware leaves a choice, KVM's behaviour (Linux
 * arch/x86/kvm/lapic.c) is what guests expect, and the comment says so.
 */
#define LOG_SUB_FILE LOG_SUB_ARCH   /* its messages: loglevel=arch:LEVEL */
#include "arch/x86/vlapic.h"
#include "arch/x86/x86.h"
#include "core/arch.h"
#include "core/log.h"
#include "core/sched.h"
#include "core/string.h"
#include "core/time.h"
#include "core/vm.h"

/* Version register: version 0x14, max LVT entry 5 (six LVTs, no CMCI), like KVM (lapic.c kvm_apic_set_version). */
#define APIC_VERSION_VALUE (0x14u | ((VLAPIC_NR_LVT - 1u) << 16))
#define APIC_SVR_ENABLE  (1u << 8)
/* vector, enable, focus-check off; EOI-broadcast suppression (bit 12) is not offered, so reserved (KVM: 0x3ff) */
#define APIC_SVR_MASK    0x3ffu
/* ESR (SDM §10.5.3 figure 10-9) */
#define APIC_ESR_SEND_ILLEGAL    (1u << 5)
#define APIC_ESR_RECEIVE_ILLEGAL (1u << 6)
/* Writable bits of each LVT (SDM figure 10-8): timer, thermal, perf, LINT0, LINT1, error. */
static const uint32_t lvt_mask[VLAPIC_NR_LVT] = {
	0x000710ffu, 0x000117ffu, 0x000117ffu, 0x0001f7ffu, 0x0001f7ffu, 0x000100ffu,
};

static struct vlapic *L(struct vcpu *v) { return &v->arch.lapic; }
static const struct vlapic *CL(const struct vcpu *v) { return &v->arch.lapic; }

static void bit_set(uint32_t *map, unsigned b) { map[b / 32] |= 1u << (b % 32); }
static void bit_clear(uint32_t *map, unsigned b) { map[b / 32] &= ~(1u << (b % 32)); }

/* Highest set bit of a 256-bit map, or -1. */
static int highest(const uint32_t *map)
{
	for (int i = 7; i >= 0; i--)
		if (map[i])
			return i * 32 + 31 - __builtin_clz(map[i]);
	return -1;
}

bool vlapic_hw_enabled(const struct vcpu *v) { return CL(v)->base & APIC_BASE_EN; }
bool vlapic_x2apic(const struct vcpu *v) { return (CL(v)->base & (APIC_BASE_EN | APIC_BASE_EXTD)) == (APIC_BASE_EN | APIC_BASE_EXTD); }
static bool sw_enabled(const struct vcpu *v) { return vlapic_hw_enabled(v) && (CL(v)->svr & APIC_SVR_ENABLE); }

bool vlapic_mmio_page(const struct vcpu *v, uint64_t gpa)
{
	return vlapic_hw_enabled(v) && !vlapic_x2apic(v) && (gpa & APIC_BASE_ADDR) == (CL(v)->base & APIC_BASE_ADDR);
}

/* x2APIC logical ID: cluster in 31:16, one bit of 16 in 15:0 (SDM §10.12.10.2). */
static uint32_t x2apic_ldr(uint32_t id) { return ((id >> 4) << 16) | (1u << (id & 15)); }

/* Everything but the ID and the base goes back to its reset value (SDM §10.4.7.1 and INIT). */
static void reset_registers(struct vcpu *v)
{
	struct vlapic *a = L(v);
	uint64_t base = a->base, pv_eoi_gpa = a->pv_eoi_gpa;
	uint32_t id = a->id;
	bool pv_eoi_on = a->pv_eoi_on;
	memset(a, 0, sizeof(*a));
	a->base = base;
	a->id = id;
	a->pv_eoi_on = pv_eoi_on;          /* an MSR of the hypervisor's, not APIC state */
	a->pv_eoi_gpa = pv_eoi_gpa;
	a->dfr = 0xffffffffu;
	a->svr = 0xff;
	for (unsigned i = 0; i < VLAPIC_NR_LVT; i++)
		a->lvt[i] = APIC_LVT_MASKED;
	if (vlapic_x2apic(v))
		a->ldr = x2apic_ldr(id);
}

void vlapic_reset(struct vcpu *v)
{
	struct vlapic *a = L(v);
	a->id = v->id;
	a->base = APIC_DEFAULT_BASE | APIC_BASE_EN | (v->id == 0 ? APIC_BASE_BSP : 0);
	reset_registers(v);
}

uint32_t vlapic_ppr(const struct vcpu *v)
{
	const struct vlapic *a = CL(v);
	int isrv = highest(a->isr);
	uint32_t isr_class = isrv < 0 ? 0 : (uint32_t)isrv & 0xf0;
	return (a->tpr & 0xf0) >= isr_class ? a->tpr & 0xff : isr_class;
}

int vlapic_pending_vector(const struct vcpu *v)
{
	if (!sw_enabled(v))
		return -1;
	int irrv = highest(CL(v)->irr);
	if (irrv < 0 || ((uint32_t)irrv & 0xf0) <= (vlapic_ppr(v) & 0xf0))
		return -1;
	return irrv;
}

int vlapic_tpr_blocked_class(const struct vcpu *v)
{
	const struct vlapic *a = CL(v);
	if (!sw_enabled(v))
		return -1;
	int irrv = highest(a->irr), isrv = highest(a->isr);
	if (irrv < 0 || (isrv >= 0 && (irrv & 0xf0) <= (isrv & 0xf0)))
		return -1;                          /* nothing, or held back by one in service */
	return (uint32_t)(irrv & 0xf0) <= (a->tpr & 0xf0) ? irrv >> 4 : -1;
}

void vlapic_ack(struct vcpu *v, uint8_t vector)
{
	bit_clear(L(v)->irr, vector);
	/* an auto-EOI vector is over once accepted: it never enters ISR (KVM: the SynIC auto-EOI bitmap) */
	if (!(v->arch.auto_eoi[vector / 32] & (1u << (vector % 32))))
		bit_set(L(v)->isr, vector);
}

bool vlapic_eoi_skippable(const struct vcpu *v)
{
	const struct vlapic *a = CL(v);
	bool one = false;
	for (unsigned i = 0; i < 8; i++) {
		if (a->irr[i])
			return false;
		if (!a->isr[i])
			continue;
		if (one || (a->isr[i] & (a->isr[i] - 1)))
			return false;           /* a second vector in service */
		one = true;
	}
	return one;
}

void vlapic_eoi(struct vcpu *v)
{
	int isrv = highest(L(v)->isr);
	if (isrv >= 0) {
		bit_clear(L(v)->isr, (unsigned)isrv);
		bit_clear(L(v)->tmr, (unsigned)isrv);   /* no I/O APIC to broadcast the EOI to */
	}
}

static void write_lvt(struct vcpu *v, unsigned i, uint32_t val)
{
	struct vlapic *a = L(v);
	val &= lvt_mask[i];
	if (!sw_enabled(v))
		val |= APIC_LVT_MASKED;            /* software-disabled: masks stay set (SDM §10.4.7.2) */
	if (i == 0) {
		vlapic_timer_write_lvt(v, val);
		return;
	}
	a->lvt[i] = val;
}

/* ---- delivery ---- */

struct vcpu *vlapic_find(struct vm *vm, uint32_t id)
{
	for (unsigned i = 0; i < vm->nr_vcpus; i++)
		if (vm->vcpus[i]->arch.lapic.id == id)
			return vm->vcpus[i];
	return NULL;
}

int vlapic_deliver(struct vcpu *v, uint32_t mode, uint8_t vector, bool level)
{
	struct vlapic *a = L(v);
	/* with IA32_APIC_BASE[11] clear the CPU behaves as if it had no APIC (SDM §10.4.3) */
	if (!vlapic_hw_enabled(v))
		return 0;
	switch (mode) {
	case APIC_DM_FIXED:
	case APIC_DM_LOWEST:
		/* a software-disabled APIC accepts no interrupts, and vectors 0-15 are illegal (SDM §10.5.3) */
		if (!sw_enabled(v))
			return 0;
		if (vector < 16) {
			a->esr_pending |= APIC_ESR_RECEIVE_ILLEGAL;
			return 0;
		}
		bit_set(a->irr, vector);
		if (level)
			bit_set(a->tmr, vector);
		else
			bit_clear(a->tmr, vector);
		sched_poke();                       /* a halted vCPU may wake */
		return 1;
	case APIC_DM_NMI:
		a->nmi_pending = true;
		sched_poke();
		return 1;
	case APIC_DM_INIT:
		/*
		 * An AP goes to wait-for-SIPI with its APIC reset. The BSP would
		 * restart at the reset vector, where this VM has no firmware: refused.
		 */
		if (v->id == 0)
			return 0;
		reset_registers(v);
		x86_vcpu_init_event(v);
		v->state = VCPU_WAIT_SIPI;
		return 1;
	case APIC_DM_STARTUP:
		if (v->state != VCPU_WAIT_SIPI)
			return 0;                   /* SIPIs to a running CPU are ignored (SDM §8.4.4.1) */
		if (x86_vcpu_start_at_sipi(v, vector))
			return 0;
		vcpu_wake(v);
		return 1;
	default:
		return 0;                           /* SMI, reserved modes: not delivered */
	}
}

/* Whether `v` is named by `dest` in the mode of `src` (SDM §10.6.2). */
static bool dest_matches(const struct vcpu *src, const struct vcpu *v, uint32_t dest, bool logical)
{
	const struct vlapic *a = CL(v);
	if (vlapic_x2apic(src)) {
		if (dest == 0xffffffffu)
			return true;
		if (!logical)
			return a->id == dest;
		uint32_t ldr = x2apic_ldr(a->id);
		return (ldr >> 16) == (dest >> 16) && (ldr & dest & 0xffff);
	}
	dest &= 0xff;
	if (dest == 0xff)
		return true;
	if (!logical)
		return a->id == dest;
	uint32_t ldr = a->ldr >> 24;
	if ((a->dfr >> 28) == 0xf)                 /* flat model */
		return ldr & dest;
	return (ldr >> 4) == (dest >> 4) && (ldr & dest & 0xf);   /* cluster model */
}

/*
 * A level-triggered message with its level bit clear is a de-assert: for
 * INIT it only synchronised arbitration IDs on old CPUs (SDM §10.6.1), and
 * fixed interrupts ignore it (KVM __apic_accept_irq). Nothing is delivered.
 */
static bool is_deassert(uint32_t icr)
{
	uint32_t mode = icr & APIC_ICR_MODE_MASK;
	return (icr & APIC_ICR_TRIGGER) && !(icr & APIC_ICR_LEVEL) &&
	       (mode == APIC_DM_INIT || mode == APIC_DM_FIXED || mode == APIC_DM_LOWEST);
}

int vlapic_deliver_icr(struct vcpu *v, uint32_t icr)
{
	if (is_deassert(icr))
		return 0;
	return vlapic_deliver(v, icr & APIC_ICR_MODE_MASK, (uint8_t)icr, icr & APIC_ICR_TRIGGER);
}

unsigned vlapic_send_ipi(struct vcpu *src, uint32_t icr, uint32_t dest)
{
	struct vm *vm = src->vm;
	uint32_t mode = icr & APIC_ICR_MODE_MASK, shorthand = icr & APIC_SHORT_MASK;
	if (is_deassert(icr))
		return 0;
	if ((mode == APIC_DM_FIXED || mode == APIC_DM_LOWEST) && (uint8_t)icr < 16)
		L(src)->esr_pending |= APIC_ESR_SEND_ILLEGAL;   /* the receivers log theirs too */
	unsigned n = 0;
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *t = vm->vcpus[i];
		bool hit;
		switch (shorthand) {
		case APIC_SHORT_SELF:   hit = t == src; break;
		case APIC_SHORT_ALL:    hit = true; break;
		case APIC_SHORT_OTHERS: hit = t != src; break;
		default:                hit = dest_matches(src, t, dest, icr & APIC_DEST_LOGICAL);
		}
		if (!hit)
			continue;
		n += (unsigned)vlapic_deliver_icr(t, icr);
		/* lowest priority: one target; the first that accepts (arbitration is model-specific) */
		if (mode == APIC_DM_LOWEST && n)
			break;
	}
	return n;
}

/* ---- register access ---- */

static uint32_t read_reg(struct vcpu *v, uint32_t off)
{
	struct vlapic *a = L(v);
	switch (off) {
	case APIC_ID:        return vlapic_x2apic(v) ? a->id : a->id << 24;
	case APIC_VERSION:   return APIC_VERSION_VALUE;
	case APIC_TPR:       return a->tpr;
	case APIC_PPR:       return vlapic_ppr(v);
	case APIC_LDR:       return a->ldr;
	case APIC_DFR:       return a->dfr;
	case APIC_SVR:       return a->svr;
	case APIC_ESR:       return a->esr;
	case APIC_ICR_LO:    return a->icr_lo;      /* delivery is instant: the busy bit is never set */
	case APIC_ICR_HI:    return a->icr_hi;
	case APIC_TIMER_ICR: return a->timer_icr;
	case APIC_TIMER_CCR: return vlapic_timer_current_count(v);
	case APIC_TIMER_DCR: return a->timer_dcr;
	}
	if (off >= APIC_LVT_TIMER && off <= APIC_LVT_ERROR)
		return a->lvt[(off - APIC_LVT_TIMER) >> 4];
	if (off >= APIC_ISR && off < APIC_ISR + 0x80)
		return a->isr[(off - APIC_ISR) >> 4];
	if (off >= APIC_TMR && off < APIC_TMR + 0x80)
		return a->tmr[(off - APIC_TMR) >> 4];
	if (off >= APIC_IRR && off < APIC_IRR + 0x80)
		return a->irr[(off - APIC_IRR) >> 4];
	return 0;
}

static void write_reg(struct vcpu *v, uint32_t off, uint32_t val)
{
	struct vlapic *a = L(v);
	switch (off) {
	case APIC_ID:
		a->id = val >> 24;      /* xAPIC only: software may move its ID (SDM §10.4.6) */
		return;
	case APIC_TPR:
		a->tpr = val & 0xff;
		return;
	case APIC_EOI:
		vlapic_eoi(v);
		return;
	case APIC_LDR:
		a->ldr = val & 0xff000000u;
		return;
	case APIC_DFR:
		a->dfr = val | 0x0fffffffu;
		return;
	case APIC_SVR:
		a->svr = val & APIC_SVR_MASK;
		if (!(a->svr & APIC_SVR_ENABLE))
			for (unsigned i = 0; i < VLAPIC_NR_LVT; i++)
				a->lvt[i] |= APIC_LVT_MASKED;
		return;
	case APIC_ESR:
		/* a write shows the errors logged since the last one and starts a new log (SDM §10.5.3) */
		a->esr = a->esr_pending;
		a->esr_pending = 0;
		return;
	case APIC_ICR_HI:
		a->icr_hi = val & 0xff000000u;
		return;
	case APIC_ICR_LO:
		a->icr_lo = val & ~APIC_ICR_BUSY;
		vlapic_send_ipi(v, a->icr_lo, a->icr_hi >> 24);
		return;
	case APIC_TIMER_ICR:
		vlapic_timer_write_initial(v, val);
		return;
	case APIC_TIMER_DCR:
		a->timer_dcr = val & 0xb;
		return;
	}
	if (off >= APIC_LVT_TIMER && off <= APIC_LVT_ERROR)
		write_lvt(v, (off - APIC_LVT_TIMER) >> 4, val);
	/* read-only registers and holes ignore writes in xAPIC mode */
}

uint32_t vlapic_mmio_read(struct vcpu *v, uint32_t off)
{
	if (off & 0xf)
		return 0;
	return read_reg(v, off);
}

void vlapic_mmio_write(struct vcpu *v, uint32_t off, uint32_t val)
{
	if (!(off & 0xf))
		write_reg(v, off, val);
}

/* ---- MSRs ---- */

/*
 * IA32_APIC_BASE writes (SDM §10.12.5 figure 10-27): disabled -> x2APIC
 * and x2APIC -> xAPIC are invalid transitions (#GP), so are reserved bits
 * (0-7, 9, and above the physical-address width: 52 here, as CPUID 0x80000008 says).
 */
static int write_apic_base(struct vcpu *v, uint64_t val)
{
	struct vlapic *a = L(v);
	const uint64_t reserved = ~(APIC_BASE_ADDR | APIC_BASE_EN | APIC_BASE_EXTD | APIC_BASE_BSP);
	uint64_t old = a->base;
	bool en = val & APIC_BASE_EN, extd = val & APIC_BASE_EXTD;
	if ((val & reserved) || (!en && extd) || ((val ^ old) & APIC_BASE_BSP))
		return -EINVAL;
	if ((old & APIC_BASE_EXTD) && (old & APIC_BASE_EN) && en && !extd)
		return -EINVAL;
	if (!(old & APIC_BASE_EN) && en && extd)
		return -EINVAL;
	a->base = val;
	if (!en) {
		reset_registers(v);                 /* re-enabling starts from the power-up state */
	} else if (extd && !(old & APIC_BASE_EXTD)) {
		a->id = v->id;                      /* x2APIC: the ID is the initial one, LDR derived from it */
		a->ldr = x2apic_ldr(a->id);
	}
	return 0;
}

/* x2APIC MSR access (SDM §10.12.1.2 table 10-6). */
static int x2apic_read(struct vcpu *v, uint32_t off, uint64_t *val)
{
	switch (off) {
	case APIC_EOI: case APIC_SELF_IPI: case APIC_DFR: case APIC_APR: case APIC_RRD:
	case APIC_ICR_HI: case APIC_LVT_CMCI:
		return -EINVAL;                     /* write-only or absent in x2APIC mode */
	case APIC_ICR_LO:
		*val = (uint64_t)L(v)->icr_hi << 32 | L(v)->icr_lo;
		return 0;
	}
	if (off == APIC_ID || off == APIC_VERSION || off == APIC_TPR || off == APIC_PPR ||
	    off == APIC_LDR || off == APIC_SVR || off == APIC_ESR ||
	    (off >= APIC_ISR && off < APIC_IRR + 0x80) ||
	    (off >= APIC_LVT_TIMER && off <= APIC_TIMER_CCR) || off == APIC_TIMER_DCR) {
		*val = read_reg(v, off);
		return 0;
	}
	return -EINVAL;
}

static int x2apic_write(struct vcpu *v, uint32_t off, uint64_t val)
{
	switch (off) {
	case APIC_TPR: case APIC_SVR: case APIC_TIMER_ICR: case APIC_TIMER_DCR:
		if (val >> 32)
			return -EINVAL;
		write_reg(v, off, (uint32_t)val);
		return 0;
	case APIC_EOI:
	case APIC_ESR:
		if (val)                            /* only 0 may be written (SDM §10.12.1.2) */
			return -EINVAL;
		write_reg(v, off, 0);
		return 0;
	case APIC_ICR_LO:
		/* 64-bit ICR: destination in 63:32; a single write sends */
		L(v)->icr_hi = (uint32_t)(val >> 32);
		L(v)->icr_lo = (uint32_t)val & ~APIC_ICR_BUSY;
		vlapic_send_ipi(v, L(v)->icr_lo, L(v)->icr_hi);
		return 0;
	case APIC_SELF_IPI:
		if (val & ~0xffull)
			return -EINVAL;             /* bits 31:8 reserved (SDM table 10-6) */
		vlapic_deliver(v, APIC_DM_FIXED, (uint8_t)val, false);
		return 0;
	}
	if (off >= APIC_LVT_TIMER && off <= APIC_LVT_ERROR) {
		if (val >> 32)
			return -EINVAL;
		write_lvt(v, (off - APIC_LVT_TIMER) >> 4, (uint32_t)val);
		return 0;
	}
	return -EINVAL;                             /* read-only or absent */
}

int vlapic_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	if (msr == MSR_IA32_APIC_BASE_NR) {
		*val = L(v)->base;
		return 0;
	}
	if (msr == MSR_IA32_TSC_DEADLINE) {
		*val = L(v)->tsc_deadline;
		return 0;
	}
	if (msr < MSR_X2APIC_FIRST || msr > MSR_X2APIC_LAST)
		return -ENOENT;
	if (!vlapic_x2apic(v))
		return -EINVAL;                     /* x2APIC MSRs #GP outside x2APIC mode */
	return x2apic_read(v, (msr - MSR_X2APIC_FIRST) << 4, val);
}

int vlapic_msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	if (msr == MSR_IA32_APIC_BASE_NR)
		return write_apic_base(v, val);
	if (msr == MSR_IA32_TSC_DEADLINE) {
		vlapic_timer_write_deadline(v, val);
		return 0;
	}
	if (msr < MSR_X2APIC_FIRST || msr > MSR_X2APIC_LAST)
		return -ENOENT;
	if (!vlapic_x2apic(v))
		return -EINVAL;
	return x2apic_write(v, (msr - MSR_X2APIC_FIRST) << 4, val);
}
