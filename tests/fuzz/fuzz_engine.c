/*
 * The fuzzing engine (tests/fuzz/fuzz_engine.h): core/ and hypercalls/ on
 * the fake machine, driven by a byte string. Every episode starts from a
 * fresh machine and ends with every VM destroyed, so an input always does
 * the same thing (libFuzzer needs that to reproduce a finding).
 *
 * Input: a header, then operations until the input runs out (missing
 * bytes read as 0). Numbers are little-endian.
 *   header: cfg (bits 0-1: vCPUs - 1; 2: a read-only slot; 3: a neighbour
 *           domain speaking the same ABIs; 4: a page budget follows, the
 *           host pages left free, so allocations inside calls fail;
 *           5: ext=on (FUZZ_MULTI); 6: policy rules follow (FUZZ_MULTI);
 *           7: pages ballooned out at start), then what the bits ask for.
 *   ops:    one byte, then its operands (see run_op).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "core/exit.h"
#include "core/gmem.h"
#include "core/log.h"
#include "core/pmm.h"
#include "core/sched.h"
#include "core/time.h"
#include "core/vm.h"
#include "hypercalls/ext/ext_abi.h"
#include "hypercalls/hypercall.h"
#include "hypercalls/hyperv/hv_abi.h"
#include "hypercalls/intercept.h"
#include "hypercalls/kvm/kvm_abi.h"
#include "hypercalls/xen/xen_abi.h"
#include "tests/fake_arch/fake_arch.h"
#include "tests/fuzz/fuzz_engine.h"

#define CANARY_SIZE KiB(16)
#define RIP0 0x1000ull
#define MAX_REENTRIES 64         /* a continued call is entered again at most this often per op */

/* The engine's own scans: not coverage the fuzzer should steer by (nor learn the canary from). */
#define NO_COVERAGE __attribute__((no_sanitize("coverage")))

#define DIE(...) do { fprintf(stderr, "fuzz: " __VA_ARGS__); fputc('\n', stderr); abort(); } while (0)

struct in { const uint8_t *p; size_t n; };

static uint8_t take8(struct in *in)
{
	if (!in->n)
		return 0;
	in->n--;
	return *in->p++;
}

static uint64_t take(struct in *in, unsigned bytes)
{
	uint64_t v = 0;
	for (unsigned i = 0; i < bytes; i++)
		v |= (uint64_t)take8(in) << (8 * i);
	return v;
}

/*
 * A guest-physical (or, for Xen, guest-virtual: the same here) address the
 * hypervisor must treat carefully: every edge of the layout, page-crossing,
 * misaligned, in the hole, past the end, host addresses, wrapping.
 */
static uint64_t gaddr(struct in *in)
{
	uint8_t b = take8(in);
	uint64_t k = b >> 4, off = take8(in) * 8ull;
	switch (b & 15) {
	case 0: return k * PAGE_SIZE + off;                 /* the low pages */
	case 1: return (k + 16) * PAGE_SIZE + off;
	case 2: return FUZZ_LO_SIZE - 8 * (k + 1);               /* crossing into the read-only slot */
	case 3: return FUZZ_RO_BASE + off;
	case 4: return FUZZ_HOLE - 8 * (k + 1);                  /* crossing into the hole */
	case 5: return FUZZ_HOLE + k * PAGE_SIZE + off;
	case 6: return FUZZ_HI_BASE - 8 * (k + 1);
	case 7: return FUZZ_HI_BASE + k * PAGE_SIZE + off;
	case 8: return FUZZ_RAM_END - 8 * (k + 1);               /* crossing the end of RAM */
	case 9: return FUZZ_RAM_END + k * PAGE_SIZE + off;
	case 10: return (1ull << 32) - 8 * (k + 1);
	case 11: return 1ull << (36 + k);                   /* up to bit 51 and beyond */
	case 12: return UINT64_MAX - off;                   /* wraps */
	case 13: return FAKE_PHYS_BASE + take(in, 4);       /* where host memory is */
	case 14: return k * PAGE_SIZE + take8(in);          /* misaligned */
	default: return take(in, 8);
	}
}

