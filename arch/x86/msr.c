/*
 * MSR emulation. Every MSR access exits (the permission map intercepts all);
 * what the vendor keeps in its control block (EFER, PAT, the syscall and
 * segment-base MSRs) it handles, the TSC is handled here, and any other MSR
 * raises #GP as on a CPU that lacks it (KVM does the same with ignore_msrs=0).
 */
#define LOG_SUB_FILE LOG_SUB_ARCH   /* its messages: loglevel=arch:LEVEL */
#include "arch/x86/cpu.h"
#include "arch/x86/vendor.h"
#include "arch/x86/vlapic.h"
#include "arch/x86/x86.h"
#include "core/arch.h"
#include "core/exit.h"
#include "core/log.h"
#include "core/vm.h"
#include "hypercalls/hypercall.h"

#define EFER_FFXSR (1ull << 14)
#define CPUIDX1_EDX_NX (1u << 20)       /* 0x80000001 EDX */
#define CPUIDX1_EDX_FFXSR (1u << 25)

static bool canonical(uint64_t a)
{
	return (uint64_t)((int64_t)(a << 16) >> 16) == a;
}

/* Each PAT entry must be a defined memory type: 0, 1, 4, 5, 6 or 7 (SDM vol. 3A §11.12.2). */
static bool pat_valid(uint64_t pat)
{
	for (int i = 0; i < 8; i++) {
		uint8_t t = (uint8_t)(pat >> (8 * i));
		if (t > 7 || t == 2 || t == 3)
			return false;
	}
	return true;
}

/* EFER (AMD APM vol. 2 §3.1.7, SDM vol. 3A §2.2.1): reserved bits and LME under paging #GP. */
static int efer_check(struct vcpu *v, uint64_t *val)
{
	uint32_t r[4];
	uint64_t old = 0;
	struct x86_paging pg;
	cpuid(0x80000001, 0, r);
	uint64_t allowed = X86_EFER_SCE | X86_EFER_LME | X86_EFER_LMA |
	                   (r[3] & CPUIDX1_EDX_NX ? X86_EFER_NXE : 0) |
	                   (r[3] & CPUIDX1_EDX_FFXSR ? EFER_FFXSR : 0);
	x86_vendor->msr_read(v, MSR_EFER, &old);
	x86_vendor->get_paging(v, &pg);
	if ((*val & ~allowed) || ((pg.cr0 & X86_CR0_PG) && ((*val ^ old) & X86_EFER_LME)))
		return -EINVAL;
	/* LMA is the CPU's: a write keeps the current value */
	*val = (*val & ~X86_EFER_LMA) | (old & X86_EFER_LMA);
	return 0;
}

/* The checks a CPU makes on WRMSR before the vendor stores the value; -EINVAL means #GP. */
static int msr_write_check(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	switch (msr) {
	case MSR_EFER:
		return efer_check(v, val);
	case MSR_IA32_PAT:
		return pat_valid(*val) ? 0 : -EINVAL;
	case MSR_SFMASK:
		return *val >> 32 ? -EINVAL : 0;
	case MSR_LSTAR: case MSR_CSTAR: case MSR_KERNEL_GS_BASE: case MSR_FS_BASE:
	case MSR_GS_BASE: case MSR_IA32_SYSENTER_ESP: case MSR_IA32_SYSENTER_EIP:
		return canonical(*val) ? 0 : -EINVAL;
	}
	return 0;
}

static int common_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	switch (msr) {
	case MSR_IA32_TSC:
		*val = rdtsc() + v->arch.tsc_offset;
		return 0;
	}
	return -ENOENT;
}

void x86_emulate_msr(struct vcpu *v, const struct vm_exit *e)
{
	uint32_t msr = e->msr.index;
	int r;
	if (e->reason == VMEXIT_MSR_READ) {
		uint64_t val = 0;
		r = hc_msr_read(v, msr, &val);
		if (r == -ENOENT)
			r = vlapic_msr_read(v, msr, &val);
		if (r == -ENOENT)
			r = x86_vendor->msr_read(v, msr, &val);
		if (r == -ENOENT)
			r = common_msr_read(v, msr, &val);
		if (!r) {
			v->regs.gpr[X86_RAX] = (uint32_t)val;
			v->regs.gpr[X86_RDX] = val >> 32;
		}
	} else {
		uint64_t val = e->msr.value;
		r = hc_msr_write(v, msr, val);
		if (r == -ENOENT)
			r = vlapic_msr_write(v, msr, val);
		if (r == -ENOENT) {
			r = msr_write_check(v, msr, &val);
			if (!r)
				r = x86_vendor->msr_write(v, msr, val);
			if (!r && msr == MSR_IA32_TSC) {
				hc_clock_changed(v);
				vlapic_tsc_changed(v);
			}
		}
	}
	if (r) {
		log_sub(LOG_SUB_FILE, LOG_DEBUG, "%s: vcpu%u: %s of MSR 0x%x: #GP\n", v->vm->name, v->id,
		        e->reason == VMEXIT_MSR_READ ? "read" : "write", msr);
		x86_inject_exception(v, X86_EXC_GP, true, 0);
		return;
	}
	arch_skip_insn(v, e);
}
