#define LOG_SUB_FILE LOG_SUB_HC   /* its messages: loglevel=hc:LEVEL */
#include "core/arch.h"
#include "core/exit.h"
#include "core/sched.h"
#include "core/string.h"
#include "core/vm.h"
#include "hypercalls/hypercall.h"
#include "hypercalls/intercept.h"

static const struct hc_abi *const abis[] = { &kvm_abi, &hyperv_abi, &xen_abi };

const struct hc_abi *hc_abi_by_name(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(abis); i++)
		if (strlen(abis[i]->name) == len && !memcmp(abis[i]->name, name, len))
			return abis[i];
	return NULL;
}

static const struct hc_abi *const kvm_only[] = { &kvm_abi };

/* The ABIs the VM speaks, in its abi= order; *n of them (at least one: KVM by default). */
static const struct hc_abi *const *vm_abis(const struct vm *vm, unsigned *n)
{
	*n = vm->hc.nr_abis ? vm->hc.nr_abis : 1;
	return vm->hc.nr_abis ? vm->hc.abis : kvm_only;
}

bool hc_speaks(const struct vm *vm, const struct hc_abi *abi)
{
	unsigned n;
	const struct hc_abi *const *list = vm_abis(vm, &n);
	for (unsigned i = 0; i < n; i++)
		if (list[i] == abi)
			return true;
	return false;
}

void hc_vm_set_abis(struct vm *vm, const struct hc_abi *const *list, unsigned n)
{
	vm->hc.nr_abis = (uint8_t)MIN(n, (unsigned)HC_MAX_ABIS);
	for (unsigned i = 0; i < vm->hc.nr_abis; i++)
		vm->hc.abis[i] = list[i];
}

/*
 * Which ABI a hypercall instruction is for (docs/dispatch.md). One ABI:
 * that one, always. Several: a call made from an ABI's hypercall page
 * (the guest-physical page RIP is on: Hyper-V's, then Xen's) is that
 * ABI's; any other call (a direct VMCALL/VMMCALL) goes to the ABI at the
 * highest CPUID base, the one Linux picks when it knows them all, and so
 * the one whose calls a guest makes directly. Hyper-V may only come first,
 * so with another ABI present it is reached through its page alone, as
 * guests do (the TLFS has them call through it). RIP is taken as a linear
 * address: CS has base 0 in 64-bit mode and in the flat 32-bit mode guests run.
 */
static const struct hc_abi *vm_abi_for_call(struct vcpu *v, bool long_mode)
{
	unsigned n;
	const struct hc_abi *const *list = vm_abis(v->vm, &n);
	uint64_t gpa, gfn, rax = v->regs.gpr[X86_RAX] & (long_mode ? UINT64_MAX : UINT32_MAX);
	/* the project's calls first, by number: none is a valid call of any ABI (ext_abi.h) */
	if (v->vm->hc.ext && rax >= ext_abi.nr_base && rax - ext_abi.nr_base < ext_abi.nr_calls)
		return &ext_abi;
	if (n == 1)
		return list[0];
	if (!arch_guest_virt_to_phys(v, v->regs.rip, &gpa))
		for (unsigned i = 0; i < n; i++)
			if (list[i]->page_gfn && list[i]->page_gfn(v->vm, &gfn) && gfn == gpa >> PAGE_SHIFT)
				return list[i];
	return list[n - 1];
}

/*
 * The Hyper-V convention (TLFS "Hypercall Interface"; register use as in
 * Linux arch/x86/include/asm/mshyperv.h hv_do_hypercall): the input value,
 * input GPA and output GPA from RCX, RDX, R8, or EDX:EAX, EBX:ECX, EDI:ESI
 * outside 64-bit mode.
 */
static void hv_decode(const struct guest_regs *r, bool long_mode, struct hc_args *a)
{
	*a = (struct hc_args){ .long_mode = long_mode };
	if (long_mode) {
		a->arg[0] = r->gpr[X86_RCX];
		a->arg[1] = r->gpr[X86_RDX];
		a->arg[2] = r->gpr[X86_R8];
	} else {
		a->arg[0] = (r->gpr[X86_RDX] & UINT32_MAX) << 32 | (r->gpr[X86_RAX] & UINT32_MAX);
		a->arg[1] = (r->gpr[X86_RBX] & UINT32_MAX) << 32 | (r->gpr[X86_RCX] & UINT32_MAX);
		a->arg[2] = (r->gpr[X86_RDI] & UINT32_MAX) << 32 | (r->gpr[X86_RSI] & UINT32_MAX);
	}
	a->nr = a->arg[0] & 0xffff;
}

