/*
 * The contract between core/ + hypercalls/ and an architecture. Implemented by
 * arch/x86 (SVM or VMX chosen at run time) and by tests/fake_arch for the host
 * unit tests. Each function says in which context it runs.
 */
#ifndef CORE_ARCH_H
#define CORE_ARCH_H

#include <arch/counter.h>
#include "core/types.h"

struct boot_info;
struct vm;
struct vcpu;
struct vm_exit;
struct guest_image;

/* Any context. Polled, never fails. */
void arch_console_putc(char c);
/* Writes back and drops the cache lines of [hva, hva+len) (a page changing between private and shared). */
void arch_cache_clean(void *hva, size_t len);
/* A byte typed on the console, or -1: never waits. */
int arch_console_getc(void);
/* Any context: the hypervisor's pointer for a host-physical address. */
void *arch_phys_to_virt(hpa_t pa);
/* Any context: the inverse, for memory the page allocator handed out. */
hpa_t arch_virt_to_phys(const void *p);
/*
 * Any context: stop the whole machine. `status` 0 means every VM succeeded.
 * How it stops (emulator debug-exit port, halt) is the `exit=` option.
 */
NORETURN void arch_halt_system(int status);
/* Command line: `exit=qemu|bochs|halt`; returns -EINVAL for an unknown value. */
int arch_set_exit_method(const char *s, size_t len);

/* Any context: the host time counter (rate: core/time.h; arch_read_counter in <arch/counter.h>) and whether its rate is invariant. */
bool arch_counter_is_stable(void);
/* The counter as vCPU `v` reads it (its TSC) when the host counter reads `host`. */
uint64_t arch_guest_counter(struct vcpu *v, uint64_t host);

/* Boot CPU, once, before the page allocator: descriptor tables, console. */
void arch_early_init(void);
/* Boot CPU, once, after the page allocator: our page tables, virtualization. */
int arch_init(const struct boot_info *bi);

/*
 * Run loop context (the pCPU that will run the VM). 0 or -errno; an init
 * that fails has freed whatever it allocated, and its destroy is only
 * called after it succeeded.
 */
int arch_vm_init(struct vm *vm);
void arch_vm_destroy(struct vm *vm);
int arch_vcpu_init(struct vcpu *v);
void arch_vcpu_destroy(struct vcpu *v);
/*
 * Put the vCPU in the entry state the image's format asks for
 * (docs/guest-boot.md). -EOPNOTSUPP: this CPU cannot run a guest in that
 * state (the arch said why at start-up); -EFAULT: the boot area could not be written.
 */
int arch_vcpu_boot(struct vcpu *v, const struct guest_image *img);

/*
 * Enter the guest; returns with the next exit decoded into *e, at the latest
 * soon after the host counter reaches `deadline` (then the exit may be
 * VMEXIT_INTR: the host timer). Pending virtual interrupts are injected here.
 */
void arch_vcpu_run(struct vcpu *v, uint64_t deadline, struct vm_exit *e);
/* Whether halted `v` has something that ends its HLT (an interrupt it can take now, an NMI). */
bool arch_vcpu_can_wake(struct vcpu *v);
/*
 * Makes the vCPU's timers that are due at host counter `now` pending; returns
 * when its next timer is due (host counter), UINT64_MAX when none is armed.
 */
uint64_t arch_vcpu_timers(struct vcpu *v, uint64_t now);
/* Nothing to run: wait, in a low-power state if there is one, until the counter reaches `deadline`. */
void arch_idle_until(uint64_t deadline);
/* Exits the arch emulates itself (CPUID, MSR, port I/O, ...). */
void arch_handle_exit(struct vcpu *v, struct vm_exit *e);
/* Move the guest past the instruction that caused exit *e. */
void arch_skip_insn(struct vcpu *v, const struct vm_exit *e);
/*
 * The instruction that caused the exit stays to be executed again (a rep
 * hypercall continued): it counts as begun, so interrupts held back only by
 * an STI/MOV SS shadow may now come before it runs again.
 */
void arch_insn_restart(struct vcpu *v);
/* Print the vCPU's architectural state (after a VM died) on the console. */
void arch_dump_vcpu(struct vcpu *v);
/*
 * The interrupt controller, for paravirtual calls (x86: the local APIC).
 * The vCPU whose controller ID (APIC ID) is `id`, or NULL.
 */
struct vcpu *arch_vcpu_by_irq_id(struct vm *vm, uint32_t id);
/*
 * Delivers an IPI to `t` as an x86 ICR low word describes it (vector,
 * delivery mode, trigger): 1 if t's controller accepted it, else 0.
 */
