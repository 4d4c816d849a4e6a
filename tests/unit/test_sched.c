/*
 * core/sched.c on the fake machine: vm_run's round-robin over a VM's vCPUs,
 * halting and waking, timers and idling, directed yields, unstarted APs, the
 * run deadline and steal accounting. The exit script is one queue consumed by
 * whichever vCPU runs; fake.ran[] says which one that was.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/exit.h"
#include "core/sched.h"
#include "core/time.h"
#include "core/vm.h"
#include "tests/fake_arch/fake_arch.h"
#include "tests/fake_arch/fake_test.h"

#define HZ 2000000000ull                     /* 2 GHz host counter */
#define S (HZ * SCHED_SLICE_US / 1000000)    /* one slice: 2,000,000 ticks */
#define G (HZ * SCHED_WAKE_GRANULARITY_US / 1000000)  /* wake granularity: 200,000 ticks */
#define C0 1000000000ull                     /* the counter when a test starts */

static struct vm *vm;

static int setup(void **state)
{
	fake_arch_reset();
	fake_console_reset();
	fake.counter = C0;
	time_init(HZ, C0, 0);
	vm = fake_vm_new();
	fake_vm_add_slot(vm, 0, MiB(1), 0, 0);
	return 0;
}

static int teardown(void **state)
{
	fake_cleanup();
	return 0;
}

/*
 * `n` vCPUs; the first `runnable` of them runnable since now (as vm_create
 * leaves vCPU 0), the rest waiting for a start. Not through vcpu_wake: that
 * would also make the vCPU the next to run.
 */
static void make_vcpus(unsigned n, unsigned runnable)
{
	for (unsigned i = 0; i < n; i++) {
		struct vcpu *v = fake_vcpu_new(vm);
		if (i < runnable) {
			v->state = VCPU_RUNNABLE;
			v->ready_since = fake.counter;
		}
	}
}

/* An exit that takes `ticks` of guest time before it happens. */
static void exit_after(enum vm_exit_reason reason, uint64_t ticks)
{
	struct vm_exit e = { .reason = reason, .mode = MODE_64, .insn_len = 1 };
	fake_script_exit(&e, NULL);
	fake_script_advance(ticks);
}

static void exit_at(enum vm_exit_reason reason, uint64_t rip)
{
	struct vm_exit e = { .reason = reason, .mode = MODE_64, .insn_len = 1 };
	struct guest_regs r = { .rip = rip, .rflags = 2 };
	fake_script_exit(&e, &r);
}

static void run(void)
{
	vm_run(vm);
	assert_int_equal(fake.script_overrun, 0);
	assert_int_equal(fake.script_pos, fake.script_len);
	assert_true(vm_ended(vm));
}

/* fake.ran[] (vCPU ids) or fake.ran_vm[] (VM ids) against the expected sequence */
static void assert_seq(const unsigned *got, const char *what, const unsigned *ids, unsigned n)
{
	if (fake.runs != n)
		fail_fmt("%u runs, expected %u", fake.runs, n);
	for (unsigned i = 0; i < n; i++)
		if (got[i] != ids[i])
			fail_fmt("run %u was %s%u, expected %s%u", i, what, got[i], what, ids[i]);
}

#define ASSERT_SEQ(got, what, ...) do { \
		static const unsigned ids_[] = { __VA_ARGS__ }; \
		assert_seq(got, what, ids_, ARRAY_SIZE(ids_)); \
	} while (0)
#define ASSERT_RAN(...) ASSERT_SEQ(fake.ran, "vcpu", __VA_ARGS__)
#define ASSERT_RAN_VMS(...) ASSERT_SEQ(fake.ran_vm, "vm", __VA_ARGS__)

/* ---- halting ---- */

static void test_lone_hlt_nothing_armed_ends_halted(void **state)
{
	make_vcpus(1, 1);
	exit_at(VMEXIT_HLT, 0x4000);
	run();
	assert_int_equal(vm->end, VM_END_HALTED);
	/* HLT completed: RIP is past it, as on a halted CPU */
	assert_string_equal(vm->end_reason, "vcpu0: HLT at rip 0x4001 and no interrupt can wake it");
	assert_int_equal(vm->vcpus[0]->state, VCPU_HALTED);
	assert_int_equal(fake.dump, 1);
	assert_int_equal(fake.idle_calls, 0);
	assert_int_equal(fake.runs, 1);
	assert_true(fake_console_has("vm0: halted forever: vcpu0: HLT at rip 0x4001"));
}