/* Register reads and the 32-bit truncation happen here and nowhere else. */
static void hc_decode(const struct hc_abi *abi, const struct guest_regs *r, bool long_mode,
                      struct hc_args *a)
{
	if (abi->conv == HC_CONV_HYPERV) {
		hv_decode(r, long_mode, a);
		return;
	}
	/* the ABI's arguments from their registers, the rest zero */
	unsigned n = MIN(abi->nargs, (unsigned)HC_MAX_ARGS);
	_Static_assert(HC_MAX_ARGS == 6, "zeroed below one by one");
	a->arg[0] = a->arg[1] = a->arg[2] = a->arg[3] = a->arg[4] = a->arg[5] = 0;
	a->long_mode = long_mode;
	if (long_mode) {
		a->nr = r->gpr[abi->nr_reg];
		for (unsigned i = 0; i < n; i++)
			a->arg[i] = r->gpr[abi->args64[i]];
	} else {
		a->nr = (uint32_t)r->gpr[abi->nr_reg];
		for (unsigned i = 0; i < n; i++)
			a->arg[i] = (uint32_t)r->gpr[abi->args32[i]];
	}
}

/*
 * Hyper-V: #UD at CPL > 0 and in real mode (as Hyper-V); a result value in
 * RAX (EDX:EAX). Not done: `result` is the input value with the rep start
 * index moved on, put back where the guest keeps it (RCX; EDX:EAX), and
 * the call is executed again. Returns whether the call completed.
 */
static bool hv_finish(struct vcpu *v, const struct vm_exit *e, const struct hc_args *a, uint64_t result, bool done)
{
	struct guest_regs *r = &v->regs;
	if (a->long_mode) {
		r->gpr[done ? X86_RAX : X86_RCX] = result;
	} else {
		r->gpr[X86_RAX] = (uint32_t)result;
		r->gpr[X86_RDX] = result >> 32;
	}
	if (done)
		arch_skip_insn(v, e);
	else
		arch_insn_restart(v);     /* TLFS: a continued call lets pending interrupts in */
	return done;
}

/* REGS ABIs: the result in the result register (32 bits zero-extended outside 64-bit mode, as KVM). */
static void regs_finish(struct vcpu *v, const struct vm_exit *e, const struct hc_abi *abi, bool long_mode,
                        int64_t ret)
{
	v->regs.gpr[abi->result_reg] = long_mode ? (uint64_t)ret : (uint32_t)ret;
	arch_skip_insn(v, e);
}

/* Continued: the argument registers carry the progress; the call runs again. */
static void regs_continue(struct vcpu *v, const struct hc_abi *abi, bool long_mode)
{
	const uint8_t *map = long_mode ? abi->args64 : abi->args32;
	uint8_t args;
	uint64_t values[HC_MAX_ARGS];
	hc_continue_take(v, &args, values);
	for (unsigned i = 0; i < abi->nargs; i++)
		if (args & (1u << i))
			v->regs.gpr[map[i]] = long_mode ? values[i] : (uint32_t)values[i];
	arch_insn_restart(v);
}

/*
 * Every hypercall: which ABI (vm_abi_for_call), its arguments decoded, the
 * hooks before (policy may deny it: the ABI's permission error), the
 * handler, the result written back, the hooks after (counters, trace).
 */
