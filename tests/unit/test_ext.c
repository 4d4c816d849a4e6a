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
#include "core/pmm.h"
#include "core/time.h"
#include "core/vm.h"
#include "hypercalls/ext/ext_abi.h"
#include "hypercalls/hypercall.h"
#include "hypercalls/kvm/kvm_abi.h"
#include "tests/fake_arch/fake_arch.h"
#include "tests/fake_arch/fake_test.h"

#define RAM MiB(1)
#define BUF 0x4000ull
#define PAGE 0x20000ull

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
	fake_pmm_give_back();                       /* a test that failed half-way */
	gmem_destroy(vm);
	fake_cleanup();
	return 0;
}

/* A hypercall by vCPU c at CPL cpl; the result as the caller reads it (EAX sign-extended outside 64-bit mode). */
static int64_t ext_on(struct vcpu *c, enum cpu_mode mode, uint8_t cpl, uint64_t nr, uint64_t a0, uint64_t a1,
                      uint64_t a2)
{
	c->regs.gpr[X86_RAX] = nr;
	c->regs.gpr[X86_RBX] = a0;
	c->regs.gpr[X86_RCX] = a1;
	c->regs.gpr[X86_RDX] = a2;
	struct vm_exit e = { .reason = VMEXIT_HYPERCALL, .insn_len = 3, .mode = mode, .cpl = cpl,
	                     .hc.insn = HC_INSN_VMMCALL };
	hc_dispatch(c, &e);
	return mode == MODE_64 ? (int64_t)c->regs.gpr[X86_RAX] : (int64_t)(int32_t)c->regs.gpr[X86_RAX];
}
static int64_t ext(enum cpu_mode mode, uint64_t nr, uint64_t a0, uint64_t a1, uint64_t a2)
{
	return ext_on(v, mode, 0, nr, a0, a1, a2);
}
static int64_t call(unsigned n, uint64_t a0, uint64_t a1, uint64_t a2) { return ext(MODE_64, EXT_NR_BASE + n, a0, a1, a2); }
static int64_t call_on(struct vcpu *c, unsigned n, uint64_t a0, uint64_t a1, uint64_t a2)
{
	return ext_on(c, MODE_64, 0, EXT_NR_BASE + n, a0, a1, a2);
}

static bool readable(uint64_t gpa)
{
	uint8_t b;
	return gmem_read(vm, mk_gpa(gpa), &b, 1) == 0;
}

/* A second VM with the given id, with one RW slot [0, 0x4000) of `fill` (or no RAM at all). */
static struct vm *other_vm(unsigned id, bool ram, uint8_t fill)
{
	struct vm *o = fake_vm_new();
	o->id = id;
	if (ram)
		fake_vm_add_slot(o, 0, 0x4000, 0, fill);
	return o;
}