/* A register value: small numbers, addresses, powers of two, negatives, raw bits. */
static uint64_t value(struct in *in)
{
	uint8_t b = take8(in);
	switch (b & 7) {
	case 0: return b >> 3;
	case 1: return take8(in);
	case 2: return gaddr(in);
	case 3: return take(in, 8);
	case 4: return (uint64_t)-(int64_t)((b >> 3) + 1);
	case 5: return 1ull << (take8(in) & 63);
	case 6: return take(in, 4);
	default: return take(in, 2);                        /* domids, ports, call codes */
	}
}

/*
 * A Hyper-V hypercall input value (TLFS "Hypercall Inputs"): code 0-15,
 * fast 16, variable header size 17-26, nested 31, rep count 32-43, rep
 * start 48-59; reserved bits set on request.
 */
static uint64_t hv_input(struct in *in)
{
	uint8_t f = take8(in);
	if (f == 0xff)
		return take(in, 8);
	uint64_t code = f & 1 ? take(in, 2) : take8(in);
	uint64_t x = code | (uint64_t)((f >> 1) & 1) << 16;
	if (f & 4)
		x |= (take8(in) & 0x3ffull) << 17;
	if (f & 8)
		x |= (take(in, 2) & 0xfffull) << 32;
	if (f & 16)
		x |= (take(in, 2) & 0xfffull) << 48;
	if (f & 32)
		x |= take(in, 8) & 0xf000f00078000000ull;        /* reserved bits, nested */
	return x;
}

/* ---- the world of one episode ---- */

enum { VM_A, VM_PEER, VM_CANARY, NR_VMS };

static struct world {
	enum fuzz_target target;
	struct vm *vm[NR_VMS];
	uint64_t canary_sum;
	uint64_t secret;             /* the canary's pattern: unknown to inputs */
	/*
	 * A continued call left on a vCPU (op byte bit 5): the vCPU took an
	 * interrupt before entering it again, and other vCPUs, or its own
	 * interrupt handler (bit 6: a call made in between, whose registers the
	 * handler's IRET then puts back), ran meanwhile. Per VM A / neighbour, per vCPU.
	 */
	struct pending { bool on; struct vm_exit e; struct guest_regs regs; } pend[2][VM_MAX_VCPUS];
} w;


static void set_abis(struct vm *vm, struct in *in)
{
	static const struct hc_abi *const lists[][3] = {
		{ &kvm_abi }, { &hyperv_abi }, { &xen_abi },
		{ &hyperv_abi, &kvm_abi }, { &hyperv_abi, &xen_abi }, { &xen_abi, &kvm_abi },
		{ &kvm_abi, &xen_abi }, { &hyperv_abi, &xen_abi, &kvm_abi }, { &hyperv_abi, &kvm_abi, &xen_abi },
	};
	static const unsigned lens[] = { 1, 1, 1, 2, 2, 2, 2, 3, 3 };
	unsigned i = w.target == FUZZ_KVM ? 0 : w.target == FUZZ_HYPERV ? 1 : w.target == FUZZ_XEN ? 2
	           : take8(in) % ARRAY_SIZE(lists);
	hc_vm_set_abis(vm, lists[i], lens[i]);
}

NO_COVERAGE static uint64_t canary_word(uint64_t i) { return w.secret ^ (i * 0x9e3779b97f4a7c15ull); }

static struct vm *new_vm(unsigned id, bool ro, unsigned nvcpus)
{
	struct vm *vm = fake_vm_new();
	vm->id = id;
	snprintf(vm->name, sizeof(vm->name), "vm%u", id);
	fake_vm_add_slot(vm, 0, FUZZ_LO_SIZE, 0, 0);
	if (ro)
		fake_vm_add_slot(vm, FUZZ_RO_BASE, FUZZ_RO_SIZE, SLOT_READONLY, 0x5a);
	fake_vm_add_slot(vm, FUZZ_HI_BASE, FUZZ_HI_SIZE, 0, 0);
	vm->mem_size = FUZZ_RAM_END;
	vm->state = VM_RUNNING;
	vm->clock_base = fake.counter;
	for (unsigned i = 0; i < nvcpus; i++) {
		struct vcpu *v = fake_vcpu_new(vm);
		v->state = VCPU_RUNNABLE;
		v->regs.rip = RIP0;
	}
	return vm;
}

