/*
 * hypercalls/dispatch.c with the KVM ABI (hypercalls/kvm/): decoding,
 * truncation for 32-bit callers, CPL check, result encoding, RIP, and the
 * hypervisor CPUID range.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "core/exit.h"
#include "core/vm.h"
#include "hypercalls/hypercall.h"
#include "hypercalls/kvm/kvm_abi.h"
#include "tests/fake_arch/fake_arch.h"
#include "tests/fake_arch/fake_test.h"

#define ENOSYS64 0xfffffffffffffc18ull    /* -1000 */
#define ENOSYS32 0x00000000fffffc18ull
#define EPERM64  0xffffffffffffffffull    /* -1 */
#define EPERM32  0x00000000ffffffffull

static struct vm *vm;
static struct vcpu *v;

static int setup(void **state)
{
	fake_arch_reset();
	vm = fake_vm_new();
	fake_vm_add_slot(vm, 0, MiB(1), 0, 0);
	v = fake_vcpu_new(vm);
	/* a distinct value in every register, so any stray write shows */
	for (unsigned i = 0; i < X86_NR_GPRS; i++)
		v->regs.gpr[i] = 0x1111111111111111ull * (i + 1) ^ 0x8000000000000000ull;
	v->regs.rip = 0x1000;
	v->regs.rflags = 0x246;
	return 0;
}

static int teardown(void **state)
{
	fake_cleanup();
	return 0;
}

static void call(enum cpu_mode mode, uint8_t cpl, uint8_t insn_len)
{
	struct vm_exit e = {
		.reason = VMEXIT_HYPERCALL, .insn_len = insn_len, .cpl = cpl, .mode = mode,
		.hc.insn = HC_INSN_VMMCALL,
	};
	hc_dispatch(v, &e);
}

static uint64_t call64(uint64_t nr)
{
	v->regs.gpr[X86_RAX] = nr;
	call(MODE_64, 0, 3);
	return v->regs.gpr[X86_RAX];
}

static void test_unknown_numbers_enosys(void **state)
{
	static const uint64_t nrs[] = {
		0, KVM_HC_MMU_OP, KVM_HC_FEATURES, 13, 1000, 0x100000001ull,
		0x8000000000000000ull, UINT64_MAX, UINT64_MAX - 1,
	};
	for (size_t i = 0; i < ARRAY_SIZE(nrs); i++)
		if (call64(nrs[i]) != ENOSYS64)
			fail_fmt("nr 0x%llx: rax 0x%llx", (unsigned long long)nrs[i],
			         (unsigned long long)v->regs.gpr[X86_RAX]);
}

static void test_vapic_poll_irq_returns_zero(void **state)
{
	assert_int_equal(call64(KVM_HC_VAPIC_POLL_IRQ), 0);
}

static void test_cpl3_eperm(void **state)
{
	v->regs.gpr[X86_RAX] = KVM_HC_VAPIC_POLL_IRQ;
	call(MODE_64, 3, 3);
	assert_int_equal(v->regs.gpr[X86_RAX], EPERM64);
}

static void test_cpl3_eperm_even_for_unknown(void **state)
{
	v->regs.gpr[X86_RAX] = 1000;
	call(MODE_64, 3, 3);
	assert_int_equal(v->regs.gpr[X86_RAX], EPERM64);
}

static void test_cpl1_eperm(void **state)
{
	v->regs.gpr[X86_RAX] = KVM_HC_VAPIC_POLL_IRQ;
	call(MODE_64, 1, 3);
	assert_int_equal(v->regs.gpr[X86_RAX], EPERM64);
}

static void test_prot32_number_truncated(void **state)
{
	v->regs.gpr[X86_RAX] = 0x100000001ull;
	call(MODE_PROT32, 0, 3);
	assert_int_equal(v->regs.gpr[X86_RAX], 0);
}

static void test_prot32_result_zero_extended(void **state)
{
	v->regs.gpr[X86_RAX] = 0xdeadbeef00000000ull | 1000;
	call(MODE_PROT32, 0, 3);
	assert_int_equal(v->regs.gpr[X86_RAX], ENOSYS32);
}

