/*
 * The Hyper-V hypercall ABI (TLFS). The dispatcher (hypercalls/dispatch.c)
 * reads the input value and the two GPAs for either calling convention;
 * here the input value is decoded, once, and the call runs.
 */
#define LOG_SUB_FILE LOG_SUB_HYPERV   /* its messages: loglevel=hyperv:LEVEL */
#include "core/arch.h"
#include "core/gmem.h"
#include "core/string.h"
#include "core/sched.h"
#include "core/time.h"
#include "core/vm.h"
#include "hypercalls/hyperv/hv_abi.h"
#include "hypercalls/hyperv/hyperv.h"
#include "hypercalls/pvclock.h"

int hv_decode_input(uint64_t input, struct hv_input *in)
{
	*in = (struct hv_input){
		.code = (uint16_t)(input & HV_INPUT_CODE_MASK),
		.fast = input & HV_INPUT_FAST,
		.varhead = (uint16_t)((input & HV_INPUT_VARHEAD_MASK) >> HV_INPUT_VARHEAD_SHIFT),
		.nested = input & HV_INPUT_NESTED,
		.rep_count = (uint16_t)((input & HV_INPUT_REP_COUNT_MASK) >> HV_INPUT_REP_COUNT_SHIFT),
		.rep_start = (uint16_t)((input & HV_INPUT_REP_START_MASK) >> HV_INPUT_REP_START_SHIFT),
	};
	return (input & HV_INPUT_RESERVED) ? HV_STATUS_INVALID_HYPERCALL_INPUT : HV_STATUS_SUCCESS;
}

/*
 * HvCallNotifyLongSpinWait: the caller has spun long on a lock another vCPU
 * holds; give the CPU to another vCPU (KVM: kvm_vcpu_on_spin).
 */
static uint16_t hv_notify_long_spin_wait(struct hv_ctx *c)
{
	vcpu_yield(c->v);
	return HV_STATUS_SUCCESS;
}

/* HvExtCallQueryCapabilities: the extended calls offered, a bit each (TLFS "Extended Hypercalls"): none. */
static uint16_t hv_ext_query_capabilities(struct hv_ctx *c)
{
	uint64_t caps = 0;
	return hv_output(c, &caps) ? HV_STATUS_INVALID_HYPERCALL_INPUT : HV_STATUS_SUCCESS;
}

/*
 * What each call takes (struct hv_call_desc). Rep batches: a flush element
 * costs a read, a register element a lookup and a write; both batches stay
 * far below 50 us.
 */
#define HV_FLUSH_BATCH 1024
#define HV_VP_REGISTERS_BATCH 64
static const struct hv_call_desc hv_calls[] = {
	{ HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE, 3, false, 0, 0, 0, false, true, 0, hv_flush, "flush_virtual_address_space" },
	{ HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST, 3, false, 8, 0, 0, false, true, HV_FLUSH_BATCH, hv_flush, "flush_virtual_address_list" },
	{ HVCALL_NOTIFY_LONG_SPIN_WAIT, 1, false, 0, 0, 0, true, false, 0, hv_notify_long_spin_wait, "notify_long_spin_wait" },
	{ HVCALL_SEND_IPI, 2, false, 0, 0, 0, true, false, 0, hv_send_ipi, "send_synthetic_cluster_ipi" },
	{ HVCALL_FLUSH_VIRTUAL_ADDRESS_SPACE_EX, 4, true, 0, 0, 0, false, true, 0, hv_flush, "flush_virtual_address_space_ex" },
	{ HVCALL_FLUSH_VIRTUAL_ADDRESS_LIST_EX, 4, true, 8, 0, 0, false, true, HV_FLUSH_BATCH, hv_flush, "flush_virtual_address_list_ex" },
	{ HVCALL_SEND_IPI_EX, 3, true, 0, 0, 0, false, true, 0, hv_send_ipi, "send_synthetic_cluster_ipi_ex" },
	{ HVCALL_GET_VP_REGISTERS, 2, false, 4, 16, 0, false, true, HV_VP_REGISTERS_BATCH, hv_get_vp_registers, "get_vp_registers" },
	{ HVCALL_SET_VP_REGISTERS, 2, false, 32, 0, 0, false, true, HV_VP_REGISTERS_BATCH, hv_set_vp_registers, "set_vp_registers" },
	{ HVCALL_POST_MESSAGE, 32, false, 0, 0, 0, false, false, 0, hv_post_message, "post_message" },
	{ HVCALL_SIGNAL_EVENT, 1, false, 0, 0, 0, true, false, 0, hv_signal_event, "signal_event" },
	{ HVCALL_EXT_QUERY_CAPABILITIES, 0, false, 0, 0, 8, false, false, 0, hv_ext_query_capabilities, "ext_query_capabilities" },
};

