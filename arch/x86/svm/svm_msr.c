/*
 * MSRs whose guest values live in the VMCB (VMRUN and VMLOAD/VMSAVE switch
 * them). Values arrive already checked by arch/x86/msr.c.
 */
#define LOG_SUB_FILE LOG_SUB_ARCH   /* its messages: loglevel=arch:LEVEL */
#include "arch/x86/cpu.h"
#include "arch/x86/svm/svm.h"

static uint64_t *vmcb_msr(struct vmcb_save *s, uint32_t msr)
{
	switch (msr) {
	case MSR_STAR: return &s->star;
	case MSR_LSTAR: return &s->lstar;
	case MSR_CSTAR: return &s->cstar;
	case MSR_SFMASK: return &s->sfmask;
	case MSR_KERNEL_GS_BASE: return &s->kernel_gs_base;
	case MSR_FS_BASE: return &s->fs.base;
	case MSR_GS_BASE: return &s->gs.base;
	case MSR_IA32_SYSENTER_CS: return &s->sysenter_cs;
	case MSR_IA32_SYSENTER_ESP: return &s->sysenter_esp;
	case MSR_IA32_SYSENTER_EIP: return &s->sysenter_eip;
	case MSR_IA32_PAT: return &s->g_pat;
	}
	return NULL;
}

int svm_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	struct vmcb_save *s = &svm_vmcb(v)->save;
	uint64_t *p = vmcb_msr(s, msr);
	if (p) {
		*val = *p;
		return 0;
	}
	if (msr == MSR_EFER) {
		*val = s->efer & ~X86_EFER_SVME;   /* the guest's CPUID has no SVM */
		return 0;
	}
	return -ENOENT;
}

int svm_msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	struct vmcb *vmcb = svm_vmcb(v);
	uint64_t *p = vmcb_msr(&vmcb->save, msr);
	if (p) {
		*p = val;
		return 0;
	}
	switch (msr) {
	case MSR_EFER:
		vmcb->save.efer = val | X86_EFER_SVME;   /* VMRUN requires SVME */
		return 0;
	case MSR_IA32_TSC:
		v->arch.tsc_offset = val - rdtsc();
		vmcb->ctl.tsc_offset = v->arch.tsc_offset;
		return 0;
	}
	return -ENOENT;
}
