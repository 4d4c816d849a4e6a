#define LOG_SUB_FILE LOG_SUB_SCHED   /* its messages: loglevel=sched:LEVEL */
#include "core/arch.h"
#include "core/exit.h"
#include "core/gmem.h"
#include "core/log.h"
#include "core/sched.h"
#include "core/time.h"
#include "core/vm.h"
#include "core/vmm.h"
#include "hypercalls/hypercall.h"
#include "hypercalls/intercept.h"

/* The last hypercalls shown when a VM ends (all HC_TRACE_LEN on the 't' key). */
#define HC_REPORT_TRACE 8

static struct vcpu *next_other_runnable(const struct vm *vm, const struct vcpu *v);
/* A vCPU of any VM woke up since the running slice began: it ends early (wake granularity). */
static bool woke_any;
uint64_t sched_pokes;

static uint64_t slice_ticks(void)
{
	return time_counter_hz() * SCHED_SLICE_US / 1000000;
}

static uint64_t wake_granularity_ticks(void)
{
	return time_counter_hz() * SCHED_WAKE_GRANULARITY_US / 1000000;
}

void vcpu_wake(struct vcpu *v)
{
	if (v->state == VCPU_RUNNABLE)
		return;
	v->state = VCPU_RUNNABLE;
	v->pv_unhalt = false;
	v->ready_since = arch_read_counter();
	hc_vcpu_runstate(v);
	/* a vCPU that slept runs soon: whoever woke it is likely waiting for it */
	if (!v->vm->woken && v != v->vm->running) {
		v->vm->woken = v;
		woke_any = true;
	}
}

void vcpu_halt(struct vcpu *v)
{
	/* a kick that came before the HLT ends it at once (the PV spinlock race, as KVM) */
	if (v->pv_unhalt || arch_vcpu_can_wake(v)) {
		v->pv_unhalt = false;
		return;
	}
	v->state = VCPU_HALTED;
	hc_vcpu_runstate(v);
}

void vcpu_yield(struct vcpu *v)
{
	struct vcpu *t = next_other_runnable(v->vm, v);
	if (t)
		vcpu_yield_to(v, t);
}

void vcpu_yield_to(struct vcpu *from, struct vcpu *to)
{
	if (to == from || to->state != VCPU_RUNNABLE)
		return;
	from->vm->yield_to = to;
}

/*
 * Fires the timers that are due and wakes halted vCPUs that can now go on.
 * Returns the earliest host-counter time a timer of the VM fires next.
 */
static uint64_t poll_vcpus(struct vm *vm, uint64_t now)
{
	uint64_t next = UINT64_MAX;
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		struct vcpu *v = vm->vcpus[i];
		uint64_t due = MIN(arch_vcpu_timers(v, now), hc_vcpu_timers(v, now));
		if (due < next)
			next = due;
		if (v->state == VCPU_HALTED && (v->pv_unhalt || arch_vcpu_can_wake(v)))
			vcpu_wake(v);
	}
	return next;
}

/* The next runnable vCPU after `v` in round-robin order, other than v; NULL if none. */
static struct vcpu *next_other_runnable(const struct vm *vm, const struct vcpu *v)
{
	for (unsigned i = 1; i < vm->nr_vcpus; i++) {
		struct vcpu *t = vm->vcpus[(v->id + i) % vm->nr_vcpus];
		if (t->state == VCPU_RUNNABLE)
			return t;
	}
	return NULL;
}

/* The VMs sched_run runs (vm_run: one). */
static struct vm *const *run_vms;
static unsigned nr_run_vms;

/*
 * poll_vcpus for every VM that runs but `vm`: the others' timers fire on
 * time while vm has the CPU (their vCPUs may have nothing else to wake
 * them). Their next timer can only move when they run themselves, so the
 * running slice asks again only once that time has come.
 */