static bool is_rep(const struct hv_call_desc *d)
{
	return d->in_elem || d->out_elem;
}

/*
 * Every entry does at least one element (progress); a slow call then stops
 * after d->batch of them, or once HV_REP_BUDGET_NS have passed since the
 * call began, with c->more set. A fast call (a few elements at most, its
 * output in registers) is never split. The limits live in locals: `one` is
 * called through a pointer, and the loop runs per element.
 */
uint16_t hv_rep_each(struct hv_ctx *c, uint16_t (*one)(struct hv_ctx *c, unsigned i))
{
	unsigned i = c->next_rep, first = c->in.rep_start, end = c->in.rep_count;
	bool fast = c->in.fast;
	unsigned batch_end = fast ? end : first + c->d->batch;
	uint64_t deadline = fast ? UINT64_MAX : c->start + time_counter_hz() / 1000000 * (HV_REP_BUDGET_NS / 1000);
	for (; i < end; i++) {
		if (i != first && (i >= batch_end || (!fast && arch_read_counter() >= deadline))) {
			c->more = true;
			break;
		}
		c->next_rep = (uint16_t)i;
		uint16_t status = one(c, i);
		if (status)
			return status;
	}
	c->next_rep = (uint16_t)i;
	return HV_STATUS_SUCCESS;
}

const void *hv_rep_in_fill(struct hv_ctx *c, unsigned i)
{
	unsigned elem = c->d->in_elem;
	uint64_t off = (uint64_t)c->nr_qwords * 8 + (uint64_t)i * elem;
	if (c->in.fast)
		return (const uint8_t *)c->input + off;   /* hv_check_and_read made sure the block holds every element */
	/*
	 * Slow: hv_check_and_read checked that the whole list is RAM on one page,
	 * so the elements are read ahead, a block at a time. A block that cannot
	 * be read (the page went away) falls back to this element alone. An
	 * element whose effect rewrites the input page (SetVpRegisters of SIMP,
	 * say) does not change the elements after it: the TLFS has the input
	 * stay as it is for the whole call.
	 */
	_Static_assert(sizeof(c->rep_cache) > UINT8_MAX, "a block holds at least one element of any size");
	unsigned n = MIN((unsigned)(sizeof(c->rep_cache) / elem), (unsigned)c->in.rep_count - i);
	c->rep_cache_n = 0;
	if (gmem_read(c->v->vm, mk_gpa(c->in_gpa + off), c->rep_cache, (size_t)n * elem)) {
		if (gmem_read(c->v->vm, mk_gpa(c->in_gpa + off), c->rep_cache, elem))
			return NULL;
		n = 1;
	}
	c->rep_cache_first = i;
	c->rep_cache_n = n;
	return c->rep_cache;
}

int hv_rep_in(struct hv_ctx *c, unsigned i, void *buf)
{
	const void *p = hv_rep_elem(c, i);
	if (!p)
		return -EFAULT;
	memcpy(buf, p, c->d->in_elem);
	return 0;
}