static void test_all_halted_names_the_first_halted_vcpu(void **state)
{
	make_vcpus(3, 3);
	exit_at(VMEXIT_HLT, 0x1000);      /* vcpu0 */
	exit_at(VMEXIT_HLT, 0x2000);      /* vcpu1 */
	exit_at(VMEXIT_HLT, 0x3000);      /* vcpu2 */
	run();
	ASSERT_RAN(0, 1, 2);
	assert_int_equal(vm->end, VM_END_HALTED);
	assert_string_equal(vm->end_reason,
	                    "vcpu0: HLT at rip 0x1001 and no interrupt can wake it (nor any other vCPU)");
	assert_int_equal(fake.dump, 1);
}

static void test_halted_ap_named_when_bsp_never_halted(void **state)
{
	/* vcpu0 waits for a start (never runs), vcpu1 halts: the halted one is reported */
	make_vcpus(2, 0);
	vm->vcpus[1]->state = VCPU_RUNNABLE;
	exit_at(VMEXIT_HLT, 0x7000);
	run();
	ASSERT_RAN(1);
	assert_int_equal(vm->end, VM_END_HALTED);
	assert_string_equal(vm->end_reason,
	                    "vcpu1: HLT at rip 0x7001 and no interrupt can wake it (nor any other vCPU)");
	assert_int_equal(vm->vcpus[0]->state, VCPU_WAIT_SIPI);
}

static void test_hlt_with_wakeup_pending_keeps_running(void **state)
{
	make_vcpus(1, 1);
	fake.can_wake = 1u << 0;
	exit_after(VMEXIT_HLT, 10);
	exit_after(VMEXIT_HLT, 10);
	exit_after(VMEXIT_SHUTDOWN, 10);
	run();
	assert_int_equal(vm->end, VM_END_TRIPLE_FAULT);
	assert_int_equal(fake.runs, 3);
	assert_int_equal(vm->vcpus[0]->state, VCPU_RUNNABLE);
	assert_int_equal(fake.idle_calls, 0);
	assert_int_equal(vm->vcpus[0]->nr_exits, 3);
}

static void test_timer_wakes_halted_vcpu_after_idle(void **state)
{
	make_vcpus(1, 1);
	fake.timer_due[0] = C0 + 5000;
	exit_after(VMEXIT_HLT, 100);
	exit_after(VMEXIT_SHUTDOWN, 7);
	run();
	assert_int_equal(vm->end, VM_END_TRIPLE_FAULT);
	assert_int_equal(fake.idle_calls, 1);
	assert_int_equal(fake.runs, 2);
	/* it slept until its timer: the first entry ran to the timer, the second a whole slice from it */
	assert_int_equal(fake.ran_deadline[0], C0 + 5000);
	assert_int_equal(fake.ran_deadline[1], C0 + 5000 + S);
	assert_int_equal(fake.counter, C0 + 5000 + 7);
	assert_int_equal(fake.timer_due[0], 0);
	/* halted time is not steal */
	assert_int_equal(vm->vcpus[0]->steal, 0);
}

static void test_timer_of_other_vcpu_keeps_halted_vcpu_asleep(void **state)
{
	/* vcpu1's timer fires but vcpu0 (halted, nothing pending) must not be woken by it */
	make_vcpus(2, 2);
	fake.timer_due[1] = C0 + 3 * S;
	exit_after(VMEXIT_HLT, 0);           /* vcpu0 halts */
	exit_after(VMEXIT_HLT, 0);           /* vcpu1 halts */
	exit_after(VMEXIT_SHUTDOWN, 0);      /* vcpu1, after its timer */
	run();
	ASSERT_RAN(0, 1, 1);
	assert_int_equal(fake.idle_calls, 1);
	assert_int_equal(vm->vcpus[0]->state, VCPU_HALTED);
	assert_int_equal(fake.counter, C0 + 3 * S);
}