static uint64_t poll_others(struct vm *vm, uint64_t now)
{
	uint64_t next = UINT64_MAX;
	for (unsigned k = 0; k < nr_run_vms; k++)
		if (run_vms[k] != vm && !vm_ended(run_vms[k]))
			next = MIN(next, poll_vcpus(run_vms[k], now));
	return next;
}

/* Whether a vCPU other than v, of any VM that runs, wants the CPU. */
static bool others_runnable(const struct vcpu *v)
{
	for (unsigned k = 0; k < nr_run_vms; k++) {
		const struct vm *vm = run_vms[k];
		for (unsigned i = 0; !vm_ended(vm) && i < vm->nr_vcpus; i++)
			if (vm->vcpus[i] != v && vm->vcpus[i]->state == VCPU_RUNNABLE)
				return true;
	}
	return false;
}

/* Whether a runnable vCPU other than `w` has waited for the CPU longer than a slice. */
static bool someone_starved(const struct vm *vm, const struct vcpu *w, uint64_t now)
{
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		const struct vcpu *u = vm->vcpus[i];
		if (u != w && u->state == VCPU_RUNNABLE && now - u->ready_since > slice_ticks())
			return true;
	}
	return false;
}

/*
 * The vCPU to run after `prev` (index): the target of a directed yield,
 * else one that just woke up (unless that would keep starving another:
 * two vCPUs waking each other must not shut out a third), else
 * round-robin. NULL when none is runnable.
 */
static struct vcpu *pick(struct vm *vm, unsigned prev, uint64_t now)
{
	struct vcpu *y = vm->yield_to, *w = vm->woken;
	vm->yield_to = vm->woken = NULL;
	vm->yield_target = NULL;
	if (y && y->state == VCPU_RUNNABLE)
		return vm->yield_target = y;
	if (w && w->state == VCPU_RUNNABLE && !someone_starved(vm, w, now))
		return w;
	for (unsigned i = 1; i <= vm->nr_vcpus; i++) {
		struct vcpu *v = vm->vcpus[(prev + i) % vm->nr_vcpus];
		if (v->state == VCPU_RUNNABLE)
			return v;
	}
	return NULL;
}

static void report_mem_fault(struct vcpu *v, const struct vm_exit *e)
{
	const char *kind = (e->mem.access & MEM_ACCESS_EXEC) ? "instruction fetch" :
	                   (e->mem.access & MEM_ACCESS_WRITE) ? "write" : "read";
	if (gmem_page_removed(v->vm, e->mem.gpa.v))
		vm_end(v->vm, VM_END_MEM_FAULT, 0,
		       "vcpu%u: %s at guest-physical 0x%llx, a page the guest gave back (ballooned out), rip 0x%llx",
		       v->id, kind, (unsigned long long)e->mem.gpa.v, (unsigned long long)v->regs.rip);
	else
		vm_end(v->vm, VM_END_MEM_FAULT, 0,
		       "vcpu%u: %s at guest-physical 0x%llx outside guest memory [0, 0x%llx), rip 0x%llx",
		       v->id, kind, (unsigned long long)e->mem.gpa.v,
		       (unsigned long long)v->vm->mem_size, (unsigned long long)v->regs.rip);
}

static void handle_exit(struct vcpu *v, struct vm_exit *e)
{
	struct vm *vm = v->vm;
	switch (e->reason) {
	case VMEXIT_HYPERCALL:
		hc_dispatch(v, e);
		break;
	case VMEXIT_HLT:
		arch_skip_insn(v, e);
		vcpu_halt(v);
		break;
	case VMEXIT_PAUSE:
		/* spinning: what it waits for is likely another vCPU's to give (KVM kvm_vcpu_on_spin) */
		arch_skip_insn(v, e);
		vcpu_yield(v);
		break;
	case VMEXIT_SHUTDOWN:
		vm_end(vm, VM_END_TRIPLE_FAULT, 0, "vcpu%u: triple fault (shutdown), rip 0x%llx",
		       v->id, (unsigned long long)v->regs.rip);
		break;
	case VMEXIT_MEM_FAULT:
		report_mem_fault(v, e);
		break;
	case VMEXIT_FAIL:
		vm_end(vm, VM_END_ERROR, 0, "vcpu%u: %s", v->id, e->fail.what);
		break;
	case VMEXIT_NONE:
	case VMEXIT_INTR:
	case VMEXIT_ARCH:
		break;
	default:
		arch_handle_exit(v, e);
	}
}

