/*
 * The KVM paravirtual MSRs (Documentation/virt/kvm/x86/msr.rst), routed from
 * hc_msr_read/write. Clock MSRs are in kvm_clock.c; the control MSRs are
 * here. A write with bits the MSR does not define raises #GP (-EINVAL), and
 * an MSR of KVM's range that KVM does not define is not ours (-ENOENT), so
 * it raises #GP too.
 */
#define LOG_SUB_FILE LOG_SUB_KVM   /* its messages: loglevel=kvm:LEVEL */
#include "core/arch.h"
#include "core/gmem.h"
#include "core/vm.h"
#include "hypercalls/kvm/kvm.h"
#include "hypercalls/kvm/kvm_abi.h"

int kvm_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	switch (msr) {
	case MSR_KVM_POLL_CONTROL:
		/* stored inverted so a zeroed vCPU reads KVM's reset value, 1 */
		*val = v->hc.kvm.poll_control ^ KVM_POLL_CONTROL_HOST_POLL;
		return 0;
	case MSR_KVM_MIGRATION_CONTROL:
		*val = v->vm->hc.kvm.migration_control;
		return 0;
	case MSR_KVM_STEAL_TIME:
		*val = v->hc.kvm.steal_time_msr;
		return 0;
	case MSR_KVM_PV_EOI_EN:
		*val = v->hc.kvm.pv_eoi_msr;
		return 0;
	}
	return kvm_clock_msr_read(v, msr, val);
}

int kvm_msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	switch (msr) {
	case MSR_KVM_POLL_CONTROL:
		/*
		 * Only bit 0 exists (KVM: x86.c). It lets the host poll before
		 * sleeping a halted vCPU; we never poll, so either value is honoured.
		 */
		if (val & ~KVM_POLL_CONTROL_HOST_POLL)
			return -EINVAL;
		v->hc.kvm.poll_control = val ^ KVM_POLL_CONTROL_HOST_POLL;
		return 0;
	case MSR_KVM_MIGRATION_CONTROL:
		/* the guest says it can be migrated; there is no migration to gate yet */
		if (val & ~KVM_MIGRATION_READY)
			return -EINVAL;
		v->vm->hc.kvm.migration_control = val;
		return 0;
	case MSR_KVM_STEAL_TIME:
		return kvm_steal_msr_write(v, val);
	case MSR_KVM_PV_EOI_EN:
		/*
		 * bit 0 enables; the flag's address must be 4-byte aligned, and an
		 * enable needs writable guest RAM there, else #GP and the MSR keeps
		 * its value (KVM lapic.c kvm_lapic_set_pv_eoi: kvm_gfn_to_hva_cache_init fails)
		 */
		if ((val & ~KVM_MSR_ENABLED) & 3)
			return -EINVAL;
		if ((val & KVM_MSR_ENABLED) && !gmem_range_ok(v->vm, mk_gpa(val & ~KVM_MSR_ENABLED), 4, true))
			return -EINVAL;
		v->hc.kvm.pv_eoi_msr = val;
		arch_set_pv_eoi(v, val & ~KVM_MSR_ENABLED, val & KVM_MSR_ENABLED);
		return 0;
	}
	return kvm_clock_msr_write(v, msr, val);
}
