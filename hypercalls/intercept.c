/*
 * The hooks every hypercall passes (hypercalls/intercept.h) and the three
 * the hypervisor itself uses: the VM's policy (allow/deny rules by ABI and
 * call, checked before any handler), per-call counters, and a trace ring
 * of the last calls. The counters and the trace are printed as tables when
 * a VM ends and on demand (the 's' and 't' keys on the serial console).
 */
#define LOG_SUB_FILE LOG_SUB_HC   /* its messages: loglevel=hc:LEVEL */
#include "core/arch.h"
#include "core/log.h"
#include "core/string.h"
#include "core/vm.h"
#include "hypercalls/intercept.h"
#include "hypercalls/pvclock.h"

/* ---- names ---- */

const char *hc_call_name(const struct hc_abi *abi, uint64_t nr)
{
	const char *n = NULL;
	if (abi->call_name)
		n = abi->call_name(nr);
	else if (nr < abi->nr_calls)
		n = abi->calls[nr].name;               /* nr counts from the ABI's nr_base */
	return n ? n : "?";
}

int hc_call_by_name(const struct hc_abi *abi, const char *name, size_t len, uint64_t *nr)
{
	/* call numbers go up to 0xffff (Hyper-V call codes, extended calls included) */
	for (uint64_t i = 0; i <= 0xffff; i++) {
		const char *n = abi->call_name ? abi->call_name(i) : i < abi->nr_calls ? abi->calls[i].name : NULL;
		if (n && strlen(n) == len && !memcmp(n, name, len)) {
			*nr = i;
			return 0;
		}
		if (!abi->call_name && i >= abi->nr_calls)
			break;
	}
	return -ENOENT;
}

/* ---- policy ---- */

static enum hc_verdict policy_before(struct vcpu *v, struct hc_call_info *c)
{
	const struct hc_policy *p = &v->vm->hc.policy;
	bool has_allow = false;
	for (unsigned i = 0; i < p->n; i++) {
		const struct hc_policy_rule *r = &p->rule[i];
		if (r->abi != c->abi)
			continue;
		if (r->nr == HC_POLICY_ANY || r->nr == c->nr)
			return r->allow ? HC_CONTINUE : HC_DENY;
		has_allow |= r->allow;
	}
	return has_allow ? HC_DENY : HC_CONTINUE;
}

/* ---- counters ---- */

_Static_assert((HC_STATS_SLOTS & (HC_STATS_SLOTS - 1)) == 0, "the counter table is indexed by a mask");

static unsigned abi_slot(const struct hc_abi *abi)
{
	return abi == &kvm_abi ? 0 : abi == &hyperv_abi ? 1 : abi == &xen_abi ? 2 : 3;
}

static void stats_after(struct vcpu *v, const struct hc_call_info *c)
{
	struct hc_vm_state *h = &v->vm->hc;
	/* the ABI's address spreads the ABIs apart; HC_STATS_SLOTS is a power of two */
	unsigned start = (unsigned)(c->nr * 7 + ((uintptr_t)c->abi >> 4) * 31);
	for (unsigned k = 0; k < HC_STATS_SLOTS; k++) {
		struct hc_stat *s = &h->stats[(start + k) & (HC_STATS_SLOTS - 1)];
		if (s->abi == c->abi && s->nr == c->nr) {
			s->calls++;
			s->errors += c->error;
			s->denied += c->denied;
			return;
		}
		if (!s->abi) {
			*s = (struct hc_stat){ .abi = c->abi, .nr = c->nr, .calls = 1, .errors = c->error, .denied = c->denied };
			return;
		}
	}
	h->stats_other++;
}

/* ---- trace ---- */

static void trace_after(struct vcpu *v, const struct hc_call_info *c)
{
	struct hc_vm_state *h = &v->vm->hc;
	struct hc_trace_entry *t = &h->trace[h->trace_total++ % HC_TRACE_LEN];
	/* the host counter: it becomes the VM's clock only when the trace is printed */
	*t = (struct hc_trace_entry){
		.counter = arch_read_counter(), .abi = c->abi, .nr = c->nr,
		.arg = { c->args.arg[0], c->args.arg[1], c->args.arg[2] }, .result = c->result,
		.vcpu = (uint16_t)v->id,
		.flags = (uint8_t)((c->error ? HC_TRACE_ERROR : 0) | (c->denied ? HC_TRACE_DENIED : 0) |
		                   (c->faulted ? HC_TRACE_FAULT : 0)),
	};
	if (log_sub_enabled(LOG_SUB_HC, LOG_DEBUG))
		log_sub(LOG_SUB_HC, LOG_DEBUG, "%s: vcpu%u %s %s (%llu) %llx %llx %llx -> %lld%s\n", v->vm->name, v->id,
		        c->abi->name, hc_call_name(c->abi, c->nr), (unsigned long long)c->nr,
		        (unsigned long long)t->arg[0], (unsigned long long)t->arg[1], (unsigned long long)t->arg[2],
		        (long long)c->result, c->denied ? " denied" : c->faulted ? " #UD" : "");
}

