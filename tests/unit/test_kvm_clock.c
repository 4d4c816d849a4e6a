/*
 * The KVM ABI's time and memory calls through the real dispatcher:
 * kvmclock and wall-clock MSRs, KVM_HC_CLOCK_PAIRING, KVM_HC_MAP_GPA_RANGE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>
#include "core/exit.h"
#include "core/pmm.h"
#include "core/time.h"
#include "core/vm.h"
#include "hypercalls/hypercall.h"
#include "hypercalls/kvm/kvm_abi.h"
#include "tests/fake_arch/fake_arch.h"
#include "tests/fake_arch/fake_test.h"

#define HZ 2500000000ull
#define WALL0 (1700000000ull * NSEC_PER_SEC + 123456789)
#define RAM MiB(1)

static struct boot_info bi;
static struct vm *vm;
static struct vcpu *v;

static int setup(void **state)
{
	fake_arch_reset();
	fake_pmm_setup(&bi);
	fake.counter = 1000000;
	time_init(HZ, fake.counter, WALL0);
	vm = fake_vm_new();
	fake_vm_add_slot(vm, 0, RAM, 0, 0);
	vm->mem_size = RAM;
	vm->clock_base = fake.counter;
	v = fake_vcpu_new(vm);
	v->arch.tsc_offset = 777;
	return 0;
}

static int teardown(void **state)
{
	hc_vm_destroy(vm);
	fake_cleanup();
	return 0;
}

static int64_t hypercall(uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
	struct vm_exit e = { .reason = VMEXIT_HYPERCALL, .mode = MODE_64, .insn_len = 3 };
	v->regs.gpr[X86_RAX] = nr;
	v->regs.gpr[X86_RBX] = a0;
	v->regs.gpr[X86_RCX] = a1;
	v->regs.gpr[X86_RDX] = a2;
	hc_dispatch(v, &e);
	return (int64_t)v->regs.gpr[X86_RAX];
}

static struct pvclock_vcpu_time_info *pvti_at(uint64_t gpa)
{
	return (struct pvclock_vcpu_time_info *)fake_vm_hva(vm, gpa);
}

static void test_system_time_new(void **state)
{
	pvti_at(0x3000)->version = 5;          /* whatever the guest's page held */
	fake.counter += HZ / 2;                /* half a second after the VM started */
	fake.counter_stable = true;
	assert_int_equal(hc_msr_write(v, MSR_KVM_SYSTEM_TIME_NEW, 0x3000 | 1), 0);
	const struct pvclock_vcpu_time_info *t = pvti_at(0x3000);
	assert_int_equal(t->version, 8);       /* (5 + 1) | 1 while writing, then even */
	assert_int_equal(t->tsc_timestamp, fake.counter + 777);
	struct time_scale s = time_ns_scale();
	assert_int_equal(t->tsc_to_system_mul, s.mul);
	assert_int_equal(t->tsc_shift, s.shift);
	assert_true(t->system_time >= 500000000 - 2 && t->system_time <= 500000000 + 2);
	assert_int_equal(t->flags, PVCLOCK_TSC_STABLE_BIT);
	uint64_t back = 0;
	assert_int_equal(hc_msr_read(v, MSR_KVM_SYSTEM_TIME_NEW, &back), 0);
	assert_int_equal(back, 0x3001);
}

/* What a guest computes from the structure equals the hypervisor's clock later on. */
static void test_guest_formula_tracks_clock(void **state)
{
	assert_int_equal(hc_msr_write(v, MSR_KVM_SYSTEM_TIME, 0x3040 | 1), 0);
	const struct pvclock_vcpu_time_info *t = pvti_at(0x3040);
	fake.counter += 7 * HZ;                /* seven seconds on */
	uint64_t guest_tsc = fake.counter + 777;
	uint64_t now = t->system_time + time_apply_scale(guest_tsc - t->tsc_timestamp,
	                                                 (struct time_scale){ t->tsc_to_system_mul, t->tsc_shift });
	assert_true(now >= 7 * NSEC_PER_SEC - 8 && now <= 7 * NSEC_PER_SEC + 8);
	assert_int_equal(t->flags, 0);         /* counter not stable in this test */
}

static void test_system_time_disabled_writes_nothing(void **state)
{
	pvti_at(0x3000)->version = 0x55;
	assert_int_equal(hc_msr_write(v, MSR_KVM_SYSTEM_TIME_NEW, 0x3000), 0);
	assert_int_equal(pvti_at(0x3000)->version, 0x55);
}

/* Outside RAM, or running off its end: the MSR is taken, nothing is written. */
static void test_system_time_outside_ram(void **state)
{
	assert_int_equal(hc_msr_write(v, MSR_KVM_SYSTEM_TIME_NEW, (RAM + 0x1000) | 1), 0);
	uint8_t *tail = fake_vm_hva(vm, RAM - 16);
	memset(tail, 0x3c, 16);
	assert_int_equal(hc_msr_write(v, MSR_KVM_SYSTEM_TIME_NEW, (RAM - 16) | 1), 0);
	for (int i = 0; i < 16; i++)
		assert_int_equal(tail[i], 0x3c);
}

