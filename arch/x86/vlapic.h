/*
 * The emulated local APIC of each vCPU (Intel SDM vol. 3A ch. 10 "Advanced
 * Programmable Interrupt Controller"): xAPIC registers by MMIO, x2APIC by MSR,
 * interprocessor interrupts, the LVT timer and the IRR/ISR state that
 * interrupt injection (arch/x86/intr.c) draws from.
 *
 * It is plain logic over struct vlapic (in struct vcpu_arch) plus the scheduler
 * (core/sched.h) to wake and start vCPUs, so the host unit tests build it as is.
 */
#ifndef ARCH_X86_VLAPIC_H
#define ARCH_X86_VLAPIC_H

#include "core/types.h"

struct vcpu;
struct vm;

/* Register offsets in the xAPIC page; an x2APIC MSR is 0x800 + offset / 16 (SDM table 10-1, 10-6). */
#define APIC_ID        0x020
#define APIC_VERSION   0x030
#define APIC_TPR       0x080
#define APIC_APR       0x090
#define APIC_PPR       0x0a0
#define APIC_EOI       0x0b0
#define APIC_RRD       0x0c0
#define APIC_LDR       0x0d0
#define APIC_DFR       0x0e0
#define APIC_SVR       0x0f0
#define APIC_ISR       0x100
#define APIC_TMR       0x180
#define APIC_IRR       0x200
#define APIC_ESR       0x280
#define APIC_LVT_CMCI  0x2f0
#define APIC_ICR_LO    0x300
#define APIC_ICR_HI    0x310
#define APIC_LVT_TIMER 0x320
#define APIC_LVT_ERROR 0x370
#define APIC_TIMER_ICR 0x380
#define APIC_TIMER_CCR 0x390
#define APIC_TIMER_DCR 0x3e0
#define APIC_SELF_IPI  0x3f0           /* x2APIC only */

/* IA32_APIC_BASE (SDM vol. 4 table 2-2, vol. 3A §10.4.4 figure 10-5) */
#define MSR_IA32_APIC_BASE_NR 0x1bu
#define APIC_BASE_BSP    (1ull << 8)
#define APIC_BASE_EXTD   (1ull << 10)    /* x2APIC mode */
#define APIC_BASE_EN     (1ull << 11)
#define APIC_BASE_ADDR   0x000ffffffffff000ull
#define APIC_DEFAULT_BASE 0xfee00000ull
/* IA32_TSC_DEADLINE and the x2APIC MSR range (SDM vol. 4 table 2-2, vol. 3A §10.12.1.2) */
#define MSR_IA32_TSC_DEADLINE 0x6e0u
#define MSR_X2APIC_FIRST 0x800u
#define MSR_X2APIC_LAST 0x8ffu

/* ICR fields (SDM §10.6.1). */
#define APIC_ICR_VECTOR      0xffu
#define APIC_ICR_MODE_MASK   (7u << 8)
#define APIC_DM_FIXED        (0u << 8)
#define APIC_DM_LOWEST       (1u << 8)
#define APIC_DM_SMI          (2u << 8)
#define APIC_DM_NMI          (4u << 8)
#define APIC_DM_INIT         (5u << 8)
#define APIC_DM_STARTUP      (6u << 8)
#define APIC_DEST_LOGICAL    (1u << 11)
#define APIC_ICR_BUSY        (1u << 12)
#define APIC_ICR_LEVEL       (1u << 14)   /* assert */
#define APIC_ICR_TRIGGER     (1u << 15)   /* level-triggered */
#define APIC_SHORT_MASK      (3u << 18)
#define APIC_SHORT_SELF      (1u << 18)
#define APIC_SHORT_ALL       (2u << 18)
#define APIC_SHORT_OTHERS    (3u << 18)

/*
 * Timer clock: 1 GHz, the APIC bus KVM presents by default (Linux
 * arch/x86/kvm/lapic.h APIC_BUS_CYCLE_NS_DEFAULT = 1), so one tick is 1 ns
 * before the divider.
 */
#define VLAPIC_BUS_HZ 1000000000ull

#define VLAPIC_NR_LVT 6                /* timer, thermal, perf, LINT0, LINT1, error */

/* LVT fields (SDM §10.5.1 figure 10-8) */
#define APIC_LVT_MASKED  (1u << 16)
#define APIC_LVT_TIMER_MODE (3u << 17)
#define APIC_TIMER_ONESHOT  (0u << 17)
#define APIC_TIMER_PERIODIC (1u << 17)
#define APIC_TIMER_TSCDEADLINE (2u << 17)

