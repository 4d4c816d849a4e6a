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
/* The time a rep call may take before it returns to be continued (TLFS "Hypercall Continuation": ~50 us) */
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

/*
 * One call in progress. Its input comes from the registers (fast) or the
 * input page (slow, read through the gate by hv_call); a rep call updates
 * next_rep, and sets `more` when its time budget ran out first.
 */
struct hv_ctx {
	struct vcpu *v;
	struct hv_input in;
	uint64_t in_gpa, out_gpa;
	uint64_t input[HV_MAX_INPUT_QWORDS]; /* the fixed header, then the variable header */
	unsigned nr_qwords;                   /* how many of input[] the call has */
	uint16_t next_rep;                    /* rep calls: the next element to do */
	bool more;                            /* rep calls: stopped early, to be continued */
	uint64_t start;                       /* host counter when the call began */
};

/* Rep calls: whether the call has used its time budget (TLFS: about 50 us). */
bool hv_rep_budget_spent(const struct hv_ctx *c);
/* Rep calls: element i (8 bytes each, after the headers) of a slow call's input; 0 or -EFAULT. */
int hv_rep_element(const struct hv_ctx *c, unsigned i, uint64_t *val);

/* A processor set (HV_VP_SET, or a plain 64-bit mask): -1 for a bad one, else 0 and *mask filled. */
int hv_vp_set(const struct hv_ctx *c, unsigned at, uint64_t *mask, unsigned vp_count);

/* The reference TSC page's scale for a TSC of `hz`: floor(10^7 * 2^64 / hz); 0 below 10 MHz. */
uint64_t hv_ref_tsc_scale(uint64_t hz);

uint16_t hv_flush(struct hv_ctx *c);
uint16_t hv_send_ipi(struct hv_ctx *c);

#endif
