#include "core/arch.h"
#include "core/exit.h"
#include "core/string.h"
#include "core/vm.h"
#include "hypercalls/hypercall.h"

static const struct hc_abi *const abis[] = { &kvm_abi, &hyperv_abi, &xen_abi };

const struct hc_abi *hc_abi_by_name(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(abis); i++)
		if (strlen(abis[i]->name) == len && !memcmp(abis[i]->name, name, len))
			return abis[i];
	return NULL;
}

/* The ABI the VM speaks (abi=, one per VM so far): every call, CPUID leaf and MSR goes to it. */
static const struct hc_abi *vm_abi(const struct vm *vm)
{
	return vm->hc.abi ? vm->hc.abi : &kvm_abi;
}

/*
 * The Hyper-V convention (TLFS "Hypercall Interface"; register use as in
 * Linux arch/x86/include/asm/mshyperv.h hv_do_hypercall).
 */
static void hv_dispatch(const struct hc_abi *abi, struct vcpu *v, const struct vm_exit *e)
{
	struct guest_regs *r = &v->regs;
	if (e->cpl != 0 || e->mode == MODE_REAL) {
		arch_inject_undef(v);
		return;
	}
	struct hc_args a = { .long_mode = e->mode == MODE_64 };
	if (a.long_mode) {
		a.arg[0] = r->gpr[X86_RCX];
		a.arg[1] = r->gpr[X86_RDX];
		a.arg[2] = r->gpr[X86_R8];
	} else {
		a.arg[0] = (r->gpr[X86_RDX] & UINT32_MAX) << 32 | (r->gpr[X86_RAX] & UINT32_MAX);
		a.arg[1] = (r->gpr[X86_RBX] & UINT32_MAX) << 32 | (r->gpr[X86_RCX] & UINT32_MAX);
		a.arg[2] = (r->gpr[X86_RDI] & UINT32_MAX) << 32 | (r->gpr[X86_RSI] & UINT32_MAX);
	}
	a.nr = a.arg[0] & 0xffff;
	bool done = true;
	uint64_t result = abi->hv_call(v, &a, &done);
	/*
	 * Not done: `result` is the input value with the rep start index moved
	 * on, put back where the guest keeps it (RCX; EDX:EAX, which is also
	 * where a 32-bit result goes), and the call is executed again.
	 */
	if (a.long_mode) {
		r->gpr[done ? X86_RAX : X86_RCX] = result;
	} else {
		r->gpr[X86_RAX] = (uint32_t)result;
		r->gpr[X86_RDX] = result >> 32;
	}
	if (done)
		arch_skip_insn(v, e);
	else
		arch_insn_restart(v);     /* TLFS: a continued call lets pending interrupts in */
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
	const struct hc_abi *abi = vm_abi(v->vm);
	struct hc_args a;
	int64_t ret;

	v->vm->nr_hypercalls++;
	if (abi->conv == HC_CONV_HYPERV) {
		hv_dispatch(abi, v, e);
		return;
	}
	hc_decode(abi, &v->regs, e->mode == MODE_64, &a);
	if (e->cpl != 0)
		ret = abi->err_cpl;
	else if (a.nr >= abi->nr_calls || !abi->calls[a.nr].fn)
		ret = abi->err_unknown;
	else
		ret = abi->calls[a.nr].fn(v, &a);

	if (v->hc.cont) {
		/* continued: the argument registers carry the progress; the call runs again */
		const uint8_t *map = a.long_mode ? abi->args64 : abi->args32;
		uint8_t args;
		uint64_t values[HC_MAX_ARGS];
		hc_continue_take(v, &args, values);
		for (unsigned i = 0; i < abi->nargs; i++)
			if (args & (1u << i))
				v->regs.gpr[map[i]] = a.long_mode ? values[i] : (uint32_t)values[i];
		arch_insn_restart(v);
		return;
	}
	/* Outside 64-bit mode the caller sees 32 bits, zero-extended (KVM: x86.c). */
	v->regs.gpr[abi->result_reg] = a.long_mode ? (uint64_t)ret : (uint32_t)ret;
	arch_skip_insn(v, e);
}

