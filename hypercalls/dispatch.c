#include "core/arch.h"
#include "core/exit.h"
#include "core/string.h"
#include "core/vm.h"
#include "hypercalls/hypercall.h"

/*
 * Which ABI a call belongs to. Only KVM exists so far; the side-by-side rule
 * for several ABIs in one VM comes with them (see docs/ once it does).
 */
static const struct hc_abi *hc_select_abi(struct vcpu *v UNUSED, const struct vm_exit *e UNUSED)
{
	return &kvm_abi;
}

/* Register reads and the 32-bit truncation happen here and nowhere else. */
static void hc_decode(const struct hc_abi *abi, const struct guest_regs *r, bool long_mode,
                      struct hc_args *a)
{
	const uint8_t *map = long_mode ? abi->args64 : abi->args32;
	uint64_t mask = long_mode ? UINT64_MAX : UINT32_MAX;
	a->long_mode = long_mode;
	a->nr = r->gpr[abi->nr_reg] & mask;
	for (unsigned i = 0; i < HC_MAX_ARGS; i++)
		a->arg[i] = i < abi->nargs ? r->gpr[map[i]] & mask : 0;
}

void hc_dispatch(struct vcpu *v, const struct vm_exit *e)
{
	const struct hc_abi *abi = hc_select_abi(v, e);
	struct hc_args a;
	int64_t ret;

	hc_decode(abi, &v->regs, e->mode == MODE_64, &a);
	v->vm->nr_hypercalls++;
	if (e->cpl != 0)
		ret = abi->err_cpl;
	else if (a.nr >= abi->nr_calls || !abi->calls[a.nr].fn)
		ret = abi->err_unknown;
	else
		ret = abi->calls[a.nr].fn(v, &a);

	/* Outside 64-bit mode the caller sees 32 bits, zero-extended (KVM: x86.c). */
	v->regs.gpr[abi->result_reg] = a.long_mode ? (uint64_t)ret : (uint32_t)ret;
	arch_skip_insn(v, e);
}

int hc_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	return kvm_abi.msr_read ? kvm_abi.msr_read(v, msr, val) : -ENOENT;
}

int hc_msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	return kvm_abi.msr_write ? kvm_abi.msr_write(v, msr, val) : -ENOENT;
}

void hc_clock_changed(struct vcpu *v)
{
	if (kvm_abi.clock_changed)
		kvm_abi.clock_changed(v);
}

void hc_vcpu_scheduled(struct vcpu *v)
{
	if (kvm_abi.vcpu_scheduled)
		kvm_abi.vcpu_scheduled(v);
}

void hc_vcpu_preempted(struct vcpu *v)
{
	if (kvm_abi.vcpu_preempted)
		kvm_abi.vcpu_preempted(v);
}

/* Zero is every field's reset value (hypercalls/abi_state.h stores them so). */
void hc_vcpu_init(struct vcpu *v)
{
	memset(&v->hc, 0, sizeof(v->hc));
}

void hc_vm_destroy(struct vm *vm)
{
	if (kvm_abi.vm_destroy)
		kvm_abi.vm_destroy(vm);
}

bool hc_cpuid(struct vm *vm, uint32_t leaf, uint32_t subleaf, struct cpuid_regs *out)
{
	if (leaf < HC_CPUID_BASE || leaf > HC_CPUID_LIMIT)
		return false;
	*out = (struct cpuid_regs){ 0 };
	uint32_t block = (leaf - HC_CPUID_BASE) / HC_CPUID_STRIDE;
	uint32_t off = (leaf - HC_CPUID_BASE) % HC_CPUID_STRIDE;
	/* One ABI, at the base block: a KVM VM looks exactly like KVM there. */
	if (block == 0 && !kvm_abi.cpuid(vm, off, subleaf, out))
		*out = (struct cpuid_regs){ 0 };
	return true;
}
