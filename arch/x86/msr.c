/*
 * MSR emulation. Every MSR access exits (the permission map intercepts all);
 * what the vendor keeps in its control block (EFER, PAT, the syscall and
 * segment-base MSRs) it handles, the TSC is handled here, and any other MSR
 * raises #GP as on a CPU that lacks it (KVM does the same with ignore_msrs=0).
 */
#include "arch/x86/cpu.h"
#include "arch/x86/vendor.h"
#include "arch/x86/x86.h"
#include "core/arch.h"
#include "core/exit.h"
#include "core/log.h"
#include "core/vm.h"

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
		r = x86_vendor->msr_read(v, msr, &val);
		if (r == -ENOENT)
			r = common_msr_read(v, msr, &val);
		if (!r) {
			v->regs.gpr[X86_RAX] = (uint32_t)val;
			v->regs.gpr[X86_RDX] = val >> 32;
		}
	} else {
		r = x86_vendor->msr_write(v, msr, e->msr.value);
	}
	if (r) {
		log_msg(LOG_DEBUG, "%s: vcpu%u: %s of MSR 0x%x: #GP\n", v->vm->name, v->id,
		        e->reason == VMEXIT_MSR_READ ? "read" : "write", msr);
		x86_inject_exception(v, X86_EXC_GP, true, 0);
		return;
	}
	arch_skip_insn(v, e);
}
