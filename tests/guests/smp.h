/*
 * Multi-vCPU and local-APIC checks: what smp.c, lapic.c, lapic_timer.c,
 * kvm_smp.c and smp_entry.S share. Written against the architecture (Intel
 * SDM vol. 3A ch. 10 "APIC", ch. 8.4 "MP initialization") and KVM's own
 * behaviour (arch/x86/kvm/lapic.c, x86.c), never against our hypervisor.
 *
 * Included by smp_entry.S too: everything but plain #defines sits behind
 * __ASSEMBLER__.
 */
#ifndef TESTS_GUESTS_SMP_H
#define TESTS_GUESTS_SMP_H

#include "guest.h"

#define SMP_MAX_CPUS	8		/* the hypervisor's vcpus= takes 1..8 */
#define AP_SLOTS	(SMP_MAX_CPUS - 1)
#define AP_STACK_SIZE	8192

/*
 * The real-mode trampoline is copied here: RAM by the contract (guest RAM
 * starts at 0), above the boot area [0x1000, 0x10000) and below the image at
 * 1 MiB. SIPI vector = page number (SDM 10.6.1: the AP starts at CS.sel =
 * vector << 8, CS.base = vector << 12, IP = 0).
 */
#define AP_TRAMP_BASE	0x20000
#define AP_SIPI_VECTOR	(AP_TRAMP_BASE >> 12)

/* The trampoline's own GDT. */
#define TRAMP_CS32	0x08
#define TRAMP_DS	0x10
#define TRAMP_CS64	0x18

#define CR0_PE		(1u << 0)
#define CR0_ET		(1u << 4)
#define CR0_NE		(1u << 5)
#define CR0_WP		(1u << 16)
#define CR0_PG		(1u << 31)
#define CR4_PAE		(1u << 5)
#define MSR_EFER	0xc0000080
#define EFER_LME	(1u << 8)

/* smp_entry.S: one 16-byte stub per vector 0x20..0xff, in order. */
#define IRQ_FIRST_VEC	0x20
#define IRQ_STUB_SIZE	16

/*
 * Vectors the checks use. The priority class is vector >> 4 (SDM 10.8.3.1);
 * 0x80 is the guest's int 0x80 gate (VEC_USER_RETURN), never an IRQ here.
 */
#define VEC_WAKE	0x41	/* wakes an AP halted in its idle loop */
#define VEC_IPI		0x51	/* lapic.ipi_fixed, x2APIC ICR */
#define VEC_PV_IPI	0x53	/* kvm.send_ipi */
#define VEC_SELF	0x55	/* lapic.self_ipi, class 5 */
#define VEC_SELF_HI	0x65	/* higher class than VEC_SELF */
#define VEC_TPR		0x75	/* class 7: blocked by TPR 0x70, let through by 0x60 */
#define VEC_TIMER	0x91
#define VEC_PV_EOI	0xa1
#define VEC_X2_SELF	0xb1
#define VEC_XEN_UPCALL	0xe3	/* xen.evtchn_ipi: vCPU 1's own upcall vector */
#define VEC_XEN_CALLBACK 0xf3	/* Xen HVM_PARAM_CALLBACK_IRQ vector (Linux's HYPERVISOR_CALLBACK_VECTOR) */
#define VEC_SPURIOUS	0xff

#ifndef __ASSEMBLER__

/* Suite of the LAPIC checks; the KVM ones use KVM_SUITE (kvm64/kvm32). */
#ifdef __x86_64__
#define LAPIC_SUITE	"lapic64"
#else
#define LAPIC_SUITE	"lapic32"
#endif

/* Per-vCPU state, indexed by APIC ID (the IDs are 0..N-1 by contract). */
struct cpu {
	/* written by the CPU itself when it starts */
	volatile uint32_t up;
	volatile uint32_t apic_id;		/* APIC ID register */
	volatile uint32_t cpuid_apic_id;	/* CPUID.1:EBX[31:24] */
	volatile uint64_t apic_base;		/* IA32_APIC_BASE */
	volatile uint32_t svr_at_start;		/* before we touched it */
	volatile uint32_t lvtt_at_start;
	volatile uint32_t x2apic;		/* its APIC is reached through MSRs now */

	/* work posted by the BSP (see smp_post) */
	void (*volatile job)(ulong arg);
	volatile ulong job_arg;
	volatile uint32_t job_seq, done_seq;
	volatile uint32_t idle_halted;		/* in the sti;hlt of its idle loop */
	volatile uint32_t idle_loops;		/* heartbeat, for failure messages */
	volatile uint32_t stuck;		/* the BSP gave up waiting for it */
	volatile uint32_t faulted;		/* took an unexpected exception: parked */