static void test_prot32_cpl3_zero_extended(void **state)
{
	v->regs.gpr[X86_RAX] = KVM_HC_VAPIC_POLL_IRQ;
	call(MODE_PROT32, 3, 3);
	assert_int_equal(v->regs.gpr[X86_RAX], EPERM32);
}

static void test_real_and_prot16_truncate_too(void **state)
{
	v->regs.gpr[X86_RAX] = 0xffffffff00000001ull;
	call(MODE_REAL, 0, 3);
	assert_int_equal(v->regs.gpr[X86_RAX], 0);
	v->regs.gpr[X86_RAX] = 77;
	call(MODE_PROT16, 0, 3);
	assert_int_equal(v->regs.gpr[X86_RAX], ENOSYS32);
}

static void test_long_mode_result_sign_extended(void **state)
{
	assert_int_equal(call64(1000), ENOSYS64);
	/* in 64-bit mode the high half of the number counts: this is not call 1 */
	assert_int_equal(call64(0x100000001ull), ENOSYS64);
}

static void test_rip_advanced(void **state)
{
	v->regs.gpr[X86_RAX] = KVM_HC_VAPIC_POLL_IRQ;
	call(MODE_64, 0, 3);
	assert_int_equal(v->regs.rip, 0x1003);
}

static void test_rip_advanced_on_error(void **state)
{
	v->regs.gpr[X86_RAX] = 999;
	call(MODE_64, 0, 3);
	assert_int_equal(v->regs.rip, 0x1003);
	call(MODE_64, 3, 3);
	assert_int_equal(v->regs.rip, 0x1006);
}

static void test_rip_wraps_in_32bit_mode(void **state)
{
	v->regs.rip = 0xfffffffe;
	v->regs.gpr[X86_RAX] = KVM_HC_VAPIC_POLL_IRQ;
	call(MODE_PROT32, 0, 3);
	assert_int_equal(v->regs.rip, 0x1);
}

static void test_rip_does_not_wrap_in_64bit_mode(void **state)
{
	v->regs.rip = 0xfffffffe;
	v->regs.gpr[X86_RAX] = KVM_HC_VAPIC_POLL_IRQ;
	call(MODE_64, 0, 3);
	assert_int_equal(v->regs.rip, 0x100000001ull);
}

static void assert_only_rax_rip_changed(const struct guest_regs *before)
{
	for (unsigned i = 0; i < X86_NR_GPRS; i++)
		if (i != X86_RAX && v->regs.gpr[i] != before->gpr[i])
			fail_fmt("gpr %u changed: 0x%llx -> 0x%llx", i,
			         (unsigned long long)before->gpr[i], (unsigned long long)v->regs.gpr[i]);
	assert_int_equal(v->regs.rflags, before->rflags);
}

static void test_other_registers_untouched_64(void **state)
{
	v->regs.gpr[X86_RAX] = KVM_HC_VAPIC_POLL_IRQ;
	struct guest_regs before = v->regs;
	call(MODE_64, 0, 3);
	assert_only_rax_rip_changed(&before);
}

static void test_other_registers_untouched_32(void **state)
{
	/* truncating the arguments must not write the truncated values back */
	v->regs.gpr[X86_RAX] = 0xabcd000000000001ull;
	struct guest_regs before = v->regs;
	call(MODE_PROT32, 0, 3);
	assert_only_rax_rip_changed(&before);
	before = v->regs;
	call(MODE_PROT32, 3, 3);
	assert_only_rax_rip_changed(&before);
}

static void test_hypercalls_counted(void **state)
{
	call64(1);
	call64(1000);
	v->regs.gpr[X86_RAX] = 1;
	call(MODE_64, 3, 3);
	call(MODE_PROT32, 0, 3);
	assert_int_equal(vm->nr_hypercalls, 4);
}

/* ---- hypervisor CPUID leaves ---- */

static void test_cpuid_signature(void **state)
{
	struct cpuid_regs r;
	assert_true(hc_cpuid(v, 0x40000000, 0, &r));
	assert_int_equal(r.eax, 0x40000001);
	char sig[13];
	memcpy(sig, &r.ebx, 4);
	memcpy(sig + 4, &r.ecx, 4);
	memcpy(sig + 8, &r.edx, 4);
	sig[12] = 0;
	assert_memory_equal(sig, "KVMKVMKVM\0\0\0", 12);
}

