/*
 * Bringing HVM vCPUs up and down by hypercall: VCPUOP_initialise, _up,
 * _down and _is_up (xen/include/public/vcpu.h, hvm/hvm_vcpu.h; the
 * behaviour of xen/common/domain.c and xen/arch/x86/hvm/domain.c
 * arch_set_info_hvm_guest). The PVH ABI allows AP start this way or by
 * the local APIC; hvmloader and XTF use it.
 *
 * Xen's two flags map onto the scheduler's states: a vCPU is initialised
 * unless it waits for a start (an AP before INIT-SIPI or VCPUOP_initialise,
 * or after an INIT), and down while it waits or is VCPU_DOWN. Initialise
 * leaves the vCPU initialised and down; up runs it; down takes it off the
 * CPU, and downing the last vCPU up powers the domain off, as Xen does.
 * A SIPI is ignored by an initialised vCPU (Xen hvm_vcpu_reset_state).
 */
#define LOG_SUB_FILE LOG_SUB_XEN   /* its messages: loglevel=xen:LEVEL */
#include "core/arch.h"
#include "core/sched.h"
#include "core/string.h"
#include "core/vm.h"
#include "hypercalls/xen/xen.h"
#include "hypercalls/xen/xen_abi.h"

#define VCPU_HVM_MODE_32B 0
#define VCPU_HVM_MODE_64B 1
#define EFLAGS_ALL  0x3f7fd5u        /* the flags Xen keeps (X86_EFLAGS_ALL); bit 1 is forced on */
#define EFLAGS_MBS  0x2u
#define EFLAGS_VM   (1u << 17)
#define CR0_PE 1u
#define CR0_PG (1u << 31)
#define CR0_DEFINED 0xe005003fu      /* PE MP EM TS ET NE WP AM NW CD PG */
#define CR4_PAE (1u << 5)
/* VME PVI TSD DE PSE PAE MCE PGE PCE OSFXSR OSXMMEXCPT FSGSBASE PCIDE OSXSAVE SMEP SMAP */
#define CR4_VALID 0x3707ffu
#define EFER_SCE (1u << 0)
#define EFER_LME (1u << 8)
#define EFER_LMA (1u << 10)
#define EFER_NXE (1u << 11)

static bool initialised(const struct vcpu *t) { return t->state != VCPU_WAIT_SIPI; }
bool xen_vcpu_is_up(const struct vcpu *t) { return initialised(t) && t->state != VCPU_DOWN; }

enum seg_kind { SEG_CS, SEG_SS, SEG_DATA, SEG_TR };

/*
 * Xen check_segment: the 12 attribute bits (type 0-3, S 4, DPL 5-6, P 7,
 * AVL 8, L 9, D/B 10, G 11); a present segment gets its accessed (busy,
 * for TR) bit set first.
 */
static bool segment_ok(struct arch_seg *s, enum seg_kind k)
{
	if (s->attr & 0xf000)
		return false;
	if (!s->attr)
		return k == SEG_DATA;                          /* only DS and ES may be null */
	if (s->attr & 0x80)
		s->attr |= k == SEG_TR ? 2 : 1;
	unsigned type = s->attr & 0xf;
	bool code_data = s->attr & 0x10;
	if (k == SEG_TR ? code_data || type != 0xb : !code_data)
		return false;
	if (!(s->attr & 0x80))
		return false;                                  /* not present */
	if (k == SEG_CS)
		return type & 0x8;
	if (k == SEG_SS)
		return !(type & 0x8) && (type & 0x2);          /* writable data */
	return k != SEG_DATA || !(type & 0x8) || (type & 0x2);   /* code must be readable */
}

static unsigned dpl(const struct arch_seg *s) { return (s->attr >> 5) & 3; }

/*
 * struct vcpu_hvm_context (128 bytes, both modes): mode, pad, then
 * vcpu_hvm_x86_32 { eax ecx edx ebx esp ebp esi edi eip eflags cr0 cr3 cr4
 * pad1 (u32 each); efer (u64); cs ds ss es tr base, then limit (u32);
 * cs ds ss es tr ar (u16); pad2[3] } or vcpu_hvm_x86_64 { rax rcx rdx rbx
 * rsp rbp rsi rdi rip rflags cr0 cr3 cr4 efer (u64) }.
 */