int arch_send_ipi(struct vcpu *t, uint32_t icr);
/*
 * Paravirtual EOI (KVM's PV_EOI): while `on`, the controller may tell the
 * guest through the byte at `gpa` that its next EOI needs no exit.
 */
void arch_set_pv_eoi(struct vcpu *v, uint64_t gpa, bool on);
/*
 * The guest TLB of `t` is flushed before t runs again (all its linear and
 * combined mappings). With one physical CPU nobody else runs meanwhile,
 * so a flush requested during a hypercall is complete when the call returns.
 */
void arch_flush_guest_tlb(struct vcpu *t);
/*
 * The interrupt controller's registers by offset (x86: the local APIC's
 * xAPIC layout, 32 bits), for paravirtual MSRs that alias them (Hyper-V's
 * EOI/ICR/TPR). A write to an ICR low half sends.
 */
uint32_t arch_apic_reg_read(struct vcpu *v, uint32_t off);
void arch_apic_reg_write(struct vcpu *v, uint32_t off, uint32_t val);
/*
 * The vectors (a bit each, 256) that end when the guest accepts them: no
 * EOI follows and they never block lower priorities (Hyper-V SINTs with
 * AutoEOI). Replaces the previous set.
 */
void arch_set_auto_eoi(struct vcpu *v, const uint32_t vectors[8]);
/* The bytes of this CPU's hypercall instruction (x86: VMCALL or VMMCALL) into buf; their count (<= 4). */
size_t arch_hypercall_insn(uint8_t *buf);
/* The frequency of the guest's interrupt-controller timer (x86: the emulated APIC timer's bus). */
uint64_t arch_apic_timer_hz(void);
/*
 * Hypercall context: the guest's vector registers XMM0..XMM(n-1), 16 bytes
 * each as two qwords, low first (Hyper-V XMM fast calls), n <= 6.
 */
void arch_guest_xmm_read(struct vcpu *v, unsigned n, uint64_t *q);
void arch_guest_xmm_write(struct vcpu *v, unsigned n, const uint64_t *q);
/*
 * The vCPU's control registers as the guest sees them (for paravirtual
 * register reads such as Hyper-V's GetVpRegisters). Any vCPU of the VM.
 */
struct arch_ctrl_regs { uint64_t cr0, cr2, cr3, cr4, cr8, efer; };
void arch_vcpu_ctrl_regs(struct vcpu *v, struct arch_ctrl_regs *r);
/*
 * The stage-2 mapping (NPT/EPT) of guest page `gpa` of guest RAM: removed
 * (the guest faults on it) or back to its slot's host page; every vCPU of
 * the VM stops using the old translation before it runs again. 0 or -ENOMEM.
 */
int arch_guest_page_set(struct vm *vm, uint64_t gpa, bool present);
/*
 * A vCPU's whole starting state, as a paravirtual CPU-up call gives it
 * (Xen VCPUOP_initialise with a vcpu_hvm_context), in x86 terms: the
 * general registers in encoding order (rax, rcx, rdx, rbx, rsp, rbp, rsi,
 * rdi), control registers, and segments as base, limit and the 12 bits of
 * attributes of a descriptor (type, S, DPL, P, AVL, L, D/B, G). Selectors
 * are 0; the other segments and the descriptor tables keep their values
 * from reset. The caller has checked it; 0, or -EOPNOTSUPP when this CPU
 * cannot run a guest in that state.
 */
struct arch_seg { uint64_t base; uint32_t limit; uint16_t attr; };
struct arch_vcpu_context {
	uint64_t gpr[8];
	uint64_t rip, rflags, cr0, cr3, cr4, efer;
	struct arch_seg cs, ds, ss, es, tr;
};
int arch_vcpu_set_context(struct vcpu *v, const struct arch_vcpu_context *c);
/*
 * Maps host page `hpa` at guest-physical `gpa` in the VM's stage-2 map,
 * readable, writable when asked, never executable (what Xen gives a grant
 * map); present false leaves nothing there. Any gpa below the guest's
 * physical-address limit, RAM or not. 0, -EINVAL or -ENOMEM.
 */
int arch_guest_page_map(struct vm *vm, uint64_t gpa, hpa_t hpa, bool writable, bool present);
/*
 * The guest-physical address of guest-virtual `gva` in vCPU v's current
 * paging (an address a guest names for the hypervisor to write, as Xen's
 * runstate area). 0 or -EFAULT (not mapped; above 4 GiB with paging off).
 */
int arch_guest_virt_to_phys(struct vcpu *v, uint64_t gva, uint64_t *gpa);
/* Raise #UD (x86) or the arch's undefined-instruction exception in the guest. */
void arch_inject_undef(struct vcpu *v);

#endif