static void test_pv_unhalt_skips_one_hlt(void **state)
{
	make_vcpus(1, 1);
	vm->vcpus[0]->pv_unhalt = true;
	exit_after(VMEXIT_HLT, 10);          /* returns at once: the kick came first */
	exit_after(VMEXIT_HLT, 10);          /* this one sleeps: the kick was used up */
	run();
	assert_int_equal(fake.runs, 2);
	assert_int_equal(vm->end, VM_END_HALTED);
	assert_false(vm->vcpus[0]->pv_unhalt);
	assert_int_equal(vm->vcpus[0]->state, VCPU_HALTED);
}

/* exit_hook: vcpu0's CPUID exit sets pv_unhalt on halted vcpu1 (a kick from outside the guest) */
static void hook_unhalt_vcpu1(struct vcpu *v, struct vm_exit *e)
{
	if (v->id == 0)
		v->vm->vcpus[1]->pv_unhalt = true;
	sched_poke();                        /* as every event delivery does (core/sched.h) */
}

static void test_pv_unhalt_wakes_halted_vcpu(void **state)
{
	make_vcpus(2, 2);
	fake.exit_hook = hook_unhalt_vcpu1;
	exit_after(VMEXIT_INTR, S);          /* vcpu0's slice ends */
	exit_after(VMEXIT_HLT, 0);           /* vcpu1 sleeps */
	exit_after(VMEXIT_CPUID, G);         /* vcpu0 kicks it after the granularity: it runs next */
	exit_after(VMEXIT_SHUTDOWN, 0);
	run();
	ASSERT_RAN(0, 1, 0, 1);
	assert_false(vm->vcpus[1]->pv_unhalt);
	assert_int_equal(vm->vcpus[1]->state, VCPU_RUNNABLE);
}

/* ---- round robin and slices ---- */

static void test_round_robin_three_vcpus(void **state)
{
	make_vcpus(3, 3);
	for (int i = 0; i < 6; i++)
		exit_after(VMEXIT_INTR, S);
	exit_after(VMEXIT_SHUTDOWN, 0);
	run();
	ASSERT_RAN(0, 1, 2, 0, 1, 2, 0);
	assert_int_equal(vm->end, VM_END_TRIPLE_FAULT);
	assert_string_equal(vm->end_reason, "vcpu0: triple fault (shutdown), rip 0x0");
	/* each waited two slices between its turns; vcpu1 and vcpu2 also one and two at the start */
	assert_int_equal(vm->vcpus[0]->steal, 4 * S);
	assert_int_equal(vm->vcpus[1]->steal, 3 * S);
	assert_int_equal(vm->vcpus[2]->steal, 4 * S);
	assert_int_equal(vm->vcpus[0]->nr_exits, 3);
	assert_int_equal(vm->vcpus[1]->nr_exits, 2);
	assert_int_equal(vm->vcpus[2]->nr_exits, 2);
	/* the end-of-VM report: exits, turns on the CPU, steal in us (2 ticks per ns here), state */
	if (!fake_console_has(": vcpu0: 3 exits, 3 slices, 4000 us waiting for the CPU, runnable\n") ||
	    !fake_console_has(": vcpu2: 2 exits, 2 slices, 4000 us waiting for the CPU, runnable\n"))
		fail_fmt("report lines missing:\n%s", fake_console_text());
}

static void test_slice_not_cut_short_by_exits(void **state)
{
	make_vcpus(2, 2);
	exit_after(VMEXIT_INTR, S / 4);
	exit_after(VMEXIT_CPUID, S / 4);
	exit_after(VMEXIT_INTR, S / 4);
	exit_after(VMEXIT_INTR, S / 4 - 1);  /* one tick short of the slice */
	exit_after(VMEXIT_INTR, 1);          /* now it is over */
	exit_after(VMEXIT_SHUTDOWN, 0);
	run();
	ASSERT_RAN(0, 0, 0, 0, 0, 1);
	assert_int_equal(vm->vcpus[1]->steal, S);
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(fake.ran_deadline[i], C0 + S);
}

static void test_lone_vcpu_keeps_cpu_and_slice_restarts(void **state)
{
	make_vcpus(1, 1);
	exit_after(VMEXIT_INTR, 2 * S);
	exit_after(VMEXIT_INTR, S / 2);
	exit_after(VMEXIT_SHUTDOWN, 0);
	run();
	assert_int_equal(fake.runs, 3);
	assert_int_equal(fake.ran_deadline[0], C0 + S);
	assert_int_equal(fake.ran_deadline[1], C0 + 3 * S);     /* a new slice from the exit */
	assert_int_equal(fake.ran_deadline[2], C0 + 3 * S);     /* still in it */
	assert_int_equal(vm->vcpus[0]->steal, 0);
}