/* Output of a fast call goes to out[] (XMM registers), of a slow one to the output page. */
static int hv_put_output(struct hv_ctx *c, uint64_t off, const void *buf, size_t n)
{
	if (c->in.fast) {
		if (off + n > sizeof(c->out))
			return -EFAULT;
		memcpy((uint8_t *)c->out + off, buf, n);
		c->out_qwords = MAX(c->out_qwords, (unsigned)((off + n + 7) / 8));
		return 0;
	}
	return gmem_write(c->v->vm, mk_gpa(c->out_gpa + off), buf, n);
}

int hv_rep_out(struct hv_ctx *c, unsigned i, const void *buf)
{
	return hv_put_output(c, (uint64_t)i * c->d->out_elem, buf, c->d->out_elem);
}

int hv_output(struct hv_ctx *c, const void *buf)
{
	return hv_put_output(c, 0, buf, c->d->out_bytes);
}

/* How many XMM registers a fast call's input of `bytes` fills after RDX and R8. */
static unsigned xmm_regs_used(uint64_t bytes)
{
	return bytes <= HV_FAST_INPUT_BYTES ? 0 : (unsigned)((bytes - HV_FAST_INPUT_BYTES + 15) / 16);
}

/*
 * Everything about the input but the call's own meaning, in one place:
 * rep fields only on rep calls (a count, and a start below it), a variable
 * header only where one is defined, fast only where the input fits the
 * registers (RDX, R8, and XMM0-5 for the calls that take them); slow input
 * and output 8-byte aligned, each within one page and in guest RAM, not
 * overlapping.
 */
/* input[] past the `filled` qwords the guest supplied reads zero, up to a fast block (what a handler may read past its header). */
static void zero_input_tail(struct hv_ctx *c, unsigned filled)
{
	if (filled < HV_FAST_BLOCK_QWORDS)
		memset(&c->input[filled], 0, (HV_FAST_BLOCK_QWORDS - filled) * 8);
}

static uint16_t hv_check_and_read(const struct hv_call_desc *d, const struct hc_args *a, struct hv_ctx *c)
{
	const struct hv_input *in = &c->in;
	if (is_rep(d) ? (!in->rep_count || in->rep_start >= in->rep_count) : (in->rep_count || in->rep_start))
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	if (in->varhead && !d->varhead)
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	c->nr_qwords = d->header_qwords + in->varhead;
	if (c->nr_qwords > HV_MAX_INPUT_QWORDS)
		return HV_STATUS_INVALID_HYPERCALL_INPUT;
	uint64_t in_bytes = (uint64_t)c->nr_qwords * 8 + (uint64_t)in->rep_count * d->in_elem;
	uint64_t out_bytes = is_rep(d) ? (uint64_t)in->rep_count * d->out_elem : d->out_bytes;
	if (in->fast) {
		/* XMM input and output are offered in CPUID 0x40000003 EDX to every Hyper-V VM */
		uint64_t room = d->xmm_ok ? HV_XMM_INPUT_BYTES : HV_FAST_INPUT_BYTES;
		/* XMM output is for x64 callers only (TLFS "XMM Fast Hypercall Output") */
		if (!(d->fast_ok || d->xmm_ok) || in_bytes > room ||
		    (out_bytes && (!d->xmm_ok || !a->long_mode ||
		                   out_bytes > (HV_XMM_REGS - xmm_regs_used(in_bytes)) * 16ull)))
			return HV_STATUS_INVALID_HYPERCALL_INPUT;
		unsigned xmm = xmm_regs_used(in_bytes);
		c->input[0] = a->arg[1];
		c->input[1] = a->arg[2];
		if (xmm)
			arch_guest_xmm_read(c->v, xmm, &c->input[2]);
		zero_input_tail(c, 2 + 2 * xmm);
		/* the XMM output starts as zeroes where the call writes none */
		if (out_bytes)
			memset(c->out, 0, sizeof(c->out));
		return HV_STATUS_SUCCESS;
	}
	/*
	 * TLFS "Hypercall Status Codes": a list not 8-byte aligned, spanning
	 * pages or outside the partition's GPA space is INVALID_ALIGNMENT; a GPA
	 * for a list the call does not have is ignored ("Alignment Requirements").
	 */
	if ((in_bytes && ((c->in_gpa & 7) || (c->in_gpa & (PAGE_SIZE - 1)) + in_bytes > PAGE_SIZE ||
	                  !gmem_range_ok(c->v->vm, mk_gpa(c->in_gpa), in_bytes, false))) ||
	    (out_bytes && ((c->out_gpa & 7) || (c->out_gpa & (PAGE_SIZE - 1)) + out_bytes > PAGE_SIZE ||
	                   !gmem_range_ok(c->v->vm, mk_gpa(c->out_gpa), out_bytes, true))))
		return HV_STATUS_INVALID_ALIGNMENT;
	if (out_bytes && in_bytes && c->in_gpa < c->out_gpa + out_bytes && c->out_gpa < c->in_gpa + in_bytes)
		return HV_STATUS_INVALID_PARAMETER;
	if (gmem_read(c->v->vm, mk_gpa(c->in_gpa), c->input, (size_t)c->nr_qwords * 8))
		return HV_STATUS_INVALID_ALIGNMENT;
	zero_input_tail(c, c->nr_qwords);
	return HV_STATUS_SUCCESS;
}

