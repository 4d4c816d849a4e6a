/* Common x86 emulation shared by both vendors. */
#ifndef ARCH_X86_X86_H
#define ARCH_X86_X86_H

#include "core/types.h"

struct vcpu;
struct vm_exit;
struct x86_paging;

/*
 * Boot CPU, once: TSC rate and wall clock into core/time.h. When the rate is
 * measured against the PIT, the local-APIC timer is measured in the same
 * window: *apic_ticks of it over *tsc_ticks (both 0 otherwise).
 */
void x86_time_init(uint64_t *tsc_ticks, uint64_t *apic_ticks);

/* Host FPU set-up (boot CPU, once) and the reset state every new VM starts from. */
void x86_fpu_init(void);
void x86_fpu_reset(void);
/*
 * What neither SVM nor VMX switches and a guest can read directly (x87/SSE,
 * DR0-DR3, DR6, CR2): x86_vcpu_state_init gives a new vCPU the reset values,
 * x86_vcpu_load puts v's values in the CPU (saving the previous vCPU's) and,
 * when the CPU passes to another VM, clears what that VM could sample.
 */
void x86_vcpu_state_init(struct vcpu *v);
void x86_vcpu_load(struct vcpu *v);
void x86_vcpu_forget(struct vcpu *v);
/* The guest's CR2 as VMX leaves it (in the CPU, or saved). */
uint64_t x86_vcpu_cr2(struct vcpu *v);
/* INIT reached v (an AP): everything INIT resets that the local APIC does not hold (guest_boot.c). */
void x86_vcpu_init_event(struct vcpu *v);
void x86_vcpu_init_unswitched(struct vcpu *v);
/* Puts an AP in the state a startup IPI with `vector` gives it (real mode at vector << 12). */
int x86_vcpu_start_at_sipi(struct vcpu *v, uint8_t vector);

/*
 * The host's local-APIC timer as the scheduler's preemption source (x86.c).
 * Its rate is measured in the same PIT window as the TSC's when there is
 * one (x86_time_init): x86_lapic_count_start before the window, then
 * x86_lapic_count_ticks at its end gives the ticks counted (0: no timer).
 */
void x86_lapic_count_start(void);
uint64_t x86_lapic_count_ticks(void);
/* apic_ticks local-APIC timer ticks counted over tsc_ticks TSC ticks; 0 and 0: measure now. */
void x86_host_timer_init(uint64_t tsc_ticks, uint64_t apic_ticks);
void x86_host_timer_arm(uint64_t deadline);
/* A nested page fault on the vCPU's xAPIC page: emulate the access (intr.c). */
void x86_emulate_apic_mmio(struct vcpu *v, struct vm_exit *e);
/* Lets a host interrupt that caused an exit be taken and acknowledged (IF briefly on). */
void x86_take_host_interrupt(void);

void x86_inject_exception(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error);
void x86_emulate_cpuid(struct vcpu *v, const struct vm_exit *e);
void x86_emulate_msr(struct vcpu *v, const struct vm_exit *e);
void x86_emulate_io(struct vcpu *v, const struct vm_exit *e);
/* The CPUID a guest sees (also used by unit tests). */
void x86_guest_cpuid(struct vcpu *v, uint32_t leaf, uint32_t subleaf, uint32_t out[4]);

/*
 * Reads `len` bytes at guest-linear address `la` through the guest's own
 * paging (whatever mode it is in), page by page via core/gmem.h.
 * 0, -EFAULT when a translation or the read fails.
 */
int x86_read_linear(struct vcpu *v, const struct x86_paging *pg, uint64_t la, void *buf, size_t len);
int x86_linear_to_gpa(struct vcpu *v, const struct x86_paging *pg, uint64_t la, uint64_t *gpa);
/*
 * True when the `len` bytes at CS:RIP are `bytes` (RIP truncated outside
 * 64-bit mode): how an instruction the hardware did not decode for us is
 * recognised (VMCALL as #UD on AMD, VMMCALL as #UD on Intel).
 */
bool x86_insn_at_rip_is(struct vcpu *v, const struct x86_paging *pg, uint64_t rip, bool mode64,
                        const void *bytes, size_t len);
/* The linear address of CS:RIP in the given mode. */
uint64_t x86_rip_linear(const struct x86_paging *pg, uint64_t rip, bool mode64);
/* Translates one guest-linear address; 0 or -EFAULT. */

#endif