/*
 * Keys on the serial console, read at every slice's end: 's' prints every VM's
 * hypercall counters, 't' its last hypercalls, 'h' says so.
 */
static void console_keys(void)
{
	struct vm *const *vms = run_vms;
	unsigned n = nr_run_vms;
	int c = arch_console_getc();
	if (c < 0)
		return;
	for (unsigned k = 0; k < n && (c == 's' || c == 't'); k++) {
		if (c == 's')
			hc_print_stats(vms[k]);
		else
			hc_print_trace(vms[k], HC_TRACE_LEN);
	}
	if (c != 's' && c != 't')
		pr_info("keys: s: hypercall counters, t: the last hypercalls of every VM\n");
}

/*
 * Runs `v` until its slice ends, it stops being runnable or it yields. A
 * vCPU that woke up ends the slice early, but only once v has run for the
 * wake granularity: a directed yield's target must get to run. A slice is
 * only cut short for another vCPU: alone, a vCPU keeps the CPU.
 */
static void run_slice(struct vcpu *v, uint64_t now)
{
	struct vm *vm = v->vm;
	v->steal += now - v->ready_since;
	v->nr_slices++;
	vm->running = v;
	hc_vcpu_scheduled(v);
	hc_vcpu_runstate(v);
	uint64_t slice_end = now + slice_ticks();
	/*
	 * A directed yield's target is not cut short by a wake-up elsewhere: what
	 * its yielder waits for is its to give, and under emulation the wake
	 * granularity can pass before it has run an instruction.
	 */
	uint64_t wake_ok = v == vm->yield_target ? slice_end : now + wake_granularity_ticks();
	uint64_t next_timer = poll_vcpus(vm, now), others_next = poll_others(vm, now), pokes = sched_pokes;
	woke_any = vm->woken != NULL;
	while (!vm_ended(vm) && v->state == VCPU_RUNNABLE && !vm->yield_to &&
	       !(woke_any && now >= wake_ok)) {
		struct vm_exit e;
		uint64_t deadline = MIN(MIN(next_timer, others_next), slice_end);
		if (woke_any && wake_ok < deadline)
			deadline = wake_ok;
		arch_vcpu_run(v, deadline, &e);
		v->nr_exits++;
		enum vm_state before = vm->state;
		handle_exit(v, &e);
		/* a VM that died (not one that exited) gets its state shown for the post-mortem */
		if (before != VM_ENDED && vm->state == VM_ENDED && vm->end != VM_END_EXIT)
			arch_dump_vcpu(v);
		now = arch_read_counter();
		/* the hot path: nothing poked, nothing due: straight back in */
		bool poked = pokes != sched_pokes;
		if (poked || now >= next_timer || now >= slice_end) {
			next_timer = poll_vcpus(vm, now);
			if (poked)                    /* the event may be for another VM's halted vCPU (Xen interdomain) */
				others_next = poll_others(vm, now);
			pokes = sched_pokes;          /* what the polls themselves poked, they have handled */
		}
		if (now >= others_next)
			others_next = poll_others(vm, now);       /* their timers fire: a vCPU may wake */
		if (now >= slice_end) {
			console_keys();
			if (others_runnable(v))
				break;
			slice_end = now + slice_ticks();
		}
	}
	vm->running = NULL;
	if (v->state == VCPU_RUNNABLE) {
		v->ready_since = now;
		hc_vcpu_preempted(v);
	}
	hc_vcpu_runstate(v);
}