/* The bystander: RAM full of a pattern no input can know; it never runs. */
static struct vm *new_canary(const struct vm *like)
{
	struct vm *vm = fake_vm_new();
	vm->id = 3;
	uint64_t *p = (uint64_t *)fake_vm_add_slot(vm, 0, CANARY_SIZE, 0, 0);
	for (uint64_t i = 0; i < CANARY_SIZE / 8; i++)
		p[i] = canary_word(i);
	vm->mem_size = CANARY_SIZE;
	vm->state = VM_RUNNING;
	hc_vm_set_abis(vm, like->hc.abis, like->hc.nr_abis);
	struct vcpu *v = fake_vcpu_new(vm);
	v->state = VCPU_RUNNABLE;
	return vm;
}

NO_COVERAGE static uint64_t canary_sum(void)
{
	const uint64_t *p = (const uint64_t *)fake_vm_hva(w.vm[VM_CANARY], 0);
	uint64_t s = 0;
	for (uint64_t i = 0; i < CANARY_SIZE / 8; i++)
		s = (s ^ p[i]) * 0x100000001b3ull;
	return s;
}

/* A hash of a VM's RAM: whether a continued call moved something forward in memory. */
NO_COVERAGE static uint64_t ram_sum(const struct vm *vm)
{
	uint64_t h = 0xcbf29ce484222325ull;
	for (unsigned s = 0; s < vm->nr_slots; s++) {
		const uint64_t *p = (const uint64_t *)vm->slots[s].hva;
		for (uint64_t i = 0; i < vm->slots[s].size / 8; i++)
			h = (h ^ p[i]) * 0x100000001b3ull;
	}
	return h;
}

/* A word of the canary's anywhere in a fuzzed VM's RAM: the VM read the bystander's memory. */
NO_COVERAGE static void check_no_canary_in(struct vm *vm)
{
	for (unsigned s = 0; s < vm->nr_slots; s++) {
		const uint64_t *p = (const uint64_t *)vm->slots[s].hva;
		for (uint64_t i = 0; i < vm->slots[s].size / 8; i++) {
			uint64_t idx = (p[i] ^ w.secret) / 0x9e3779b97f4a7c15ull;
			if (idx < CANARY_SIZE / 8 && canary_word(idx) == p[i])
				DIE("vm%u holds word %llu of the bystander's memory at 0x%llx", vm->id,
				    (unsigned long long)idx, (unsigned long long)(vm->slots[s].gpa + i * 8));
		}
	}
}

/* ---- what every completed call must look like ---- */

static bool in_set(int64_t r, const int64_t *set, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (r == -set[i])
			return true;
	return false;
}

static void check_hv_result(const struct hc_call_info *c)
{
	static const int64_t statuses[] = {
		HV_STATUS_SUCCESS, HV_STATUS_INVALID_HYPERCALL_CODE, HV_STATUS_INVALID_HYPERCALL_INPUT,
		HV_STATUS_INVALID_ALIGNMENT, HV_STATUS_INVALID_PARAMETER, HV_STATUS_ACCESS_DENIED,
		HV_STATUS_INVALID_PARTITION_ID, HV_STATUS_INVALID_VP_INDEX, HV_STATUS_INVALID_PORT_ID,
		HV_STATUS_INVALID_CONNECTION_ID, HV_STATUS_INSUFFICIENT_BUFFERS, HV_STATUS_INVALID_VP_STATE,
		HV_STATUS_INVALID_SYNIC_STATE, HV_STATUS_INVALID_REGISTER_VALUE,
	};
	uint64_t r = (uint64_t)c->result;
	uint64_t status = r & 0xffff, reps = (r >> 32) & 0xfff, asked = (c->args.arg[0] >> 32) & 0xfff;
	bool known = false;
	for (size_t i = 0; i < ARRAY_SIZE(statuses); i++)
		known |= status == (uint64_t)statuses[i];
	if (!known)
		DIE("Hyper-V call 0x%llx: status 0x%llx is not a TLFS status", (unsigned long long)c->nr,
		    (unsigned long long)status);
	/* TLFS "Hypercall Result Value": bits 16-31 and 44-63 reserved (zero) */
	if (r & 0xfffff000ffff0000ull)
		DIE("Hyper-V call 0x%llx: result 0x%llx sets reserved bits", (unsigned long long)c->nr,
		    (unsigned long long)r);
	if (reps > asked)
		DIE("Hyper-V call 0x%llx: %llu reps complete of %llu", (unsigned long long)c->nr,
		    (unsigned long long)reps, (unsigned long long)asked);
}

