/*
 * The project's own calls (hypercalls/ext/, docs/extensions.md) through the
 * real dispatcher: off unless enabled (and then the numbers are the VM's
 * ABIs' unknown calls, their CPUID leaves zero), discovery, and each call's
 * effect and errors: debug_log, unmap_gpa_range, mem_attributes, inject_event.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/exit.h"
#include "core/gmem.h"
#include "core/time.h"
#include "core/vm.h"
#include "hypercalls/ext/ext_abi.h"
#include "hypercalls/hypercall.h"
#include "tests/fake_arch/fake_arch.h"
#include "tests/fake_arch/fake_test.h"

#define RAM MiB(1)
#define BUF 0x4000ull
#define PAGE 0x20000ull
#define KVM_ENOSYS (-1000)

static struct vm *vm;
static struct vcpu *v, *v2;
static struct boot_info bi;

static int setup(void **state)
{
	fake_arch_reset();
	fake_console_reset();
	fake_pmm_setup(&bi);
	time_init(2000000000ull, 0, 0);
	vm = fake_vm_new();
	fake_vm_add_slot(vm, 0, RAM, 0, 0x33);
	vm->mem_size = RAM;
	v = fake_vcpu_new(vm);
	v2 = fake_vcpu_new(vm);
	vm->hc.ext = true;
	return 0;
}

static int teardown(void **state)
{
	gmem_destroy(vm);
	fake_cleanup();
	return 0;
}

static int64_t ext(enum cpu_mode mode, uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
	v->regs.gpr[X86_RAX] = nr;
	v->regs.gpr[X86_RBX] = a0;
	v->regs.gpr[X86_RCX] = a1;
	v->regs.gpr[X86_RDX] = a2;
	struct vm_exit e = { .reason = VMEXIT_HYPERCALL, .insn_len = 3, .mode = mode, .hc.insn = HC_INSN_VMMCALL };
	hc_dispatch(v, &e);
	return mode == MODE_64 ? (int64_t)v->regs.gpr[X86_RAX] : (int64_t)(int32_t)v->regs.gpr[X86_RAX];
}
static int64_t call(unsigned n, uint64_t a0, uint64_t a1, uint64_t a2) { return ext(MODE_64, EXT_NR_BASE + n, a0, a1, a2); }

static void test_off_unless_enabled(void **state)
{
	struct cpuid_regs r;
	vm->hc.ext = false;
	assert_true(hc_cpuid(v, EXT_CPUID_BASE, 0, &r));
	assert_true(!r.eax && !r.ebx && !r.ecx && !r.edx);
	assert_int_equal(call(EXT_DEBUG_LOG, BUF, 1, 0), KVM_ENOSYS);          /* KVM's unknown call */
	/* a 32-bit Hyper-V caller: EAX is the input's low half, and these are reserved bits there */
	const struct hc_abi *hv[] = { &hyperv_abi };
	hc_vm_set_abis(vm, hv, 1);
	v->regs.gpr[X86_RDX] = 0;
	assert_int_equal(ext(MODE_PROT32, EXT_NR_BASE, 0, 0, 0), 3);          /* HV_STATUS_INVALID_HYPERCALL_INPUT */
	vm->hc.ext = true;
	assert_int_equal(ext(MODE_PROT32, EXT_NR_BASE + EXT_INJECT_EVENT, 1, 0x40, 0), 0);
	assert_int_equal(fake.ipis[1], 1);
}

static void test_discovery(void **state)
{
	struct cpuid_regs r;
	assert_true(hc_cpuid(v, EXT_CPUID_BASE, 0, &r));
	assert_int_equal(r.eax, EXT_CPUID_FEATURES);
	char sig[13] = { 0 };
	memcpy(sig, &r.ebx, 4);
	memcpy(sig + 4, &r.ecx, 4);
	memcpy(sig + 8, &r.edx, 4);
	assert_string_equal(sig, EXT_CPUID_SIGNATURE);
	assert_true(hc_cpuid(v, EXT_CPUID_FEATURES, 0, &r));
	assert_int_equal(r.eax, 0xf);
	assert_int_equal(r.ebx, EXT_NR_BASE);
	assert_true(hc_cpuid(v, EXT_CPUID_BASE + 2, 0, &r));
	assert_int_equal(r.eax, 0);
	/* past the last call: the VM's own ABI answers */
	assert_int_equal(call(EXT_NR_CALLS, 0, 0, 0), KVM_ENOSYS);
	/* KVM's leaves are where they were */
	assert_true(hc_cpuid(v, 0x40000000, 0, &r));
	assert_int_equal(r.ebx, 0x4b4d564b);                                   /* "KVMK" */
}

static void test_debug_log(void **state)
{
	memcpy(fake_vm_hva(vm, BUF), "hello\x01world\n", 12);
	assert_int_equal(call(EXT_DEBUG_LOG, BUF, 12, 0), 12);
	assert_true(fake_console_has("hv: vm0: vcpu0 says: hello.world.\n"));
	assert_int_equal(call(EXT_DEBUG_LOG, BUF, EXT_LOG_MAX + 1, 0), -EXT_EINVAL);
	assert_int_equal(call(EXT_DEBUG_LOG, RAM - 4, 8, 0), -EXT_EFAULT);
	assert_int_equal(call(EXT_DEBUG_LOG, BUF, 0, 0), 0);
	/* a budget per VM: the log cannot be flooded */
	int64_t r = 0;
	for (unsigned i = 0; i < EXT_LOG_BUDGET / EXT_LOG_MAX + 1 && r >= 0; i++)
		r = call(EXT_DEBUG_LOG, BUF, EXT_LOG_MAX, 0);
	assert_int_equal(r, -EXT_ENOSPC);
}