void hc_continue(struct vcpu *v, unsigned arg, uint64_t value)
{
	if (arg >= HC_MAX_ARGS)
		return;
	v->hc.cont |= (uint8_t)(1u << arg);
	v->hc.cont_value[arg] = value;
}

bool hc_continuing(const struct vcpu *v)
{
	return v->hc.cont;
}

void hc_continue_take(struct vcpu *v, uint8_t *args, uint64_t values[HC_MAX_ARGS])
{
	*args = v->hc.cont;
	memcpy(values, v->hc.cont_value, sizeof(v->hc.cont_value));
	v->hc.cont = 0;
}

int hc_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	const struct hc_abi *abi = vm_abi(v->vm);
	return abi->msr_read ? abi->msr_read(v, msr, val) : -ENOENT;
}

int hc_msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	const struct hc_abi *abi = vm_abi(v->vm);
	return abi->msr_write ? abi->msr_write(v, msr, val) : -ENOENT;
}

void hc_clock_changed(struct vcpu *v)
{
	const struct hc_abi *abi = vm_abi(v->vm);
	if (abi->clock_changed)
		abi->clock_changed(v);
}

void hc_vcpu_scheduled(struct vcpu *v)
{
	const struct hc_abi *abi = vm_abi(v->vm);
	if (abi->vcpu_scheduled)
		abi->vcpu_scheduled(v);
}

uint64_t hc_vcpu_timers(struct vcpu *v, uint64_t now)
{
	const struct hc_abi *abi = vm_abi(v->vm);
	return abi->timers ? abi->timers(v, now) : UINT64_MAX;
}

void hc_vcpu_runstate(struct vcpu *v)
{
	const struct hc_abi *abi = vm_abi(v->vm);
	if (abi->vcpu_runstate)
		abi->vcpu_runstate(v);
}

void hc_vcpu_preempted(struct vcpu *v)
{
	const struct hc_abi *abi = vm_abi(v->vm);
	if (abi->vcpu_preempted)
		abi->vcpu_preempted(v);
}

/*
 * Zero is every field's reset value (hypercalls/abi_state.h stores them so).
 * KVM resets its paravirtual MSRs on INIT, and so does the Hyper-V SynIC
 * here; Xen keeps a vCPU's registrations (vcpu_info, runstate area, VIRQs,
 * timers) across INIT, as Linux expects when it brings a CPU back online.
 */
void hc_vcpu_init(struct vcpu *v)
{
	v->hc.cont = 0;
	memset(&v->hc.kvm, 0, sizeof(v->hc.kvm));
	memset(&v->hc.hv, 0, sizeof(v->hc.hv));
}

void hc_vm_ended(struct vm *vm)
{
	const struct hc_abi *abi = vm_abi(vm);
	if (abi->vm_ended)
		abi->vm_ended(vm);
}

void hc_vm_destroy(struct vm *vm)
{
	/* every ABI frees what it allocated for the VM, whichever it spoke */
	for (size_t i = 0; i < ARRAY_SIZE(abis); i++)
		if (abis[i]->vm_destroy)
			abis[i]->vm_destroy(vm);
}

bool hc_cpuid(struct vcpu *v, uint32_t leaf, uint32_t subleaf, struct cpuid_regs *out)
{
	if (leaf < HC_CPUID_BASE || leaf > HC_CPUID_LIMIT)
		return false;
	*out = (struct cpuid_regs){ 0 };
	uint32_t block = (leaf - HC_CPUID_BASE) / HC_CPUID_STRIDE;
	uint32_t off = (leaf - HC_CPUID_BASE) % HC_CPUID_STRIDE;
	/* One ABI, at the base block: a KVM VM looks exactly like KVM there, a Hyper-V one like Hyper-V. */
	if (block == 0 && !vm_abi(v->vm)->cpuid(v, off, subleaf, out))
		*out = (struct cpuid_regs){ 0 };
	return true;
}