/* The errnos each REGS ABI answers with (kvm_abi.h, xen_abi.h, ext_abi.h). */
static void check_regs_result(const struct hc_call_info *c)
{
	static const int64_t kvm[] = { KVM_ENOSYS, KVM_EFAULT, KVM_EINVAL, KVM_E2BIG, KVM_EPERM,
	                               KVM_EOPNOTSUPP, KVM_ENOMEM };
	static const int64_t xen[] = { XEN_EPERM, XEN_ENOENT, XEN_ESRCH, XEN_ENOMEM, XEN_EFAULT, XEN_EBUSY,
	                               XEN_EEXIST, XEN_EINVAL, XEN_ENOSPC, XEN_ENOSYS, XEN_EOPNOTSUPP, XEN_ETIME,
	                               XEN_ENXIO };
	static const int64_t ext[] = { EXT_EPERM, EXT_EFAULT, EXT_EINVAL, EXT_ENOSPC, EXT_ENOMEM, EXT_EBUSY };
	int64_t r = c->result;
	if (c->cpl && r != c->abi->err_cpl && !c->denied)
		DIE("%s call %llu at CPL %u got %lld, not its CPL error", c->abi->name,
		    (unsigned long long)c->nr, c->cpl, (long long)r);
	if (r >= 0)
		return;
	bool ok = c->abi == &kvm_abi ? in_set(r, kvm, ARRAY_SIZE(kvm))
	        : c->abi == &xen_abi ? in_set(r, xen, ARRAY_SIZE(xen))
	        : in_set(r, ext, ARRAY_SIZE(ext));
	if (!ok)
		DIE("%s call %llu: %lld is not one of its errors", c->abi->name, (unsigned long long)c->nr,
		    (long long)r);
}

static void after_call(struct vcpu *v, const struct hc_call_info *c)
{
	if (c->faulted) {
		if (c->abi->conv != HC_CONV_HYPERV)
			DIE("%s call %llu raised a fault", c->abi->name, (unsigned long long)c->nr);
		return;
	}
	if (c->denied && c->result != c->abi->err_denied)
		DIE("%s call %llu denied with %lld", c->abi->name, (unsigned long long)c->nr, (long long)c->result);
	if (c->abi->conv == HC_CONV_HYPERV)
		check_hv_result(c);
	else
		check_regs_result(c);
}

static const struct hc_hook fuzz_hook = { "fuzz", NULL, after_call };

/* ---- operations ---- */

static struct vcpu *pick_vcpu(struct in *in, bool any_state)
{
	uint8_t b = take8(in);
	struct vm *vm = w.vm[(b & 1) && w.vm[VM_PEER] ? VM_PEER : VM_A];
	if (vm_ended(vm))
		return NULL;
	struct vcpu *v = vm->vcpus[(b >> 1) % vm->nr_vcpus];
	return any_state || v->state == VCPU_RUNNABLE ? v : NULL;
}

static const uint8_t gprs[] = { X86_RBX, X86_RCX, X86_RDX, X86_RSI, X86_RDI, X86_R8, X86_R9, X86_R10, X86_R11 };

/* The mode the exit reports and the control registers the hypervisor reads back agree. */
static void set_mode(struct vcpu *v, enum cpu_mode m)
{
	struct arch_ctrl_regs *cr = &fake.ctrl[v->id];
	*cr = (struct arch_ctrl_regs){ 0 };
	if (m != MODE_REAL)
		cr->cr0 = 1;                                   /* PE */
	if (m == MODE_64) {
		cr->cr0 |= 1ull << 31;                         /* PG */
		cr->cr4 = 1ull << 5;                           /* PAE */
		cr->efer = 1ull << 8 | 1ull << 10;             /* LME, LMA */
	}
}

static struct pending *pending_of(const struct vcpu *v)
{
	return &w.pend[v->vm == w.vm[VM_PEER]][v->id];
}

static void enter(struct vcpu *v, const struct vm_exit *e, bool leave_pending);

/*
 * One guest hypercall instruction with fuzzed registers, XMM, mode, CPL,
 * instruction and RIP; or, on a vCPU with a continued call pending, that
 * call entered again (or another made from its interrupt handler).
 */