static void test_unmap_gpa_range(void **state)
{
	uint8_t b;
	assert_int_equal(call(EXT_UNMAP_GPA_RANGE, PAGE, 2, 0), 0);
	assert_int_equal(vm->nr_removed, 2);
	assert_int_equal(gmem_read(vm, mk_gpa(PAGE + 0x1000), &b, 1), -EFAULT);
	assert_false(fake.page_set_log[1].present);
	assert_int_equal(call(EXT_UNMAP_GPA_RANGE, PAGE, 3, 0), 0);            /* out already: left so */
	assert_int_equal(vm->nr_removed, 3);
	assert_int_equal(call(EXT_UNMAP_GPA_RANGE, PAGE, 3, EXT_UNMAP_RESTORE), 0);
	assert_int_equal(vm->nr_removed, 0);
	assert_int_equal(gmem_read(vm, mk_gpa(PAGE + 0x1000), &b, 1), 0);
	assert_int_equal(b, 0);                                                 /* back zeroed */
	static const uint64_t bad[][3] = {
		{ PAGE + 8, 1, 0 }, { PAGE, 0, 0 }, { PAGE, EXT_RANGE_MAX + 1, 0 }, { RAM - 0x1000, 2, 0 },
		{ PAGE, 1, 2 }, { UINT64_MAX & ~0xfffull, 2, 0 },
	};
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(call(EXT_UNMAP_GPA_RANGE, bad[i][0], bad[i][1], bad[i][2]), -EXT_EINVAL);
	assert_int_equal(vm->nr_removed, 0);
}

static void test_mem_attributes(void **state)
{
	uint8_t b;
	assert_int_equal(call(EXT_MEM_ATTRIBUTES, PAGE, 2, EXT_ATTR_PRIVATE), 0);
	assert_int_equal(vm->nr_private, 2);
	assert_int_equal(fake.cache_cleans, 2);                                /* each page that changed */
	assert_int_equal(fake.cache_cleaned, 2 * 4096);
	/* the hypervisor keeps out: a call naming a buffer there fails */
	assert_int_equal(gmem_read(vm, mk_gpa(PAGE + 0x1000), &b, 1), -EFAULT);
	assert_int_equal(call(EXT_DEBUG_LOG, PAGE, 4, 0), -EXT_EFAULT);
	assert_int_equal(call(EXT_MEM_ATTRIBUTES, PAGE, 1, EXT_ATTR_PRIVATE), 0);
	assert_int_equal(fake.cache_cleans, 2);                                /* no change, no cleaning */
	assert_int_equal(call(EXT_MEM_ATTRIBUTES, PAGE, 2, 0), 0);
	assert_int_equal(vm->nr_private, 0);
	assert_int_equal(fake.cache_cleans, 4);
	assert_int_equal(gmem_read(vm, mk_gpa(PAGE + 0x1000), &b, 1), 0);
	assert_int_equal(b, 0x33);                                              /* contents kept */
	assert_int_equal(call(EXT_MEM_ATTRIBUTES, PAGE, 1, 2), -EXT_EINVAL);
	assert_int_equal(call(EXT_MEM_ATTRIBUTES, RAM, 1, 1), -EXT_EINVAL);
}

static void test_inject_event(void **state)
{
	assert_int_equal(call(EXT_INJECT_EVENT, 1, 0x50, 0), 0);
	assert_int_equal(fake.ipis[1], 1);
	assert_int_equal(call(EXT_INJECT_EVENT, 0, 0xff, 0), 0);
	assert_int_equal(fake.ipis[0], 1);
	assert_int_equal(call(EXT_INJECT_EVENT, 2, 0x50, 0), -EXT_EINVAL);     /* no such vCPU */
	assert_int_equal(call(EXT_INJECT_EVENT, 0, 31, 0), -EXT_EINVAL);       /* an exception vector */
	assert_int_equal(call(EXT_INJECT_EVENT, 0, 256, 0), -EXT_EINVAL);
	fake.ipi_refuse = 1u << 1;
	assert_int_equal(call(EXT_INJECT_EVENT, 1, 0x50, 0), -EXT_EBUSY);
}

static void test_policy_and_counters(void **state)
{
	vm->hc.policy.rule[0] = (struct hc_policy_rule){ &ext_abi, EXT_DEBUG_LOG, false };
	vm->hc.policy.n = 1;
	assert_int_equal(call(EXT_DEBUG_LOG, BUF, 1, 0), -EXT_EPERM);
	assert_int_equal(call(EXT_INJECT_EVENT, 0, 0x50, 0), 0);
	bool found = false;
	for (unsigned i = 0; i < HC_STATS_SLOTS; i++)
		if (vm->hc.stats[i].abi == &ext_abi && vm->hc.stats[i].nr == EXT_DEBUG_LOG) {
			found = true;
			assert_int_equal(vm->hc.stats[i].denied, 1);
		}
	assert_true(found);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_off_unless_enabled), T(test_discovery), T(test_debug_log), T(test_unmap_gpa_range),
		T(test_mem_attributes), T(test_inject_event), T(test_policy_and_counters),
	};
	return cmocka_run_group_tests_name("ext", tests, NULL, NULL);
}