static void test_wall_clock(void **state)
{
	fake.counter += 3 * HZ;                /* the VM has run 3 s */
	struct pvclock_wall_clock *wc = (struct pvclock_wall_clock *)fake_vm_hva(vm, 0x5000);
	wc->version = 0;
	assert_int_equal(hc_msr_write(v, MSR_KVM_WALL_CLOCK_NEW, 0x5000), 0);
	assert_int_equal(wc->version, 2);
	/* the wall time at which the VM's clock read 0: boot of the host clock here */
	uint64_t got = wc->sec * NSEC_PER_SEC + wc->nsec;
	assert_true(got >= WALL0 - 4 && got <= WALL0 + 4);
	uint64_t back = 0;
	assert_int_equal(hc_msr_read(v, MSR_KVM_WALL_CLOCK, &back), 0);
	assert_int_equal(back, 0x5000);
}

static void test_clock_pairing(void **state)
{
	fake.counter += HZ;                    /* one second after the time base */
	assert_int_equal(hypercall(KVM_HC_CLOCK_PAIRING, 0x6000, KVM_CLOCK_PAIRING_WALLCLOCK, 0), 0);
	const struct kvm_clock_pairing *cp = (const void *)fake_vm_hva(vm, 0x6000);
	uint64_t wall = (uint64_t)cp->sec * NSEC_PER_SEC + (uint64_t)cp->nsec;
	assert_true(wall >= WALL0 + NSEC_PER_SEC - 4 && wall <= WALL0 + NSEC_PER_SEC + 4);
	assert_true(cp->nsec >= 0 && cp->nsec < (int64_t)NSEC_PER_SEC);
	assert_int_equal(cp->tsc, fake.counter + 777);
	assert_int_equal(cp->flags, 0);
}

static void test_clock_pairing_errors(void **state)
{
	assert_int_equal(hypercall(KVM_HC_CLOCK_PAIRING, 0x6000, 1, 0), -KVM_EOPNOTSUPP);
	assert_int_equal(hypercall(KVM_HC_CLOCK_PAIRING, RAM - 32, 0, 0), -KVM_EFAULT);
	assert_int_equal(hypercall(KVM_HC_CLOCK_PAIRING, ~0ull - 8, 0, 0), -KVM_EFAULT);
}

static void test_map_gpa_range_bad_input(void **state)
{
	const uint64_t enc = KVM_MAP_GPA_RANGE_ENCRYPTED;
	assert_int_equal(hypercall(KVM_HC_MAP_GPA_RANGE, 0x1800, 1, enc), -KVM_EINVAL);   /* unaligned */
	assert_int_equal(hypercall(KVM_HC_MAP_GPA_RANGE, 0x1000, 0, enc), -KVM_EINVAL);   /* no pages */
	assert_int_equal(hypercall(KVM_HC_MAP_GPA_RANGE, 0x1000, ~0ull, enc), -KVM_EINVAL); /* wraps */
	assert_int_equal(hypercall(KVM_HC_MAP_GPA_RANGE, 0x1000, 1, 1ull << 5), -KVM_EINVAL); /* reserved */
	assert_int_equal(hypercall(KVM_HC_MAP_GPA_RANGE, 0x1000, 1, 3), -KVM_EINVAL);     /* no such size */
	assert_int_equal(hypercall(KVM_HC_MAP_GPA_RANGE, RAM - 0x1000, 2, enc), -KVM_EINVAL); /* past RAM */
	assert_null(vm->hc.kvm.encrypted);
}

static void test_map_gpa_range_records_pages(void **state)
{
	const uint64_t enc = KVM_MAP_GPA_RANGE_ENCRYPTED;
	uint64_t free0 = pmm_free_pages();
	assert_int_equal(hypercall(KVM_HC_MAP_GPA_RANGE, 0x10000, 16, enc), 0);
	assert_int_equal(vm->hc.kvm.nr_encrypted, 16);
	assert_int_equal(hypercall(KVM_HC_MAP_GPA_RANGE, 0x18000, 16, enc | 2), 0); /* overlaps 8 */
	assert_int_equal(vm->hc.kvm.nr_encrypted, 24);
	assert_int_equal(hypercall(KVM_HC_MAP_GPA_RANGE, 0x10000, 4, 0), 0);         /* shared again */
	assert_int_equal(vm->hc.kvm.nr_encrypted, 20);
	assert_int_equal(hypercall(KVM_HC_MAP_GPA_RANGE, RAM - 0x1000, 1, enc), 0);  /* the last page */
	assert_int_equal(vm->hc.kvm.nr_encrypted, 21);
	hc_vm_destroy(vm);
	assert_null(vm->hc.kvm.encrypted);
	assert_int_equal(pmm_free_pages(), free0);
}