static void op_call(struct in *in, bool again)
{
	uint8_t b = take8(in);
	struct vcpu *v = pick_vcpu(in, false);
	if (!v)
		return;
	struct pending *p = pending_of(v);
	if (p->on && !(b & 0x40)) {
		p->on = false;
		enter(v, &p->e, b & 0x20);                 /* the continued call, entered again */
		return;
	}
	enum cpu_mode mode = (b & 3) == 3 ? (b & 0x80 ? MODE_REAL : MODE_PROT16) : (b & 3) == 2 ? MODE_PROT32 : MODE_64;
	uint8_t cpl = (b & 0x0c) == 0x0c ? 3 : 0;
	bool lm = mode == MODE_64;
	if (again) {
		/* the same registers with one of them changed: walks an argument of a known-good call */
		uint8_t reg = gprs[take8(in) % ARRAY_SIZE(gprs)];
		v->regs.gpr[reg] = value(in);
	} else {
		uint8_t shape = take8(in);
		for (unsigned i = 0; i < ARRAY_SIZE(gprs); i++)
			v->regs.gpr[gprs[i]] = shape & 0x80 ? value(in) : 0;
		if (shape & 1) {
			uint64_t x = hv_input(in);
			if (lm) {
				v->regs.gpr[X86_RCX] = x;
			} else {
				v->regs.gpr[X86_RAX] = (uint32_t)x;
				v->regs.gpr[X86_RDX] = x >> 32;
			}
			if (!lm) {
				v->regs.gpr[X86_RCX] = (uint32_t)value(in);    /* input GPA, EBX:ECX */
				v->regs.gpr[X86_RSI] = (uint32_t)value(in);    /* output GPA, EDI:ESI */
			} else {
				v->regs.gpr[X86_RDX] = value(in);
				v->regs.gpr[X86_R8] = value(in);
			}
		} else {
			v->regs.gpr[X86_RAX] = shape & 2 ? EXT_NR_BASE + (take8(in) & 7) : value(in);
		}
		if (shape & 4)
			for (unsigned i = 0; i < 6; i++)
				fake.xmm[v->id][i][0] = value(in), fake.xmm[v->id][i][1] = value(in);
		/* RIP on one of the ABIs' hypercall pages (the dispatch rule), or anywhere */
		uint64_t gfn = 0;
		const struct hc_abi *page_abi = (shape & 8) ? &hyperv_abi : &xen_abi;
		if (shape & 0x10)
			v->regs.rip = value(in);
		else if ((shape & 0x20) && page_abi->page_gfn(v->vm, &gfn))
			v->regs.rip = gfn << PAGE_SHIFT | (take8(in) & 0xfe0);
		else
			v->regs.rip = RIP0;
	}
	struct vm_exit e = {
		.reason = VMEXIT_HYPERCALL, .insn_len = 3, .cpl = cpl, .mode = mode,
		.hc.insn = b & 0x10 ? HC_INSN_VMCALL : HC_INSN_VMMCALL,
	};
	if (p->on) {
		enter(v, &e, false);                        /* from the interrupt handler: to its end */
		v->regs = p->regs;                          /* its IRET: back on the continued call */
		return;
	}
	enter(v, &e, b & 0x20);
}

/*
 * Runs the call at RIP as the guest would: again and again while the
 * hypervisor leaves RIP on it (a continuation), at most MAX_REENTRIES times,
 * or once and then left pending. A continuation must move something forward.
 */
static void enter(struct vcpu *v, const struct vm_exit *e, bool leave_pending)
{
	uint64_t mem_before = 0;              /* RAM after the last continuation: before this entry */
	for (unsigned n = 0; n < MAX_REENTRIES; n++) {
		struct guest_regs before = v->regs;
		unsigned undef = fake.inject_undef;
		set_mode(v, e->mode);
		hc_dispatch(v, e);
		if (fake.inject_undef != undef || v->regs.rip != before.rip)
			return;                        /* completed, or refused with #UD */
		/* progress is in the registers, or in guest memory (a multicall entry's own arguments, as Xen keeps it) */
		uint64_t mem = ram_sum(v->vm);
		if (n && mem == mem_before && !memcmp(&before, &v->regs, sizeof(before)))
			DIE("a continued call (rax 0x%llx) made no progress",
			    (unsigned long long)before.gpr[X86_RAX]);
		mem_before = mem;
		if (v->state != VCPU_RUNNABLE || leave_pending) {
			/* it sleeps in the call, or takes an interrupt: entered again later */
			*pending_of(v) = (struct pending){ .on = true, .e = *e, .regs = v->regs };
			return;
		}
	}
}

