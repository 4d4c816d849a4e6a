/* State shared by the SVM files. */
#ifndef ARCH_X86_SVM_SVM_H
#define ARCH_X86_SVM_SVM_H

#include "arch/x86/pt.h"
#include "arch/x86/svm/vmcb.h"
#include "core/vm.h"

struct svm_vm {
	struct pt npt;
	hpa_t iopm_pa, msrpm_pa;
	uint32_t asid;
};

struct svm_vcpu {
	struct vmcb *vmcb;
	hpa_t vmcb_pa;
	uint64_t pending_event;         /* EVENTINJ for the next VMRUN */
	bool tpr_window;                /* V_IRQ is armed for a TPR-held interrupt */
	int tpr_window_dead;            /* V_TPR at which that window exited without effect, or -1 */
	bool ran;
	bool flush_tlb;                 /* flush its ASID at the next VMRUN */
};

static inline struct vmcb *svm_vmcb(struct vcpu *v)
{
	return ((struct svm_vcpu *)v->arch.vendor)->vmcb;
}

int svm_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val);
int svm_msr_write(struct vcpu *v, uint32_t msr, uint64_t val);

#endif