static void test_deadline_is_earliest_of_slice_and_timers(void **state)
{
	make_vcpus(2, 2);
	fake.timer_due[1] = C0 + S / 2;      /* another vCPU's timer counts too */
	fake.timer_due[0] = C0 + 3 * S;
	exit_after(VMEXIT_INTR, S / 2);      /* vcpu1's timer fires here */
	exit_after(VMEXIT_INTR, S / 2);      /* vcpu0's slice ends */
	exit_after(VMEXIT_SHUTDOWN, 0);      /* vcpu1 */
	run();
	ASSERT_RAN(0, 0, 1);
	assert_int_equal(fake.ran_deadline[0], C0 + S / 2);
	assert_int_equal(fake.ran_deadline[1], C0 + S);
	assert_int_equal(fake.ran_deadline[2], C0 + 2 * S);
	assert_int_equal(fake.timer_due[1], 0);
	assert_int_equal(fake.timer_due[0], C0 + 3 * S);
	assert_int_equal(fake.run_deadline, C0 + 2 * S);
}

/* ---- directed yield ---- */

static unsigned yield_target;

static void hook_yield(struct vcpu *v, struct vm_exit *e)
{
	vcpu_yield_to(v, v->vm->vcpus[yield_target]);
}

static void test_yield_to_runs_target_next(void **state)
{
	make_vcpus(3, 3);
	yield_target = 2;
	fake.exit_hook = hook_yield;
	exit_after(VMEXIT_CPUID, 10);        /* vcpu0 yields to vcpu2, skipping vcpu1 */
	exit_after(VMEXIT_INTR, S);          /* vcpu2's slice ends: round robin goes on after it */
	exit_after(VMEXIT_SHUTDOWN, 0);
	run();
	ASSERT_RAN(0, 2, 0);
	assert_null(vm->yield_to);
	/* vcpu0 gave up its slice after 10 ticks; it waited vcpu2's slice */
	assert_int_equal(vm->vcpus[0]->steal, S);
	assert_int_equal(vm->vcpus[2]->steal, 10);
}

static void test_yield_to_self_or_unrunnable_is_ignored(void **state)
{
	make_vcpus(3, 2);
	struct vcpu *v0 = vm->vcpus[0], *v1 = vm->vcpus[1], *v2 = vm->vcpus[2];
	vcpu_yield_to(v0, v0);
	assert_null(vm->yield_to);
	vcpu_yield_to(v0, v2);                /* waiting for a start */
	assert_null(vm->yield_to);
	v1->state = VCPU_HALTED;
	vcpu_yield_to(v0, v1);
	assert_null(vm->yield_to);
	v1->state = VCPU_RUNNABLE;
	vcpu_yield_to(v0, v1);
	assert_ptr_equal(vm->yield_to, v1);
}

static void test_yield_to_self_keeps_running(void **state)
{
	make_vcpus(2, 2);
	yield_target = 0;
	fake.exit_hook = hook_yield;
	exit_after(VMEXIT_CPUID, 10);
	exit_after(VMEXIT_CPUID, 10);
	exit_after(VMEXIT_SHUTDOWN, 0);
	run();
	ASSERT_RAN(0, 0, 0);
}

/* ---- unstarted APs ---- */

static void hook_start_vcpu1(struct vcpu *v, struct vm_exit *e)
{
	vcpu_wake(v->vm->vcpus[1]);
}

static void test_waiting_ap_runs_only_after_wake(void **state)
{
	make_vcpus(2, 1);
	exit_after(VMEXIT_INTR, S);
	exit_after(VMEXIT_INTR, S);
	exit_after(VMEXIT_INTR, S);
	exit_after(VMEXIT_CPUID, 10);        /* vcpu0 starts vcpu1: it runs next */
	exit_after(VMEXIT_INTR, S);          /* vcpu1's slice ends */
	exit_after(VMEXIT_SHUTDOWN, 0);      /* vcpu0 again */
	fake.exit_hook = hook_start_vcpu1;
	run();
	ASSERT_RAN(0, 0, 0, 0, 1, 0);
	assert_int_equal(vm->vcpus[1]->state, VCPU_RUNNABLE);
	assert_int_equal(vm->vcpus[1]->steal, 0);            /* runnable from its start, not from C0 */
	assert_int_equal(vm->vcpus[0]->steal, S);
}