static void test_cpuid_signature_ignores_subleaf(void **state)
{
	struct cpuid_regs a, b;
	assert_true(hc_cpuid(v, 0x40000000, 0, &a));
	assert_true(hc_cpuid(v, 0x40000000, 7, &b));
	assert_memory_equal(&a, &b, sizeof(a));
}

/* Exactly the implemented features: kvmclock (both MSR sets), MAP_GPA_RANGE, stable bit per host. */
static void test_cpuid_features_exact(void **state)
{
	struct cpuid_regs r;
	memset(&r, 0xff, sizeof(r));
	fake.counter_stable = false;
	assert_true(hc_cpuid(v, 0x40000001, 0, &r));
	/* clocksource, clocksource2, steal time, PV EOI, PV unhalt, PV send IPI, poll control, PV sched yield, map GPA range, migration control */
	const uint32_t base = (1u << 0) | (1u << 3) | (1u << 5) | (1u << 6) | (1u << 7) | (1u << 11) | (1u << 12) |
	                      (1u << 13) | (1u << 16) | (1u << 17);
	assert_int_equal(r.eax, base);
	assert_int_equal(r.ebx, 0);
	assert_int_equal(r.ecx, 0);
	assert_int_equal(r.edx, 0);
	fake.counter_stable = true;
	assert_true(hc_cpuid(v, 0x40000001, 0, &r));
	assert_int_equal(r.eax, base | (1u << 24));
	fake.counter_stable = false;
}

static void assert_handled_zero(uint32_t leaf)
{
	struct cpuid_regs r;
	memset(&r, 0xff, sizeof(r));
	if (!hc_cpuid(v, leaf, 0, &r))
		fail_fmt("leaf 0x%x not handled", leaf);
	if (r.eax || r.ebx || r.ecx || r.edx)
		fail_fmt("leaf 0x%x: %x %x %x %x", leaf, r.eax, r.ebx, r.ecx, r.edx);
}

static void test_cpuid_undefined_leaves_in_range_zero(void **state)
{
	assert_handled_zero(0x40000002);
	assert_handled_zero(0x400000ff);
	assert_handled_zero(0x40000100);
	assert_handled_zero(0x40000101);
	assert_handled_zero(0x4000ff00);
	assert_handled_zero(0x4000ffff);
}

static void test_cpuid_outside_range_not_handled(void **state)
{
	struct cpuid_regs r;
	assert_false(hc_cpuid(v, 0x3fffffff, 0, &r));
	assert_false(hc_cpuid(v, 0x40010000, 0, &r));
	assert_false(hc_cpuid(v, 0, 0, &r));
	assert_false(hc_cpuid(v, 0x80000000, 0, &r));
	assert_false(hc_cpuid(v, 0xffffffff, 0, &r));
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_unknown_numbers_enosys),
		T(test_vapic_poll_irq_returns_zero),
		T(test_cpl3_eperm),
		T(test_cpl3_eperm_even_for_unknown),
		T(test_cpl1_eperm),
		T(test_prot32_number_truncated),
		T(test_prot32_result_zero_extended),
		T(test_prot32_cpl3_zero_extended),
		T(test_real_and_prot16_truncate_too),
		T(test_long_mode_result_sign_extended),
		T(test_rip_advanced),
		T(test_rip_advanced_on_error),
		T(test_rip_wraps_in_32bit_mode),
		T(test_rip_does_not_wrap_in_64bit_mode),
		T(test_other_registers_untouched_64),
		T(test_other_registers_untouched_32),
		T(test_hypercalls_counted),
		T(test_cpuid_signature),
		T(test_cpuid_signature_ignores_subleaf),
		T(test_cpuid_features_exact),
		T(test_cpuid_undefined_leaves_in_range_zero),
		T(test_cpuid_outside_range_not_handled),
	};
#undef T
	return cmocka_run_group_tests_name("dispatch", tests, NULL, NULL);
}
