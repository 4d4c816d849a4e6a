/*
 * The dispatcher's interception point (hypercalls/intercept.[ch]) on a VM
 * that speaks Hyper-V, Xen and KVM: policy rules deny with each ABI's own
 * permission error before any handler runs, allow lists, the counters and
 * the trace ring, a hook of one's own rewriting a call, and the tables.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/exit.h"
#include "core/time.h"
#include "core/vm.h"
#include "hypercalls/hypercall.h"
#include "hypercalls/hyperv/hv_abi.h"
#include "hypercalls/intercept.h"
#include "hypercalls/xen/xen_abi.h"
#include "tests/fake_arch/fake_arch.h"
#include "tests/fake_arch/fake_test.h"

#define HV_PAGE 0x3000ull
#define XEN_PAGE 0x5000ull
#define RIP0 0x9000ull
#define XEN_VERSION_4_17 0x40011

static struct vm *vm;
static struct vcpu *v;

static int setup(void **state)
{
	fake_arch_reset();
	fake_console_reset();
	time_init(2000000000ull, 0, 0);
	vm = fake_vm_new();
	fake_vm_add_slot(vm, 0, MiB(1), 0, 0);
	vm->mem_size = MiB(1);
	v = fake_vcpu_new(vm);
	fake.ctrl[0].efer = 1u << 10;
	const struct hc_abi *list[] = { &hyperv_abi, &xen_abi, &kvm_abi };
	hc_vm_set_abis(vm, list, 3);
	assert_int_equal(hc_msr_write(v, HV_X64_MSR_GUEST_OS_ID, 0x8100000000000000ull), 0);
	assert_int_equal(hc_msr_write(v, HV_X64_MSR_HYPERCALL, HV_PAGE | HV_X64_MSR_HYPERCALL_ENABLE), 0);
	assert_int_equal(hc_msr_write(v, XEN_HYPERCALL_MSR_VIRIDIAN, XEN_PAGE), 0);
	return 0;
}

static int teardown(void **state)
{
	fake_cleanup();
	return 0;
}

static void rule(const struct hc_abi *abi, uint64_t nr, bool allow)
{
	vm->hc.policy.rule[vm->hc.policy.n++] = (struct hc_policy_rule){ abi, nr, allow };
}

static int64_t call(uint64_t rip, uint8_t cpl, uint64_t rax, uint64_t rcx, uint64_t rdi)
{
	v->regs.rip = rip;
	v->regs.gpr[X86_RAX] = rax;
	v->regs.gpr[X86_RCX] = rcx;
	v->regs.gpr[X86_RDI] = rdi;
	struct vm_exit e = { .reason = VMEXIT_HYPERCALL, .insn_len = 3, .mode = MODE_64, .cpl = cpl,
	                     .hc.insn = HC_INSN_VMMCALL };
	hc_dispatch(v, &e);
	return (int64_t)v->regs.gpr[X86_RAX];
}
static int64_t xen_page_call(uint64_t nr, uint64_t a0) { return call(XEN_PAGE + nr * 32 + 5, 0, nr, 0, a0); }
static int64_t hv_call(uint64_t control) { return call(HV_PAGE, 0, 0, control, 0); }
static int64_t kvm_call(uint64_t nr) { return call(RIP0, 0, nr, 0, 0); }

static const struct hc_stat *stat_of(const struct hc_abi *abi, uint64_t nr)
{
	for (unsigned i = 0; i < HC_STATS_SLOTS; i++)
		if (vm->hc.stats[i].abi == abi && vm->hc.stats[i].nr == nr)
			return &vm->hc.stats[i];
	return NULL;
}

static void test_deny_gives_each_abis_permission_error(void **state)
{
	rule(&xen_abi, __HYPERVISOR_xen_version, false);
	rule(&hyperv_abi, 0x0008, false);                                 /* NotifyLongSpinWait */
	rule(&kvm_abi, 1, false);                                         /* VAPIC_POLL_IRQ */
	assert_int_equal(xen_page_call(__HYPERVISOR_xen_version, 0), -XEN_EPERM);
	assert_int_equal(v->regs.rip, XEN_PAGE + 17 * 32 + 5 + 3);        /* completed, as an error */
	assert_int_equal(hv_call(0x0008 | 1ull << 16), HV_STATUS_ACCESS_DENIED);
	assert_int_equal(kvm_call(1), -1);                                /* -KVM_EPERM */
	/* others go through */
	assert_int_equal(xen_page_call(__HYPERVISOR_memory_op, 99), -XEN_ENOSYS);
	assert_int_equal(hv_call(0x7777), HV_STATUS_INVALID_HYPERCALL_CODE);
	const struct hc_stat *s = stat_of(&xen_abi, __HYPERVISOR_xen_version);
	assert_non_null(s);
	assert_int_equal(s->calls, 1);
	assert_int_equal(s->errors, 1);
	assert_int_equal(s->denied, 1);
	s = stat_of(&hyperv_abi, 0x7777);
	assert_int_equal(s->calls, 1);
	assert_int_equal(s->errors, 1);
	assert_int_equal(s->denied, 0);
}

