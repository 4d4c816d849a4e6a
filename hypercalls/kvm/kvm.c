/*
 * The KVM hypercall ABI (Documentation/virt/kvm/x86/hypercalls.rst).
 * Calling convention, from arch/x86/kvm/x86.c kvm_emulate_hypercall():
 * number in RAX, arguments RBX, RCX, RDX, RSI; result in RAX; every value is
 * truncated to 32 bits outside 64-bit mode; CPL > 0 gets -KVM_EPERM;
 * an unknown number gets -KVM_ENOSYS.
 */
#define LOG_SUB_FILE LOG_SUB_KVM   /* its messages: loglevel=kvm:LEVEL */
#include "core/vm.h"
#include "core/arch.h"
#include "hypercalls/kvm/kvm.h"
#include "hypercalls/kvm/kvm_abi.h"

/* KVM_HC_VAPIC_POLL_IRQ: "Trigger guest exit so that the host can check for pending interrupts on reentry." */
static int64_t kvm_vapic_poll_irq(struct vcpu *v UNUSED, const struct hc_args *a UNUSED)
{
	return 0;
}

/*
 * Unlisted numbers (KVM_HC_MMU_OP, deprecated and removed from KVM; the
 * PPC and MIPS calls; everything past the table) answer -KVM_ENOSYS,
 * exactly as KVM's default case does.
 */
static const struct hc_call kvm_calls[] = {
	[KVM_HC_VAPIC_POLL_IRQ] = { kvm_vapic_poll_irq, "vapic_poll_irq" },
	[KVM_HC_KICK_CPU] = { kvm_hc_kick_cpu, "kick_cpu" },
	[KVM_HC_CLOCK_PAIRING] = { kvm_hc_clock_pairing, "clock_pairing" },
	[KVM_HC_SEND_IPI] = { kvm_hc_send_ipi, "send_ipi" },
	[KVM_HC_SCHED_YIELD] = { kvm_hc_sched_yield, "sched_yield" },
	[KVM_HC_MAP_GPA_RANGE] = { kvm_hc_map_gpa_range, "map_gpa_range" },
};

/* Each bit only for a feature that works (Documentation/virt/kvm/x86/cpuid.rst). */
static uint32_t kvm_features(void)
{
	uint32_t f = (1u << KVM_FEATURE_CLOCKSOURCE) | (1u << KVM_FEATURE_CLOCKSOURCE2) |
	             (1u << KVM_FEATURE_STEAL_TIME) | (1u << KVM_FEATURE_PV_EOI) | (1u << KVM_FEATURE_PV_UNHALT) |
	             (1u << KVM_FEATURE_PV_SEND_IPI) | (1u << KVM_FEATURE_POLL_CONTROL) |
	             (1u << KVM_FEATURE_PV_SCHED_YIELD) | (1u << KVM_FEATURE_HC_MAP_GPA_RANGE) |
	             (1u << KVM_FEATURE_MIGRATION_CONTROL);
	if (arch_counter_is_stable())
		f |= 1u << KVM_FEATURE_CLOCKSOURCE_STABLE_BIT;
	return f;
}

static bool kvm_cpuid(struct vcpu *v UNUSED, uint32_t off, uint32_t subleaf UNUSED,
                      struct cpuid_regs *out)
{
	switch (off) {
	case KVM_CPUID_SIGNATURE - HC_CPUID_BASE:
		*out = (struct cpuid_regs){ KVM_CPUID_FEATURES, KVM_SIGNATURE_EBX,
		                            KVM_SIGNATURE_ECX, KVM_SIGNATURE_EDX };
		return true;
	case KVM_CPUID_FEATURES - HC_CPUID_BASE:
		*out = (struct cpuid_regs){ .eax = kvm_features() };
		return true;
	}
	return false;
}

const struct hc_abi kvm_abi = {
	.name = "kvm",
	.nr_reg = X86_RAX,
	.result_reg = X86_RAX,
	.nargs = 4,
	.args64 = { X86_RBX, X86_RCX, X86_RDX, X86_RSI },
	.args32 = { X86_RBX, X86_RCX, X86_RDX, X86_RSI },
	.calls = kvm_calls,
	.nr_calls = ARRAY_SIZE(kvm_calls),
	.err_unknown = -KVM_ENOSYS,
	.err_cpl = -KVM_EPERM,
	.err_denied = -KVM_EPERM,       /* KVM's answer to a call it does not allow (kvm_emulate_hypercall) */
	.cpuid = kvm_cpuid,
	.msr_read = kvm_msr_read,
	.msr_write = kvm_msr_write,
	.vm_destroy = kvm_mem_vm_destroy,
	.clock_changed = kvm_clock_changed,
	.vcpu_scheduled = kvm_vcpu_scheduled,
	.vcpu_preempted = kvm_vcpu_preempted,
};
