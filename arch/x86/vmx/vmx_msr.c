/*
 * MSRs of a VMX guest: EFER, PAT, SYSENTER and the FS/GS bases live in the
 * VMCS; STAR/LSTAR/CSTAR/SFMASK/KERNEL_GS_BASE are not switched by VMX, so
 * the guest's values are kept here and loaded into the CPU before it runs
 * (we never use SYSCALL ourselves). Values arrive checked by arch/x86/msr.c.
 */
#define LOG_SUB_FILE LOG_SUB_ARCH   /* its messages: loglevel=arch:LEVEL */
#include "arch/x86/cpu.h"
#include "arch/x86/vmx/vmx.h"

static const struct vcpu *msrs_loaded;  /* whose syscall MSRs the CPU holds */

static enum vmcs_field vmcs_msr(uint32_t msr)
{
	switch (msr) {
	case MSR_EFER: return GUEST_IA32_EFER;
	case MSR_IA32_PAT: return (vmx.entry & ENTRY_LOAD_PAT) ? GUEST_IA32_PAT : 0;
	case MSR_IA32_SYSENTER_CS: return GUEST_SYSENTER_CS;
	case MSR_IA32_SYSENTER_ESP: return GUEST_SYSENTER_ESP;
	case MSR_IA32_SYSENTER_EIP: return GUEST_SYSENTER_EIP;
	case MSR_FS_BASE: return GUEST_FS_BASE;
	case MSR_GS_BASE: return GUEST_GS_BASE;
	}
	return 0;
}

static uint64_t *syscall_msr(struct vcpu *v, uint32_t msr)
{
	struct vmx_syscall_msrs *m = &((struct vmx_vcpu *)v->arch.vendor)->msrs;
	switch (msr) {
	case MSR_STAR: return &m->star;
	case MSR_LSTAR: return &m->lstar;
	case MSR_CSTAR: return &m->cstar;
	case MSR_SFMASK: return &m->sfmask;
	case MSR_KERNEL_GS_BASE: return &m->kernel_gs_base;
	}
	return NULL;
}

void vmx_load_guest_msrs(struct vcpu *v)
{
	if (msrs_loaded == v)
		return;
	const struct vmx_syscall_msrs *m = &((struct vmx_vcpu *)v->arch.vendor)->msrs;
	wrmsr(MSR_STAR, m->star);
	wrmsr(MSR_LSTAR, m->lstar);
	wrmsr(MSR_CSTAR, m->cstar);
	wrmsr(MSR_SFMASK, m->sfmask);
	wrmsr(MSR_KERNEL_GS_BASE, m->kernel_gs_base);
	msrs_loaded = v;
}

void vmx_forget_guest_msrs(struct vcpu *v)
{
	/* a later vCPU may reuse this address: make it load its own values */
	if (msrs_loaded == v)
		msrs_loaded = NULL;
}

int vmx_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	vmx_load_vmcs(v);
	enum vmcs_field f = vmcs_msr(msr);
	uint64_t *p = syscall_msr(v, msr);
	if (f)
		*val = vmx_read(f);
	else if (p)
		*val = *p;
	else
		return -ENOENT;
	return 0;
}

int vmx_msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	vmx_load_vmcs(v);
	enum vmcs_field f = vmcs_msr(msr);
	uint64_t *p = syscall_msr(v, msr);
	if (f) {
		vmx_write(f, val);
		if (msr == MSR_EFER)
			vmx_set_entry_mode(val);
	} else if (p) {
		*p = val;
		wrmsr(msr, val);
		msrs_loaded = v;
	} else if (msr == MSR_IA32_TSC && (vmx.proc & PROC_TSC_OFFSETTING)) {
		v->arch.tsc_offset = val - rdtsc();
		vmx_write(TSC_OFFSET, v->arch.tsc_offset);
	} else {
		return -ENOENT;
	}
	return 0;
}
