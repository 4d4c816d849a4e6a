/*
 * One struct per virtualization vendor (arch/x86/svm, arch/x86/vmx), chosen at
 * run time from CPUID. Common x86 code (CPUID/MSR/port emulation, guest boot)
 * talks to the vendor only through this. All functions run on the pCPU that
 * runs the vCPU, with interrupts off.
 */
#ifndef ARCH_X86_VENDOR_H
#define ARCH_X86_VENDOR_H

#include "core/types.h"

struct vm;
struct vcpu;
struct vm_exit;
struct boot_info;

/*
 * A segment register. `ar` uses the VMX access-rights layout (SDM vol. 3C
 * §24.4.1): bits 7:0 type/S/DPL/P, 15:12 AVL/L/D/G, bit 16 unusable.
 */
struct x86_seg { uint16_t sel; uint32_t ar; uint32_t limit; uint64_t base; };
struct x86_dtr { uint64_t base; uint32_t limit; };

#define X86_AR_L (1u << 13)
#define X86_AR_DB (1u << 14)
#define X86_AR_UNUSABLE (1u << 16)

struct x86_cpu_state {
	struct x86_seg cs, ds, es, ss, fs, gs, tr, ldtr;
	struct x86_dtr gdtr, idtr;
	uint64_t cr0, cr3, cr4, efer;
};

/* What a guest-linear to guest-physical walk needs. */
struct x86_paging { uint64_t cr0, cr3, cr4, efer, cs_base, cr2; };

struct x86_vendor_ops {
	const char *name;
	/* Detect and enable on this CPU; prints one line and returns -errno if impossible. */
	int (*init_cpu)(void);
	int (*vm_init)(struct vm *vm);
	void (*vm_destroy)(struct vm *vm);
	int (*vcpu_init)(struct vcpu *v);
	void (*vcpu_destroy)(struct vcpu *v);
	/* -EOPNOTSUPP when this CPU cannot run the guest in that state */
	int (*set_state)(struct vcpu *v, const struct x86_cpu_state *s);
	void (*get_paging)(struct vcpu *v, struct x86_paging *p);
	void (*run)(struct vcpu *v, struct vm_exit *e);
	/* Console dump of control registers, segments and pending events. */
	void (*dump)(struct vcpu *v);
	void (*inject_exception)(struct vcpu *v, uint8_t vector, bool has_error, uint32_t error);
	/* Event injection (arch/x86/intr.c), just before an entry. */
	bool (*event_queued)(struct vcpu *v);   /* an exception or re-injection is already set */
	bool (*intr_allowed)(struct vcpu *v);   /* RFLAGS.IF set and no STI/MOV SS shadow */
	bool (*nmi_allowed)(struct vcpu *v);
	void (*inject_intr)(struct vcpu *v, uint8_t vector);
	void (*inject_nmi)(struct vcpu *v);
	/*
	 * Exit as soon as the guest can take an interrupt / an NMI (windows);
	 * tpr_class >= 0: an interrupt of that priority class waits for the
	 * guest to lower its TPR (needed where CR8 writes do not exit: SVM).
	 */
	void (*request_window)(struct vcpu *v, bool intr, bool nmi, int tpr_class);
	/* RIP moved past an instruction we emulated: its STI/MOV SS shadow is over */
	void (*clear_shadow)(struct vcpu *v);
	/* Flush the vCPU's guest TLB before its next run. */
	void (*flush_tlb)(struct vcpu *v);
	/* INIT: no event queued, no shadow or NMI blocking, no windows; DR7, DR6, CR2 at reset values */
	void (*init_event)(struct vcpu *v);
	/* Exit by host counter `deadline` with a timer of the vendor's own; false: none (NULL too) */
	bool (*set_deadline)(struct vcpu *v, uint64_t deadline);
	/* One page of the VM's stage-2 map (arch_guest_page_set), then every vCPU's translations flushed */
	int (*set_guest_page)(struct vm *vm, uint64_t gpa, hpa_t hpa, unsigned perm, bool present);
	/* MSRs whose state the vendor keeps (EFER, PAT, syscall MSRs...): -ENOENT if not one. */
	int (*msr_read)(struct vcpu *v, uint32_t msr, uint64_t *val);
	int (*msr_write)(struct vcpu *v, uint32_t msr, uint64_t val);
};

extern const struct x86_vendor_ops svm_ops, vmx_ops;
extern const struct x86_vendor_ops *x86_vendor;

#endif