static void test_allow_list_and_wildcards(void **state)
{
	rule(&kvm_abi, 1, true);
	assert_int_equal(kvm_call(1), 0);
	assert_int_equal(kvm_call(10), -1);                               /* not on KVM's allow list */
	assert_int_equal(xen_page_call(__HYPERVISOR_xen_version, 0), XEN_VERSION_4_17);   /* Xen has no list */
	rule(&xen_abi, HC_POLICY_ANY, false);
	assert_int_equal(xen_page_call(__HYPERVISOR_xen_version, 0), -XEN_EPERM);
	/* the first matching rule wins */
	vm->hc.policy.n = 0;
	rule(&xen_abi, __HYPERVISOR_xen_version, true);
	rule(&xen_abi, HC_POLICY_ANY, false);
	assert_int_equal(xen_page_call(__HYPERVISOR_xen_version, 0), XEN_VERSION_4_17);
	assert_int_equal(xen_page_call(__HYPERVISOR_memory_op, 99), -XEN_EPERM);
}

static void test_fault_counted(void **state)
{
	assert_int_equal(call(HV_PAGE, 3, 0, 0x0008, 0), 0);              /* CPL 3: #UD, RAX untouched */
	assert_int_equal(fake.inject_undef, 1);
	const struct hc_stat *s = stat_of(&hyperv_abi, 0x0008);
	assert_int_equal(s->calls, 1);
	assert_int_equal(s->errors, 1);
	assert_true(vm->hc.trace[0].flags & HC_TRACE_FAULT);
}

static void test_trace_ring_keeps_the_last(void **state)
{
	for (uint64_t i = 0; i < HC_TRACE_LEN + 8; i++)
		xen_page_call(__HYPERVISOR_xen_version, i < HC_TRACE_LEN + 7 ? 0 : 99);   /* the last: unknown subop */
	assert_int_equal(vm->hc.trace_total, HC_TRACE_LEN + 8);
	const struct hc_trace_entry *last = &vm->hc.trace[(HC_TRACE_LEN + 7) % HC_TRACE_LEN];
	assert_ptr_equal(last->abi, &xen_abi);
	assert_int_equal(last->nr, __HYPERVISOR_xen_version);
	assert_int_equal(last->arg[0], 99);
	assert_int_equal(last->result, -XEN_ENOSYS);
	assert_true(last->flags & HC_TRACE_ERROR);
	const struct hc_trace_entry *prev = &vm->hc.trace[(HC_TRACE_LEN + 6) % HC_TRACE_LEN];
	assert_int_equal(prev->result, XEN_VERSION_4_17);
	assert_int_equal(prev->flags, 0);
	assert_true(prev->counter <= last->counter);
	hc_print_trace(vm, 4);
	assert_int_equal(fake_console_count("xen_version"), 4);
	assert_true(fake_console_has("hv: vm0: the last 4 hypercalls, oldest first:"));
}

static void test_stats_table(void **state)
{
	rule(&kvm_abi, 10, false);
	for (int i = 0; i < 3; i++)
		xen_page_call(__HYPERVISOR_xen_version, 0);
	kvm_call(10);
	hv_call(0x7777);
	hc_print_stats(vm);
	assert_true(fake_console_has("hv: vm0: hypercalls: 5, 2 errors, 1 denied"));
	assert_true(fake_console_has("xen_version"));
	assert_true(fake_console_has("send_ipi"));
	/* one line per call, Hyper-V first (the ABI order), then by number */
	const char *t = fake_console_text(), *h = strstr(t, "hyperv  ?"), *x = strstr(t, "xen     xen_version");
	assert_non_null(h);
	assert_non_null(x);
}

/* A hook of one's own: it sees every call and may rewrite one (here: a KVM call's number). */
static unsigned seen;
static enum hc_verdict rewrite_before(struct vcpu *c, struct hc_call_info *info)
{
	seen++;
	if (info->abi == &kvm_abi && info->args.nr == 0x42)
		info->args.nr = 1;                                        /* VAPIC_POLL_IRQ instead */
	return HC_CONTINUE;
}

/* ... or sends it to another of the VM's ABIs: Xen's xen_version for KVM number 0x43 */
static enum hc_verdict redirect_before(struct vcpu *c, struct hc_call_info *info)
{
	if (info->abi == &kvm_abi && info->args.nr == 0x43) {
		info->abi = &xen_abi;
		info->args.nr = __HYPERVISOR_xen_version;
		info->args.arg[0] = 0;                                    /* XENVER_version */
	}
	return HC_CONTINUE;
}

static void test_own_hook_rewrites(void **state)
{
	static const struct hc_hook h = { "test", rewrite_before, NULL };
	static const struct hc_hook r = { "redirect", redirect_before, NULL };
	assert_int_equal(hc_hook_add(&h), 0);
	assert_int_equal(kvm_call(0x42), 0);
	assert_int_equal(seen, 1);
	assert_int_equal(hc_hook_add(&r), 0);
	assert_int_equal(kvm_call(0x43), XEN_VERSION_4_17);
	assert_int_equal(v->regs.rip, RIP0 + 3);
	for (int i = 0; i < 8 && hc_hook_add(&h) == 0; i++) {}
	assert_int_equal(hc_hook_add(&h), -ENOSPC);                      /* a bounded chain */
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_deny_gives_each_abis_permission_error), T(test_allow_list_and_wildcards), T(test_fault_counted),
		T(test_trace_ring_keeps_the_last), T(test_stats_table), T(test_own_hook_rewrites),
	};
	return cmocka_run_group_tests_name("intercept", tests, NULL, NULL);
}