/* As in KVM: a wall clock at address 0 is "none", and a structure crossing a page is not published. */
static void test_wall_clock_at_zero_and_page_crossing(void **state)
{
	memset(fake_vm_hva(vm, 0), 0x5a, 16);
	assert_int_equal(hc_msr_write(v, MSR_KVM_WALL_CLOCK_NEW, 0), 0);
	for (int i = 0; i < 16; i++)
		assert_int_equal(fake_vm_hva(vm, 0)[i], 0x5a);
	memset(fake_vm_hva(vm, 0x6ff0), 0x5a, 32);
	assert_int_equal(hc_msr_write(v, MSR_KVM_SYSTEM_TIME_NEW, 0x6ff0 | 1), 0);
	for (int i = 0; i < 32; i++)
		assert_int_equal(fake_vm_hva(vm, 0x6ff0)[i], 0x5a);
}

/* A TSC write moves tsc_offset: kvmclock is published again so the guest's clock does not jump. */
static void test_tsc_change_republishes(void **state)
{
	assert_int_equal(hc_msr_write(v, MSR_KVM_SYSTEM_TIME_NEW, 0x3000 | 1), 0);
	const struct pvclock_vcpu_time_info *t = pvti_at(0x3000);
	uint32_t version = t->version;
	fake.counter += HZ;
	v->arch.tsc_offset = 1000000;
	hc_clock_changed(v);
	assert_int_equal(t->version, version + 2);
	assert_int_equal(t->tsc_timestamp, fake.counter + 1000000);
	assert_true(t->system_time >= NSEC_PER_SEC - 2 && t->system_time <= NSEC_PER_SEC + 2);
}

static void test_poll_control(void **state)
{
	uint64_t val = 0;
	assert_int_equal(hc_msr_read(v, MSR_KVM_POLL_CONTROL, &val), 0);
	assert_int_equal(val, 1);                              /* KVM's reset value */
	assert_int_equal(hc_msr_write(v, MSR_KVM_POLL_CONTROL, 0), 0);
	assert_int_equal(hc_msr_read(v, MSR_KVM_POLL_CONTROL, &val), 0);
	assert_int_equal(val, 0);
	assert_int_equal(hc_msr_write(v, MSR_KVM_POLL_CONTROL, 2), -EINVAL);  /* #GP */
	assert_int_equal(hc_msr_read(v, MSR_KVM_POLL_CONTROL, &val), 0);
	assert_int_equal(val, 0);
}

static void test_migration_control(void **state)
{
	uint64_t val = 5;
	assert_int_equal(hc_msr_read(v, MSR_KVM_MIGRATION_CONTROL, &val), 0);
	assert_int_equal(val, 0);
	assert_int_equal(hc_msr_write(v, MSR_KVM_MIGRATION_CONTROL, 1), 0);
	assert_int_equal(hc_msr_read(v, MSR_KVM_MIGRATION_CONTROL, &val), 0);
	assert_int_equal(val, 1);
	assert_int_equal(hc_msr_write(v, MSR_KVM_MIGRATION_CONTROL, 1ull << 63), -EINVAL);
}

/* MSRs of KVM's range KVM does not define are nobody's: the caller raises #GP. */
static void test_undefined_kvm_msrs(void **state)
{
	uint64_t val;
	assert_int_equal(hc_msr_read(v, 0x4b564dffu, &val), -ENOENT);
	assert_int_equal(hc_msr_write(v, 0x4b564d09u, 0), -ENOENT);
}

/* 32-bit callers: the GPA is truncated by the dispatcher before the handler sees it. */
static void test_clock_pairing_32bit(void **state)
{
	struct vm_exit e = { .reason = VMEXIT_HYPERCALL, .mode = MODE_PROT32, .insn_len = 3 };
	v->regs.gpr[X86_RAX] = KVM_HC_CLOCK_PAIRING;
	v->regs.gpr[X86_RBX] = 0xffffffff00006000ull;
	v->regs.gpr[X86_RCX] = 0;
	hc_dispatch(v, &e);
	assert_int_equal(v->regs.gpr[X86_RAX], 0);
	assert_int_equal(((const struct kvm_clock_pairing *)fake_vm_hva(vm, 0x6000))->tsc, fake.counter + 777);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_system_time_new),
		T(test_guest_formula_tracks_clock),
		T(test_system_time_disabled_writes_nothing),
		T(test_system_time_outside_ram),
		T(test_wall_clock),
		T(test_clock_pairing),
		T(test_clock_pairing_errors),
		T(test_map_gpa_range_bad_input),
		T(test_map_gpa_range_records_pages),
		T(test_clock_pairing_32bit),
		T(test_wall_clock_at_zero_and_page_crossing),
		T(test_tsc_change_republishes),
		T(test_poll_control),
		T(test_migration_control),
		T(test_undefined_kvm_msrs),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