/* The MSRs of every ABI, and their neighbours. */
static uint32_t pick_msr(struct in *in)
{
	static const uint32_t msrs[] = { FUZZ_MSRS };
	uint8_t b = take8(in);
	if (b < ARRAY_SIZE(msrs))
		return msrs[b];
	if (b < 0xe0)
		return HV_X64_MSR_SINT0 + (b & 0x3f);          /* SINTx, STIMERx, CRASH_Px and past them */
	return (uint32_t)take(in, 4);
}

static void op_msr(struct in *in, bool write)
{
	struct vcpu *v = pick_vcpu(in, false);
	uint32_t msr = pick_msr(in);
	if (!v)
		return;
	if (write) {
		uint64_t val = value(in);
		val |= take8(in) & 1;                          /* enable bits */
		hc_msr_write(v, msr, val);
	} else {
		uint64_t val;
		hc_msr_read(v, msr, &val);
	}
}

static void op_cpuid(struct in *in)
{
	struct vcpu *v = pick_vcpu(in, true);
	uint32_t leaf = HC_CPUID_BASE + (uint32_t)take(in, 2);
	struct cpuid_regs r;
	if (v)
		hc_cpuid(v, leaf, take8(in), &r);
}

/* The guest writes its own memory: builds the structures calls point at. */
static void op_poke(struct in *in)
{
	struct vm *vm = w.vm[(take8(in) & 1) && w.vm[VM_PEER] ? VM_PEER : VM_A];
	uint64_t gpa = gaddr(in);
	unsigned len = take8(in) % 65;
	uint8_t buf[64];
	for (unsigned i = 0; i < len; i++)
		buf[i] = take8(in);
	gmem_write(vm, mk_gpa(gpa), buf, len);             /* a guest cannot write where the gate refuses */
}

/* Time passes: every vCPU's timers that are due fire. */
static void op_time(struct in *in)
{
	static const uint64_t steps[] = { 1, 1000, 100000, 2000000, 2000000000ull };
	uint8_t b = take8(in);
	fake.counter += b < 0xf0 ? steps[b % ARRAY_SIZE(steps)] : take(in, 4);
	for (unsigned i = 0; i < NR_VMS; i++) {
		struct vm *vm = w.vm[i];
		if (!vm || vm_ended(vm) || i == VM_CANARY)
			continue;
		for (unsigned c = 0; c < vm->nr_vcpus; c++)
			hc_vcpu_timers(vm->vcpus[c], fake.counter);
	}
}

/* What the scheduler tells the ABIs, and a vCPU's INIT (another vCPU may send one). */
static void op_sched(struct in *in)
{
	uint8_t b = take8(in);
	struct vcpu *v = pick_vcpu(in, true);
	if (!v)
		return;
	switch (b % 6) {
	case 0:
		v->steal += take8(in) * 1000ull;
		hc_vcpu_scheduled(v);
		break;
	case 1: hc_vcpu_preempted(v); break;
	case 2: hc_vcpu_runstate(v); break;
	case 3: vcpu_wake(v); break;
	case 4:
		hc_vcpu_init(v);
		v->state = VCPU_RUNNABLE;
		pending_of(v)->on = false;                 /* INIT: RIP is elsewhere now */
		break;
	default:
		hc_clock_changed(v);
		break;
	}
}

/* Pages leave the VM and come back (as a balloon driver or the hypervisor's own calls do). */
static void op_balloon(struct in *in)
{
	struct vm *vm = w.vm[VM_A];
	uint64_t gfn = gaddr(in) >> PAGE_SHIFT;
	if (take8(in) & 1)
		gmem_page_restore(vm, gfn);
	else
		gmem_page_remove(vm, gfn);
}

static void run_op(struct in *in)
{
	uint8_t op = take8(in);
	switch (op % 16) {
	case 0: case 1: case 2: case 3: case 4: case 5: case 6:
		op_call(in, false);
		break;
	case 7: op_call(in, true); break;
	case 8: op_msr(in, true); break;
	case 9: op_msr(in, false); break;
	case 10: op_cpuid(in); break;
	case 11: case 12: op_poke(in); break;
	case 13: op_time(in); break;
	case 14: op_sched(in); break;
	default:
		if (op & 0x10)
			op_balloon(in);
		else if (w.vm[VM_PEER] && !vm_ended(w.vm[VM_PEER]))
			vm_end(w.vm[VM_PEER], VM_END_EXIT, 0, "fuzz");   /* the neighbour goes away mid-episode */
		break;
	}
}