static void test_all_waiting_no_timer_ends_vm(void **state)
{
	make_vcpus(2, 0);
	vm_run(vm);
	assert_int_equal(fake.runs, 0);
	assert_int_equal(vm->end, VM_END_HALTED);
}

/* ---- a vCPU that wakes runs next ---- */

static void hook_wake_vcpu2(struct vcpu *v, struct vm_exit *e)
{
	if (v->id == 0) {
		fake.can_wake |= 1u << 2;
		sched_poke();                /* the interrupt's delivery pokes (arch/x86/vlapic.c) */
	}
}

static void test_woken_vcpu_runs_before_round_robin(void **state)
{
	make_vcpus(3, 2);
	vm->vcpus[2]->state = VCPU_HALTED;
	fake.exit_hook = hook_wake_vcpu2;
	exit_after(VMEXIT_CPUID, G);         /* vcpu0: vcpu2's interrupt arrives; vcpu0's slice ends */
	exit_after(VMEXIT_INTR, S);          /* vcpu2, ahead of vcpu1 */
	exit_after(VMEXIT_SHUTDOWN, 0);      /* then round robin from vcpu2: vcpu0 */
	run();
	ASSERT_RAN(0, 2, 0);
	assert_int_equal(vm->vcpus[2]->steal, 0);
	assert_int_equal(vm->vcpus[0]->steal, S);
}

/*
 * A wake-up early in the slice does not preempt at once: the running vCPU
 * goes on until it has run for the granularity (its deadline says so), so
 * the target of a directed yield always gets to run.
 */
static void test_wake_preempts_only_after_granularity(void **state)
{
	make_vcpus(3, 2);
	vm->vcpus[2]->state = VCPU_HALTED;
	fake.exit_hook = hook_wake_vcpu2;
	exit_after(VMEXIT_CPUID, 10);        /* vcpu0, 10 ticks in: vcpu2 wakes */
	exit_after(VMEXIT_INTR, G - 10);     /* vcpu0 again, until its deadline */
	exit_after(VMEXIT_SHUTDOWN, 0);      /* vcpu2 */
	run();
	ASSERT_RAN(0, 0, 2);
	assert_int_equal(fake.ran_deadline[0], C0 + S);
	assert_int_equal(fake.ran_deadline[1], C0 + G);
	assert_int_equal(vm->vcpus[2]->steal, G - 10);
}

/* A wake-up does not jump the queue past a vCPU that has waited longer than a slice. */
static void test_woken_vcpu_does_not_starve_others(void **state)
{
	make_vcpus(3, 2);
	vm->vcpus[2]->state = VCPU_HALTED;
	fake.exit_hook = hook_wake_vcpu2;
	exit_after(VMEXIT_CPUID, S + 1);     /* vcpu0 overruns; vcpu1 has waited S + 1; vcpu2 wakes */
	exit_after(VMEXIT_INTR, S);          /* vcpu1 first */
	exit_after(VMEXIT_SHUTDOWN, 0);      /* then vcpu2 */
	run();
	ASSERT_RAN(0, 1, 2);
}

static void hook_yield1_then_wake2(struct vcpu *v, struct vm_exit *e)
{
	vcpu_yield_to(v, v->vm->vcpus[1]);
	vcpu_wake(v->vm->vcpus[2]);
}

static void test_wake_does_not_override_directed_yield(void **state)
{
	make_vcpus(3, 2);
	vm->vcpus[2]->state = VCPU_HALTED;
	fake.exit_hook = hook_yield1_then_wake2;
	exit_after(VMEXIT_CPUID, 10);
	exit_after(VMEXIT_SHUTDOWN, 0);
	run();
	ASSERT_RAN(0, 1);
	assert_int_equal(vm->vcpus[2]->state, VCPU_RUNNABLE);
}

static void test_wake_marks_vcpu_next(void **state)
{
	make_vcpus(3, 1);
	vcpu_wake(vm->vcpus[2]);
	assert_ptr_equal(vm->woken, vm->vcpus[2]);
	vcpu_wake(vm->vcpus[1]);              /* the first one woken keeps its place */
	assert_ptr_equal(vm->woken, vm->vcpus[2]);
	vm->woken = NULL;
	vcpu_wake(vm->vcpus[0]);              /* already runnable: nothing changes */
	assert_null(vm->woken);
	assert_null(vm->yield_to);            /* a wake-up is not a directed yield */
}