/* ---- the chain ---- */

/*
 * The built-in hooks run first and are called directly: the policy only when
 * the VM has rules, the counters and the trace always. Hooks added with
 * hc_hook_add follow, in the order they were added.
 */
#define HC_MAX_HOOKS 8
static const struct hc_hook *hooks[HC_MAX_HOOKS];
unsigned hc_nr_hooks;

int hc_hook_add(const struct hc_hook *h)
{
	if (hc_nr_hooks == HC_MAX_HOOKS)
		return -ENOSPC;
	hooks[hc_nr_hooks++] = h;
	return 0;
}

enum hc_verdict hc_hooks_run_before(struct vcpu *v, struct hc_call_info *c)
{
	if (v->vm->hc.policy.n && policy_before(v, c) == HC_DENY)
		return HC_DENY;
	for (unsigned i = 0; i < hc_nr_hooks; i++)
		if (hooks[i]->before && hooks[i]->before(v, c) == HC_DENY)
			return HC_DENY;
	return HC_CONTINUE;
}

void hc_hooks_after(struct vcpu *v, const struct hc_call_info *c)
{
	stats_after(v, c);
	trace_after(v, c);
	for (unsigned i = 0; i < hc_nr_hooks; i++)
		if (hooks[i]->after)
			hooks[i]->after(v, c);
}

/* ---- tables ---- */

void hc_print_stats(const struct vm *vm)
{
	const struct hc_vm_state *h = &vm->hc;
	uint64_t calls = 0, errors = 0, denied = 0;
	for (unsigned i = 0; i < HC_STATS_SLOTS; i++) {
		calls += h->stats[i].calls;
		errors += h->stats[i].errors;
		denied += h->stats[i].denied;
	}
	pr_info("%s: hypercalls: %llu, %llu errors, %llu denied\n", vm->name,
	        (unsigned long long)(calls + h->stats_other), (unsigned long long)errors, (unsigned long long)denied);
	if (!calls)
		return;
	pr_info("%s:   %-7s %-34s %8s %10s %8s %7s\n", vm->name, "abi", "call", "nr (hex)", "calls", "errors", "denied");
	/* by ABI, then by number */
	for (unsigned a = 0; a < 4; a++) {
		uint64_t last = 0;
		bool first = true;
		for (;;) {
			const struct hc_stat *next = NULL;
			for (unsigned i = 0; i < HC_STATS_SLOTS; i++) {
				const struct hc_stat *s = &h->stats[i];
				if (s->abi && abi_slot(s->abi) == a && (first || s->nr > last) && (!next || s->nr < next->nr))
					next = s;
			}
			if (!next)
				break;
			pr_info("%s:   %-7s %-34s %8llx %10llu %8llu %7llu\n", vm->name, next->abi->name,
			        hc_call_name(next->abi, next->nr), (unsigned long long)next->nr,
			        (unsigned long long)next->calls, (unsigned long long)next->errors,
			        (unsigned long long)next->denied);
			last = next->nr;
			first = false;
		}
	}
	if (h->stats_other)
		pr_info("%s:   %-7s %-34s %8s %10llu\n", vm->name, "", "(others: the table was full)", "",
		        (unsigned long long)h->stats_other);
}

void hc_print_trace(const struct vm *vm, unsigned last)
{
	const struct hc_vm_state *h = &vm->hc;
	uint64_t n = MIN(MIN(h->trace_total, (uint64_t)HC_TRACE_LEN), (uint64_t)last);
	if (!n)
		return;
	pr_info("%s: the last %llu hypercalls, oldest first:\n", vm->name, (unsigned long long)n);
	pr_info("%s:   %14s %4s %-7s %-28s %16s %16s %16s %s\n", vm->name, "time (ns)", "vcpu", "abi", "call",
	        "arg0 (hex)", "arg1", "arg2", "result");
	for (uint64_t k = h->trace_total - n; k < h->trace_total; k++) {
		const struct hc_trace_entry *t = &h->trace[k % HC_TRACE_LEN];
		pr_info("%s:   %14llu %4u %-7s %-28s %16llx %16llx %16llx %lld%s\n", vm->name,
		        (unsigned long long)pvclock_ns(vm, t->counter), t->vcpu, t->abi->name, hc_call_name(t->abi, t->nr),
		        (unsigned long long)t->arg[0], (unsigned long long)t->arg[1], (unsigned long long)t->arg[2],
		        (long long)t->result,
		        t->flags & HC_TRACE_DENIED ? " denied" : t->flags & HC_TRACE_FAULT ? " #UD" :
		        t->flags & HC_TRACE_ERROR ? " error" : "");
	}
}
