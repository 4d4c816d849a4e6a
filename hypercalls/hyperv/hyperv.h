/* Shared by the files of the Hyper-V ABI, and by the unit tests. */
#ifndef HYPERCALLS_HYPERV_HYPERV_H
#define HYPERCALLS_HYPERV_HYPERV_H

#include "hypercalls/hypercall.h"

/*
 * The largest fixed plus variable header a call here takes: an Ex call's
 * two qwords, the set's format and bank mask, and 64 banks. Rep elements
 * are read one at a time.
 */
#define HV_MAX_INPUT_QWORDS 68
/*
 * The time a rep call may take before it returns to be continued (TLFS
 * "Hypercall Continuation": ~50 us). It is counted in elements, a number
 * per call chosen so that the batch stays well within the time on any CPU
 * that can run us, and in host counter time as a backstop.
 */
#define HV_REP_BUDGET_NS 50000

/* A decoded hypercall input value (TLFS "Hypercall Inputs"). */
struct hv_input {
	uint16_t code;
	bool fast;
	uint16_t varhead;              /* variable header size, 8-byte units */
	bool nested;
	uint16_t rep_count, rep_start;
};

/* Decodes `input`; HV_STATUS_INVALID_HYPERCALL_INPUT when a reserved bit is set. */
int hv_decode_input(uint64_t input, struct hv_input *in);

/* The qwords of an XMM fast call's register block: RDX, R8, XMM0-XMM5. */
#define HV_FAST_BLOCK_QWORDS 14
/* Slow rep calls read their elements this many qwords at a time (one guest-memory access, not one per element). */
#define HV_REP_CACHE_QWORDS 32

struct hv_call_desc;

/*
 * One call in progress. Its input comes from the registers (fast: the
 * block RDX, R8, XMM0-5, headers then rep elements) or the input page
 * (slow: the headers read by hv_call, elements by hv_rep_in). A rep call
 * updates next_rep, and sets `more` when its budget ran out first.
 */
struct hv_ctx {
	struct vcpu *v;
	const struct hv_call_desc *d;
	struct hv_input in;
	uint64_t in_gpa, out_gpa;
	unsigned nr_qwords;                   /* how many of input[] are headers */
	unsigned out_qwords;                  /* how many of out[] the call wrote */
	uint16_t next_rep;                    /* rep calls: the next element to do */
	bool more;                            /* rep calls: stopped early, to be continued */
	uint64_t start;                       /* host counter when the call began */
	/* rep calls, slow: elements read ahead from the input page (rep_cache_first: the first one's index) */
	unsigned rep_cache_first, rep_cache_n;
	/* the arrays last: hv_call zeroes what is above, input[] and out[] are filled before they are read */
	uint64_t input[HV_MAX_INPUT_QWORDS]; /* the fixed header, then the variable header */
	uint64_t out[HV_FAST_BLOCK_QWORDS];   /* fast calls: output for the XMM registers */
	uint64_t rep_cache[HV_REP_CACHE_QWORDS];
};

/*
 * What each call takes: its fixed header (qwords), whether a variable
 * header may follow, its rep elements' size in and out (bytes; 0: not a
 * rep call), its fixed output (bytes), whether it may be made fast (then
 * the input is RDX/R8, and for xmm also XMM0-5), and for a rep call how
 * many elements one entry does at most (its budget).
 */
struct hv_call_desc {
	uint16_t code;
	uint8_t header_qwords;
	bool varhead;
	uint8_t in_elem, out_elem;
	uint8_t out_bytes;
	bool fast_ok, xmm_ok;
	uint16_t batch;
	uint16_t (*fn)(struct hv_ctx *c);
	const char *name;
};

/*
 * Rep calls: runs `one` on each element from c->next_rep on, until the
 * budget is spent (c->more) or an element fails (its status ends the call).
 */
uint16_t hv_rep_each(struct hv_ctx *c, uint16_t (*one)(struct hv_ctx *c, unsigned i));
/*
 * Rep calls: input element i (d->in_elem bytes, after the headers), where
 * it was read to; NULL if it cannot be read. Valid until the next call.
 */
const void *hv_rep_in_fill(struct hv_ctx *c, unsigned i);
static inline const void *hv_rep_elem(struct hv_ctx *c, unsigned i)
{
	/* read ahead already (unsigned: an i below the first misses) */
	if (i - c->rep_cache_first < c->rep_cache_n)
		return (const uint8_t *)c->rep_cache + (size_t)(i - c->rep_cache_first) * c->d->in_elem;
	return hv_rep_in_fill(c, i);
}
/* The same, copied to buf; 0 or -EFAULT. */
int hv_rep_in(struct hv_ctx *c, unsigned i, void *buf);
/* Rep calls: output element i (d->out_elem bytes); 0 or -EFAULT. */
int hv_rep_out(struct hv_ctx *c, unsigned i, const void *buf);
/* Calls with a fixed output: writes it (d->out_bytes); 0 or -EFAULT. */
int hv_output(struct hv_ctx *c, const void *buf);

/* A processor set (HV_VP_SET, or a plain 64-bit mask): -1 for a bad one, else 0 and *mask filled. */
int hv_vp_set(const struct hv_ctx *c, unsigned at, uint64_t *mask, unsigned vp_count);

/* The reference TSC page's scale for a TSC of `hz`: floor(10^7 * 2^64 / hz); 0 below 10 MHz. */
uint64_t hv_ref_tsc_scale(uint64_t hz);

/* The synthetic MSRs of one group: 0, -ENOENT if `msr` is not one of them, -EINVAL for #GP. */
int hv_synic_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val);
int hv_synic_msr_write(struct vcpu *v, uint32_t msr, uint64_t val);
int hv_msr_read(struct vcpu *v, uint32_t msr, uint64_t *val);
int hv_msr_write(struct vcpu *v, uint32_t msr, uint64_t val);
/* The Hyper-V leaves, at offset `off` from 0x40000000. */
bool hv_cpuid(struct vcpu *v, uint32_t off, uint32_t subleaf, struct cpuid_regs *out);
/* Reference time (100 ns units since the partition was created) now. */
uint64_t hv_time_ref_count(const struct vm *vm);
/* Fires v's synthetic timers that are due; returns when the next is due (host counter) or UINT64_MAX. */
uint64_t hv_stimer_poll(struct vcpu *v, uint64_t now);
/* Where the VTL call and return entries are in the hypercall page (HvRegisterVsmCodePageOffsets). */
#define HV_PAGE_VTL_CALL_OFFSET   0x20
#define HV_PAGE_VTL_RETURN_OFFSET 0x40

uint16_t hv_flush(struct hv_ctx *c);
uint16_t hv_send_ipi(struct hv_ctx *c);
uint16_t hv_post_message(struct hv_ctx *c);
uint16_t hv_signal_event(struct hv_ctx *c);
uint16_t hv_get_vp_registers(struct hv_ctx *c);
uint16_t hv_set_vp_registers(struct hv_ctx *c);

#endif