/*
 * XMM fast output (TLFS "XMM Fast Hypercalls"): the output starts in the
 * first XMM register the input left unused and runs on through XMM5.
 */
static void hv_write_xmm_output(struct hv_ctx *c)
{
	unsigned first = xmm_regs_used((uint64_t)c->nr_qwords * 8 + (uint64_t)c->in.rep_count * c->d->in_elem);
	uint64_t regs[HV_XMM_REGS * 2];
	arch_guest_xmm_read(c->v, HV_XMM_REGS, regs);
	memcpy(&regs[first * 2], c->out, MIN((size_t)c->out_qwords * 8, sizeof(regs) - first * 16));
	arch_guest_xmm_write(c->v, HV_XMM_REGS, regs);
}

static uint64_t hv_call(struct vcpu *v, const struct hc_args *a, bool *done)
{
	struct hv_ctx c;
	memset(&c, 0, offsetof(struct hv_ctx, input));     /* not the arrays (90 qwords): filled before they are read */
	c.v = v;
	c.in_gpa = a->arg[1];
	c.out_gpa = a->arg[2];
	c.start = arch_read_counter();
	const struct hv_call_desc *d = NULL;
	*done = true;
	int status = hv_decode_input(a->arg[0], &c.in);
	if (c.in.code == HVCALL_VTL_CALL || c.in.code == HVCALL_VTL_RETURN) {
		/* without a higher VTL both raise #UD (TLFS "Virtual Secure Mode"); nothing else changes */
		arch_inject_undef(v);
		*done = false;
		return a->arg[0];
	}
	if (status)
		return (uint64_t)status;
	for (size_t i = 0; i < ARRAY_SIZE(hv_calls) && !d; i++)
		if (hv_calls[i].code == c.in.code)
			d = &hv_calls[i];
	if (!d)
		return HV_STATUS_INVALID_HYPERCALL_CODE;
	c.d = d;
	status = hv_check_and_read(d, a, &c);
	if (status)
		return (uint64_t)status;
	c.next_rep = c.in.rep_start;
	status = d->fn(&c);
	if (c.in.fast && c.out_qwords)
		hv_write_xmm_output(&c);
	if (!is_rep(d))
		return (uint64_t)status;
	if (!status && c.more) {
		/* continue where it stopped: RIP stays, the rep start index moves on (TLFS "Hypercall Continuation") */
		*done = false;
		return (a->arg[0] & ~HV_INPUT_REP_START_MASK) | ((uint64_t)c.next_rep << HV_INPUT_REP_START_SHIFT);
	}
	/* reps completed counts from 0, not from the start index (TLFS "Hypercall Outputs") */
	return (uint64_t)status | ((uint64_t)c.next_rep << HV_RESULT_REPS_SHIFT);
}

