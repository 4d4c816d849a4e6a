/* State shared by the VMX files. */
#ifndef ARCH_X86_VMX_VMX_H
#define ARCH_X86_VMX_VMX_H

#include "arch/x86/pt.h"
#include "arch/x86/vmx/vmcs.h"
#include "core/exit.h"
#include "core/vm.h"

struct vmx_vm {
	struct pt ept;
	hpa_t io_bitmap_pa, msr_bitmap_pa;
};

/* MSRs the VMCS does not switch: the guest's values, loaded while it runs. */
struct vmx_syscall_msrs { uint64_t star, lstar, cstar, sfmask, kernel_gs_base; };

struct vmx_vcpu {
	hpa_t vmcs_pa;
	bool launched;
	uint32_t window_bits;      /* interrupt/NMI-window exiting bits on in its VMCS */
	struct vmx_syscall_msrs msrs;
};

/* What the CPU offers and the controls we run with (vmx.c). */
struct vmx_caps {
	uint32_t revision;
	uint32_t pin, proc, proc2, exit, entry;
	uint32_t window_ok;        /* the window-exiting controls the CPU allows */
	int preempt_shift;         /* VMX-preemption timer: TSC >> shift; -1 when there is none */
	uint64_t cr0_fixed0, cr0_fixed1, cr4_fixed0, cr4_fixed1;
	uint64_t ept_cap;
	bool unrestricted;
	hpa_t vmxon_pa;
};
extern struct vmx_caps vmx;

/* Makes v's VMCS current on this CPU (VMPTRLD when it is not). */
void vmx_load_vmcs(struct vcpu *v);
/* The CR0/CR4 the CPU must run the guest with for the value the guest asked for. */
uint64_t vmx_real_cr0(uint64_t want);
uint64_t vmx_real_cr4(uint64_t want);
/* Sets the IA-32e-mode-guest entry control from the guest's EFER.LMA. */
void vmx_set_entry_mode(uint64_t efer);
void vmx_run(struct vcpu *v, struct vm_exit *e);
void vmx_request_window(struct vcpu *v, bool intr, bool nmi, int tpr_class);
void vmx_dump(struct vcpu *v);
/* 0 after a VM exit; 1 VMfailInvalid; 2 VMfailValid (see VM_INSTRUCTION_ERROR). */
int vmx_enter(uint64_t *gprs, int launched);

/* The VMCS of `v` is current on this CPU while these run. */
uint64_t vmx_read(enum vmcs_field f);
void vmx_write(enum vmcs_field f, uint64_t v);
int vmx_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val);
int vmx_msr_write(struct vcpu *v, uint32_t msr, uint64_t val);
/* Loads the vCPU's syscall MSRs into the CPU if another vCPU's are there. */
void vmx_load_guest_msrs(struct vcpu *v);
void vmx_forget_guest_msrs(struct vcpu *v);
const char *vmx_insn_error_name(uint64_t err);

#endif