/* ---- sched_poke: after an exit, timers and wake-ups are polled only when something was poked ---- */

static unsigned poke_exits;

/* vcpu0's first exit makes vcpu1 able to wake without a poke; its second pokes */
static void hook_wake_then_poke(struct vcpu *v, struct vm_exit *e)
{
	if (v->id != 0)
		return;
	fake.can_wake |= 1u << 1;
	if (++poke_exits == 2)
		sched_poke();
}

static void test_no_poll_without_poke(void **state)
{
	make_vcpus(2, 2);
	vm->vcpus[1]->state = VCPU_HALTED;
	poke_exits = 0;
	fake.exit_hook = hook_wake_then_poke;
	exit_after(VMEXIT_CPUID, G);         /* not poked: vcpu0 goes straight back in */
	exit_after(VMEXIT_CPUID, G);         /* poked: vcpu1 wakes, and G has passed: it runs */
	exit_after(VMEXIT_SHUTDOWN, 0);
	run();
	ASSERT_RAN(0, 0, 1);
}

/* exit_hook: vcpu1 can wake, and nobody says so (a missed sched_poke) */
static void hook_wake_silently(struct vcpu *v, struct vm_exit *e)
{
	if (v->id == 0)
		fake.can_wake |= 1u << 1;
}

/* A missed poke is caught at the slice's end: late, never lost. */
static void test_missed_poke_caught_at_slice_end(void **state)
{
	make_vcpus(2, 2);
	vm->vcpus[1]->state = VCPU_HALTED;
	fake.exit_hook = hook_wake_silently;
	exit_after(VMEXIT_CPUID, G);
	exit_after(VMEXIT_CPUID, S);         /* the slice is over: the poll finds vcpu1 */
	exit_after(VMEXIT_SHUTDOWN, 0);
	run();
	ASSERT_RAN(0, 0, 1);
	assert_int_equal(vm->vcpus[1]->state, VCPU_RUNNABLE);
}

/* ---- steal ---- */

static void hook_can_wake_vcpu1(struct vcpu *v, struct vm_exit *e)
{
	fake.can_wake |= 1u << 1;
	sched_poke();
}

static void test_steal_not_counted_while_halted(void **state)
{
	make_vcpus(2, 2);
	fake.exit_hook = hook_can_wake_vcpu1;
	exit_after(VMEXIT_INTR, S);          /* vcpu0; vcpu1 waits S */
	exit_after(VMEXIT_HLT, 0);           /* vcpu1 sleeps at C0 + S */
	exit_after(VMEXIT_INTR, S);          /* vcpu0, alone: keeps the CPU */
	exit_after(VMEXIT_CPUID, S);         /* vcpu1 can wake at C0 + 3S; vcpu0's slice is over */
	exit_after(VMEXIT_SHUTDOWN, 0);      /* vcpu1 */
	run();
	ASSERT_RAN(0, 1, 0, 0, 1);
	assert_int_equal(vm->vcpus[1]->steal, S);
	assert_int_equal(vm->vcpus[0]->steal, 0);
}

/* ---- vcpu_wake / vcpu_halt ---- */

static void test_wake_and_halt_directly(void **state)
{
	make_vcpus(2, 0);
	struct vcpu *v = vm->vcpus[1];
	v->pv_unhalt = true;
	fake.counter = C0 + 123;
	vcpu_wake(v);
	assert_int_equal(v->state, VCPU_RUNNABLE);
	assert_int_equal(v->ready_since, C0 + 123);
	assert_false(v->pv_unhalt);
	fake.counter = C0 + 999;
	vcpu_wake(v);                         /* already runnable: it keeps its wait start */
	assert_int_equal(v->ready_since, C0 + 123);

	vcpu_halt(v);
	assert_int_equal(v->state, VCPU_HALTED);
	vcpu_wake(v);
	fake.can_wake = 1u << 1;
	vcpu_halt(v);
	assert_int_equal(v->state, VCPU_RUNNABLE);
	fake.can_wake = 1u << 0;              /* another vCPU's wake-up is not its own */
	vcpu_halt(v);
	assert_int_equal(v->state, VCPU_HALTED);
}