/* ---- discovery: exactly what works ---- */

bool hv_cpuid(struct vcpu *v UNUSED, uint32_t off, uint32_t subleaf UNUSED, struct cpuid_regs *out)
{
	switch (HC_CPUID_BASE + off) {
	case HV_CPUID_VENDOR_AND_MAX:
		*out = (struct cpuid_regs){ HV_CPUID_MAX_LEAF, HV_SIGNATURE_EBX, HV_SIGNATURE_ECX, HV_SIGNATURE_EDX };
		return true;
	case HV_CPUID_INTERFACE:
		*out = (struct cpuid_regs){ .eax = HV_INTERFACE_HV1 };
		return true;
	case HV_CPUID_VERSION:
		*out = (struct cpuid_regs){ .eax = HV_VERSION_BUILD, .ebx = HV_VERSION_MAJOR_MINOR };
		return true;
	case HV_CPUID_FEATURES:
		*out = (struct cpuid_regs){
			.eax = HV_MSR_TIME_REF_COUNT_AVAILABLE | HV_MSR_SYNIC_AVAILABLE |
			       HV_MSR_SYNTIMER_AVAILABLE | HV_MSR_APIC_ACCESS_AVAILABLE |
			       HV_MSR_HYPERCALL_AVAILABLE | HV_MSR_VP_INDEX_AVAILABLE |
			       HV_MSR_RESET_AVAILABLE | HV_MSR_REFERENCE_TSC_AVAILABLE |
			       HV_ACCESS_FREQUENCY_MSRS,
			.ebx = HV_POST_MESSAGES | HV_SIGNAL_EVENTS | HV_ACCESS_VP_REGISTERS |
			       HV_ENABLE_EXTENDED_HYPERCALLS,
			.edx = HV_X64_HYPERCALL_XMM_INPUT_AVAILABLE | HV_FEATURE_FREQUENCY_MSRS_AVAILABLE |
			       HV_FEATURE_GUEST_CRASH_MSR_AVAILABLE | HV_X64_HYPERCALL_XMM_OUTPUT_AVAILABLE |
			       HV_STIMER_DIRECT_MODE_AVAILABLE,
		};
		return true;
	case HV_CPUID_ENLIGHTENMENTS:
		*out = (struct cpuid_regs){
			.eax = HV_X64_REMOTE_TLB_FLUSH_RECOMMENDED | HV_X64_APIC_ACCESS_RECOMMENDED |
			       HV_DEPRECATING_AEOI_RECOMMENDED | HV_X64_CLUSTER_IPI_RECOMMENDED |
			       HV_X64_EX_PROCESSOR_MASKS_RECOMMENDED,
			.ebx = HV_SPINLOCK_RETRIES_NEVER,
		};
		return true;
	case HV_CPUID_LIMITS:
		*out = (struct cpuid_regs){ .eax = VM_MAX_VCPUS };
		return true;
	}
	/* 0x40000006-0x4000000a: defined, nothing offered */
	return HC_CPUID_BASE + off <= HV_CPUID_MAX_LEAF;
}

/* ---- synthetic MSRs ---- */

/*
 * The hypercall page: the vendor's call instruction and RET at offset 0,
 * INT3 elsewhere (the layout KVM and Xen write), and the VTL call and
 * return entries at the offsets HvRegisterVsmCodePageOffsets gives: they
 * put the control input in RAX (EAX:ECX in 32-bit code) and the call code
 * in RCX (EAX), as the TLFS's VTL entry expects, then make the call. The
 * entries are written for the mode of the vCPU that enables the page.
 * Written through the gate: a page outside guest RAM makes the MSR write
 * #GP, as in KVM.
 */
