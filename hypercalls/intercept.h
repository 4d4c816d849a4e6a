/*
 * The interception point of the dispatcher (hypercalls/dispatch.c): every
 * hypercall, of every ABI, passes the hooks before its handler runs (they
 * may look, rewrite its arguments, send it to another ABI the VM speaks,
 * or deny it) and after it has completed (they see the result). The
 * hypervisor's own policy (per-VM allow/deny lists), counters and trace
 * ring are hooks like any other (hypercalls/intercept.c); a research user
 * adds one with hc_hook_add.
 */
#ifndef HYPERCALLS_INTERCEPT_H
#define HYPERCALLS_INTERCEPT_H

#include "core/vm.h"
#include "hypercalls/hypercall.h"

/* hc_dispatch sets each field itself (not a zeroed struct, on the hot path): a new field is set there too. */
struct hc_call_info {
	const struct hc_abi *abi;      /* the ABI the call goes to (a hook may change it) */
	uint64_t nr;                   /* the call number (Hyper-V: the call code) */
	struct hc_args args;           /* as decoded: a hook may rewrite them */
	uint8_t cpl;
	/* after the call */
	int64_t result;                /* what the guest got: -errno, or the Hyper-V result value */
	bool error;                    /* the ABI's error, a fault (#UD) or a denial */
	bool faulted;                  /* refused with a fault, before any handler (Hyper-V #UD) */
	bool denied;                   /* a hook denied it: the ABI's permission error */
};

enum hc_verdict { HC_CONTINUE, HC_DENY };

struct hc_hook {
	const char *name;
	/* Before the handler: HC_DENY stops the call with its ABI's permission error. */
	enum hc_verdict (*before)(struct vcpu *v, struct hc_call_info *c);
	/* After the call completed (a continued call: once, at its end). */
	void (*after)(struct vcpu *v, const struct hc_call_info *c);
};

/* A hook of one's own, after the built-in ones; 0 or -ENOSPC. */
int hc_hook_add(const struct hc_hook *h);

/* Run by the dispatcher. */
enum hc_verdict hc_hooks_run_before(struct vcpu *v, struct hc_call_info *c);
void hc_hooks_after(struct vcpu *v, const struct hc_call_info *c);
/* Hooks added with hc_hook_add; with none and no policy rules, nothing runs before a call. */
extern unsigned hc_nr_hooks;
static inline enum hc_verdict hc_hooks_before(struct vcpu *v, struct hc_call_info *c)
{
	if (!hc_nr_hooks && !v->vm->hc.policy.n)
		return HC_CONTINUE;
	return hc_hooks_run_before(v, c);
}

/* The name of call nr of abi ("?" when unknown), and the number for a name: 0 or -ENOENT. */
const char *hc_call_name(const struct hc_abi *abi, uint64_t nr);
int hc_call_by_name(const struct hc_abi *abi, const char *name, size_t len, uint64_t *nr);

/* The VM's per-call counters and its trace ring, as tables on the console. */
void hc_print_stats(const struct vm *vm);
void hc_print_trace(const struct vm *vm, unsigned last);

#endif