static int64_t parse_context(const uint8_t *b, struct arch_vcpu_context *c)
{
	uint32_t mode, pad;
	memcpy(&mode, b, 4);
	memcpy(&pad, b + 4, 4);
	const uint8_t *r = b + 8;
	*c = (struct arch_vcpu_context){ 0 };
	if (pad)
		return -XEN_EINVAL;
	if (mode == VCPU_HVM_MODE_32B) {
		uint32_t w[14], base[5], limit[5];
		uint16_t ar[5], pad2[3];
		memcpy(w, r, sizeof(w));                       /* eax .. cr4, pad1 */
		memcpy(&c->efer, r + 56, 8);
		memcpy(base, r + 64, sizeof(base));
		memcpy(limit, r + 84, sizeof(limit));
		memcpy(ar, r + 104, sizeof(ar));
		memcpy(pad2, r + 114, sizeof(pad2));
		if (w[13] || pad2[0] || pad2[1] || pad2[2])
			return -XEN_EINVAL;
		struct arch_seg *seg[5] = { &c->cs, &c->ds, &c->ss, &c->es, &c->tr };
		for (unsigned i = 0; i < 5; i++)
			*seg[i] = (struct arch_seg){ base[i], limit[i], ar[i] };
		if (!segment_ok(&c->cs, SEG_CS) || !segment_ok(&c->ds, SEG_DATA) || !segment_ok(&c->ss, SEG_SS) ||
		    !segment_ok(&c->es, SEG_DATA) || !segment_ok(&c->tr, SEG_TR))
			return -XEN_EINVAL;
		uint64_t cs_limit = c->cs.attr & 0x800 ? (uint64_t)c->cs.limit << 12 | 0xfff : c->cs.limit;
		if (w[8] > cs_limit || dpl(&c->ss) != dpl(&c->cs) ||
		    ((c->ds.attr & 0x80) && dpl(&c->ds) > dpl(&c->cs)) ||
		    ((c->es.attr & 0x80) && dpl(&c->es) > dpl(&c->cs)))
			return -XEN_EINVAL;
		if ((c->efer & EFER_LMA) && !(c->efer & EFER_LME))
			return -XEN_EINVAL;
		for (unsigned i = 0; i < 8; i++)
			c->gpr[i] = w[i];
		c->rip = w[8];
		c->rflags = w[9];
		c->cr0 = w[10];
		c->cr3 = w[11];
		c->cr4 = w[12];
	} else if (mode == VCPU_HVM_MODE_64B) {
		uint64_t q[14];
		memcpy(q, r, sizeof(q));
		memcpy(c->gpr, q, sizeof(c->gpr));
		c->rip = q[8], c->rflags = q[9], c->cr0 = q[10], c->cr3 = q[11], c->cr4 = q[12], c->efer = q[13];
		if ((uint64_t)((int64_t)(c->rip << 16) >> 16) != c->rip)
			return -XEN_EINVAL;                        /* not canonical */
		if (!(c->cr0 & CR0_PG) || !(c->cr4 & CR4_PAE) || !(c->efer & EFER_LME))
			return -XEN_EINVAL;
		/* long mode directly: the cached segments set to match (Xen's SEG() values) */
		c->cs = (struct arch_seg){ 0, UINT32_MAX, 0xa9b };
		c->ds = c->ss = c->es = (struct arch_seg){ 0, UINT32_MAX, 0xc93 };
		c->tr = (struct arch_seg){ 0, 0x67, 0x8b };
	} else {
		return -XEN_EINVAL;
	}
	c->rflags = (c->rflags & EFLAGS_ALL) | EFLAGS_MBS;
	if (c->efer & EFER_LME)
		c->efer |= EFER_LMA;
	/*
	 * Xen checks CR4 and EFER against what the domain's CPUID offers. It
	 * takes any CR0 and EFLAGS; we also refuse the states no entry can
	 * take or that we do not emulate (PG without PE, undefined CR0 bits,
	 * virtual-8086 mode): never a VM entry that fails.
	 */
	if ((c->cr4 & ~(uint64_t)CR4_VALID) ||
	    (c->efer & ~(uint64_t)(EFER_SCE | EFER_LME | EFER_LMA | EFER_NXE)) ||
	    (c->cr0 & ~(uint64_t)CR0_DEFINED) || ((c->cr0 & CR0_PG) && !(c->cr0 & CR0_PE)) ||
	    (c->rflags & EFLAGS_VM))
		return -XEN_EINVAL;
	return 0;
}

static int64_t initialise(struct vcpu *v, struct vcpu *t, uint64_t gpa)
{
	uint8_t b[128];
	struct arch_vcpu_context c;
	if (xen_copy_in(v, gpa, b, sizeof(b)))
		return -XEN_EFAULT;
	if (initialised(t))
		return -XEN_EEXIST;
	int64_t r = parse_context(b, &c);
	if (r)
		return r;
	if (arch_vcpu_set_context(t, &c))
		return -XEN_EINVAL;                            /* a state this CPU cannot run (no unrestricted guest) */
	t->state = VCPU_DOWN;                              /* initialised, not yet up */
	t->hc.xen.down_halted = false;
	hc_vcpu_runstate(t);
	return 0;
}

/* Down: off the CPU until up; the last vCPU up going down powers the domain off (Xen domain_shutdown). */
static int64_t down(struct vcpu *v, struct vcpu *t)
{
	bool others_up = false;
	for (unsigned i = 0; i < v->vm->nr_vcpus; i++)
		others_up |= v->vm->vcpus[i] != t && xen_vcpu_is_up(v->vm->vcpus[i]);
	if (!others_up) {
		vm_end(v->vm, VM_END_EXIT, SHUTDOWN_poweroff, "vcpu%u: VCPUOP_down of vCPU %u, the last one up: poweroff",
		       v->id, t->id);
		return 0;
	}
	if (xen_vcpu_is_up(t)) {
		t->hc.xen.down_halted = t->state == VCPU_HALTED;
		t->state = VCPU_DOWN;
		hc_vcpu_runstate(t);
	}
	return 0;
}

/* Up: an initialised vCPU runs again, from where it was (asleep in HLT if it was); already up: nothing. */
static int64_t up(struct vcpu *t)
{
	if (!initialised(t))
		return -XEN_EINVAL;
	if (t->state != VCPU_DOWN)
		return 0;
	if (t->hc.xen.down_halted) {
		t->state = VCPU_HALTED;
		hc_vcpu_runstate(t);
		sched_poke();           /* the scheduler wakes it after this exit if something is due */
	} else {
		vcpu_wake(t);
	}
	return 0;
}

int64_t xen_vcpu_up_op(struct vcpu *v, struct vcpu *t, const struct hc_args *a)
{
	switch ((uint32_t)a->arg[0]) {
	case VCPUOP_initialise:
		return initialise(v, t, a->arg[2]);
	case VCPUOP_up:
		return up(t);
	case VCPUOP_down:
		return down(v, t);
	default:                                           /* VCPUOP_is_up */
		return xen_vcpu_is_up(t);
	}
}