#define X86_INT3 0xcc
#define EFER_LMA (1ull << 10)          /* long mode active (SDM vol. 3A §2.2.1) */
#define X86_RET 0xc3

/* One entry: [mov rax, rcx | mov ecx, eax] mov e?x, code; the call; ret. */
static size_t vtl_entry(uint8_t *p, bool long_mode, uint32_t code)
{
	static const uint8_t mov_rax_rcx[] = { 0x48, 0x89, 0xc8 }, mov_ecx_eax[] = { 0x89, 0xc1 };
	size_t n = 0;
	if (long_mode) {
		memcpy(p, mov_rax_rcx, sizeof(mov_rax_rcx));
		n = sizeof(mov_rax_rcx);
		p[n++] = 0xb9;                  /* mov ecx, imm32 */
	} else {
		memcpy(p, mov_ecx_eax, sizeof(mov_ecx_eax));
		n = sizeof(mov_ecx_eax);
		p[n++] = 0xb8;                  /* mov eax, imm32 */
	}
	memcpy(p + n, &code, sizeof(code));
	n += sizeof(code);
	n += arch_hypercall_insn(p + n);
	p[n++] = X86_RET;
	return n;
}

static int hv_write_hypercall_page(struct vcpu *v, uint64_t gpa)
{
	uint8_t page_start[HV_PAGE_VTL_RETURN_OFFSET + 32];
	struct arch_ctrl_regs cr;
	if (!gmem_range_ok(v->vm, mk_gpa(gpa), PAGE_SIZE, true))
		return -EFAULT;
	arch_vcpu_ctrl_regs(v, &cr);
	bool long_mode = cr.efer & EFER_LMA;
	memset(page_start, X86_INT3, sizeof(page_start));
	size_t n = arch_hypercall_insn(page_start);
	page_start[n] = X86_RET;
	vtl_entry(page_start + HV_PAGE_VTL_CALL_OFFSET, long_mode, HVCALL_VTL_CALL);
	vtl_entry(page_start + HV_PAGE_VTL_RETURN_OFFSET, long_mode, HVCALL_VTL_RETURN);
	for (uint64_t off = 0; off < PAGE_SIZE; off += sizeof(page_start)) {
		size_t len = MIN(sizeof(page_start), PAGE_SIZE - off);
		gmem_write(v->vm, mk_gpa(gpa + off), page_start, len);
		memset(page_start, X86_INT3, sizeof(page_start));
	}
	return 0;
}

/* TIME_REF_COUNT: 100 ns units since the partition was created. */
uint64_t hv_time_ref_count(const struct vm *vm)
{
	return pvclock_ns(vm, arch_read_counter()) / 100;
}

/* floor(HV_REF_TIME_HZ * 2^64 / hz) by long division (no 128-bit divide in the hypervisor). */
uint64_t hv_ref_tsc_scale(uint64_t hz)
{
	uint64_t q = 0, r = HV_REF_TIME_HZ;
	if (hz <= HV_REF_TIME_HZ)
		return 0;                       /* a counter slower than 10 MHz: the page is not offered */
	for (int i = 0; i < 64; i++) {
		r <<= 1;
		q <<= 1;
		if (r >= hz) {
			r -= hz;
			q |= 1;
		}
	}
	return q;
}

/*
 * The reference TSC page: scale and offset such that the guest computes
 * TIME_REF_COUNT from its TSC. Only with a TSC of constant rate; otherwise
 * the sequence is 0 and the guest reads the MSR (TLFS). Rewritten whenever
 * the guest's TSC changes; the sequence moves on each time, skipping 0.
 */