struct vlapic {
	uint64_t base;                 /* IA32_APIC_BASE */
	uint32_t id;
	uint32_t tpr, ldr, dfr, svr, icr_lo, icr_hi;
	uint32_t esr, esr_pending;     /* ESR as read; errors since the last ESR write */
	uint32_t lvt[VLAPIC_NR_LVT];   /* 0x320 + 0x10 * i */
	uint32_t timer_icr, timer_dcr;
	uint64_t timer_due;            /* host counter of the next expiry; 0: not armed */
	uint64_t tsc_deadline;         /* IA32_TSC_DEADLINE as the guest wrote it */
	uint32_t irr[8], isr[8], tmr[8];
	bool nmi_pending;
	bool pv_eoi_on;                /* KVM PV EOI: the guest's flag byte is at pv_eoi_gpa */
	bool pv_eoi_set;               /* we set the flag before this entry */
	uint64_t pv_eoi_gpa;
};

/* Power-on state for vCPU `id` (id 0 is the bootstrap processor). */
void vlapic_reset(struct vcpu *v);

bool vlapic_hw_enabled(const struct vcpu *v);
bool vlapic_x2apic(const struct vcpu *v);
/* The page that decodes as the xAPIC (guest-physical), when it does. */
bool vlapic_mmio_page(const struct vcpu *v, uint64_t gpa);

/* xAPIC register access at `off` in the page (4-byte registers); reads of holes give 0. */
uint32_t vlapic_mmio_read(struct vcpu *v, uint32_t off);
void vlapic_mmio_write(struct vcpu *v, uint32_t off, uint32_t val);

/* MSRs this APIC owns (IA32_APIC_BASE, TSC_DEADLINE, x2APIC): -ENOENT not one, -EINVAL #GP. */
int vlapic_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val);
int vlapic_msr_write(struct vcpu *v, uint32_t msr, uint64_t val);

/*
 * Sends an IPI as if `src` wrote `icr` (low 32 bits: vector, mode, shorthand;
 * `dest` the destination field in the current mode's width). Returns how many
 * APICs accepted it.
 */
unsigned vlapic_send_ipi(struct vcpu *src, uint32_t icr, uint32_t dest);
/* Delivers one interrupt to `v` as a local or remote source would (fixed/NMI/INIT/SIPI); 1 if accepted. */
int vlapic_deliver(struct vcpu *v, uint32_t mode, uint8_t vector, bool level);
/* Delivers what an ICR low word describes to `v` alone (no destination decoding); 1 if accepted. */
int vlapic_deliver_icr(struct vcpu *v, uint32_t icr);
/* The vCPU with APIC ID `id`, or NULL. */
struct vcpu *vlapic_find(struct vm *vm, uint32_t id);

/* The highest vector that may be delivered now (IRR above PPR), or -1. */
int vlapic_pending_vector(const struct vcpu *v);
/* The priority class of the highest requested vector when only the TPR holds it back, else -1. */
int vlapic_tpr_blocked_class(const struct vcpu *v);
/* The CPU took `vector`: IRR to ISR. */
void vlapic_ack(struct vcpu *v, uint8_t vector);
/* An EOI, as a write to the EOI register does. */
void vlapic_eoi(struct vcpu *v);
/* Exactly one vector in service and none requested: an EOI the guest may skip (KVM PV EOI). */
bool vlapic_eoi_skippable(const struct vcpu *v);
/* Processor priority (SDM §10.8.3.1). */
uint32_t vlapic_ppr(const struct vcpu *v);
/* The LVT timer (vlapic_timer.c): register writes and the current count. */
void vlapic_timer_write_lvt(struct vcpu *v, uint32_t val);
void vlapic_timer_write_initial(struct vcpu *v, uint32_t val);
void vlapic_timer_write_deadline(struct vcpu *v, uint64_t val);
uint32_t vlapic_timer_current_count(const struct vcpu *v);
/* The vCPU's TSC was written: an armed TSC deadline is due at another host time. */
void vlapic_tsc_changed(struct vcpu *v);
/* Fires the timer if due at host counter `now`; returns the next due time or UINT64_MAX. */
uint64_t vlapic_timer_poll(struct vcpu *v, uint64_t now);

#endif