	/* written by this CPU's interrupt handlers */
	volatile uint32_t irqs[256];
	volatile uint32_t nmis;
	volatile uint64_t last_irq_tsc;
	volatile ulong last_irq_ip;		/* where the last interrupt found it */
	void (*volatile irq_hook)(unsigned int vec);	/* runs before the EOI */

	/* PV EOI (kvm.pv_eoi): the word KVM sets bit 0 of (MSR_KVM_PV_EOI_EN) */
	volatile uint32_t pv_eoi_word;
	volatile uint32_t pv_eoi_on;
	volatile uint32_t pv_eoi_skipped;	/* EOIs the PV bit spared us */
};

extern struct cpu cpus[SMP_MAX_CPUS];

struct smp_state {
	unsigned int ncpus;		/* from the guest's smp= word */
	const char *no_apic;		/* why the APIC checks can't run, or NULL */
	uint64_t tsc_per_ms;
	bool tsc_known;			/* tsc_per_ms came from kvmclock, not a guess */
	bool idle_halt;			/* idle APs sleep in HLT, woken by VEC_WAKE */
};

extern struct smp_state smp;

/* smp_entry.S */
extern const char ap_tramp_start[], ap_tramp_end[];
extern const char irq_stubs[];
extern volatile uint32_t ap_next_slot;
extern volatile uint32_t ap_boot_cr3;
void ap_main(unsigned int slot) __attribute__((noreturn));
ulong regs_spin(ulong iterations, ulong mmio, uint32_t want, volatile uint32_t *got);
#define SPIN_BAD_READ	100

/* irq_snapshot/irq_expect count NMIs instead of a vector */
#define NMI_COUNT	(-1)

/* smp.c */
extern uint8_t ap_stacks[AP_SLOTS][AP_STACK_SIZE];
unsigned int this_cpu(void);
bool cpu_usable(unsigned int id);
bool smp_require(unsigned int ncpus, bool need_aps_up);
void smp_check_ap_faults(void);
void smp_check_done(const char *suite, const char *name);
bool smp_post(unsigned int id, void (*fn)(ulong), ulong arg);
bool smp_wait(unsigned int id, unsigned int ms);
bool smp_call(unsigned int id, void (*fn)(ulong), ulong arg, unsigned int ms);
void smp_init(unsigned int ncpus);
void check_smp_boot(void);

/* smp_lib.c */
uint64_t udiv64(uint64_t n, uint64_t d);
uint64_t tsc_after_ms(unsigned int ms);
uint64_t tsc_after_us(unsigned int us);
bool tsc_passed(uint64_t deadline);
void delay_us(unsigned int us);
uint64_t tsc_to_us(uint64_t ticks);
bool spin_lock(volatile uint32_t *lock);
void spin_unlock(volatile uint32_t *lock);
void irq_snapshot(uint32_t *before, int vec);
bool irq_expect(const char *what, const uint32_t *before, uint32_t mask, int vec);
extern volatile uint32_t spin_progress, spin_stop;
void spin_job(ulong ms);

/* smp_regs.c */
void check_smp_regs_preserved(void);

/* lapic.c */
uint32_t xapic_read(unsigned int reg);
uint32_t apic_read(unsigned int reg);
void apic_write(unsigned int reg, uint32_t val);
bool apic_send(uint32_t dest, uint32_t icr_low);
bool apic_irr(unsigned int vec);
bool apic_isr(unsigned int vec);
void apic_eoi(void);
void lapic_local_init(void);
const char *lapic_absent_reason(void);
void check_xapic_regs(void);
void check_self_ipi(void);
void check_ipi_fixed(void);

/* lapic_x2apic.c */
void check_x2apic(void);

/* lapic_timer.c */
void check_timer_oneshot(void);
void check_timer_periodic(void);
void check_timer_tsc_deadline(void);
void check_hlt_wake(void);

/* kvm_smp.c */
bool kvm_hypercall(ulong *ret, ulong nr, ulong a0, ulong a1, ulong a2, ulong a3);
ulong ap_hypercall(ulong nr, ulong a0, ulong a1);
bool kvm_need_feature(unsigned int bit, const char *name);
void check_kick_cpu(void);
void check_send_ipi(void);
void check_sched_yield(void);
void check_pv_eoi(void);

/* kvm_smp_time.c */
uint64_t kvmclock_tsc_per_ms(void);
void check_kvmclock_smp(void);
void check_steal_time(void);