static int hv_write_tsc_page(struct vcpu *v)
{
	struct hv_vm_state *h = &v->vm->hc.hv;
	if (!(h->reference_tsc & HV_X64_MSR_TSC_REFERENCE_ENABLE))
		return 0;
	struct hv_ref_tsc_page p = { 0 };
	uint64_t scale = hv_ref_tsc_scale(time_counter_hz());
	if (arch_counter_is_stable() && scale) {
		uint64_t host = arch_read_counter();
		uint64_t tsc = arch_guest_counter(v, host);
		uint64_t from_tsc = (uint64_t)(((unsigned __int128)tsc * scale) >> 64);
		uint64_t ref = time_apply_scale(host - v->vm->clock_base, time_ns_scale()) / 100;
		h->tsc_sequence = h->tsc_sequence + 1 ? h->tsc_sequence + 1 : 1;
		p = (struct hv_ref_tsc_page){ h->tsc_sequence, 0, scale, (int64_t)(ref - from_tsc) };
	}
	return gmem_write(v->vm, mk_gpa(h->reference_tsc & ~(uint64_t)(PAGE_SIZE - 1)), &p, sizeof(p));
}

static void hv_clock_changed(struct vcpu *v)
{
	hv_write_tsc_page(v);
}

/* CRASH_CTL with CRASH_NOTIFY: the guest's crash report (P0-P4, as Windows and Linux fill them) ends the VM. */
static void hv_crash(struct vcpu *v)
{
	const uint64_t *p = v->vm->hc.hv.crash;
	vm_end(v->vm, VM_END_GUEST_CRASH, 0,
	       "vcpu%u: guest crash report P0 0x%llx P1 0x%llx P2 0x%llx P3 0x%llx P4 0x%llx", v->id,
	       (unsigned long long)p[0], (unsigned long long)p[1], (unsigned long long)p[2],
	       (unsigned long long)p[3], (unsigned long long)p[4]);
}

/* Local-APIC offsets the synthetic APIC MSRs alias (TLFS "Synthetic APIC MSRs"; KVM kvm_hv_vapic_msr_*). */
#define APIC_OFF_TPR    0x080
#define APIC_OFF_EOI    0x0b0
#define APIC_OFF_ICR_LO 0x300
#define APIC_OFF_ICR_HI 0x310

int hv_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val)
{
	const struct hv_vm_state *h = &v->vm->hc.hv;
	switch (msr) {
	case HV_X64_MSR_GUEST_OS_ID:    *val = h->guest_os_id; return 0;
	case HV_X64_MSR_HYPERCALL:      *val = h->hypercall; return 0;
	case HV_X64_MSR_VP_INDEX:       *val = v->id; return 0;
	case HV_X64_MSR_TIME_REF_COUNT: *val = hv_time_ref_count(v->vm); return 0;
	case HV_X64_MSR_TSC_FREQUENCY:  *val = time_counter_hz(); return 0;
	case HV_X64_MSR_APIC_FREQUENCY: *val = arch_apic_timer_hz(); return 0;
	case HV_X64_MSR_REFERENCE_TSC:  *val = h->reference_tsc; return 0;
	case HV_X64_MSR_CRASH_CTL:      *val = HV_CRASH_CTL_CRASH_NOTIFY; return 0;
	case HV_X64_MSR_RESET:          *val = 0; return 0;
	case HV_X64_MSR_EOI:            *val = 0; return 0;
	case HV_X64_MSR_TPR:            *val = arch_apic_reg_read(v, APIC_OFF_TPR); return 0;
	case HV_X64_MSR_ICR:
		*val = (uint64_t)arch_apic_reg_read(v, APIC_OFF_ICR_HI) << 32 | arch_apic_reg_read(v, APIC_OFF_ICR_LO);
		return 0;
	}
	if (msr >= HV_X64_MSR_CRASH_P0 && msr <= HV_X64_MSR_CRASH_P4) {
		*val = h->crash[msr - HV_X64_MSR_CRASH_P0];
		return 0;
	}
	return hv_synic_msr_read(v, msr, val);
}

