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
	fake_pmm_give_back();                       /* a test that failed half-way */
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

/* Copies of what the guest finds at gpa, whatever its alignment. */
static struct pvclock_vcpu_time_info pvti_copy(uint64_t gpa)
{
	struct pvclock_vcpu_time_info t;
	memcpy(&t, fake_vm_hva(vm, gpa), sizeof(t));
	return t;
}

static struct pvclock_wall_clock wall_copy(uint64_t gpa)
{
	struct pvclock_wall_clock wc;
	memcpy(&wc, fake_vm_hva(vm, gpa), sizeof(wc));
	return wc;
}

static struct kvm_clock_pairing pairing_copy(uint64_t gpa)
{
	struct kvm_clock_pairing cp;
	memcpy(&cp, fake_vm_hva(vm, gpa), sizeof(cp));
	return cp;
}

static void assert_bytes(uint64_t gpa, size_t len, uint8_t byte)
{
	const uint8_t *p = fake_vm_hva(vm, gpa);
	for (size_t i = 0; i < len; i++)
		if (p[i] != byte)
			fail_fmt("guest byte 0x%llx is 0x%02x, not 0x%02x", (unsigned long long)(gpa + i), p[i], byte);
}

/* A read-only page right after RAM (ROM; in a real VM a read-only grant map): the gate refuses writes there. */
#define ROM RAM
static void add_rom(void)
{
	fake_vm_add_slot(vm, ROM, PAGE_SIZE, SLOT_READONLY, 0x5a);
	vm->mem_size = RAM;                    /* ROM is not RAM */
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

/*
 * Gap 1.4: no alignment rule, as KVM (x86.c): kvm_write_system_time takes
 * the address as `system_time & ~1`, kvm_write_wall_clock and
 * kvm_pv_clock_pairing write through kvm_write_guest at any byte.
 */
static void test_unaligned_areas_accepted(void **state)
{
	memset(fake_vm_hva(vm, 0x6000), 0, 0x100);
	assert_int_equal(hypercall(KVM_HC_CLOCK_PAIRING, 0x6003, KVM_CLOCK_PAIRING_WALLCLOCK, 0), 0);
	struct kvm_clock_pairing cp = pairing_copy(0x6003);
	assert_int_equal(cp.tsc, fake.counter + 777);
	uint64_t wall = (uint64_t)cp.sec * NSEC_PER_SEC + (uint64_t)cp.nsec;
	assert_true(wall >= WALL0 - 4 && wall <= WALL0 + 4);
	assert_bytes(0x6000, 3, 0);                            /* nothing before it */
	assert_bytes(0x6003 + sizeof(cp), 16, 0);              /* nor after */

	fake.counter_stable = true;
	assert_int_equal(hc_msr_write(v, MSR_KVM_SYSTEM_TIME_NEW, 0x3004 | 1), 0);
	struct pvclock_vcpu_time_info t = pvti_copy(0x3004);
	assert_int_equal(t.version, 2);
	assert_int_equal(t.tsc_timestamp, fake.counter + 777);
	assert_int_equal(t.flags, PVCLOCK_TSC_STABLE_BIT);
	assert_int_equal(hc_msr_write(v, MSR_KVM_SYSTEM_TIME_NEW, 0x3082 | 1), 0); /* 2-byte aligned */
	assert_int_equal(pvti_copy(0x3082).version, 2);
	assert_int_equal(pvti_copy(0x3082).tsc_timestamp, fake.counter + 777);

	assert_int_equal(hc_msr_write(v, MSR_KVM_WALL_CLOCK_NEW, 0x5003), 0);  /* no enable bit: any byte */
	struct pvclock_wall_clock wc = wall_copy(0x5003);
	assert_int_equal(wc.version, 2);
	uint64_t got = wc.sec * NSEC_PER_SEC + wc.nsec;
	assert_true(got >= WALL0 - 4 && got <= WALL0 + 4);
	uint64_t back = 0;
	assert_int_equal(hc_msr_read(v, MSR_KVM_WALL_CLOCK_NEW, &back), 0);
	assert_int_equal(back, 0x5003);
}

/* Gap 2.5: a wall clock outside RAM, running off its end or wrapping: the MSR is taken, nothing is written. */
static void test_wall_clock_outside_ram(void **state)
{
	memset(fake_vm_hva(vm, RAM - 16), 0x3c, 16);
	/*
	 * RAM - 8: the 12-byte structure runs off RAM. KVM's kvm_write_guest
	 * would write the part inside RAM; the gate checks the range whole
	 * and writes nothing (docs: one gate, nothing half-written).
	 */
	static const uint64_t gpas[] = { RAM - 8, RAM, RAM + 0x1000, 0xfee00000, 0xfffffffffffffffcull };
	for (size_t i = 0; i < ARRAY_SIZE(gpas); i++) {
		assert_int_equal(hc_msr_write(v, MSR_KVM_WALL_CLOCK_NEW, gpas[i]), 0);
		uint64_t back = 0;
		assert_int_equal(hc_msr_read(v, MSR_KVM_WALL_CLOCK_NEW, &back), 0);
		assert_int_equal(back, gpas[i]);
	}
	assert_bytes(RAM - 16, 16, 0x3c);
	/* the last 12 bytes of RAM are a valid place */
	assert_int_equal(hc_msr_write(v, MSR_KVM_WALL_CLOCK_NEW, RAM - 12), 0);
	assert_int_equal(wall_copy(RAM - 12).version, 0x3c3c3c3c + 2);
	assert_bytes(RAM - 16, 4, 0x3c);
}

/*
 * Gap 3.3: a wall clock crossing a page inside RAM. KVM writes it across:
 * x86.c kvm_write_wall_clock uses kvm_read_guest/kvm_write_guest, which
 * go page by page (virt/kvm/kvm_main.c next_segment); only kvmclock, which
 * KVM maps as one page through a gfn_to_pfn_cache, is refused across pages.
 */
static void test_wall_clock_across_pages(void **state)
{
	memset(fake_vm_hva(vm, 0x6ff0), 0x5a, 32);
	memset(fake_vm_hva(vm, 0x6ff8), 0, 4);                 /* version 0 */
	assert_int_equal(hc_msr_write(v, MSR_KVM_WALL_CLOCK_NEW, 0x6ff8), 0);
	struct pvclock_wall_clock wc = wall_copy(0x6ff8);     /* version, sec | nsec on the next page */
	assert_int_equal(wc.version, 2);
	uint64_t got = wc.sec * NSEC_PER_SEC + wc.nsec;
	assert_true(got >= WALL0 - 4 && got <= WALL0 + 4);
	assert_bytes(0x6ff0, 8, 0x5a);
	assert_bytes(0x7004, 12, 0x5a);
}

/* Gap 3.4: clock pairing's structure crossing a page inside RAM is written across (kvm_write_guest). */
static void test_clock_pairing_across_pages(void **state)
{
	memset(fake_vm_hva(vm, 0x6fe0), 0x5a, 0x80);
	fake.counter += HZ;
	assert_int_equal(hypercall(KVM_HC_CLOCK_PAIRING, 0x6ff0, KVM_CLOCK_PAIRING_WALLCLOCK, 0), 0);
	struct kvm_clock_pairing cp = pairing_copy(0x6ff0);   /* sec, nsec | tsc, flags, pad on the next page */
	assert_int_equal(cp.tsc, fake.counter + 777);
	assert_int_equal(cp.flags, 0);
	uint64_t wall = (uint64_t)cp.sec * NSEC_PER_SEC + (uint64_t)cp.nsec;
	assert_true(wall >= WALL0 + NSEC_PER_SEC - 4 && wall <= WALL0 + NSEC_PER_SEC + 4);
	assert_bytes(0x6fe0, 0x10, 0x5a);
	assert_bytes(0x7030, 0x30, 0x5a);
}

/*
 * Gaps 4.4 and 11.2: two vCPUs registering one kvmclock area. KVM checks
 * nothing (each vCPU's pv_time cache is its own): each publishes with the
 * version protocol, the last writer wins, the version is even between writes.
 */
static void test_system_time_shared_by_two_vcpus(void **state)
{
	struct vcpu *v2 = fake_vcpu_new(vm);
	v2->arch.tsc_offset = 5000;
	assert_int_equal(hc_msr_write(v, MSR_KVM_SYSTEM_TIME_NEW, 0x3000 | 1), 0);
	assert_int_equal(pvti_at(0x3000)->version, 2);
	assert_int_equal(pvti_at(0x3000)->tsc_timestamp, fake.counter + 777);
	assert_int_equal(hc_msr_write(v2, MSR_KVM_SYSTEM_TIME_NEW, 0x3000 | 1), 0);
	assert_int_equal(pvti_at(0x3000)->version, 4);
	assert_int_equal(pvti_at(0x3000)->tsc_timestamp, fake.counter + 5000);   /* the second vCPU's */
	fake.counter += HZ;
	hc_clock_changed(v);                                   /* the first publishes again */
	assert_int_equal(pvti_at(0x3000)->version, 6);
	assert_int_equal(pvti_at(0x3000)->tsc_timestamp, fake.counter + 777);
	assert_true(pvti_at(0x3000)->system_time >= NSEC_PER_SEC - 2 &&
	            pvti_at(0x3000)->system_time <= NSEC_PER_SEC + 2);
	hc_clock_changed(v2);
	assert_int_equal(pvti_at(0x3000)->version, 8);
	assert_int_equal(pvti_at(0x3000)->tsc_timestamp, fake.counter + 5000);
	uint64_t a = 0, b = 0;
	assert_int_equal(hc_msr_read(v, MSR_KVM_SYSTEM_TIME_NEW, &a), 0);
	assert_int_equal(hc_msr_read(v2, MSR_KVM_SYSTEM_TIME_NEW, &b), 0);
	assert_int_equal(a, 0x3001);
	assert_int_equal(b, 0x3001);
}

/* Gap 12.1: the encrypted bitmap cannot be allocated: -KVM_ENOMEM and nothing recorded. */
static void test_map_gpa_range_no_memory(void **state)
{
	const uint64_t enc = KVM_MAP_GPA_RANGE_ENCRYPTED;
	fake_pmm_exhaust();
	assert_int_equal(hypercall(KVM_HC_MAP_GPA_RANGE, 0x10000, 4, enc), -KVM_ENOMEM);
	assert_null(vm->hc.kvm.encrypted);
	assert_int_equal(vm->hc.kvm.nr_encrypted, 0);
	assert_int_equal(hypercall(KVM_HC_MAP_GPA_RANGE, 0x10000, 4, enc), -KVM_ENOMEM);  /* still none */
	assert_int_equal(v->regs.rip, 6);                      /* each call completed */
	fake_pmm_give_back();
	uint64_t free0 = pmm_free_pages();
	assert_int_equal(hypercall(KVM_HC_MAP_GPA_RANGE, 0x10000, 4, enc), 0);
	assert_int_equal(vm->hc.kvm.nr_encrypted, 4);          /* from a clean state */
	hc_vm_destroy(vm);
	assert_int_equal(pmm_free_pages(), free0);
}

/* Gap 14.3: clock pairing into read-only memory: -KVM_EFAULT, as KVM's kvm_write_guest on a read-only slot. */
static void test_clock_pairing_into_rom(void **state)
{
	add_rom();
	assert_int_equal(hypercall(KVM_HC_CLOCK_PAIRING, ROM, KVM_CLOCK_PAIRING_WALLCLOCK, 0), -KVM_EFAULT);
	memset(fake_vm_hva(vm, ROM - 32), 0x3c, 32);
	assert_int_equal(hypercall(KVM_HC_CLOCK_PAIRING, ROM - 32, KVM_CLOCK_PAIRING_WALLCLOCK, 0), -KVM_EFAULT);
	assert_bytes(ROM - 32, 32, 0x3c);                      /* from RAM into ROM: the RAM part not written either */
	assert_bytes(ROM, PAGE_SIZE, 0x5a);
}

/*
 * Gap 14.4 (kvmclock, wall clock): areas in read-only memory. The MSR is
 * taken and reads back; nothing is written then or later (KVM: the write
 * goes through gfn_to_hva_many(write), KVM_HVA_ERR_RO_BAD, and is skipped).
 */
static void test_clock_areas_in_rom(void **state)
{
	add_rom();
	uint64_t back = 0;
	assert_int_equal(hc_msr_write(v, MSR_KVM_SYSTEM_TIME_NEW, ROM | 1), 0);
	assert_int_equal(hc_msr_read(v, MSR_KVM_SYSTEM_TIME_NEW, &back), 0);
	assert_int_equal(back, ROM | 1);
	fake.counter += HZ;
	hc_clock_changed(v);
	assert_int_equal(hc_msr_write(v, MSR_KVM_WALL_CLOCK_NEW, ROM + 0x100), 0);
	assert_int_equal(hc_msr_read(v, MSR_KVM_WALL_CLOCK_NEW, &back), 0);
	assert_int_equal(back, ROM + 0x100);
	memset(fake_vm_hva(vm, ROM - 8), 0x3c, 8);
	assert_int_equal(hc_msr_write(v, MSR_KVM_WALL_CLOCK_NEW, ROM - 8), 0);    /* from RAM into ROM */
	assert_bytes(ROM - 8, 8, 0x3c);
	assert_bytes(ROM, PAGE_SIZE, 0x5a);
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
		T(test_unaligned_areas_accepted),
		T(test_wall_clock_outside_ram),
		T(test_wall_clock_across_pages),
		T(test_clock_pairing_across_pages),
		T(test_system_time_shared_by_two_vcpus),
		T(test_map_gpa_range_no_memory),
		T(test_clock_pairing_into_rom),
		T(test_clock_areas_in_rom),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