static void test_off_unless_enabled(void **state)
{
	struct cpuid_regs r;
	vm->hc.ext = false;
	assert_true(hc_cpuid(v, EXT_CPUID_BASE, 0, &r));
	assert_true(!r.eax && !r.ebx && !r.ecx && !r.edx);
	assert_int_equal(call(EXT_DEBUG_LOG, BUF, 1, 0), -KVM_ENOSYS);          /* KVM's unknown call */
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
	assert_int_equal(call(EXT_NR_CALLS, 0, 0, 0), -KVM_ENOSYS);
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
	/* nothing to say: no line at all (else empty lines would flood the log outside the budget) */
	unsigned lines = fake_console_count("says:");
	assert_int_equal(call(EXT_DEBUG_LOG, BUF, 0, 0), 0);
	assert_int_equal(fake_console_count("says:"), lines);
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

/* Gap 7.4: CPL > 0 gets -EPERM (docs/extensions.md "Calling"), whatever the call, and nothing is done. */
static void test_cpl3_eperm(void **state)
{
	memcpy(fake_vm_hva(vm, BUF), "hello", 5);
	for (uint8_t cpl = 1; cpl <= 3; cpl++) {
		assert_int_equal(ext_on(v, MODE_64, cpl, EXT_NR_BASE + EXT_INJECT_EVENT, 1, 0x50, 0), -EXT_EPERM);
		assert_int_equal(ext_on(v, MODE_64, cpl, EXT_NR_BASE + EXT_DEBUG_LOG, BUF, 5, 0), -EXT_EPERM);
		assert_int_equal(ext_on(v, MODE_64, cpl, EXT_NR_BASE + EXT_UNMAP_GPA_RANGE, PAGE, 1, 0), -EXT_EPERM);
		assert_int_equal(ext_on(v, MODE_64, cpl, EXT_NR_BASE + EXT_MEM_ATTRIBUTES, PAGE, 1, 1), -EXT_EPERM);
	}
	/* a 32-bit caller sees it zero-extended */
	assert_int_equal(ext_on(v, MODE_PROT32, 3, EXT_NR_BASE + EXT_INJECT_EVENT, 1, 0x50, 0), -EXT_EPERM);
	assert_int_equal(v->regs.gpr[X86_RAX], (uint32_t)-EXT_EPERM);
	assert_int_equal(fake.ipis[1], 0);
	assert_false(fake_console_has("says:"));
	assert_int_equal(vm->hc.ext_logged, 0);
	assert_int_equal(vm->nr_removed, 0);
	assert_int_equal(vm->nr_private, 0);
	assert_true(readable(PAGE));
	assert_int_equal(v->regs.rip, 13 * 3);                  /* each call completed */
}

/* Gap 8.5: real mode and 16-bit protected mode are served, with the 32-bit convention. */
static void test_real_and_prot16_mode(void **state)
{
	assert_int_equal(ext(MODE_REAL, EXT_NR_BASE + EXT_INJECT_EVENT, 1, 0x50, 0), 0);
	assert_int_equal(fake.ipis[1], 1);
	assert_int_equal(fake.ipi_icr[1], 0x50);
	assert_int_equal(ext(MODE_PROT16, EXT_NR_BASE + EXT_INJECT_EVENT, 0, 0x51, 0), 0);
	assert_int_equal(fake.ipis[0], 1);
	assert_int_equal(fake.ipi_icr[0], 0x51);
	/* the number and arguments are cut to 32 bits there too */
	assert_int_equal(ext(MODE_REAL, 0xffffffff00000000ull | (EXT_NR_BASE + EXT_INJECT_EVENT),
	                     0xffffffff00000001ull, 0xffffffff00000052ull, 0), 0);
	assert_int_equal(fake.ipis[1], 2);
	assert_int_equal(fake.ipi_icr[1], 0x52);
	assert_int_equal(v->regs.gpr[X86_RAX], 0);
	assert_int_equal(ext(MODE_PROT16, EXT_NR_BASE + EXT_INJECT_EVENT, 2, 0x50, 0), -EXT_EINVAL);
	assert_int_equal(v->regs.gpr[X86_RAX], (uint32_t)-EXT_EINVAL);
}

/*
 * Gap 13.9: a 32-bit caller's RAX, RBX, RCX with bits 63:32 set: cut to 32
 * bits, so 0xffffffff4d480003 is inject_event there; from 64-bit code the
 * same RAX is no ext number and the VM's ABI (KVM) answers -KVM_ENOSYS.
 */
static void test_32bit_truncation(void **state)
{
	const uint64_t nr = 0xffffffff00000000ull | (EXT_NR_BASE + EXT_INJECT_EVENT);
	assert_int_equal(ext(MODE_PROT32, nr, 0xffffffff00000001ull, 0xffffffff00000050ull, 0), 0);
	assert_int_equal(v->regs.gpr[X86_RAX], 0);                  /* the whole register */
	assert_int_equal(fake.ipis[1], 1);
	assert_int_equal(fake.ipi_icr[1], 0x50);
	assert_int_equal(v->regs.gpr[X86_RBX], 0xffffffff00000001ull); /* the cut values are not written back */
	assert_int_equal(ext(MODE_64, nr, 0xffffffff00000001ull, 0xffffffff00000050ull, 0), -KVM_ENOSYS);
	assert_int_equal(fake.ipis[1], 1);
	/* the arguments alone: from 64-bit code vCPU 0xffffffff00000001 does not exist */
	assert_int_equal(ext(MODE_64, EXT_NR_BASE + EXT_INJECT_EVENT, 0xffffffff00000001ull, 0x50, 0), -EXT_EINVAL);
	assert_int_equal(fake.ipis[1], 1);
	/* and a 32-bit unmap takes the cut GPA */
	assert_int_equal(ext(MODE_PROT32, EXT_NR_BASE + EXT_UNMAP_GPA_RANGE, 0xffffffff00000000ull | PAGE,
	                     0xffffffff00000001ull, 0xffffffff00000000ull), 0);
	assert_int_equal(vm->nr_removed, 1);
	assert_false(readable(PAGE));
}

/*
 * Gap 2.24: a range over a gfn where a foreign page is mapped (a grant map
 * in a Xen+ext VM). unmap: the gfn's RAM was given up by the map, so it
 * counts as out and is skipped; restore: -EINVAL at that page, the pages
 * before it done; mem_attributes: accepted, the bit applies once RAM is back.
 */
static void test_range_over_foreign_gfn(void **state)
{
	struct vm *owner = other_vm(1, true, 0x77);
	const uint64_t fg = (PAGE >> PAGE_SHIFT) + 1;
	assert_int_equal(gmem_foreign_map(vm, fg, owner, 0, true), 0);
	assert_int_equal(vm->nr_removed, 1);
	assert_int_equal(call(EXT_UNMAP_GPA_RANGE, PAGE, 3, 0), 0);
	assert_int_equal(vm->nr_removed, 3);
	assert_false(readable(PAGE));
	assert_false(readable(PAGE + 0x2000));
	uint8_t b = 0;
	assert_int_equal(gmem_read(vm, mk_gpa(PAGE + 0x1000), &b, 1), 0);   /* the map stays */
	assert_int_equal(b, 0x77);
	assert_true(gmem_page_is_foreign(vm, fg));

	assert_int_equal(call(EXT_UNMAP_GPA_RANGE, PAGE, 3, EXT_UNMAP_RESTORE), -EXT_EINVAL);
	assert_true(readable(PAGE));                            /* before it: done */
	assert_false(readable(PAGE + 0x2000));                  /* after it: not reached */
	assert_int_equal(vm->nr_removed, 2);
	assert_true(gmem_page_is_foreign(vm, fg));
	assert_int_equal(fake_vm_hva(owner, 0)[0], 0x77);       /* the owner's page not zeroed */

	assert_int_equal(call(EXT_MEM_ATTRIBUTES, PAGE + 0x1000, 1, EXT_ATTR_PRIVATE), 0);
	assert_int_equal(vm->nr_private, 1);
	assert_int_equal(gmem_read(vm, mk_gpa(PAGE + 0x1000), &b, 1), 0);   /* the map still answers */
	assert_int_equal(gmem_foreign_unmap(vm, fg), 0);
	assert_int_equal(call(EXT_UNMAP_GPA_RANGE, PAGE + 0x1000, 2, EXT_UNMAP_RESTORE), 0);
	assert_int_equal(vm->nr_removed, 0);
	assert_false(readable(PAGE + 0x1000));                  /* RAM back, and private */
	assert_true(readable(PAGE + 0x2000));
}

/* Gap 11.16: two vCPUs unmap and restore one range: pages already out / in are left as they are. */
static void test_two_vcpus_one_range(void **state)
{
	assert_int_equal(call_on(v, EXT_UNMAP_GPA_RANGE, PAGE, 2, 0), 0);
	assert_int_equal(call_on(v2, EXT_UNMAP_GPA_RANGE, PAGE, 3, 0), 0);
	assert_int_equal(vm->nr_removed, 3);
	assert_int_equal(fake.page_sets, 3);                    /* one stage-2 change per page */
	assert_int_equal(call_on(v2, EXT_UNMAP_GPA_RANGE, PAGE, 3, EXT_UNMAP_RESTORE), 0);
	assert_int_equal(vm->nr_removed, 0);
	assert_int_equal(fake.page_sets, 6);
	memset(fake_vm_hva(vm, PAGE), 0x44, 16);                 /* the guest uses it again */
	assert_int_equal(call_on(v, EXT_UNMAP_GPA_RANGE, PAGE, 2, EXT_UNMAP_RESTORE), 0);
	assert_int_equal(vm->nr_removed, 0);
	assert_int_equal(fake.page_sets, 6);
	assert_int_equal(fake_vm_hva(vm, PAGE)[0], 0x44);        /* in already: not zeroed again */
	for (uint64_t p = PAGE; p < PAGE + 0x3000; p += 0x1000)
		assert_true(readable(p));
}

/*
 * Gap 12.3 (ext): the removed-pages bitmap cannot be allocated: -ENOMEM,
 * the page's stage-2 entry put back, nothing recorded.
 */
static void test_unmap_no_memory(void **state)
{
	fake_pmm_exhaust();
	assert_int_equal(call(EXT_UNMAP_GPA_RANGE, PAGE, 2, 0), -EXT_ENOMEM);
	assert_int_equal(vm->nr_removed, 0);
	assert_null(vm->removed);
	assert_true(readable(PAGE));
	assert_int_equal(fake.page_sets, 2);                    /* out, then back */
	assert_int_equal(fake.page_set_log[0].gpa, PAGE);
	assert_false(fake.page_set_log[0].present);
	assert_int_equal(fake.page_set_log[1].gpa, PAGE);
	assert_true(fake.page_set_log[1].present);
	fake_pmm_give_back();
	assert_int_equal(call(EXT_UNMAP_GPA_RANGE, PAGE, 2, 0), 0);
	assert_int_equal(vm->nr_removed, 2);
}

/* Gap 12.4: the private map cannot be allocated: -ENOMEM, nothing changed, no cache cleaned. */
static void test_mem_attributes_no_memory(void **state)
{
	fake_pmm_exhaust();
	assert_int_equal(call(EXT_MEM_ATTRIBUTES, PAGE, 1, EXT_ATTR_PRIVATE), -EXT_ENOMEM);
	assert_int_equal(vm->nr_private, 0);
	assert_null(vm->private_map);
	assert_int_equal(fake.cache_cleans, 0);
	assert_true(readable(PAGE));
	fake_pmm_give_back();
	assert_int_equal(call(EXT_MEM_ATTRIBUTES, PAGE, 1, EXT_ATTR_PRIVATE), 0);
	assert_int_equal(vm->nr_private, 1);
	assert_false(readable(PAGE));
}

/* Gap 12.7: the stage-2 update fails: -ENOMEM, the pages before it done, the failing one still in. */
static void test_unmap_stage2_failure(void **state)
{
	fake.fail_page_set = -ENOMEM;
	assert_int_equal(call(EXT_UNMAP_GPA_RANGE, PAGE, 2, 0), -EXT_ENOMEM);
	assert_int_equal(vm->nr_removed, 0);
	assert_true(readable(PAGE));
	assert_true(readable(PAGE + 0x1000));
	fake.fail_page_set_after = 1;                            /* the first page's update succeeds */
	assert_int_equal(call(EXT_UNMAP_GPA_RANGE, PAGE, 3, 0), -EXT_ENOMEM);
	assert_int_equal(vm->nr_removed, 1);
	assert_false(readable(PAGE));
	assert_true(readable(PAGE + 0x1000));
	assert_true(readable(PAGE + 0x2000));
	/* restoring fails the same way: the page stays out */
	fake.fail_page_set_after = 0;
	assert_int_equal(call(EXT_UNMAP_GPA_RANGE, PAGE, 1, EXT_UNMAP_RESTORE), -EXT_ENOMEM);
	assert_int_equal(vm->nr_removed, 1);
	assert_false(readable(PAGE));
	fake.fail_page_set = 0;
	assert_int_equal(call(EXT_UNMAP_GPA_RANGE, PAGE, 1, EXT_UNMAP_RESTORE), 0);
	assert_int_equal(vm->nr_removed, 0);
}

/* Gap 14.10: a read-only page inside the range: not the VM's RAM, -EINVAL. */
static void test_rom_page(void **state)
{
	fake_vm_add_slot(vm, RAM, PAGE_SIZE, SLOT_READONLY, 0x5a);
	assert_int_equal(vm->mem_size, RAM + PAGE_SIZE);
	assert_int_equal(call(EXT_UNMAP_GPA_RANGE, RAM, 1, 0), -EXT_EINVAL);
	assert_int_equal(call(EXT_MEM_ATTRIBUTES, RAM, 1, EXT_ATTR_PRIVATE), -EXT_EINVAL);
	assert_int_equal(vm->nr_removed, 0);
	assert_int_equal(vm->nr_private, 0);
	assert_int_equal(fake.page_sets, 0);
	assert_int_equal(fake.cache_cleans, 0);
	/* from RAM into it: unmap stops there with the pages before it done; mem_attributes does nothing */
	assert_int_equal(call(EXT_UNMAP_GPA_RANGE, RAM - 0x1000, 2, 0), -EXT_EINVAL);
	assert_int_equal(vm->nr_removed, 1);
	assert_false(readable(RAM - 0x1000));
	assert_int_equal(call(EXT_MEM_ATTRIBUTES, RAM - 0x2000, 3, EXT_ATTR_PRIVATE), -EXT_EINVAL);
	assert_int_equal(vm->nr_private, 0);
	assert_true(readable(RAM - 0x2000));
	/* a restore over it never zeroes it */
	call(EXT_UNMAP_GPA_RANGE, RAM - 0x1000, 2, EXT_UNMAP_RESTORE);
	assert_true(readable(RAM - 0x1000));
	for (size_t i = 0; i < PAGE_SIZE; i++)
		if (fake_vm_hva(vm, RAM)[i] != 0x5a)
			fail_fmt("ROM byte 0x%zx changed", i);
}

/* Gap 15.13: unmap of a page another VM has mapped: -EBUSY, the pages before it done, the page stays. */
static void test_unmap_page_mapped_elsewhere(void **state)
{
	struct vm *mapper = other_vm(1, false, 0);
	assert_int_equal(gmem_foreign_map(mapper, 5, vm, PAGE >> PAGE_SHIFT, true), 0);
	assert_int_equal(call(EXT_UNMAP_GPA_RANGE, PAGE - 0x1000, 2, 0), -EXT_EBUSY);
	assert_int_equal(vm->nr_removed, 1);
	assert_false(readable(PAGE - 0x1000));
	assert_true(readable(PAGE));
	uint8_t b = 0;
	assert_int_equal(gmem_read(mapper, mk_gpa(0x5000), &b, 1), 0);
	assert_int_equal(b, 0x33);                              /* the mapper still sees the page */
	assert_int_equal(fake.page_sets, 1);                    /* its stage-2 entry untouched */
	assert_int_equal(call(EXT_UNMAP_GPA_RANGE, PAGE, 1, 0), -EXT_EBUSY);
	assert_int_equal(vm->nr_removed, 1);
	/* unmapped there, it can go */
	assert_int_equal(gmem_foreign_unmap(mapper, 5), 0);
	assert_int_equal(call(EXT_UNMAP_GPA_RANGE, PAGE, 1, 0), 0);
	assert_int_equal(vm->nr_removed, 2);
}

/*
 * Private and mapped by another VM never meet: the hypervisor would read and
 * write a private page for the mapper. Making such a page private is
 * -EBUSY, nothing changes; a private page cannot be mapped.
 */
static void test_private_and_mapped_elsewhere(void **state)
{
	struct vm *mapper = other_vm(1, false, 0);
	uint64_t gfn = PAGE >> PAGE_SHIFT;
	assert_int_equal(gmem_foreign_map(mapper, 5, vm, gfn + 1, true), 0);
	assert_int_equal(call(EXT_MEM_ATTRIBUTES, PAGE, 2, EXT_ATTR_PRIVATE), -EXT_EBUSY);
	assert_false(gmem_page_private(vm, gfn));
	assert_int_equal(vm->nr_private, 0);
	assert_int_equal(fake.cache_cleans, 0);
	assert_int_equal(call(EXT_MEM_ATTRIBUTES, PAGE, 1, EXT_ATTR_PRIVATE), 0);     /* the page beside it may */
	assert_int_equal(gmem_foreign_map(mapper, 6, vm, gfn, true), -EINVAL);
	assert_false(gmem_page_is_foreign(mapper, 6));
	/* shared again, it can be mapped; unmapped, the other can go private */
	assert_int_equal(call(EXT_MEM_ATTRIBUTES, PAGE, 1, 0), 0);
	assert_int_equal(gmem_foreign_map(mapper, 6, vm, gfn, false), 0);
	assert_int_equal(gmem_foreign_unmap(mapper, 5), 0);
	assert_int_equal(call(EXT_MEM_ATTRIBUTES, PAGE + 0x1000, 1, EXT_ATTR_PRIVATE), 0);
}

/*
 * Gap 15.15 (KVM): a KVM call or MSR area on a page the guest made private:
 * refused like any buffer the gate refuses (docs/extensions.md,
 * mem_attributes): KVM_HC_CLOCK_PAIRING -KVM_EFAULT; kvmclock, wall clock
 * and steal time taken but never written.
 */
static void test_kvm_buffers_on_private_page(void **state)
{
	assert_int_equal(call(EXT_MEM_ATTRIBUTES, PAGE, 1, EXT_ATTR_PRIVATE), 0);
	assert_int_equal(ext(MODE_64, KVM_HC_CLOCK_PAIRING, PAGE + 0x40, KVM_CLOCK_PAIRING_WALLCLOCK, 0), -KVM_EFAULT);
	assert_int_equal(ext(MODE_PROT32, KVM_HC_CLOCK_PAIRING, PAGE + 0x40, KVM_CLOCK_PAIRING_WALLCLOCK, 0),
	                 -KVM_EFAULT);
	/* one that runs into it from a shared page: nothing written on either */
	assert_int_equal(ext(MODE_64, KVM_HC_CLOCK_PAIRING, PAGE - 0x20, KVM_CLOCK_PAIRING_WALLCLOCK, 0), -KVM_EFAULT);
	assert_int_equal(hc_msr_write(v, MSR_KVM_SYSTEM_TIME_NEW, (PAGE + 0x100) | 1), 0);
	assert_int_equal(hc_msr_write(v, MSR_KVM_WALL_CLOCK_NEW, PAGE + 0x200), 0);
	assert_int_equal(hc_msr_write(v, MSR_KVM_STEAL_TIME, (PAGE + 0x300) | 1), 0);
	v->steal += 1000;
	hc_vcpu_scheduled(v);
	hc_vcpu_preempted(v);
	hc_clock_changed(v);
	for (size_t i = 0; i < PAGE_SIZE; i++)
		if (fake_vm_hva(vm, PAGE)[i] != 0x33)
			fail_fmt("private byte 0x%zx written", i);
	for (size_t i = PAGE_SIZE - 0x20; i < PAGE_SIZE; i++)
		assert_int_equal(fake_vm_hva(vm, PAGE - PAGE_SIZE)[i], 0x33);
	/* shared again: the same call and areas work */
	assert_int_equal(call(EXT_MEM_ATTRIBUTES, PAGE, 1, 0), 0);
	assert_int_equal(ext(MODE_64, KVM_HC_CLOCK_PAIRING, PAGE + 0x40, KVM_CLOCK_PAIRING_WALLCLOCK, 0), 0);
	hc_clock_changed(v);
	assert_int_equal(*(uint32_t *)fake_vm_hva(vm, PAGE + 0x100) & 1, 0);
	assert_int_not_equal(*(uint32_t *)fake_vm_hva(vm, PAGE + 0x100), 0x33333333);
}

int main(void)
{
#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)
	const struct CMUnitTest tests[] = {
		T(test_off_unless_enabled), T(test_discovery), T(test_debug_log), T(test_unmap_gpa_range),
		T(test_mem_attributes), T(test_inject_event), T(test_policy_and_counters),
		T(test_cpl3_eperm), T(test_real_and_prot16_mode), T(test_32bit_truncation),
		T(test_range_over_foreign_gfn), T(test_two_vcpus_one_range), T(test_unmap_no_memory),
		T(test_mem_attributes_no_memory), T(test_unmap_stage2_failure), T(test_rom_page),
		T(test_unmap_page_mapped_elsewhere), T(test_private_and_mapped_elsewhere),
		T(test_kvm_buffers_on_private_page),
	};
	return cmocka_run_group_tests_name("ext", tests, NULL, NULL);
}