/* ---- an episode ---- */

static void setup_policy(struct vm *vm, struct in *in)
{
	static const struct hc_abi *const abis[] = { &kvm_abi, &hyperv_abi, &xen_abi, &ext_abi };
	unsigned n = take8(in) % (HC_POLICY_MAX + 1);
	for (unsigned i = 0; i < n; i++) {
		uint8_t b = take8(in);
		vm->hc.policy.rule[i] = (struct hc_policy_rule){
			.abi = abis[b & 3], .nr = b & 4 ? HC_POLICY_ANY : take(in, 2), .allow = b & 8,
		};
	}
	vm->hc.policy.n = (uint8_t)n;
}

static void world_init(void)
{
	static bool once;
	if (once)
		return;
	once = true;
	hc_hook_add(&fuzz_hook);
	log_set_level(LOG_ERR);
	/* the canary's pattern: per process, so no input can carry it */
	FILE *f = fopen("/dev/urandom", "rb");
	if (!f || fread(&w.secret, sizeof(w.secret), 1, f) != 1)
		w.secret = (uint64_t)(uintptr_t)&w ^ 0x5851f42d4c957f2dull;
	if (f)
		fclose(f);
}

int fuzz_episode(enum fuzz_target t, const uint8_t *data, size_t size)
{
	static struct boot_info bi;
	struct in in = { data, size };
	world_init();
	uint64_t secret = w.secret;
	w = (struct world){ .target = t, .secret = secret };
	fake_arch_reset();
	fake_console_reset();
	/*
	 * The page allocator is set up once: every episode gives back every page
	 * (checked at its end), so each starts from the same free set.
	 */
	if (!pmm_total_pages())
		fake_pmm_setup(&bi);
	fake.counter = 1000000;
	time_init(2000000000ull, fake.counter, 0);
	uint64_t free_at_start = pmm_free_pages();

	uint8_t cfg = take8(&in);
	unsigned nvcpus = (cfg & 3) + 1;
	w.vm[VM_A] = new_vm(1, cfg & 4, nvcpus);
	set_abis(w.vm[VM_A], &in);
	if (cfg & 8) {
		w.vm[VM_PEER] = new_vm(2, false, 2);
		hc_vm_set_abis(w.vm[VM_PEER], w.vm[VM_A]->hc.abis, w.vm[VM_A]->hc.nr_abis);
	}
	w.vm[VM_CANARY] = new_canary(w.vm[VM_A]);
	w.canary_sum = canary_sum();
	if (t == FUZZ_MULTI) {
		w.vm[VM_A]->hc.ext = cfg & 0x20;
		if (cfg & 0x40)
			setup_policy(w.vm[VM_A], &in);
	}
	if (cfg & 0x80)
		for (unsigned i = take8(&in) % 8; i; i--)
			gmem_page_remove(w.vm[VM_A], gaddr(&in) >> PAGE_SHIFT);
	uint64_t hold = 0, held = 0;
	if (cfg & 0x10) {
		/* leave only `budget` host pages free: the calls' own allocations fail at some point */
		uint64_t budget = take8(&in);
		uint64_t avail = pmm_free_pages();
		if (avail > budget) {
			held = avail - budget;
			hold = pmm_alloc(held, PAGE_SIZE);
			if (!hold)
				held = 0;
		}
	}

	while (in.n)
		run_op(&in);

	if (canary_sum() != w.canary_sum)
		DIE("the bystander VM's memory changed");
	check_no_canary_in(w.vm[VM_A]);
	if (w.vm[VM_PEER])
		check_no_canary_in(w.vm[VM_PEER]);
	for (unsigned i = 0; i < NR_VMS; i++)
		if (w.vm[i])
			vm_end(w.vm[i], VM_END_EXIT, 0, "episode over");
	for (unsigned i = 0; i < NR_VMS; i++) {
		if (!w.vm[i])
			continue;
		hc_vm_destroy(w.vm[i]);
		gmem_destroy(w.vm[i]);
	}
	if (held)
		pmm_free(hold, held);
	if (pmm_free_pages() != free_at_start)
		DIE("%lld host pages not given back after every VM was destroyed",
		    (long long)(free_at_start - pmm_free_pages()));
	fake_cleanup();
	return 0;
}