/* ---- several VMs at once (sched_run) ---- */

/* A second VM, id 1, with one vCPU runnable since now. */
static struct vm *second_vm(void)
{
	struct vm *b = fake_vm_new();
	b->id = 1;
	strcpy(b->name, "vm1");
	fake_vm_add_slot(b, 0, MiB(1), 0, 0);
	struct vcpu *v = fake_vcpu_new(b);
	v->state = VCPU_RUNNABLE;
	v->ready_since = fake.counter;
	return b;
}

static void test_two_vms_take_turns_by_slice(void **state)
{
	make_vcpus(1, 1);
	struct vm *b = second_vm();
	struct vm *vms[] = { vm, b };
	exit_after(VMEXIT_INTR, S);          /* vm0's slice ends: vm1 is runnable, so it gets the CPU */
	exit_after(VMEXIT_INTR, S);          /* and the other way round */
	exit_after(VMEXIT_INTR, S);
	exit_after(VMEXIT_SHUTDOWN, 10);     /* vm1 dies ... */
	exit_after(VMEXIT_INTR, S);          /* ... vm0 goes on alone, slice after slice */
	exit_after(VMEXIT_INTR, S);
	exit_after(VMEXIT_SHUTDOWN, 10);
	sched_run(vms, 2);
	ASSERT_RAN_VMS(0, 1, 0, 1, 0, 0, 0);
	assert_int_equal(fake.script_pos, fake.script_len);
	assert_int_equal(vm->end, VM_END_TRIPLE_FAULT);
	assert_int_equal(b->end, VM_END_TRIPLE_FAULT);
	/* each VM's vCPUs are reported when it ends, not when the last one does */
	const char *t = fake_console_text();
	const char *rb = strstr(t, "vm1: vcpu0:"), *e0 = strstr(t, "vm0: triple fault");
	assert_non_null(rb);
	assert_non_null(e0);
	assert_true(rb < e0);
}

static void test_halted_vm_waits_while_another_runs(void **state)
{
	/* vm0 halts with nothing armed; only vm1 could still wake it (an interdomain event) */
	make_vcpus(1, 1);
	struct vm *b = second_vm();
	struct vm *vms[] = { vm, b };
	exit_at(VMEXIT_HLT, 0x4000);
	exit_after(VMEXIT_INTR, S);
	exit_after(VMEXIT_INTR, S);
	exit_after(VMEXIT_SHUTDOWN, 10);
	sched_run(vms, 2);
	ASSERT_RAN_VMS(0, 1, 1, 1);
	assert_int_equal(b->end, VM_END_TRIPLE_FAULT);
	assert_int_equal(vm->end, VM_END_HALTED);
	const char *t = fake_console_text();
	const char *eb = strstr(t, "vm1: triple fault"), *e0 = strstr(t, "vm0: halted forever");
	assert_non_null(eb);
	assert_non_null(e0);
	assert_true(eb < e0);
}

/* exit_hook: vm1's CPUID exit wakes vm0's vcpu0 */
static void hook_wake_vm0(struct vcpu *v, struct vm_exit *e)
{
	if (v->vm->id == 1)
		vcpu_wake(vm->vcpus[0]);
}

static void test_woken_across_vms(void **state)
{
	/* vm0 halts; vm1 wakes it (as an interdomain send does): vm0 runs once vm1's slice ends */
	make_vcpus(1, 1);
	struct vm *b = second_vm();
	struct vm *vms[] = { vm, b };
	exit_at(VMEXIT_HLT, 0x4000);
	exit_after(VMEXIT_CPUID, 100);       /* vm1 wakes vm0 ... */
	exit_after(VMEXIT_INTR, S);
	exit_after(VMEXIT_SHUTDOWN, 10);     /* ... which runs once vm1 has had the wake granularity */
	exit_after(VMEXIT_SHUTDOWN, 10);     /* vm1 */
	fake.exit_hook = hook_wake_vm0;
	sched_run(vms, 2);
	ASSERT_RAN_VMS(0, 1, 1, 0, 1);
	assert_int_equal(fake.ran_deadline[2], C0 + G);
	assert_int_equal(vm->end, VM_END_TRIPLE_FAULT);
	assert_int_equal(b->end, VM_END_TRIPLE_FAULT);
}