/* Local APIC registers (SDM table 10-1); x2APIC MSR = 0x800 + (offset >> 4). */
#define APIC_ID		0x020
#define APIC_LVR	0x030
#define APIC_TPR	0x080
#define APIC_PPR	0x0a0
#define APIC_EOI	0x0b0
#define APIC_LDR	0x0d0
#define APIC_DFR	0x0e0
#define APIC_SVR	0x0f0
#define APIC_ISR	0x100
#define APIC_IRR	0x200
#define APIC_ICR_LO	0x300
#define APIC_ICR_HI	0x310
#define APIC_LVTT	0x320
#define APIC_LVT0	0x350
#define APIC_LVT1	0x360
#define APIC_LVTERR	0x370
#define APIC_TMICT	0x380
#define APIC_TMCCT	0x390
#define APIC_TDCR	0x3e0

#define APIC_SVR_ENABLE		(1u << 8)
#define APIC_LVT_MASKED		(1u << 16)
#define APIC_LVTT_PERIODIC	(1u << 17)
#define APIC_LVTT_TSCDEADLINE	(2u << 17)
#define APIC_TDCR_DIV1		0xb
#define APIC_TDCR_DIV2		0x0

/* ICR low (SDM figure 10-12) */
#define ICR_FIXED		(0u << 8)
#define ICR_NMI			(4u << 8)
#define ICR_INIT		(5u << 8)
#define ICR_STARTUP		(6u << 8)
#define ICR_LOGICAL		(1u << 11)
#define ICR_BUSY		(1u << 12)
#define ICR_ASSERT		(1u << 14)
#define ICR_LEVEL		(1u << 15)
#define ICR_SELF		(1u << 18)
#define ICR_ALL_INC_SELF	(2u << 18)
#define ICR_ALL_BUT_SELF	(3u << 18)

#define MSR_APIC_BASE		0x1b
#define APIC_BASE_BSP		(1u << 8)
#define APIC_BASE_EXTD		(1u << 10)
#define APIC_BASE_EN		(1u << 11)
#define APIC_DEFAULT_BASE	0xfee00000u
#define MSR_X2APIC_BASE		0x800
#define X2APIC_MSR(reg)		(MSR_X2APIC_BASE + ((reg) >> 4))
#define MSR_X2APIC_ICR		0x830
#define MSR_X2APIC_SELF_IPI	0x83f
#define MSR_TSC_DEADLINE	0x6e0

#define CPUID1_ECX_X2APIC	(1u << 21)
#define CPUID1_ECX_TSC_DEADLINE	(1u << 24)
#define CPUID1_EDX_APIC		(1u << 9)

/* KVM PV features, CPUID 0x40000001 EAX (arch/x86/include/uapi/asm/kvm_para.h) */
#define KVM_FEATURE_STEAL_TIME		5
#define KVM_FEATURE_PV_EOI		6
#define KVM_FEATURE_PV_UNHALT		7
#define KVM_FEATURE_PV_SEND_IPI		11
#define KVM_FEATURE_PV_SCHED_YIELD	13

static inline uint64_t rdtsc_ordered(void)
{
	uint32_t lo, hi;

	/* lfence: no earlier load may pass the TSC read (Linux rdtsc_ordered) */
	__asm__ volatile("lfence; rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
	return ((uint64_t)hi << 32) | lo;
}

static inline uint64_t rdmsr64(uint32_t msr)
{
	uint32_t lo, hi;

	__asm__ volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
	return ((uint64_t)hi << 32) | lo;
}

static inline void wrmsr64(uint32_t msr, uint64_t v)
{
	__asm__ volatile("wrmsr" : : "c"(msr), "a"((uint32_t)v), "d"((uint32_t)(v >> 32))
			 : "memory");
}

static inline void cpu_relax(void) { __asm__ volatile("pause" : : : "memory"); }
static inline void irq_disable(void) { __asm__ volatile("cli" : : : "memory"); }
static inline void irq_enable(void) { __asm__ volatile("sti" : : : "memory"); }
static inline void barrier(void) { __asm__ volatile("" : : : "memory"); }
static inline void mfence(void) { __asm__ volatile("mfence" : : : "memory"); }

/* STI's one-instruction shadow: an interrupt pending now is taken after the NOP. */
static inline void irq_window(void) { __asm__ volatile("sti; nop; cli" : : : "memory"); }

static inline bool kvm_has_feature(unsigned int bit)
{
	uint32_t r[4];

	cpuid(KVM_CPUID_FEATURES, r);
	return (r[0] >> bit) & 1;
}

/* Polls COND until it holds or MS milliseconds of TSC pass; the value is COND. */
#define WAIT_MS(cond, ms) ({						\
	uint64_t wait_deadline_ = tsc_after_ms(ms);			\
	bool wait_ok_;							\
	while (!(wait_ok_ = (cond)) && !tsc_passed(wait_deadline_))	\
		cpu_relax();						\
	wait_ok_;							\
})

#endif /* __ASSEMBLER__ */
#endif