/* What each vCPU did, once the VM has ended. */
static void report_vcpus(const struct vm *vm)
{
	static const char *const state_names[] = { "not started", "runnable", "halted", "down" };
	struct time_scale ns = time_ns_scale();
	for (unsigned i = 0; i < vm->nr_vcpus; i++) {
		const struct vcpu *v = vm->vcpus[i];
		pr_info("%s: vcpu%u: %llu exits, %llu slices, %llu us waiting for the CPU, %s\n", vm->name, v->id,
		        (unsigned long long)v->nr_exits, (unsigned long long)v->nr_slices,
		        (unsigned long long)(time_apply_scale(v->steal, ns) / 1000), state_names[v->state]);
	}
	hc_print_stats(vm);
	hc_print_trace(vm, HC_REPORT_TRACE);
}

/* The vCPU of `vm` to run now, if any: pick() from the one after the VM's last. */
static struct vcpu *pick_in(struct vm *vm, uint64_t now)
{
	struct vcpu *v = pick(vm, vm->sched_prev, now);
	if (v)
		vm->sched_prev = v->id;
	return v;
}

/*
 * Every VM that has nothing to run and no timer is stuck: HLT with nothing
 * that could wake it. Only called when no VM can run or has a timer armed,
 * since a VM waiting for another's event (Xen interdomain) is not stuck
 * while that other VM still runs.
 */
static void end_stuck(struct vm *vm)
{
	struct vcpu *h = vm->vcpus[0];
	for (unsigned i = vm->nr_vcpus; i-- > 0;)
		if (vm->vcpus[i]->state == VCPU_HALTED)
			h = vm->vcpus[i];
	vm_end(vm, VM_END_HALTED, 0, "vcpu%u: HLT at rip 0x%llx and no interrupt can wake it%s",
	       h->id, (unsigned long long)h->regs.rip, vm->nr_vcpus > 1 ? " (nor any other vCPU)" : "");
	arch_dump_vcpu(h);
}

void sched_run(struct vm *const *vms, unsigned n)
{
	bool reported[SCHED_MAX_VMS] = { 0 };
	unsigned cur = n - 1;                 /* the first VM first */
	if (n > SCHED_MAX_VMS)
		n = SCHED_MAX_VMS;
	run_vms = vms;
	nr_run_vms = n;
	for (unsigned k = 0; k < n; k++) {
		struct vm *vm = vms[k];
		if (vm->state == VM_CREATED)
			vm->state = VM_RUNNING;
		vm->sched_prev = vm->nr_vcpus - 1;   /* vCPU 0 first */
		for (unsigned i = 0; i < vm->nr_vcpus; i++)
			vm->vcpus[i]->ready_since = arch_read_counter();   /* no steal before the VM ran */
	}
	for (;;) {
		uint64_t now = arch_read_counter(), next_timer = UINT64_MAX;
		unsigned live = 0;
		for (unsigned k = 0; k < n; k++) {
			if (vm_ended(vms[k])) {
				if (!reported[k])
					report_vcpus(vms[k]);
				reported[k] = true;
				continue;
			}
			live++;
			next_timer = MIN(next_timer, poll_vcpus(vms[k], now));
		}
		if (!live)
			break;
		console_keys();
		/* VMs take turns a slice at a time; within a VM, pick() chooses */
		struct vcpu *v = NULL;
		for (unsigned i = 1; i <= n && !v; i++) {
			unsigned k = (cur + i) % n;
			if (!vm_ended(vms[k]) && (v = pick_in(vms[k], now)))
				cur = k;
		}
		if (v) {
			run_slice(v, now);
			/* a directed yield gives its VM's turn to the target: that VM is asked first again */
			if (v->vm->yield_to)
				cur = (cur + n - 1) % n;
		} else if (next_timer == UINT64_MAX) {
			for (unsigned k = 0; k < n; k++)
				if (!vm_ended(vms[k]))
					end_stuck(vms[k]);
		} else {
			arch_idle_until(next_timer);
		}
	}
	nr_run_vms = 0;
}

void vm_run(struct vm *vm)
{
	sched_run(&vm, 1);
}