/* exit_hook: vm0's vcpu0 yields to its vcpu1; vcpu1's first exit wakes vm1's vcpu1 */
static void hook_yield_across(struct vcpu *v, struct vm_exit *e)
{
	if (v->vm == vm && v->id == 0)
		vcpu_yield_to(v, vm->vcpus[1]);
	else if (v->vm == vm && v->id == 1)
		vcpu_wake(vm_find(1)->vcpus[1]);
}

/* A directed yield gives the VM's turn to the target, whose slice no wake-up elsewhere cuts. */
static void test_yield_target_keeps_the_turn(void **state)
{
	make_vcpus(2, 2);
	struct vm *b = second_vm();
	struct vcpu *b1 = fake_vcpu_new(b);           /* halted: the hook wakes it */
	b1->state = VCPU_HALTED;
	struct vm *vms[] = { vm, b };
	fake.exit_hook = hook_yield_across;
	exit_after(VMEXIT_CPUID, 10);                 /* vm0 vcpu0 yields to vcpu1 */
	exit_after(VMEXIT_CPUID, 10);                 /* vm0 vcpu1, its turn: vm1's vcpu1 wakes */
	exit_after(VMEXIT_INTR, S);                   /* ... and vcpu1 goes on to its slice's end */
	exit_after(VMEXIT_SHUTDOWN, 10);              /* vm1 */
	exit_after(VMEXIT_SHUTDOWN, 10);              /* vm0 */
	sched_run(vms, 2);
	ASSERT_RAN_VMS(0, 0, 0, 1, 0);
	assert_int_equal(fake.ran[1], 1);
	assert_int_equal(fake.ran_deadline[2], C0 + 10 + S);   /* the slice's end, not the wake granularity */
}

/* The serial console's keys between slices; the tables when a VM ends. */
static void test_console_keys_and_end_report(void **state)
{
	make_vcpus(1, 1);
	fake.console_input = "tsx";
	exit_after(VMEXIT_INTR, S);
	exit_after(VMEXIT_INTR, S);
	exit_after(VMEXIT_INTR, S);
	exit_after(VMEXIT_SHUTDOWN, 10);
	run();
	assert_int_equal(*fake.console_input, 0);                      /* all three keys read */
	assert_true(fake_console_has("hv: keys: s: hypercall counters, t: the last hypercalls of every VM"));
	/* 's' printed the counters once, and the VM's end once more */
	assert_int_equal(fake_console_count("hv: vm0: hypercalls: 0, 0 errors, 0 denied"), 2);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_lone_hlt_nothing_armed_ends_halted),
		T(test_all_halted_names_the_first_halted_vcpu),
		T(test_halted_ap_named_when_bsp_never_halted),
		T(test_hlt_with_wakeup_pending_keeps_running),
		T(test_timer_wakes_halted_vcpu_after_idle),
		T(test_timer_of_other_vcpu_keeps_halted_vcpu_asleep),
		T(test_pv_unhalt_skips_one_hlt),
		T(test_pv_unhalt_wakes_halted_vcpu),
		T(test_no_poll_without_poke),
		T(test_missed_poke_caught_at_slice_end),
		T(test_round_robin_three_vcpus),
		T(test_slice_not_cut_short_by_exits),
		T(test_lone_vcpu_keeps_cpu_and_slice_restarts),
		T(test_deadline_is_earliest_of_slice_and_timers),
		T(test_yield_to_runs_target_next),
		T(test_yield_to_self_or_unrunnable_is_ignored),
		T(test_yield_to_self_keeps_running),
		T(test_waiting_ap_runs_only_after_wake),
		T(test_all_waiting_no_timer_ends_vm),
		T(test_two_vms_take_turns_by_slice),
		T(test_halted_vm_waits_while_another_runs),
		T(test_woken_across_vms),
		T(test_console_keys_and_end_report),
		T(test_yield_target_keeps_the_turn),
		T(test_woken_vcpu_runs_before_round_robin),
		T(test_wake_does_not_override_directed_yield),
		T(test_wake_marks_vcpu_next),
		T(test_wake_preempts_only_after_granularity),
		T(test_woken_vcpu_does_not_starve_others),
		T(test_steal_not_counted_while_halted),
		T(test_wake_and_halt_directly),
	};
	return cmocka_run_group_tests_name("sched", tests, NULL, NULL);
}
