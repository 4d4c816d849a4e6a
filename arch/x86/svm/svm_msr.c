/*
 * MSRs whose guest values live in the VMCB. Reserved bits and non-canonical
 * addresses get #GP (the caller injects it for any non-zero return), as the
 * CPU itself would raise it (AMD APM vol. 2 §3.1.7 EFER, SDM vol. 3A §11.12.2 PAT).
 */
#include "arch/x86/cpu.h"
#include "arch/x86/svm/svm.h"

#define EFER_FFXSR (1ull << 14)
#define CPUID_EXT_FFXSR (1u << 25)      /* 0x80000001 EDX */
#define CPUID_EXT_NX (1u << 20)

static bool canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/* Each PAT entry must be a defined memory type: 0, 1, 4, 5, 6 or 7. */
static bool pat_valid(uint64_t pat)
{
	for (int i = 0; i < 8; i++) {
		uint8_t t = (uint8_t)(pat >> (8 * i));
		if (t > 7 || t == 2 || t == 3)
			return false;
	}
	return true;
}

static uint64_t *syscall_msr(struct vmcb_save *s, uint32_t msr)
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
	uint64_t *p = syscall_msr(s, msr);
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

static int efer_write(struct vmcb_save *s, uint64_t val)
{
	uint32_t r[4];
	cpuid(0x80000001, 0, r);
	uint64_t allowed = X86_EFER_SCE | X86_EFER_LME | X86_EFER_LMA |
	                   (r[3] & CPUID_EXT_NX ? X86_EFER_NXE : 0) |
	                   (r[3] & CPUID_EXT_FFXSR ? EFER_FFXSR : 0);
	if (val & ~allowed)
		return -EINVAL;
	/* LME may not change while paging is on; LMA is the CPU's to set */
	if ((s->cr0 & X86_CR0_PG) && ((val ^ s->efer) & X86_EFER_LME))
		return -EINVAL;
	s->efer = (val & ~X86_EFER_LMA) | (s->efer & X86_EFER_LMA) | X86_EFER_SVME;
	return 0;
}

int svm_msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	struct vmcb *vmcb = svm_vmcb(v);
	struct vmcb_save *s = &vmcb->save;
	switch (msr) {
	case MSR_EFER:
		return efer_write(s, val);
	case MSR_IA32_PAT:
		if (!pat_valid(val))
			return -EINVAL;
		break;
	case MSR_SFMASK:
		if (val >> 32)
			return -EINVAL;
		break;
	case MSR_LSTAR: case MSR_CSTAR: case MSR_KERNEL_GS_BASE: case MSR_FS_BASE:
	case MSR_GS_BASE: case MSR_IA32_SYSENTER_ESP: case MSR_IA32_SYSENTER_EIP:
		if (!canonical(val))
			return -EINVAL;
		break;
	case MSR_IA32_TSC:
		v->arch.tsc_offset = val - rdtsc();
		vmcb->ctl.tsc_offset = v->arch.tsc_offset;
		return 0;
	}
	uint64_t *p = syscall_msr(s, msr);
	if (!p)
		return -ENOENT;
	*p = val;
	return 0;
}