void hc_dispatch(struct vcpu *v, const struct vm_exit *e)
{
	bool long_mode = e->mode == MODE_64;
	struct hc_call_info c;
	/* each field once (hc_decode fills all of args) rather than zeroed first */
	c.abi = vm_abi_for_call(v, long_mode);
	c.cpl = e->cpl;
	c.result = 0;
	c.error = c.faulted = c.denied = false;

	v->vm->nr_hypercalls++;
	hc_decode(c.abi, &v->regs, long_mode, &c.args);
	c.nr = c.args.nr - c.abi->nr_base;
	if (c.abi->conv == HC_CONV_HYPERV && (e->cpl != 0 || e->mode == MODE_REAL)) {
		arch_inject_undef(v);
		c.faulted = c.error = true;
		hc_hooks_after(v, &c);
		return;
	}
	if (hc_hooks_before(v, &c) == HC_DENY) {
		c.denied = c.error = true;
		c.result = c.abi->err_denied;
		if (c.abi->conv == HC_CONV_HYPERV)
			hv_finish(v, e, &c.args, (uint64_t)c.result, true);
		else
			regs_finish(v, e, c.abi, long_mode, c.result);
		hc_hooks_after(v, &c);
		return;
	}
	/* a hook may have sent the call to another of the VM's ABIs: its own convention then applies to the result */
	const struct hc_abi *abi = c.abi;
	if (abi->conv == HC_CONV_HYPERV) {
		bool done = true;
		uint64_t result = abi->hv_call(v, &c.args, &done);
		if (hv_finish(v, e, &c.args, result, done)) {
			c.result = (int64_t)result;
			c.error = (result & 0xffff) != 0;
			hc_hooks_after(v, &c);
		}
		return;
	}
	uint64_t idx = c.args.nr - abi->nr_base;
	if (e->cpl != 0)
		c.result = abi->err_cpl;
	else if (c.args.nr < abi->nr_base || idx >= abi->nr_calls || !abi->calls[idx].fn)
		c.result = abi->err_unknown;
	else
		c.result = abi->calls[idx].fn(v, &c.args);
	if (v->hc.cont) {
		regs_continue(v, abi, long_mode);
		return;
	}
	regs_finish(v, e, abi, long_mode, c.result);
	c.error = c.result < 0;
	hc_hooks_after(v, &c);
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

/* An MSR belongs to the first of the VM's ABIs that knows it (their ranges do not overlap: Xen's moves). */
int hc_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	unsigned n;
	const struct hc_abi *const *list = vm_abis(v->vm, &n);
	for (unsigned i = 0; i < n; i++) {
		int r = list[i]->msr_read ? list[i]->msr_read(v, msr, val) : -ENOENT;
		if (r != -ENOENT)
			return r;
	}
	return -ENOENT;
}

int hc_msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	unsigned n;
	const struct hc_abi *const *list = vm_abis(v->vm, &n);
	for (unsigned i = 0; i < n; i++) {
		int r = list[i]->msr_write ? list[i]->msr_write(v, msr, val) : -ENOENT;
		if (r != -ENOENT)
			return r;
	}
	return -ENOENT;
}

/* The per-vCPU events go to every ABI the VM speaks. */
#define EACH_ABI(vm, hook, ...) do { \
		unsigned n_; \
		const struct hc_abi *const *l_ = vm_abis(vm, &n_); \
		for (unsigned i_ = 0; i_ < n_; i_++) \
			if (l_[i_]->hook) \
				l_[i_]->hook(__VA_ARGS__); \
	} while (0)

void hc_clock_changed(struct vcpu *v)
{
	sched_poke();                    /* timers kept in the guest's time fall due at another host time */
	EACH_ABI(v->vm, clock_changed, v);
}

void hc_vcpu_scheduled(struct vcpu *v)
{
	EACH_ABI(v->vm, vcpu_scheduled, v);
}

uint64_t hc_vcpu_timers(struct vcpu *v, uint64_t now)
{
	unsigned n;
	uint64_t next = UINT64_MAX;
	const struct hc_abi *const *list = vm_abis(v->vm, &n);
	for (unsigned i = 0; i < n; i++)
		if (list[i]->timers)
			next = MIN(next, list[i]->timers(v, now));
	return next;
}

void hc_vcpu_runstate(struct vcpu *v)
{
	EACH_ABI(v->vm, vcpu_runstate, v);
}

void hc_vcpu_preempted(struct vcpu *v)
{
	EACH_ABI(v->vm, vcpu_preempted, v);
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
	EACH_ABI(vm, vm_ended, vm);
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
	if (leaf >= HC_CPUID_EXT && leaf < HC_CPUID_EXT + HC_CPUID_STRIDE) {
		if (!v->vm->hc.ext || !ext_abi.cpuid(v, off, subleaf, out))
			*out = (struct cpuid_regs){ 0 };
		return true;
	}
	unsigned n;
	const struct hc_abi *const *list = vm_abis(v->vm, &n);
	/*
	 * ABI i's leaves at 0x40000000 + 0x100 * i: one ABI looks exactly like
	 * that hypervisor at the base. The ABIs fill their leaves as if at the
	 * base; the maximum leaf in EAX of the first moves with the block.
	 */
	if (block >= n || !list[block]->cpuid(v, off, subleaf, out))
		*out = (struct cpuid_regs){ 0 };
	else if (off == 0)
		out->eax += block * HC_CPUID_STRIDE;
	return true;
}
