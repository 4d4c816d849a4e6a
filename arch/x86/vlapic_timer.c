/*
 * The local APIC's LVT timer (SDM vol. 3A §10.5.4): one-shot, periodic and
 * TSC-deadline mode. Expiries are host counter times (vlapic.timer_due);
 * the scheduler polls them (vlapic_timer_poll) and bounds each run by the
 * earliest one.
 */
#define LOG_SUB_FILE LOG_SUB_ARCH   /* its messages: loglevel=arch:LEVEL */
#include "arch/x86/vlapic.h"
#include "core/arch.h"
#include "core/sched.h"
#include "core/time.h"
#include "core/vm.h"

static struct vlapic *L(struct vcpu *v) { return &v->arch.lapic; }
static const struct vlapic *CL(const struct vcpu *v) { return &v->arch.lapic; }

/* APIC bus ticks (1 ns each) to host counter ticks. */
static struct time_scale ns_to_counter(void)
{
	static struct time_scale s;
	static uint64_t for_hz;
	if (for_hz != time_counter_hz()) {
		for_hz = time_counter_hz();
		s = time_make_scale(VLAPIC_BUS_HZ, for_hz);
	}
	return s;
}

/* Divide configuration bits 3,1,0 (SDM figure 10-10): 000 = 2 ... 110 = 128, 111 = 1. */
static uint64_t timer_divisor(const struct vlapic *a)
{
	uint32_t d = (a->timer_dcr & 3) | ((a->timer_dcr >> 1) & 4);
	return d == 7 ? 1 : 2ull << d;
}

static uint32_t timer_mode(const struct vlapic *a) { return a->lvt[0] & APIC_LVT_TIMER_MODE; }

/* One count of the initial-count register in host counter ticks (a period has a floor). */
static uint64_t timer_ticks(const struct vlapic *a)
{
	uint64_t ns = (uint64_t)a->timer_icr * timer_divisor(a);
	if (timer_mode(a) == APIC_TIMER_PERIODIC && ns < TIMER_MIN_PERIOD_NS)
		ns = TIMER_MIN_PERIOD_NS;
	uint64_t ticks = time_apply_scale(ns, ns_to_counter());
	return ticks ? ticks : 1;
}

static void timer_start(struct vcpu *v)
{
	struct vlapic *a = L(v);
	a->timer_due = 0;
	if (a->timer_icr && timer_mode(a) != APIC_TIMER_TSCDEADLINE)
		a->timer_due = arch_read_counter() + timer_ticks(a);
	sched_poke();
}

uint32_t vlapic_timer_current_count(const struct vcpu *v)
{
	const struct vlapic *a = CL(v);
	if (!a->timer_due || timer_mode(a) == APIC_TIMER_TSCDEADLINE)
		return 0;
	uint64_t now = arch_read_counter();
	if (now >= a->timer_due)
		return 0;
	uint64_t ns = time_apply_scale(a->timer_due - now, time_ns_scale());
	uint64_t count = ns / timer_divisor(a);
	return count > a->timer_icr ? a->timer_icr : (uint32_t)count;
}

static void tsc_deadline_arm(struct vcpu *v)
{
	struct vlapic *a = L(v);
	a->timer_due = 0;
	if (!a->tsc_deadline || timer_mode(a) != APIC_TIMER_TSCDEADLINE)
		return;
	/* guest TSC = host counter + tsc_offset; a deadline already past fires at once (KVM: unsigned compare) */
	uint64_t now = arch_read_counter();
	uint64_t guest_now = now + v->arch.tsc_offset;
	a->timer_due = a->tsc_deadline <= guest_now ? (now ? now : 1) : a->tsc_deadline - v->arch.tsc_offset;
	sched_poke();
}

void vlapic_tsc_changed(struct vcpu *v)
{
	if (timer_mode(L(v)) == APIC_TIMER_TSCDEADLINE)
		tsc_deadline_arm(v);
}

uint64_t vlapic_timer_poll(struct vcpu *v, uint64_t now)
{
	struct vlapic *a = L(v);
	if (!a->timer_due)
		return UINT64_MAX;
	if (now < a->timer_due)
		return a->timer_due;
	if (!(a->lvt[0] & APIC_LVT_MASKED))
		vlapic_deliver(v, APIC_DM_FIXED, (uint8_t)a->lvt[0], false);
	/* the mode at expiry decides whether it starts again (KVM apic_timer_expired) */
	if (timer_mode(a) == APIC_TIMER_PERIODIC && a->timer_icr) {
		uint64_t period = timer_ticks(a);
		a->timer_due += period;
		if (a->timer_due <= now)            /* missed periods are not replayed as a burst */
			a->timer_due = now + period;
		return a->timer_due;
	}
	a->timer_due = 0;
	if (timer_mode(a) == APIC_TIMER_TSCDEADLINE)
		a->tsc_deadline = 0;               /* the MSR clears when it fires (SDM §10.5.4.1) */
	return UINT64_MAX;
}

/* The timer's LVT entry (already masked to its writable bits). */
void vlapic_timer_write_lvt(struct vcpu *v, uint32_t val)
{
	struct vlapic *a = L(v);
	if ((val & APIC_LVT_TIMER_MODE) == APIC_LVT_TIMER_MODE)
		val &= ~APIC_LVT_TIMER_MODE;      /* the reserved mode: one-shot */
	/* leaving or entering TSC-deadline mode stops the timer (KVM apic_update_lvtt) */
	bool was_dl = timer_mode(a) == APIC_TIMER_TSCDEADLINE;
	a->lvt[0] = val;
	if (was_dl != (timer_mode(a) == APIC_TIMER_TSCDEADLINE)) {
		a->timer_icr = 0;
		a->tsc_deadline = 0;
		a->timer_due = 0;
	}
}

/* The initial-count register starts the timer; it ignores writes in TSC-deadline mode (SDM §10.5.4.1). */
void vlapic_timer_write_initial(struct vcpu *v, uint32_t val)
{
	if (timer_mode(L(v)) == APIC_TIMER_TSCDEADLINE)
		return;
	L(v)->timer_icr = val;
	timer_start(v);
}

/* IA32_TSC_DEADLINE: ignored outside TSC-deadline mode, as KVM does (kvm_set_lapic_tscdeadline_msr). */
void vlapic_timer_write_deadline(struct vcpu *v, uint64_t val)
{
	if (timer_mode(L(v)) != APIC_TIMER_TSCDEADLINE)
		return;
	L(v)->tsc_deadline = val;
	tsc_deadline_arm(v);
}