int hv_msr_write(struct vcpu *v, uint32_t msr, uint64_t val)
{
	struct hv_vm_state *h = &v->vm->hc.hv;
	switch (msr) {
	case HV_X64_MSR_GUEST_OS_ID:
		h->guest_os_id = val;
		if (!val)                       /* an OS ID of 0 turns the hypercall page off (KVM hyperv.c) */
			h->hypercall &= ~HV_X64_MSR_HYPERCALL_ENABLE;
		return 0;
	case HV_X64_MSR_HYPERCALL:
		/* ignored until the guest says who it is; a locked value stays (TLFS) */
		if (!h->guest_os_id || (h->hypercall & HV_X64_MSR_HYPERCALL_LOCKED))
			return 0;
		if ((val & HV_X64_MSR_HYPERCALL_ENABLE) &&
		    hv_write_hypercall_page(v, val & ~(PAGE_SIZE - 1)))
			return -EINVAL;
		h->hypercall = val;
		return 0;
	case HV_X64_MSR_REFERENCE_TSC: {
		uint64_t old = h->reference_tsc;
		h->reference_tsc = val;
		if (hv_write_tsc_page(v)) {
			h->reference_tsc = old;
			return -EINVAL;         /* the page is not guest RAM */
		}
		return 0;
	}
	case HV_X64_MSR_CRASH_CTL:
		if (val & HV_CRASH_CTL_CRASH_NOTIFY)
			hv_crash(v);
		return 0;
	case HV_X64_MSR_RESET:
		/* 1 resets the partition (KVM: exactly 1; its VMM resets the VM): the VM ends, reporting it */
		if (val == HV_X64_MSR_RESET_BIT)
			vm_end(v->vm, VM_END_RESET, 0, "vcpu%u: the guest reset the partition (HV_X64_MSR_RESET)", v->id);
		return 0;
	case HV_X64_MSR_EOI:
		arch_apic_reg_write(v, APIC_OFF_EOI, 0);
		return 0;
	case HV_X64_MSR_TPR:
		if (val >> 8)
			return -EINVAL;
		arch_apic_reg_write(v, APIC_OFF_TPR, (uint32_t)val);
		return 0;
	case HV_X64_MSR_ICR:
		/* xAPIC layout: destination in bits 63:56; writing the low half sends */
		arch_apic_reg_write(v, APIC_OFF_ICR_HI, (uint32_t)(val >> 32));
		arch_apic_reg_write(v, APIC_OFF_ICR_LO, (uint32_t)val);
		return 0;
	case HV_X64_MSR_VP_INDEX:
	case HV_X64_MSR_TIME_REF_COUNT:
	case HV_X64_MSR_TSC_FREQUENCY:
	case HV_X64_MSR_APIC_FREQUENCY:
		return -EINVAL;                 /* read-only for the guest (KVM: #GP) */
	}
	if (msr >= HV_X64_MSR_CRASH_P0 && msr <= HV_X64_MSR_CRASH_P4) {
		h->crash[msr - HV_X64_MSR_CRASH_P0] = val;
		return 0;
	}
	return hv_synic_msr_write(v, msr, val);
}

static bool hv_page_gfn(const struct vm *vm, uint64_t *gfn)
{
	*gfn = vm->hc.hv.hypercall >> PAGE_SHIFT;
	return vm->hc.hv.hypercall & HV_X64_MSR_HYPERCALL_ENABLE;
}

static const char *hv_call_name(uint64_t code)
{
	for (size_t i = 0; i < ARRAY_SIZE(hv_calls); i++)
		if (hv_calls[i].code == code)
			return hv_calls[i].name;
	return NULL;
}

const struct hc_abi hyperv_abi = {
	.name = "hyperv",
	.conv = HC_CONV_HYPERV,
	.hv_call = hv_call,
	.err_denied = HV_STATUS_ACCESS_DENIED,   /* TLFS: the caller lacks the privilege */
	.call_name = hv_call_name,
	.cpuid = hv_cpuid,
	.page_gfn = hv_page_gfn,
	.msr_read = hv_msr_read,
	.msr_write = hv_msr_write,
	.clock_changed = hv_clock_changed,
	.timers = hv_stimer_poll,
};
